"""One prepared check of clipart on a GPU: one command, one table, every part asserting that it worked.

    python benchmarks/gpu_check.py            # one large GPU, under 8 minutes: ViT-B-32, 224 px, bf16, batch 256
    python benchmarks/gpu_check.py --tiny     # the same script on CPU in about a minute (CI runs it)

Parts (each prints a row and asserts it worked):
1. training steps/s on in-memory synthetic images: clipart (`Learner` + `CLIPTrainer`, bf16 autocast) against
   open_clip_train's own `train_one_epoch` (the same model, batches, AdamW and precision); a plain PyTorch loop
   stands in when open_clip_train cannot be imported (`pip install -e ".[bench]"`);
2. model FLOP utilisation: a step's FLOPs (torch's `FlopCounterMode`) per second against the GEMM peak measured in the
   same run (a large bf16 matmul on GPU, fp32 on CPU), and against the GPU's nominal bf16 peak;
3. peak memory of a step (GPU: `max_memory_allocated`; CPU: the process's peak RSS);
4. GradCache: one step at a global batch of 4,096 (tiny: 256) in micro-batches of 256 (tiny: 64);
5. the torchrun path: `torchrun -m clipart.cli.train` (GPU: one process, NCCL when 2+; tiny: 2 processes, gloo);
6. export: `export_embeddings` images/s over a synthetic collection read from disk;
7. gallery search on the device: `SearchIndex(device=...)` queries/s over 1M (tiny: 20k) embeddings.
Results (and the machine) go to `--out` as JSON.
"""

import argparse, json, math, os, resource, subprocess, sys, tempfile, time, types
from pathlib import Path
import torch
from benchlib import machine_info, machine_line, step_flops, gemm_peak, sync, batches

NOMINAL_BF16 = {
    'H200': 989e12,
    'H100': 989e12,
    'A100': 312e12,
    'L40S': 362e12,
    'L4': 121e12,
}  # dense bf16 FLOP/s by name


def clipart_steps(arch, bs_, dev, precision, steps, micro_bs=None):
    """Seconds per step of clipart's Learner + CLIPTrainer (and GradCache with `micro_bs`) after a warm-up epoch; the
    losses"""
    from fastai.basics import Learner, DataLoaders, Callback, noop
    from fastai.data.load import DataLoader
    from clipart.multimodal.models import create_clip_model, image_size
    from clipart.multimodal.clip import CLIPTrainer
    from clipart.multimodal.scale import GradCache

    torch.manual_seed(0)
    model = create_clip_model(arch).to(dev)
    size = image_size(model)
    data = batches(steps, bs_, size, model.context_length, dev)

    class Timer(Callback):
        def before_train(self):
            sync(dev)
            self.t0 = time.perf_counter()

        def after_train(self):
            sync(dev)
            self.dt = time.perf_counter() - self.t0

        def after_batch(self):
            if self.training:
                self.losses.append(float(self.learn.loss.detach()))

    tm = Timer()
    tm.losses = []
    dls = DataLoaders(
        DataLoader(data, bs=None, num_workers=0), DataLoader(data[:1], bs=None, num_workers=0), device=dev
    )  # in memory: no loader processes
    from clipart.training import FusedAdam  # the optimiser clipart-train steps with

    learn = Learner(
        dls,
        model,
        loss_func=noop,
        cbs=[CLIPTrainer(), tm] + ([GradCache(micro_bs)] if micro_bs else []),
        opt_func=FusedAdam,
        wd=0.1,
    ).to_amp(precision)
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, 1e-4)  # warm-up (kernels chosen, memory allocated)
        if dev.type == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        tm.losses = []
        learn.fit(1, 1e-4)
    return tm.dt / steps, tm.losses, model


