"""Pieces the benchmarks share: what machine they ran on, a fake 100k-item gallery run, and a `clipart-serve` process.

Imported by the scripts beside it (`python benchmarks/X.py` puts this folder on `sys.path`).
"""

import json, os, platform, socket, statistics, subprocess, sys, tempfile, time
from pathlib import Path


def machine_info():
    "What a figure was measured on: CPU model, cores, torch threads, library versions"
    cpu, units = platform.processor() or platform.machine(), []
    try:
        cpu = next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
        flags = next(l.split(':', 1)[1].split() for l in open('/proc/cpuinfo') if l.startswith('flags'))
        units = [f for f in ('avx2', 'avx512f', 'avx512_bf16', 'amx_bf16') if f in flags]  # what bf16 runs on
    except (OSError, StopIteration):
        pass
    import torch, clipart

    return dict(
        cpu=cpu,
        units=units,
        cores=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        python=platform.python_version(),
        torch=torch.__version__,
        clipart=clipart.__version__,
    )


def machine_line(info=None):
    "`machine_info` as one printable line"
    i = info or machine_info()
    units = f" ({' '.join(i['units'])})" if i.get('units') else ''
    return (
        f"{i['cpu']}{units}, {i['cores']} cores, {i['torch_threads']} torch threads; Python {i['python']}, torch "
        f"{i['torch']}, clipart {i['clipart']}"
    )


def interleaved(fns, rounds=5, warmup=1):
    """Seconds of each callable in `fns` (name -> f), `rounds` times in turn (A B A B ...) after `warmup` untimed calls
    each, so a drifting machine moves all of them"""
    for f in fns.values():
        for _ in range(warmup):
            f()
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return times


def spread(xs, scale=1, fmt='.2f'):
    "`xs` (times `scale`) as 'median (min-max)'"
    return f"{statistics.median(xs) * scale:{fmt}} ({min(xs) * scale:{fmt}}-{max(xs) * scale:{fmt}})"


def ratios(num, den):
    "Round-by-round ratios num[i] / den[i] of two interleaved series (a drift moves both sides of each ratio)"
    return [n / d for n, d in zip(num, den)]


def write_results(path, info=None, quiet=False, **res):
    "Write a benchmark's results as JSON at `path` (if given), with what it ran on (`machine_info`) under 'machine'"
    if not path:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(dict(machine=info or machine_info(), **res), indent=1, default=float))
    if not quiet:
        print(f"written {path}")


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def fake_gallery_run(n=100_000, proposals=0, seed=0, path=None, arch='clipart-tiny-vit'):
    """A run folder of `n` items with random unit embeddings (images cycle over a synthetic collection) and a
    random-init model (`arch`, the tiny one by default); `proposals` uncatalogued items to review"""
    import numpy as np, pandas as pd, torch
    from clipart.data.imet import read_imet, ReadReport
    from clipart.data.synthetic import synthetic_path
    from clipart.multimodal.models import create_clip_model, save_clip
    from clipart.catalogue.core import Proposals

    run = Path(path or tempfile.mkdtemp()) / 'run'
    coll = read_imet(synthetic_path(n=200))
    torch.manual_seed(seed)
    m = create_clip_model(arch)
    save_clip(m, run / 'model')
    rng = np.random.default_rng(seed)
    d = m.text_projection.shape[1]
    unit = lambda k: (lambda e: e / np.linalg.norm(e, axis=1, keepdims=True))(
        rng.standard_normal((k, d)).astype(np.float32)
    )
    (run / 'index').mkdir(parents=True)
    np.save(run / 'index' / 'image_embeddings.npy', unit(n))
    src = coll.df.sample(n, replace=True, random_state=seed).reset_index(drop=True)
    groups = list(dict.fromkeys(coll.vocab.group))
    pd.DataFrame(
        dict(
            id=[f'item{i:06d}' for i in range(n)],
            image=src.image,
            caption=[f'item {i}' for i in range(n)],
            labels=['|'.join(f'{g}::{v}' for g in groups for v in r[g]) for _, r in src[groups].iterrows()],
        )
    ).to_csv(run / 'index' / 'items.csv', index=False)
    coll.vocab[['attribute_id', 'attribute_name']].to_csv(run / 'index' / 'labels.csv', index=False)
    # what `clipart-label` would have written for `proposals` new images: a few proposed values per group and
    # alternatives
    if proposals:
        new = coll.df.sample(proposals, replace=True, random_state=seed + 1).reset_index(drop=True)
        ids = [f'new{i:05d}' for i in range(proposals)]
        vals = {g: sorted(coll.vocab[coll.vocab.group == g].value) for g in groups}
        attrs = [
            (i, g, v, float(p), k == 0, k + 1)
            for i in ids
            for g in groups
            for k, (v, p) in enumerate(
                zip(rng.choice(vals[g], min(3, len(vals[g])), replace=False), sorted(rng.random(3), reverse=True))
            )
        ]
        attrs = pd.DataFrame(attrs, columns=['id', 'group', 'value', 'p', 'proposed', 'rank'])
        items = pd.DataFrame(
            dict(
                id=ids,
                image=new.image,
                status='proposed',
                uncertainty=rng.random(proposals).round(4),
                priority=rng.permutation(proposals) + 1,
            )
        )
        items['labels'] = items.id.map(
            attrs[attrs.proposed].assign(a=lambda d: d.group + '::' + d.value).groupby('id').a.agg('|'.join)
        ).fillna('')
        Proposals(items, attrs, unit(proposals), ReadReport(), groups).save(run / 'catalogue')
    return run, coll


