"""fastai's inference API on every clipart learner: get_preds, predict, summary, lr_find, export -> load_learner ->
predict."""

import warnings
import pytest, torch
from fastai.basics import Learner, load_learner
import fastai.callback.progress, fastai.callback.schedule  # noqa: F401 (Learner.no_bar, lr_find)
from clipart.data.imet import read_imet, sample_path
from clipart.data.tokens import imet_dataloaders
from clipart.data.images import image_dataloaders
from clipart.multimodal.models import create_clip_model
from clipart.multimodal.clip import CLIPTrainer
from clipart.multimodal.clip_moco import CLIPMOCOTrainer
from clipart.vision.encoders import create_encoder
from clipart.vision.pretrain import SSL_ALGOS, create_ssl


@pytest.fixture(scope='module')
def coll():
    return read_imet(sample_path())


def clip_learner(coll, kind):
    dls = imet_dataloaders(coll, size=64, bs=16, context_length=32, num_workers=0)
    cb = CLIPTrainer() if kind == 'clip' else CLIPMOCOTrainer(queue_size=32)
    return Learner(dls, create_clip_model('clipart-tiny-vit'), cbs=cb)


def ssl_learner(coll, algo):
    dls = image_dataloaders(coll, label='department', size=48, bs=16, num_workers=0)
    m, cb = create_ssl(
        algo,
        create_encoder('test_resnet'),
        size=48,
        hidden=64,
        dim=32,
        queue_size=32,
        n_prototypes=10,
        out_dim=64,
        n_local=2,
    )
    return Learner(dls, m, cbs=cb)


@pytest.mark.parametrize('kind', ['clip', 'clip-moco', *SSL_ALGOS])
def test_inference_api(coll, kind, tmp_path):
    learn = clip_learner(coll, kind) if kind in ('clip', 'clip-moco') else ssl_learner(coll, kind)
    n_valid = len(learn.dls.valid_ds)
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, 1e-4)
        preds, targs = learn.get_preds()
        assert 'Total params' in str(learn.summary())
        sug = learn.lr_find(num_it=5, show_plot=False)
    assert sug.valley > 0
    img = preds[0] if kind in ('clip', 'clip-moco') else preds
    assert img.shape[0] == n_valid and torch.isfinite(img).all()
    if kind in ('clip', 'clip-moco'):
        assert preds[1].shape == img.shape and targs.shape[0] == n_valid  # text features, tokens
    else:
        assert targs.shape == (n_valid,)  # monitor labels
    out = learn.predict(coll.df.image.iloc[0])
    learn.export(tmp_path / 'l.pkl')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        out2 = load_learner(tmp_path / 'l.pkl').predict(coll.df.image.iloc[0])
    if kind in ('clip', 'clip-moco'):
        attrs, mask, scores = out
        assert (
            attrs == out2[0] and len(mask) == len(coll.vocab) and {a.split('::')[0] for a in attrs} == set(coll.groups)
        )
    else:
        assert out.ndim == 1 and torch.allclose(out, out2, atol=1e-5)


def test_clip_predict_needs_nothing_but_the_trainer():
    # a fresh interpreter that imports the trainer and nothing of clipart's evaluation: learn.predict names attributes
    import subprocess, sys

    code = (
        "import sys; from fastai.basics import Learner; from clipart.data.imet import read_imet, sample_path; "
        "from clipart.data.tokens import imet_dataloaders; from clipart.multimodal.models import create_clip_model; "
        "from clipart.multimodal.clip import CLIPTrainer; coll = read_imet(sample_path()); "
        "learn = Learner(imet_dataloaders(coll, size=64, bs=16, context_length=32, num_workers=0), "
        "create_clip_model('clipart-tiny-vit'), cbs=CLIPTrainer()); "
        "attrs,mask,scores = learn.predict(coll.df.image.iloc[0]); "
        "print(len(attrs) > 0, len(mask) == len(coll.vocab), sorted(m for m in sys.modules if "
        "m.startswith('clipart.eval')))"
    )
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ['True', 'True', '[]'], out.stdout
