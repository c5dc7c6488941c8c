"""Big contrastive batches on small hardware: one step at batch 256 forwarded whole vs in 4 micro-batches of 64
(`clipart.scale.GradCache`), same model and data, in separate processes so each peak RSS is its own.
`--rounds` rounds alternate the two processes (single, GradCache, single, ...), so a drifting machine moves both.
Prints the machine, each one's best step per process and peak memory as median (min-max) over rounds, and the
median of the round-by-round ratios.

    python benchmarks/grad_cache.py [--steps 3] [--rounds 5] [--arch clipart-tiny-vit] [--out FILE]
"""

import argparse, resource, subprocess, sys, time


def one(micro_bs, steps, arch):
    import torch
    from clipart.multimodal.models import create_clip_model
    from clipart.multimodal.losses import create_loss
    from clipart.multimodal.scale import MicroBatched

    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = create_clip_model(arch)
    s = model.visual.image_size
    s = s[0] if isinstance(s, (tuple, list)) else s
    net = MicroBatched(model, micro_bs) if micro_bs else model
    opt, loss_fn = torch.optim.AdamW(model.parameters(), lr=1e-4), create_loss('clip')
    x, t = torch.randn(256, 3, s, s), torch.randint(1, 49000, (256, model.context_length))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        loss = loss_fn(*net(x, t)[:3])
        loss.backward()
        opt.step()
        opt.zero_grad()
        if i:
            times.append(time.perf_counter() - t0)  # the first step warms up
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(min(times), peak / 2**20, (peak - base) / 2**20, loss.item())


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--steps', type=int, default=3)
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--arch', default='clipart-tiny-vit')
    p.add_argument('--out')
    p.add_argument('--one', type=int, default=-1, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one >= 0:
        one(a.one, a.steps, a.arch)
        sys.exit()
    import statistics
    from benchlib import machine_info, machine_line, ratios, spread, write_results

    res = {0: [], 64: []}
    for _ in range(a.rounds):
        for mb in res:
            out = subprocess.run(
                [sys.executable, __file__, '--one', str(mb), '--steps', str(a.steps), '--arch', a.arch],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            res[mb].append([float(v) for v in out])
    col = lambda mb, i: [r[i] for r in res[mb]]
    info = machine_info()
    print(machine_line(info))
    print(
        f"{a.arch}, batch 256, best of {a.steps} steps per process, {a.rounds} interleaved rounds, median (min-max) "
        f"(loss {col(0, 3)[0]:.4f} vs {col(64, 3)[0]:.4f}):"
    )
    for mb, name in [(0, 'single 256'), (64, '4 x 64 GradCache')]:
        print(
            f"  {name:>16}: {spread(col(mb, 0), 1e3, '.0f')} ms/step, peak RSS {spread(col(mb, 1))} GiB "
            f"(+{spread(col(mb, 2))} GiB for the step)"
        )
    rt, rm = ratios(col(64, 0), col(0, 0)), ratios(col(64, 2), col(0, 2))
    print(f"  ratios (GradCache / single): time {spread(rt)}, step memory {spread(rm)}")
    write_results(
        a.out,
        info,
        arch=a.arch,
        steps=a.steps,
        rounds=a.rounds,
        columns=['best_step_s', 'peak_rss_gib', 'step_rss_gib', 'loss'],
        single=res[0],
        grad_cache=res[64],
        time_ratio=statistics.median(rt),
        memory_ratio=statistics.median(rm),
    )