def start_serve(run, *args, timeout=120):
    """A `clipart-serve --run run` process on a free loopback port, answering: (process, base url, seconds to the first
    page); its output goes to `p.log`"""
    exe = Path(sys.executable).parent / 'clipart-serve'
    if not exe.exists():
        sys.exit(f"{exe}: not found: pip install -e . installs the console scripts")
    port = free_port()
    url = f'http://127.0.0.1:{port}'
    import urllib.request

    t0 = time.perf_counter()
    # a file, not a pipe: a server that logs a lot never blocks on a full pipe
    log = Path(tempfile.mkstemp(suffix='.log')[1])
    p = subprocess.Popen(
        [str(exe), '--run', str(run), '--port', str(port), *map(str, args)],
        stdout=open(log, 'w'),
        stderr=subprocess.STDOUT,
    )
    p.log = log
    while True:
        try:
            urllib.request.urlopen(url + '/?q=warm+up', timeout=5).read()
            break  # the first page builds the facet menus once
        except Exception:
            if p.poll() is not None:
                sys.exit(f"clipart-serve exited:\n{log.read_text()}")
            if time.perf_counter() - t0 > timeout:
                p.kill()
                sys.exit(f"clipart-serve did not answer in {timeout} s")
            time.sleep(0.1)
    return p, url, time.perf_counter() - t0


def rss_mb(pid):
    "The resident memory of process `pid` in MB (Linux)"
    for l in open(f'/proc/{pid}/status'):
        if l.startswith('VmRSS:'):
            return int(l.split()[1]) / 1024
    return float('nan')


def sync(dev):
    "Wait for the device's queued work (CUDA); nothing on CPU"
    import torch

    if torch.device(dev).type == 'cuda':
        torch.cuda.synchronize()


def batches(n, bs, size, ctx, dev='cpu', seed=0):
    "`n` in-memory batches of random images [bs, 3, size, size] and token ids [bs, ctx] on `dev`"
    import torch

    g = torch.Generator().manual_seed(seed)
    return [
        (torch.randn(bs, 3, size, size, generator=g).to(dev), torch.randint(1, 49406, (bs, ctx), generator=g).to(dev))
        for _ in range(n)
    ]


def step_flops(arch, bs_, dev, precision, image_size=None):
    "FLOPs of one training step (forward, loss, backward) counted by torch"
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    dev = torch.device(dev)
    from clipart.multimodal.models import create_clip_model, image_size as _size
    from clipart.multimodal.losses import create_loss

    m = create_clip_model(arch, image_size=image_size).to(dev)
    ((x, t),) = batches(1, bs_, image_size or _size(m), m.context_length, dev)
    with (
        FlopCounterMode(display=False) as fc,
        torch.autocast(dev.type, dtype=torch.bfloat16, enabled=precision == 'bf16'),
    ):
        create_loss('clip')(*m(x, t)).backward()
    return fc.get_total_flops()


def gemm_peak(dev, precision, budget=0.05):
    """FLOP/s of a large matmul on `dev` (the machine's practical peak, measured now); on a CPU the size doubles from
    256 up to 2048 while one product takes under `budget` seconds, so a CPU without bf16 units (bf16 emulated, ~100x
    slower) measures in seconds rather than minutes"""
    import torch

    dev = torch.device(dev)
    dt = torch.bfloat16 if dev.type == 'cuda' or precision == 'bf16' else torch.float32
    n = 8192 if dev.type == 'cuda' else 256
    while dev.type != 'cuda' and n < 2048:
        a = torch.randn(n, n, dtype=dt)
        t0 = time.perf_counter()
        a @ a
        if time.perf_counter() - t0 > budget:
            break
        n *= 2
    a, b = torch.randn(n, n, device=dev, dtype=dt), torch.randn(n, n, device=dev, dtype=dt)
    for _ in range(3):
        a @ b
    sync(dev)
    reps = 20 if dev.type == 'cuda' else 3
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(dev)
    return 2 * n**3 * reps / (time.perf_counter() - t0)
