"Training from WebDataset shards: `clipart-train --data 'shards/shard-{...}.tar'` in one process, and two (slow tier)."

import json, os, subprocess, sys
import pytest
from clipart.data.imet import read_imet, sample_path
from clipart.data.shards import write_shards


def aic48_shards(tmp_path_factory, maxcount):
    "The shipped aic48 sample written as shards of `maxcount`"
    d = tmp_path_factory.mktemp('shards')
    write_shards(read_imet(sample_path('aic48'), text='descriptions.csv', warn=False), d / 'sh', maxcount=maxcount)
    return d / 'sh'


@pytest.fixture(scope='module')
def shards(tmp_path_factory):
    "The shipped aic48 sample as 3 shards of 16"
    return aic48_shards(tmp_path_factory, 16)


def test_train_one_epoch_from_shards(shards, tmp_path, monkeypatch):
    "A brace pattern as --data: unpacked once into the cache, trained on; the run's index holds every item"
    from clipart.cli.train import clipart_train

    monkeypatch.setenv('CLIPART_CACHE', str(tmp_path / 'cache'))
    pattern = str(shards / 'shard-{00000..00002}.tar')
    clipart_train(data=pattern, out=str(tmp_path / 'run'), epochs=1, bs=16, size=64, workers=0, pictures=False)
    m = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert m['train_steps'] >= 2 and m['history'][-1]['train_loss'] > 0, m['history']
    items = (tmp_path / 'run' / 'index' / 'items.csv').read_text().splitlines()
    assert len(items) == 1 + 48
    assert len(list((tmp_path / 'cache' / 'shards').iterdir())) == 1  # unpacked once, kept for the next run
    with pytest.raises(SystemExit, match=r"--data .*shard-00003.tar: shard not found"):
        clipart_train(data=str(shards / 'shard-{00000..00003}.tar'), out=str(tmp_path / 'x'), epochs=1)
    # the other commands that read a collection take the same pattern: scored, and labelled (the samples' ids)
    from clipart.cli.eval import clipart_eval
    from clipart.cli.label import clipart_label
    import pandas as pd

    res = clipart_eval(model=str(tmp_path / 'run'), data=pattern, probes=False)
    assert res['n_valid'] == 9 and 0 <= res['trained']['retrieval']['i2t_R@1'] <= 1, res
    (tmp_path / 'list.txt').write_text('\n'.join(str(p) for p in sorted(shards.glob('*.tar'))[:2]) + '\n')
    res = clipart_eval(model=str(tmp_path / 'run'), data=str(tmp_path / 'list.txt'), probes=False)  # a list file
    assert res['n_valid'] == 6, res['n_valid']  # 32 items of 2 shards, 0.2 of them
    unpacked = len(list((tmp_path / 'cache' / 'shards').iterdir()))
    clipart_label(run=str(tmp_path / 'run'), images=str(shards), out=str(tmp_path / 'p.csv'))
    ids = set(pd.read_csv(tmp_path / 'p.csv', dtype=str).id)
    assert ids and ids <= set(read_imet(sample_path('aic48'), warn=False).df.id), ids
    assert len(list((tmp_path / 'cache' / 'shards').iterdir())) == unpacked  # labelled where they lie: not unpacked
    # new items in shards: proposed from inside their shards, reviewed, exported as files written out of them
    from clipart.catalogue.core import CatalogueDB, export_catalogue
    from clipart.run.folder import RunFolder

    new = read_imet(sample_path('aic48'), warn=False)
    new.df['id'] = 'new-' + new.df['id']
    write_shards(new, tmp_path / 'new', maxcount=16)
    clipart_label(run=str(tmp_path / 'run'), images=str(tmp_path / 'new'), out=str(tmp_path / 'q.csv'))
    db = CatalogueDB(tmp_path / 'review.sqlite')
    assert db.import_proposals(RunFolder(tmp_path / 'run').proposals(), tmp_path / 'run') == 48
    item = db.item('new-' + new.df.id.iloc[0][4:])
    assert '.tar#' in item['image']
    db.decide(item['id'], 'accept', reviewer='t', attribute='department::Arts of Asia')
    export_catalogue(CatalogueDB(db.path, readonly=True), tmp_path / 'exp', run=tmp_path / 'run')
    assert (tmp_path / 'exp' / 'train' / f"{item['id']}.jpg").read_bytes()[:2] == b'\xff\xd8'


