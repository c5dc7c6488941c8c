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


@pytest.fixture(scope='module')
def small_run(tmp_path_factory):
    "A run trained for one epoch on the shipped aic48 sample, and 8 of its images to label"
    from conftest import clipart_cache
    from clipart.cli.train import clipart_train

    tmp = tmp_path_factory.mktemp('prec')
    with clipart_cache(tmp / 'cache'):
        clipart_train(
            data=str(sample_path('aic48')), out=str(tmp / 'run'), epochs=1, bs=16, size=64, workers=0, pictures=False
        )
    return tmp / 'run'


def test_every_inference_path_takes_the_precision(small_run, tmp_path, monkeypatch):
    "clipart-label, the gallery (text, image, upload) and clipart-search embed at the chosen precision, close to fp32"
    import numpy as np
    from clipart.catalogue.core import propose_attributes
    from clipart.app.gallery import Gallery
    from clipart.multimodal.infer import CastCLIP
    from clipart.run.folder import RunFolder
    from clipart.cli.search import clipart_search

    monkeypatch.setenv('CLIPART_CACHE', str(tmp_path / 'cache'))
    import pandas as pd

    imgs = list(RunFolder(small_run).items().image[:8])
    new = pd.DataFrame(dict(id=[f'new-{k}' for k in range(8)], image=imgs))  # as if not catalogued
    cos = lambda a, b: float((np.asarray(a) * np.asarray(b)).sum(-1).min())
    # clipart-label: the proposals' embeddings
    p32, p16 = [propose_attributes(small_run, new, precision=p, progress=False) for p in ('fp32', 'bf16')]
    assert cos(p16.feats, p32.feats) > 0.995, cos(p16.feats, p32.feats)
    assert (p16.items.id == p32.items.id).all()
    # the gallery: text queries and image uploads
    g32, g16 = Gallery(small_run), Gallery(small_run, precision='bf16')
    assert isinstance(g16.model, CastCLIP) and not isinstance(g32.model, CastCLIP)
    for q in (dict(text='a porcelain vase'), dict(image=imgs[0])):
        a, b = g32.embed(**q), g16.embed(**q)
        assert b.dtype == a.dtype, (a.dtype, b.dtype)
        assert cos(b, a) > 0.995, (q, cos(b, a))
    # clipart-search: the same hits' order at the top
    h32 = clipart_search(run=str(small_run), text='a porcelain vase', k=5, out=str(tmp_path / 's32.png'))
    h16 = clipart_search(
        run=str(small_run), text='a porcelain vase', k=5, out=str(tmp_path / 's16.png'), precision='bf16'
    )
    assert list(h16.id[:3]) == list(h32.id[:3]), (h16, h32)
    # clipart-eval --precision bf16: the model it scores is the bf16 one, its embeddings close to fp32's
    from clipart.cli.eval import clipart_eval
    import clipart.run.eval as run_eval

    seen, real = [], run_eval.evaluate_collection
    monkeypatch.setattr(run_eval, 'evaluate_collection', lambda m, *a, **kw: seen.append(m) or real(m, *a, **kw))
    clipart_eval(model=str(small_run), data=str(sample_path('aic48')), precision='bf16', probes=False)
    assert isinstance(seen[0], CastCLIP), type(seen[0])
    x = torch.randn(4, 3, 64, 64)
    with torch.no_grad():
        a, b = (
            RunFolder(small_run).model('fp32').encode_image(x, normalize=True),
            seen[0].encode_image(x, normalize=True),
        )
    assert cos(b, a) > 0.995, cos(b, a)
    # 'auto': measured once, remembered, and the model is the one it chose
    import json

    m = RunFolder(small_run).model('auto')
    (choice,) = json.loads((tmp_path / 'cache' / 'precision.json').read_text()).values()
    assert choice['precision'] in ('fp32', 'bf16', 'int8'), choice  # int8 where torchao is installed and faster
    assert isinstance(m, CastCLIP) == (choice['precision'] == 'bf16')
    assert all(v['min_cos'] > 0.99 and v['seconds'] > 0 for v in choice['measured'].values()), choice


def test_onnx_export_with_something_in_the_way(small_run, tmp_path, monkeypatch):
    "clipart-export-onnx where model/onnx is a file: one line naming it, the file as it was, nothing half-written"
    import shutil

    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnxscript')
    from clipart.cli.onnx import clipart_export_onnx

    monkeypatch.setenv('CLIPART_CACHE', str(tmp_path / 'cache'))
    run = tmp_path / 'run'
    shutil.copytree(small_run, run)
    (run / 'model' / 'onnx').write_text('mine')
    with pytest.raises(SystemExit, match=r"^clipart-export-onnx: error: .*model/onnx: Not a directory") as e:
        clipart_export_onnx(run=str(run))
    assert '\n' not in str(e.value), str(e.value)
    assert (run / 'model' / 'onnx').read_text() == 'mine' and not list((run / 'model').glob('onnx.*'))
