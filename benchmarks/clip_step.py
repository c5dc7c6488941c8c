"""Training-step overhead of `Learner + CLIPTrainer` against a hand-written PyTorch loop, in one run.

Also times Learner+CLIPMOCOTrainer on the same batches and prints CLIP-MoCo step / CLIP step (target <= 1.35).

Same tiny model (clipart-tiny-vit, 64 px, 32 tokens), same pre-built batches of 64, same optimiser (torch AdamW,
wrapped by fastai's `OptimWrapper` in the Learner). Prints the per-step times and their ratio (target <= 1.03),
then the data pipeline's throughput (decode + resize + caption + tokenize, items/s) against what a step consumes.

    python benchmarks/clip_step.py [--steps 30] [--reps 3]
"""
import argparse, tempfile, time
from functools import partial
from pathlib import Path
import torch
from fastai.basics import *
from fastai.optimizer import OptimWrapper
from clipart.data.imet import read_imet
from clipart.data.tokens import imet_dataloaders
from clipart.data.synthetic import make_synthetic_imet
from clipart.multimodal.models import create_clip_model
from clipart.multimodal.clip import CLIPTrainer
from clipart.multimodal.clip_moco import CLIPMOCOTrainer
from clipart.multimodal.losses import create_loss
from copy import deepcopy

p = argparse.ArgumentParser()
p.add_argument('--steps', type=int, default=30); p.add_argument('--reps', type=int, default=3); p.add_argument('--bs', type=int, default=64)
a = p.parse_args()
torch.manual_seed(0)
bs, n = a.bs, a.steps
batches = [(torch.randn(bs,3,64,64), torch.randint(1, 49406, (bs,32))) for _ in range(n)]
base = create_clip_model('clipart-tiny-vit')

def hand_loop(model):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    loss_fn = create_loss('clip'); model.train()
    t0 = time.perf_counter()
    for x,t in batches:
        loss = loss_fn(*model(x, t))
        loss.backward(); opt.step(); opt.zero_grad()
        with torch.no_grad(): model.logit_scale.clamp_(max=math.log(100))
    return (time.perf_counter()-t0)/n

class _Timer(Callback):
    def before_train(self): self.t0 = time.perf_counter()
    def after_train(self): self.dt = time.perf_counter()-self.t0

def learner_loop(model, trainer=CLIPTrainer):
    dl = DataLoader(batches, bs=None, shuffle=False)
    dls = DataLoaders(dl, DataLoader(batches[:1], bs=None))
    tm = _Timer()
    learn = Learner(dls, model, loss_func=noop, cbs=[trainer(), tm], opt_func=partial(OptimWrapper, opt=torch.optim.AdamW), wd=0.1)
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-4)
    return tm.dt/n

hand, fa, moco = [], [], []
hand_loop(deepcopy(base)); learner_loop(deepcopy(base))  # warm up
for r in range(a.reps):  # interleaved, so drift hits all equally
    hand.append(hand_loop(deepcopy(base))); fa.append(learner_loop(deepcopy(base)))
    moco.append(learner_loop(deepcopy(base), partial(CLIPMOCOTrainer, queue_size=4096)))
h, f, mo = min(hand), min(fa), min(moco)
print(f"step time at bs {bs} (best of {a.reps} x {n} steps): hand-written {h*1e3:.1f} ms, Learner+CLIPTrainer {f*1e3:.1f} ms, "
      f"ratio {f/h:.3f} (target <= 1.03)")
print(f"CLIP-MoCo (queue 4096) step {mo*1e3:.1f} ms, CLIP step {f*1e3:.1f} ms: ratio {mo/f:.3f} (target <= 1.35)")

with tempfile.TemporaryDirectory() as d:
    coll = read_imet(make_synthetic_imet(Path(d)/'s', n=512, seed=0))
    dls = imet_dataloaders(coll, size=64, bs=bs, context_length=32, num_workers=0)
    it = iter(dls.train); next(it)
    t0 = time.perf_counter(); k = 0
    for xb,_ in it: k += len(xb)
    ips = k/(time.perf_counter()-t0)
print(f"data pipeline (1 process, decode+resize+caption+tokenize+collate): {ips:.0f} items/s; "
      f"a training step consumes {bs/f:.0f} items/s -> {ips/(bs/f):.2f}x per worker process")