@pytest.mark.slow
def test_two_processes_train_from_shards(shards, tmp_path):
    "torchrun, 2 processes (gloo): rank 0 unpacks the shards once, the other waits and reads the same folder"
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'CLIPART_CACHE': str(tmp_path / 'cache')}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '-m']
    cmd += ['clipart.cli.train', '--data', str(shards / 'shard-{00000..00002}.tar'), '--epochs', '1', '--bs', '16']
    cmd += ['--size', '64', '--workers', '0', '--pictures', 'false', '--out', str(tmp_path / 'two')]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert r.stdout.count('unpacked to') == 1, r.stdout[-3000:]
    m = json.loads((tmp_path / 'two' / 'metrics.json').read_text())
    assert m['world_size'] == 2 and len(list((tmp_path / 'cache' / 'shards').iterdir())) == 1


@pytest.mark.slow
@pytest.mark.parametrize('stream', [False, True])
def test_a_bad_shard_under_torchrun_stops_every_rank(shards, tmp_path, stream):
    """A cut shard under torchrun: rank 0's unpack names it (streamed: so does the training sample's unpack, before
    any rank reads it), and the rank waiting for it is stopped, not left hanging"""
    import shutil, time

    bad = tmp_path / 'bad'
    shutil.copytree(shards, bad)
    fn = bad / 'shard-00001.tar'
    fn.write_bytes(fn.read_bytes()[: fn.stat().st_size // 2])  # a copy that stopped half way
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'CLIPART_CACHE': str(tmp_path / 'cache')}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '-m']
    cmd += ['clipart.cli.train', '--data', str(bad / 'shard-{00000..00002}.tar'), '--epochs', '1', '--bs', '16']
    cmd += ['--size', '64', '--workers', '0', '--pictures', 'false', '--out', str(tmp_path / 'two')]
    cmd += ['--stream'] if stream else []
    t = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode != 0 and time.time() - t < 120, (time.time() - t, r.stdout[-2000:] + r.stderr[-2000:])
    assert 'shard-00001.tar: cut or unreadable shard' in r.stdout + r.stderr, r.stdout[-2000:] + r.stderr[-3000:]
    assert not (tmp_path / 'two' / 'metrics.json').exists()


@pytest.fixture(scope='module')
def small_shards(tmp_path_factory):
    "The shipped aic48 sample as 6 shards of 8: 5 to stream, 1 held out"
    return aic48_shards(tmp_path_factory, 8)


