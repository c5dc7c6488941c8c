"""Step time of fine-tuning with a locked image tower (LiT) against full fine-tuning, measured in the same run.

    python benchmarks/adapt_step.py [--arch clipart-small-vit] [--bs 64] [--steps 20] [--rounds 5] [--out FILE]

Both Learners are built once and warmed up with an epoch each; then `--rounds` rounds alternate one timed epoch of
`--steps` steps of each (full, locked, full, locked, ...), so a drifting machine moves both. Printed: the machine, each
one's median step with min-max over rounds, and the median of the round-by-round ratios with its min-max.
Target (issue: adaptation): locked-image step time <= 0.5x full fine-tuning.
"""

import argparse, statistics, warnings
import torch

warnings.simplefilter('ignore')
from fastai.basics import Learner, DataLoaders
import fastai.callback.progress  # noqa: F401 (Learner.no_bar)
from fastai.data.load import DataLoader
from clipart.multimodal.models import create_clip_model, image_size
from clipart.multimodal.clip import CLIPTrainer
from benchlib import interleaved, machine_info, machine_line, ratios, spread, write_results

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--arch', default='clipart-small-vit')
p.add_argument('--bs', type=int, default=64)
p.add_argument('--steps', type=int, default=20)
p.add_argument('--rounds', type=int, default=5)
p.add_argument('--out', help='a JSON file for the results')
a = p.parse_args()
torch.manual_seed(0)
m = create_clip_model(a.arch)
s = image_size(m)
x, t = torch.randn(a.bs * a.steps, 3, s, s), torch.randint(1, 49000, (a.bs * a.steps, m.context_length))
items = [(x[i], t[i]) for i in range(len(x))]
dls = DataLoaders(DataLoader(items, bs=a.bs), DataLoader(items[: a.bs], bs=a.bs))


def epoch(learn):
    def f():
        with learn.no_bar(), learn.no_logging():
            learn.fit(1, 1e-4)

    return f


learners = {
    k: Learner(dls, create_clip_model(a.arch), loss_func=lambda *_: None, cbs=CLIPTrainer(lock=lock))
    for k, lock in [('full', None), ('locked image', 'image')]
}
times = interleaved({k: epoch(l) for k, l in learners.items()}, rounds=a.rounds)  # the warm-up epoch: allocations
step = {k: [v / a.steps for v in ts] for k, ts in times.items()}
r = ratios(step['locked image'], step['full'])
info = machine_info()
print(machine_line(info))
print(f"{a.arch}, batch {a.bs}, {s} px, {a.steps} steps x {a.rounds} interleaved rounds, median (min-max):")
for k, v in step.items():
    print(f"  {k:>12}: {spread(v, 1000, '.0f')} ms/step")
print(f"  locked / full: {spread(r)} (target <= 0.5)")
write_results(
    a.out,
    info,
    arch=a.arch,
    bs=a.bs,
    size=s,
    steps=a.steps,
    rounds=a.rounds,
    step_s=step,
    ratio=statistics.median(r),
    ratios=r,
)
