"""Training-step overhead of `Learner + CLIPTrainer` against a hand-written PyTorch loop, in one run.

Also times Learner+CLIPMOCOTrainer on the same batches and prints CLIP-MoCo step / CLIP step (target <= 1.35).

Same tiny model (clipart-tiny-vit, 64 px, 32 tokens), same pre-built batches of 64, same optimiser (torch AdamW,
wrapped by fastai's `OptimWrapper` in the Learner). Prints the per-step times and their ratio (target <= 1.03),
then the data pipeline's throughput (decode + resize + caption + tokenize, items/s) against what a step consumes.

Last, the distance from the machine's limit: for the tiny ViT, the tiny ResNet and ViT-B-32 at 64 px, a training
step's FLOPs (torch's flop counter) per second of the Learner's step, against the GEMM peak measured in the same run
(an fp32 2048x2048 matmul), and a profile of the tiny ViT's step: the share of its time in matrix products and
convolutions, and the other operations that take the most.

Every timing is `--reps` rounds, interleaved (hand, Learner, CLIP-MoCo, hand, ...) where compared; printed as median
(min-max), ratios as the median of the round-by-round ratios.

    python benchmarks/clip_step.py [--steps 30] [--reps 5] [--limit-archs clipart-tiny-vit clipart-tiny-rn ViT-B-32]
"""

import argparse, statistics, tempfile, time
from functools import partial
from pathlib import Path
import torch, sys
from fastai.basics import *

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import step_flops, gemm_peak, machine_line, ratios, spread
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
p.add_argument('--limit-archs', nargs='*', default=['clipart-tiny-vit', 'clipart-tiny-rn', 'ViT-B-32'])
p.add_argument('--steps', type=int, default=30)
p.add_argument('--reps', type=int, default=5)
p.add_argument('--bs', type=int, default=64)
a = p.parse_args()
torch.manual_seed(0)
bs, n = a.bs, a.steps
batches = [(torch.randn(bs, 3, 64, 64), torch.randint(1, 49406, (bs, 32))) for _ in range(n)]
base = create_clip_model('clipart-tiny-vit')


def hand_loop(model):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    loss_fn = create_loss('clip')
    model.train()
    t0 = time.perf_counter()
    for x, t in batches:
        loss = loss_fn(*model(x, t))
        loss.backward()
        opt.step()
        opt.zero_grad()
        with torch.no_grad():
            model.logit_scale.clamp_(max=math.log(100))
    return (time.perf_counter() - t0) / n


class _Timer(Callback):
    def before_train(self):
        self.t0 = time.perf_counter()

    def after_train(self):
        self.dt = time.perf_counter() - self.t0


def learner_loop(model, trainer=CLIPTrainer, data=None, opt_func=partial(OptimWrapper, opt=torch.optim.AdamW)):
    data = data or batches
    dl = DataLoader(data, bs=None, shuffle=False, num_workers=0)
    dls = DataLoaders(dl, DataLoader(data[:1], bs=None, num_workers=0))
    tm = _Timer()
    learn = Learner(dls, model, loss_func=noop, cbs=[trainer(), tm], opt_func=opt_func, wd=0.1)
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, 1e-4)
    return tm.dt / len(data)


hand, fa, moco = [], [], []
hand_loop(deepcopy(base))
learner_loop(deepcopy(base))  # warm up
for r in range(a.reps):  # interleaved, so drift hits all equally
    hand.append(hand_loop(deepcopy(base)))
    fa.append(learner_loop(deepcopy(base)))
    moco.append(learner_loop(deepcopy(base), partial(CLIPMOCOTrainer, queue_size=4096)))
print(machine_line())
print(
    f"step time at bs {bs} (median (min-max) of {a.reps} x {n} steps): hand-written {spread(hand, 1e3, '.1f')} ms, "
    f"Learner+CLIPTrainer {spread(fa, 1e3, '.1f')} ms, ratio {spread(ratios(fa, hand), fmt='.3f')} (target <= 1.03)"
)
print(
    f"CLIP-MoCo (queue 4096) step {spread(moco, 1e3, '.1f')} ms: ratio to the CLIP step "
    f"{spread(ratios(moco, fa), fmt='.3f')} (target <= 1.35)"
)
f = statistics.median(fa)

with tempfile.TemporaryDirectory() as d:
    coll = read_imet(make_synthetic_imet(Path(d) / 's', n=512, seed=0))
    dls = imet_dataloaders(coll, size=64, bs=bs, context_length=32, num_workers=0)
    it = iter(dls.train)
    next(it)
    t0 = time.perf_counter()
    k = 0
    for xb, _ in it:
        k += len(xb)
    ips = k / (time.perf_counter() - t0)
print(
    f"data pipeline (1 process, decode+resize+caption+tokenize+collate): {ips:.0f} items/s; "
    f"a training step consumes {bs / f:.0f} items/s -> {ips / (bs / f):.2f}x per worker process"
)

# the distance from the limit: a step's FLOPs per second against the GEMM peak measured now
print()
peak = max(gemm_peak('cpu', 'fp32') for _ in range(3))
print(f"GEMM peak (fp32 2048x2048 matmul, best of 3): {peak / 1e9:.0f} GFLOP/s")
print(
    '| model (64 px, batch %d; Learner + CLIPTrainer + FusedAdam, as clipart-train) | GFLOP a step | step ms (median) '
    '| GFLOP/s | share of the GEMM peak |' % bs
)
print('|---|---|---|---|---|')
from benchlib import batches as make_batches
from clipart.training import FusedAdam  # the optimiser clipart-train steps with

for arch in a.limit_archs:
    torch.manual_seed(0)
    m = create_clip_model(arch, image_size=64)
    data = make_batches(max(5, n // 3), bs, 64, m.context_length)
    learner_loop(deepcopy(m), data=data[:2], opt_func=FusedAdam)  # warm-up
    t = statistics.median(learner_loop(deepcopy(m), data=data, opt_func=FusedAdam) for _ in range(a.reps))
    fl = step_flops(arch, bs, 'cpu', 'fp32', image_size=64)
    print(f"| {arch} | {fl / 1e9:.1f} | {t * 1e3:.0f} | {fl / t / 1e9:.0f} | {100 * fl / t / peak:.0f} % |")

from torch.profiler import profile, ProfilerActivity

m = create_clip_model('clipart-tiny-vit')
with profile(activities=[ProfilerActivity.CPU]) as prof:
    learner_loop(m, data=batches[:10], opt_func=FusedAdam)
ev = [e for e in prof.key_averages() if e.key.startswith('aten::')]
total = sum(e.self_cpu_time_total for e in ev)
gemm = sum(
    e.self_cpu_time_total
    for e in ev
    if e.key
    in (
        'aten::mm',
        'aten::addmm',
        'aten::bmm',
        'aten::baddbmm',
        'aten::mkldnn_convolution',
        'aten::convolution_backward',
        '_scaled_dot_product_flash_attention_for_cpu',
        'aten::_scaled_dot_product_flash_attention_for_cpu',
        'aten::_scaled_dot_product_flash_attention_for_cpu_backward',
    )
)
print(
    "\nprofile of the tiny ViT's Learner step (10 steps): matrix products, attention and convolutions "
    f"{100 * gemm / total:.0f} % of the operators' time; the most of the rest:"
)
for e in sorted(ev, key=lambda e: -e.self_cpu_time_total)[:10]:
    print(f"  {e.key:45s} {100 * e.self_cpu_time_total / total:5.1f} %  ({e.count} calls)")