def open_clip_steps(arch, bs_, dev, precision, steps):
    """Seconds per step of open_clip_train's `train_one_epoch` on the same kind of batches; or of a plain loop when it
    cannot be imported"""
    import open_clip
    from clipart.multimodal.models import register_configs

    register_configs()
    torch.manual_seed(0)
    model = open_clip.create_model(arch, output_dict=True).to(dev)
    s = model.visual.image_size
    s = s[0] if isinstance(s, (tuple, list)) else s
    data = batches(steps, bs_, s, model.context_length, dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1, fused=dev.type == 'cuda')
    loss = open_clip.ClipLoss()
    try:
        from open_clip_train.train import train_one_epoch
        from open_clip_train.data import DataInfo
        import logging

        logging.disable(logging.INFO)
    except ImportError:
        train_one_epoch = None
    if train_one_epoch is None:  # the same step, written out
        amp = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=precision == 'bf16')

        def epoch():
            for x, t in data:
                with amp:
                    l = loss(**model(x, t))
                l.backward()
                opt.step()
                opt.zero_grad()

        name = 'plain PyTorch loop (open_clip_train not importable)'
    else:

        class Loader(list):
            num_batches = property(lambda self: len(self))
            num_samples = property(lambda self: len(self) * bs_)

        info = DataInfo(Loader(data))
        args = types.SimpleNamespace(
            device=str(dev),
            precision='amp_bf16' if precision == 'bf16' else 'fp32',
            accum_freq=1,
            batch_size=bs_,
            distill=False,
            grad_clip_norm=None,
            horovod=False,
            log_every_n_steps=10**9,
            skip_scheduler=True,
            wandb=False,
            world_size=1,
            rank=0,
            local_rank=0,
            save_logs=False,
            distributed=False,
        )

        def epoch():
            train_one_epoch(model, dict(train=info), loss, 0, opt, None, None, None, args)

        name = "open_clip_train's train_one_epoch"
    epoch()
    sync(dev)
    t0 = time.perf_counter()
    epoch()
    sync(dev)
    return (time.perf_counter() - t0) / steps, name


def peak_memory_gb(dev):
    if dev.type == 'cuda':
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def torchrun_check(tmp, tiny, dev):
    "clipart-train under torchrun: (seconds, processes, what it printed last)"
    n = 2 if tiny or dev.type != 'cuda' else min(torch.cuda.device_count(), 8)
    out = Path(tmp) / 'torchrun'
    cmd = [
        sys.executable,
        '-m',
        'torch.distributed.run',
        '--standalone',
        f'--nproc_per_node={n}',
        '-m',
        'clipart.cli.train',
        '--n-synthetic',
        '256',
        '--epochs',
        '1',
        '--bs',
        '64',
        '--out',
        str(out),
        '--pictures',
        'false',
        '--workers',
        '0',
    ] + ([] if tiny else ['--arch', 'ViT-B-32', '--precision', 'bf16'])
    t0 = time.perf_counter()
    r = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, 'CLIPART_CACHE': str(Path(tmp) / 'cache')}
    )
    dt = time.perf_counter() - t0
    assert r.returncode == 0, f"torchrun failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    m = json.loads((out / 'metrics.json').read_text())
    assert m['world_size'] == n and 0 <= m['trained']['retrieval']['i2t_R@1'] <= 1, m.get('world_size')
    return dt, n


def export_check(tmp, arch, dev, n):
    "images/s of `export_embeddings` over `n` synthetic images read from disk"
    from clipart.data.imet import read_imet
    from clipart.data.synthetic import make_synthetic_imet
    from clipart.data.tokens import imet_dataloaders
    from clipart.multimodal.models import create_clip_model, image_size
    from clipart.search.index import export_embeddings
    import numpy as np

    m = create_clip_model(arch).to(dev).eval()
    coll = read_imet(make_synthetic_imet(Path(tmp) / 'synth', n=n, seed=0))
    dls = imet_dataloaders(
        coll,
        size=image_size(m),
        bs=256 if dev.type == 'cuda' else 64,
        context_length=m.context_length,
        num_workers=min(8, os.cpu_count() or 1) if dev.type == 'cuda' else 0,
        device=dev,
    )
    t0 = time.perf_counter()
    export_embeddings(m, dls, coll.df, Path(tmp) / 'index')
    dt = time.perf_counter() - t0
    e = np.load(Path(tmp) / 'index' / 'image_embeddings.npy')
    assert e.shape[0] == n and np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-3)
    return n / dt


