"""Self-supervised pretraining on real artworks, the way a user runs it: an image folder or an iMet collection in, an
encoder file out."""

import pytest
import math
import torch
from fastai.basics import Learner, set_seed

pytestmark = pytest.mark.slow  # the slow tier: `pytest --slow`


def test_pretrain_on_an_image_folder_and_reload_the_encoder(aic_path, tmp_path):
    "Any folder of images (here aic500's train/, no labels): SimCLR trains, the encoder is saved and reloads exactly"
    from clipart.data.images import image_dataloaders
    from clipart.vision.encoders import create_encoder, save_encoder
    from clipart.vision.simclr import SimCLR, create_simclr_model
    from clipart.vision.augment import two_views

    set_seed(0)
    dls = image_dataloaders(aic_path / 'train', size=48, bs=32, num_workers=0)
    assert len(dls.train_ds) + len(dls.valid_ds) == 500 and len(dls.one_batch()) == 1
    model = create_simclr_model(create_encoder('test_resnet'), hidden=64, dim=32)
    # no loss_func: the callback brings its own
    learn = Learner(dls, model, cbs=SimCLR(two_views(48, color=0.5, scale=(0.25, 1))))
    with learn.no_bar(), learn.no_logging():
        set_seed(1)
        before = learn.validate()[0]
        learn.fit_one_cycle(3, 1e-2)
        set_seed(1)
        after = learn.validate()[0]  # the same validation views
    assert math.isfinite(after) and after < before - 0.1, (before, after)
    save_encoder(model.encoder, tmp_path / 'art.safetensors')
    enc = create_encoder('test_resnet', pretrained=tmp_path / 'art.safetensors').eval()
    x = dls.valid.one_batch()[0].as_subclass(torch.Tensor)
    torch.testing.assert_close(enc(x), model.encoder.eval()(x))


def test_knn_monitor_on_aic_departments(aic_path):
    "The kNN monitor on real labels (11 departments; some only in validation) while BYOL trains, as a fastai metric"
    from clipart.data.imet import read_imet
    from clipart.data.images import image_dataloaders
    from clipart.vision.encoders import create_encoder
    from clipart.vision.byol import BYOL, create_byol_model
    from clipart.vision.ssl import KNNAccuracy

    set_seed(0)
    dls = image_dataloaders(read_imet(aic_path), label='department', size=48, bs=32, num_workers=0)
    assert len(dls.vocab) >= 10
    learn = Learner(
        dls, create_byol_model(create_encoder('test_resnet'), hidden=64, dim=32), cbs=BYOL(), metrics=KNNAccuracy()
    )
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, 1e-3)
    acc = learn.recorder.values[-1][2]
    yv = torch.cat([y for _, y in dls.valid])
    ytr = torch.cat([y for _, y in dls.test_dl(dls.train.items, with_labels=True)])
    majority = (yv == ytr.mode().values).float().mean().item()  # the constant classifier's accuracy (0.44 here)
    assert majority < acc <= 1, (majority, acc)


def test_clipart_pretrain_command(aic_path, tmp_path):
    "The console script end to end on real artworks: arguments parsed, encoder and report written, bad --algo refused"
    import json, subprocess, sys
    from pathlib import Path

    exe = Path(sys.executable).parent / 'clipart-pretrain'
    out = tmp_path / 'run'
    r = subprocess.run(
        [
            str(exe),
            '--data',
            str(aic_path),
            '--label',
            'department',
            '--algo',
            'swav',
            '--size',
            '48',
            '--bs',
            '32',
            '--epochs',
            '1',
            '--out',
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'kNN accuracy on department' in r.stdout
    res = json.loads((out / 'metrics.json').read_text())
    assert res['args']['algo'] == 'swav' and len(res['history']) == 1 and 0 < res['knn_trained'] <= 1
    assert (out / 'encoder.safetensors').stat().st_size > 100_000
    r = subprocess.run([str(exe), '--algo', 'mae', '--out', str(tmp_path / 'x')], capture_output=True, text=True)
    assert r.returncode != 0 and 'one of simclr' in r.stderr
