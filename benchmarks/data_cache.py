"""What `imet_dataloaders(cache_images=True)` buys: a training epoch (and the loading alone) with and without the image
cache.

    python benchmarks/data_cache.py [--n 1000] [--arch clipart-tiny-vit] [--bs 64] [--rounds 5] [--aic500] [--out FILE]

For each collection (the synthetic one, square 96 px images as in the race against open_clip_train; with `--aic500` also
the real, non-square aic500, whose training crops are drawn anew every epoch) two Learners are built, the same model and
seed, no loader workers (clipart-train's default on 2 cores): one with the image cache, one without. One warm-up epoch
each (the cache's is the one that fills it), then `--rounds` rounds alternating (cached, uncached, cached, ...) of (a)
the loading alone, one pass over the training DataLoader, and (b) one `fit` epoch, training and validation. Printed: the
machine, medians with min-max, and the ratio cached / uncached.
"""

import argparse, json, statistics, time, warnings

warnings.simplefilter('ignore')
from benchlib import machine_info, machine_line

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--n', type=int, default=1000)
p.add_argument('--arch', default='clipart-tiny-vit')
p.add_argument('--bs', type=int, default=64)
p.add_argument('--rounds', type=int, default=5)
p.add_argument('--aic500', action='store_true', help='also the real aic500 (from shared/data)')
p.add_argument('--out', default=None, help='write the results (JSON) here')
a = p.parse_args()
from fastai.learner import Learner
from fastai.torch_core import set_seed
from clipart.data.imet import read_imet, shared_data
from clipart.data.synthetic import synthetic_path
from clipart.data.tokens import imet_dataloaders
from clipart.multimodal.models import create_clip_model, image_size
from clipart.multimodal.clip import CLIPTrainer


def learner(coll, cache):
    set_seed(0)
    m = create_clip_model(a.arch)
    dls = imet_dataloaders(
        coll, size=image_size(m), bs=a.bs, context_length=m.context_length, num_workers=0, cache_images=cache
    )
    learn = Learner(dls, m, cbs=CLIPTrainer())
    learn.recorder.train_metrics = False
    return learn


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def load(learn):
    for _ in learn.dls.train:
        pass


def epoch(learn):
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, 1e-4)


colls = {'synthetic': read_imet(synthetic_path(n=a.n))}
if a.aic500:
    if (p_ := shared_data('aic500')) is None:
        raise SystemExit("--aic500: shared/data/aic500 not found (set CLIPART_SHARED)")
    colls['aic500'] = read_imet(p_)
info = machine_info()
print(machine_line(info))
out = dict(machine=info, arch=a.arch, bs=a.bs, rounds=a.rounds, collections={})
for name, coll in colls.items():
    learns = {c: learner(coll, c) for c in (True, False)}
    first = {c: timed(lambda: epoch(learns[c])) for c in (True, False)}
    res = {c: dict(load=[], epoch=[]) for c in (True, False)}
    for _ in range(a.rounds):
        for c in (True, False):
            res[c]['load'].append(timed(lambda: load(learns[c])))
        for c in (True, False):
            res[c]['epoch'].append(timed(lambda: epoch(learns[c])))
    ca = learns[True].dls.image_cache
    print(f"{name}: {len(coll)} items, {len(learns[True].dls.train)} training batches of {a.bs}; cache: {ca}")
    r = dict(
        items=len(coll), first_epoch_s={'cached': first[True], 'uncached': first[False]}, cache_mib=ca.nbytes / 2**20
    )
    for k in ('load', 'epoch'):
        med = {c: statistics.median(res[c][k]) for c in (True, False)}
        r[k] = {('cached' if c else 'uncached'): dict(median_s=med[c], rounds_s=res[c][k]) for c in (True, False)}
        r[k]['ratio'] = med[True] / med[False]
        print(
            f"  {k:>5}: cached {med[True]:.2f} s ({min(res[True][k]):.2f}-{max(res[True][k]):.2f}), "
            f"uncached {med[False]:.2f} s ({min(res[False][k]):.2f}-{max(res[False][k]):.2f}): "
            f"{med[True] / med[False]:.2f}x"
        )
    print(f"  first epoch (the cache fills): cached {first[True]:.2f} s, uncached {first[False]:.2f} s")
    out['collections'][name] = r
if a.out:
    json.dump(out, open(a.out, 'w'), indent=1)