def test_train_streamed_from_shards(small_shards, tmp_path, monkeypatch):
    """--stream: the training shards read as they lie (an epoch: their 40 samples from shards.json), the last shard
    held out for validation; bad options named"""
    from clipart.cli.train import clipart_train

    monkeypatch.setenv('CLIPART_CACHE', str(tmp_path / 'cache'))
    kw = dict(data=str(small_shards), stream=True, bs=8, size=64, workers=0, pictures=False, out=str(tmp_path / 'run'))
    # parts left by an earlier run that stopped half way (another number of processes): written over, or not read
    for k in (0, 1):
        (tmp_path / 'run' / 'index_parts' / f'part-0000{k}').mkdir(parents=True)
        (tmp_path / 'run' / 'index_parts' / f'part-0000{k}' / 'items.csv').write_text('id,image\nstale,gone.jpg\n')
    clipart_train(epochs=1, **kw)
    m = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert m['stream'] == dict(train_shards=5, valid_shards=1, samples=40, sample_items=40, index_items=48), m['stream']
    assert (m['n_train'], m['n_valid'], m['train_steps']) == (40, 8, 5), (m['n_train'], m['n_valid'], m['train_steps'])
    # its index is the whole collection, the images read inside their shards: searched, opened, split by shard
    from clipart.run.folder import RunFolder
    from clipart.data.imet import open_image, split_tar_ref

    run = RunFolder(tmp_path / 'run')
    items = run.items()
    assert len(items) == 48
    assert items.split.value_counts().to_dict() == {'train': 40, 'valid': 8}
    tar, member = split_tar_ref(items.image.iloc[0])
    assert tar.startswith(str(small_shards)) and member.endswith('.jpg') and open_image(items.image.iloc[0]).size
    _, hit = run.index().search(run.embeddings()[:1].numpy(), k=1)
    assert hit[0, 0] == 0  # each item finds itself
    assert not (tmp_path / 'run' / 'index_parts').exists()
    from starlette.testclient import TestClient
    from clipart.app.gallery import Gallery
    from clipart.app.pages import gallery_app

    c = TestClient(gallery_app(Gallery(tmp_path / 'run')))  # the gallery shows them from inside their shards
    r = c.get('/thumb?row=47')
    assert r.status_code == 200 and r.headers['content-type'] == 'image/jpeg' and r.content[:2] == b'\xff\xd8'
    assert c.get('/api/search', params=dict(q='a painting')).status_code == 200
    with pytest.raises(SystemExit, match='--train-num-samples 4 is less than one batch'):
        clipart_train(epochs=1, train_num_samples=4, **{**kw, 'out': str(tmp_path / 'x')})
    with pytest.raises(SystemExit, match='--stream reads WebDataset shards'):
        clipart_train(data=sample_path('aic48'), stream=True, out=str(tmp_path / 'y'))
    import shutil

    one = tmp_path / 'one'
    one.mkdir()
    shutil.copy(small_shards / 'shard-00000.tar', one)
    with pytest.raises(SystemExit, match='no labels.csv beside the shards'):
        clipart_train(**{**kw, 'data': str(one), 'out': str(tmp_path / 'z')})
    shutil.copy(small_shards / 'labels.csv', one)
    with pytest.raises(SystemExit, match='needs at least 2'):
        clipart_train(**{**kw, 'data': str(one), 'out': str(tmp_path / 'z')})


@pytest.mark.slow
def test_two_processes_stream_disjoint_shards(small_shards, tmp_path):
    "torchrun, 2 processes (gloo), --stream: each reads its own shards, 20 samples an epoch each; the index in 2 parts"
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'CLIPART_CACHE': str(tmp_path / 'cache')}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '-m']
    cmd += ['clipart.cli.train', '--data', str(small_shards), '--stream', '--epochs', '1', '--bs', '8']
    cmd += ['--size', '64', '--workers', '0', '--pictures', 'false', '--out', str(tmp_path / 'two')]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    m = json.loads((tmp_path / 'two' / 'metrics.json').read_text())
    assert m['world_size'] == 2 and m['n_train'] == 40 and m['train_steps'] == 5, (m['n_train'], m['train_steps'])
    assert len(list((tmp_path / 'cache' / 'shards').iterdir())) == 2  # the training sample and the held-out shard
    # the index: each process embedded its own shards, rank 0 merged the two parts
    assert m['stream']['index_items'] == 48 and 'index/: 48 items of 6 shards, embedded in 2 part(s)' in r.stdout


def test_images_inside_shards_open_and_copy_out(shards, tmp_path):
    "A reference into a shard opens, is copied out once, never over a file, and a missing member leaves nothing"
    from clipart.data.museum import link_file
    from clipart.data.shards import shard_images
    from clipart.data.imet import open_image

    df = shard_images(shards)
    assert len(df) == 48 and df.image.str.contains(r'\.tar#\d{9}\.jpg$').all()
    ref = df.image.iloc[5]
    link_file(ref, tmp_path / 'a.jpg')
    assert open_image(tmp_path / 'a.jpg').size == open_image(ref).size
    with pytest.raises(FileExistsError):
        link_file(ref, tmp_path / 'a.jpg')
    with pytest.raises(FileNotFoundError, match='has no member 999999999.jpg'):
        link_file(ref.rsplit('#', 1)[0] + '#999999999.jpg', tmp_path / 'b.jpg')
    assert not (tmp_path / 'b.jpg').exists()
