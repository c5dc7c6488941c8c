"""`clipart-train --compile` on this machine: a training step of the same model eager and after `nn.Module.compile()`.

    python benchmarks/compile_step.py [--arch clipart-tiny-vit] [--bs 64] [--size 64] [--steps 25] [--rounds 5]
        [--out FILE]

Each round builds the model twice (eager, compiled in place as `--compile` does), takes `--steps` AdamW steps of the
CLIP loss on the same synthetic batch, and times each step; the compiled model's first steps hold its compile time.
Rounds alternate (eager, compiled, eager, ...); printed: the machine, the median step over the last half of the steps
(median and min-max over rounds), the first step (the compile) and the ratio compiled / eager. On CPU the inductor cache
makes later rounds' compiles shorter than the first.
"""

import argparse, json, statistics, time, warnings
import torch

warnings.simplefilter('ignore')
from benchlib import machine_info, machine_line

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--arch', default='clipart-tiny-vit')
p.add_argument('--bs', type=int, default=64)
p.add_argument('--size', type=int, default=64)
p.add_argument('--steps', type=int, default=25)
p.add_argument('--rounds', type=int, default=5)
p.add_argument('--out', default=None, help='write the results (JSON) here')
a = p.parse_args()
from clipart.multimodal.models import create_clip_model
from clipart.multimodal.losses import create_loss


def run(compiled):
    torch.manual_seed(0)
    m = create_clip_model(a.arch)
    if compiled:
        m.compile()
    opt, lf = torch.optim.AdamW(m.parameters(), lr=1e-3), create_loss('clip')
    x, t = torch.randn(a.bs, 3, a.size, a.size), torch.randint(1, 1000, (a.bs, m.context_length))
    ts, losses = [], []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        out = m(x, t)
        loss = lf(*out[:3])
        loss.backward()
        opt.step()
        opt.zero_grad()
        ts.append(time.perf_counter() - t0)
        losses.append(loss.item())
    return ts, losses


res = {False: [], True: []}
for r in range(a.rounds):
    for c in (False, True):
        res[c].append(run(c))
info = machine_info()
print(machine_line(info))
print(f"{a.arch}, batch {a.bs}, {a.size} px, {a.steps} steps x {a.rounds} rounds")
med, out = {}, dict(machine=info, arch=a.arch, bs=a.bs, size=a.size, steps=a.steps, rounds=a.rounds)
for c in (False, True):
    steps = [statistics.median(ts[a.steps // 2 :]) * 1000 for ts, _ in res[c]]
    med[c] = statistics.median(steps)
    out['compiled' if c else 'eager'] = dict(
        step_ms=med[c], step_ms_rounds=steps, first_step_s=[ts[0] for ts, _ in res[c]]
    )
    print(
        f"{'compiled' if c else 'eager':>8}: step {med[c]:.0f} ms (rounds {min(steps):.0f}-{max(steps):.0f}), first "
        f"step {', '.join(f'{ts[0]:.1f}' for ts, _ in res[c])} s"
    )
print(f"compiled / eager step time: {med[True] / med[False]:.2f}x")
out['ratio'] = med[True] / med[False]
assert all(abs(le[-1] - lc[-1]) < 0.05 for (_, le), (_, lc) in zip(res[False], res[True])), (
    "compiled and eager losses differ"
)
if a.out:
    json.dump(out, open(a.out, 'w'), indent=1)