def search_check(dev, n, d=512, queries=1000):
    "queries/s of `SearchIndex` on `dev` over `n` random unit embeddings, and whether it found planted copies"
    import numpy as np
    from clipart.search.index import SearchIndex

    g = torch.Generator().manual_seed(0)
    keys = torch.nn.functional.normalize(torch.randn(n, d, generator=g), dim=1).numpy()
    idx = SearchIndex(keys, device=dev)
    q = keys[:queries] + 0.001
    idx.search(q[:10], k=10)
    sync(dev)
    t0 = time.perf_counter()
    _, i = idx.search(q, k=10)
    dt = time.perf_counter() - t0
    assert (i[:, 0] == np.arange(queries)).all(), "search missed planted copies"
    return queries / dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--tiny', action='store_true', help='the tiny model on CPU, in about a minute (what CI runs)')
    ap.add_argument('--steps', type=int, default=None)
    ap.add_argument('--out', default=None, help='write the results here as JSON')
    a = ap.parse_args()
    dev = torch.device('cuda' if torch.cuda.is_available() and not a.tiny else 'cpu')
    if not a.tiny and dev.type != 'cuda':
        sys.exit("no GPU here: run with --tiny (the same checks on CPU, the tiny model)")
    arch, bs_, prec = ('clipart-tiny-vit', 32, 'fp32') if a.tiny else ('ViT-B-32', 256, 'bf16')
    steps = a.steps or (10 if a.tiny else 30)
    gname = torch.cuda.get_device_name() if dev.type == 'cuda' else 'CPU'
    info = {**machine_info(), 'device': gname}
    rows, res = [], dict(machine=info, arch=arch, bs=bs_, precision=prec, steps=steps)

    def row(part, value, note=''):
        rows.append((part, value, note))
        print(f"  {part}: {value} {note}", flush=True)

    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        # 1-3: steps, utilisation, memory
        t_c, losses, _ = clipart_steps(arch, bs_, dev, prec, steps)
        assert all(math.isfinite(l) for l in losses), losses
        mem = peak_memory_gb(dev)
        t_o, oname = open_clip_steps(arch, bs_, dev, prec, steps)
        res.update(clipart_step_s=t_c, open_clip_step_s=t_o, open_clip_is=oname, peak_memory_gb=mem)
        row(
            'clipart steps/s',
            f"{1 / t_c:.2f}",
            f"({bs_ / t_c:.0f} images/s; {oname}: {1 / t_o:.2f} steps/s; clipart's speed {t_o / t_c:.2f}x theirs)",
        )
        fl = step_flops(arch, bs_, dev, prec)
        peak = gemm_peak(dev, prec)
        mfu = fl / t_c / peak
        res.update(step_flops=fl, gemm_peak=peak, mfu_measured_peak=mfu)
        nominal = next((v for k, v in NOMINAL_BF16.items() if k in gname), None)
        row(
            'model FLOP utilisation',
            f"{100 * mfu:.1f} %",
            f"of the measured GEMM peak {peak / 1e12:.1f} TFLOP/s ({fl / 1e9:.1f} GFLOP a step)"
            + (
                f"; {100 * fl / t_c / nominal:.1f} % of the nominal bf16 {nominal / 1e12:.0f} TFLOP/s"
                if nominal and prec == 'bf16'
                else ''
            ),
        )
        assert 0 < mfu < 1.5, mfu
        row('peak memory of a step', f"{mem:.2f} GiB", '(GPU allocated)' if dev.type == 'cuda' else '(process RSS)')
        # 4: GradCache
        gb, mb = (256, 64) if a.tiny else (4096, 256)
        t_g, lg, _ = clipart_steps(arch, gb, dev, prec, 2, micro_bs=mb)
        assert all(math.isfinite(l) for l in lg), lg
        res.update(
            grad_cache_step_s=t_g, grad_cache_batch=gb, grad_cache_micro=mb, grad_cache_peak_gb=peak_memory_gb(dev)
        )
        row(
            'GradCache step',
            f"{t_g:.2f} s",
            f"(global batch {gb} in micro-batches of {mb}; loss {lg[-1]:.3f}; peak {peak_memory_gb(dev):.2f} GiB)",
        )
        # 5: torchrun
        t_r, n_r = torchrun_check(tmp, a.tiny, dev)
        res.update(torchrun_s=t_r, torchrun_processes=n_r)
        row(
            'torchrun clipart-train',
            f"{t_r:.0f} s",
            f"({n_r} process{'es' if n_r > 1 else ''}, "
            f"{'NCCL' if dev.type == 'cuda' and n_r > 1 else 'gloo' if n_r > 1 else 'no process group'}; metrics "
            "written)",
        )
        # 6: export
        ips = export_check(tmp, arch, dev, 256 if a.tiny else 4096)
        res['export_images_per_s'] = ips
        row('export_embeddings', f"{ips:.0f} images/s", '(synthetic JPEGs from disk)')
        # 7: search
        nk = 20_000 if a.tiny else 1_000_000
        qps = search_check(dev, nk)
        res['search_queries_per_s'] = qps
        row('gallery search', f"{qps:.0f} queries/s", f"(SearchIndex on {dev.type}, {nk:,} keys, k=10)")
    res['wall_s'] = time.perf_counter() - t_all
    print(f"\n{machine_line(info)}; device {gname}; {arch}, batch {bs_}, {prec}; {res['wall_s']:.0f} s in all\n")
    print('| part | result | |')
    print('|---|---|---|')
    for p, v, n in rows:
        print(f"| {p} | {v} | {n} |")
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1))


if __name__ == '__main__':
    main()
