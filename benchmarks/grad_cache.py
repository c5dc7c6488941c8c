"""Big contrastive batches on small hardware: one step at batch 256 forwarded whole vs in 4 micro-batches of 64
(`clipart.scale.GradCache`), same model and data, in separate processes so each peak RSS is its own.
Prints step time and peak memory for both and their ratios.

    python benchmarks/grad_cache.py [--steps 3] [--arch clipart-tiny-vit]
"""
import argparse, resource, subprocess, sys, time

def one(micro_bs, steps, arch):
    import torch
    from clipart.multimodal.models import create_clip_model
    from clipart.multimodal.losses import create_loss
    from clipart.multimodal.scale import MicroBatched
    torch.manual_seed(0); torch.set_num_threads(2)
    model = create_clip_model(arch)
    s = model.visual.image_size; s = s[0] if isinstance(s, (tuple, list)) else s
    net = MicroBatched(model, micro_bs) if micro_bs else model
    opt, loss_fn = torch.optim.AdamW(model.parameters(), lr=1e-4), create_loss('clip')
    x, t = torch.randn(256, 3, s, s), torch.randint(1, 49000, (256, model.context_length))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        loss = loss_fn(*net(x, t)[:3]); loss.backward(); opt.step(); opt.zero_grad()
        if i: times.append(time.perf_counter() - t0)   # the first step warms up
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(min(times), peak / 2**20, (peak - base) / 2**20, loss.item())

if __name__ == '__main__':
    p = argparse.ArgumentParser(); p.add_argument('--steps', type=int, default=3); p.add_argument('--arch', default='clipart-tiny-vit')
    p.add_argument('--one', type=int, default=-1)
    a = p.parse_args()
    if a.one >= 0: one(a.one, a.steps, a.arch); sys.exit()
    res = {}
    for mb in [0, 64]:
        out = subprocess.run([sys.executable, __file__, '--one', str(mb), '--steps', str(a.steps), '--arch', a.arch],
                             capture_output=True, text=True, check=True).stdout.split()
        res[mb] = [float(v) for v in out]
    (t1, p1, d1, l1), (t4, p4, d4, l4) = res[0], res[64]
    print(f"{a.arch}, batch 256, best of {a.steps} steps (loss {l1:.4f} vs {l4:.4f}):")
    print(f"  single 256:      {t1*1e3:7.0f} ms/step, peak RSS {p1:.2f} GiB (+{d1:.2f} GiB for the step)")
    print(f"  4 x 64 GradCache: {t4*1e3:7.0f} ms/step, peak RSS {p4:.2f} GiB (+{d4:.2f} GiB for the step)")
    print(f"  ratios (GradCache / single): time {t4/t1:.2f}, step memory {d4/d1:.2f}")
