"""Embedding export speed: images/s of `export_embeddings` against bare loops over the same DataLoader.

    python benchmarks/export_speed.py [--n 2000] [--arch clipart-tiny-vit] [--bs 64] [--repeats 3]

`export_embeddings` writes image and text embeddings of every item (and items.csv); the baselines are a bare
`model.encode_image` loop and a bare image + text loop (`model(images, tokens)`) over the same `test_dl`, in
`torch.no_grad()`, measured in the same run (best of `--repeats`). Goal (issue #16): export >= 1.0x the bare loop that
computes what it writes (image + text).
"""
import argparse, tempfile, time, warnings
from pathlib import Path
import torch
warnings.simplefilter('ignore')
from clipart.data.imet import read_imet
from clipart.data.synthetic import synthetic_path
from clipart.data.tokens import imet_dataloaders
from clipart.multimodal.models import create_clip_model, image_size
from clipart.eval.search import export_embeddings

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--n', type=int, default=2000); p.add_argument('--arch', default='clipart-tiny-vit')
p.add_argument('--bs', type=int, default=64); p.add_argument('--repeats', type=int, default=3)
a = p.parse_args()

coll = read_imet(synthetic_path(n=a.n))
torch.manual_seed(0); m = create_clip_model(a.arch).eval()
dls = imet_dataloaders(coll, size=image_size(m), bs=a.bs, context_length=m.context_length, num_workers=0)
dl = dls.test_dl(coll.df, with_labels=True, bs=a.bs)

@torch.no_grad()
def bare_image():
    for xb,yb in dl: m.encode_image(xb.as_subclass(torch.Tensor), normalize=True)
@torch.no_grad()
def bare_both():
    for xb,yb in dl: m(xb.as_subclass(torch.Tensor), yb.as_subclass(torch.Tensor))
out = Path(tempfile.mkdtemp())
def export(): export_embeddings(m, dls, coll.df, out/'index')

def best(f):
    ts = []
    for _ in range(a.repeats): t = time.perf_counter(); f(); ts.append(time.perf_counter()-t)
    return min(ts)
bare_image()   # warm up: first batches, allocator
res = {name: best(f) for name,f in [('bare encode_image loop', bare_image), ('bare image + text loop', bare_both), ('export_embeddings', export)]}
print(f"\n{len(coll.df)} items, {a.arch} at {image_size(m)} px, batch {a.bs}, {torch.get_num_threads()} threads, best of {a.repeats}\n")
print('| what | seconds | images/s | export\'s speed / this |\n|---|---|---|---|')
for name,s in res.items(): print(f"| {name} | {s:.2f} | {len(coll.df)/s:.0f} | {s/res['export_embeddings']:.2f}x |")
