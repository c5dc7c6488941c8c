"""Step time of fine-tuning with a locked image tower (LiT) against full fine-tuning, measured in the same run.

    python benchmarks/adapt_step.py [--arch clipart-small-vit] [--bs 64] [--steps 20]

Target (issue: adaptation): locked-image step time <= 0.5x full fine-tuning. Prints both times and the ratio.
"""
import argparse, time, warnings
import torch
warnings.simplefilter('ignore')
from fastai.basics import Learner, DataLoaders
import fastai.callback.progress   # noqa: F401 (Learner.no_bar)
from fastai.data.load import DataLoader
from clipart.multimodal.models import create_clip_model, image_size
from clipart.multimodal.clip import CLIPTrainer

p = argparse.ArgumentParser()
p.add_argument('--arch', default='clipart-small-vit'); p.add_argument('--bs', type=int, default=64); p.add_argument('--steps', type=int, default=20)
a = p.parse_args()
torch.manual_seed(0)
m = create_clip_model(a.arch); s = image_size(m)
x,t = torch.randn(a.bs*a.steps, 3, s, s), torch.randint(1, 49000, (a.bs*a.steps, m.context_length))
items = [(x[i], t[i]) for i in range(len(x))]
dls = DataLoaders(DataLoader(items, bs=a.bs), DataLoader(items[:a.bs], bs=a.bs))

def per_step(lock):
    learn = Learner(dls, create_clip_model(a.arch), loss_func=lambda *_: None, cbs=CLIPTrainer(lock=lock))
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-4)   # warm-up (allocations)
    t0 = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-4)
    return (time.perf_counter()-t0)/a.steps

full,locked = per_step(None),per_step('image')
print(f"{a.arch}, batch {a.bs}, {s} px, {torch.get_num_threads()} threads: full fine-tuning {full*1000:.0f} ms/step, "
      f"locked image tower {locked*1000:.0f} ms/step, ratio {locked/full:.2f} (target <= 0.5)")
