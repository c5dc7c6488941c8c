"""Pieces the benchmarks share: what machine they ran on, a fake 100k-item gallery run, and a `clipart-serve` process.

Imported by the scripts beside it (`python benchmarks/X.py` puts this folder on `sys.path`).
"""
import os, platform, socket, subprocess, sys, tempfile, time
from pathlib import Path

def machine_info():
    "What a figure was measured on: CPU model, cores, torch threads, library versions"
    cpu = platform.processor() or platform.machine()
    try: cpu = next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): pass
    import torch, clipart
    return dict(cpu=cpu, cores=os.cpu_count(), torch_threads=torch.get_num_threads(), python=platform.python_version(),
                torch=torch.__version__, clipart=clipart.__version__)

def machine_line(info=None):
    "`machine_info` as one printable line"
    i = info or machine_info()
    return f"{i['cpu']}, {i['cores']} cores, {i['torch_threads']} torch threads; Python {i['python']}, torch {i['torch']}, clipart {i['clipart']}"

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def fake_gallery_run(n=100_000, proposals=0, seed=0, path=None):
    "A run folder of `n` items with random unit embeddings (images cycle over a synthetic collection) and the tiny model; `proposals` uncatalogued items to review"
    import numpy as np, pandas as pd, torch
    from clipart.data.imet import read_imet, ReadReport
    from clipart.data.synthetic import synthetic_path
    from clipart.multimodal.models import create_clip_model, save_clip
    from clipart.eval.catalogue import Proposals
    run = Path(path or tempfile.mkdtemp())/'run'
    coll = read_imet(synthetic_path(n=200))
    torch.manual_seed(seed); m = create_clip_model('clipart-tiny-vit'); save_clip(m, run/'model')
    rng = np.random.default_rng(seed); d = m.text_projection.shape[1]
    unit = lambda k: (lambda e: e/np.linalg.norm(e, axis=1, keepdims=True))(rng.standard_normal((k, d)).astype(np.float32))
    (run/'index').mkdir(parents=True); np.save(run/'index'/'image_embeddings.npy', unit(n))
    src = coll.df.sample(n, replace=True, random_state=seed).reset_index(drop=True)
    groups = list(dict.fromkeys(coll.vocab.group))
    pd.DataFrame(dict(id=[f'item{i:06d}' for i in range(n)], image=src.image, caption=[f'item {i}' for i in range(n)],
                      labels=['|'.join(f'{g}::{v}' for g in groups for v in r[g]) for _,r in src[groups].iterrows()])).to_csv(run/'index'/'items.csv', index=False)
    coll.vocab[['attribute_id','attribute_name']].to_csv(run/'index'/'labels.csv', index=False)
    if proposals:   # what `clipart-label` would have written for `proposals` new images: a few proposed values per group and alternatives
        new = coll.df.sample(proposals, replace=True, random_state=seed+1).reset_index(drop=True)
        ids = [f'new{i:05d}' for i in range(proposals)]
        vals = {g: sorted(coll.vocab[coll.vocab.group==g].value) for g in groups}
        attrs = [(i, g, v, float(p), k == 0, k+1) for i in ids for g in groups
                 for k,(v,p) in enumerate(zip(rng.choice(vals[g], min(3, len(vals[g])), replace=False), sorted(rng.random(3), reverse=True)))]
        attrs = pd.DataFrame(attrs, columns=['id','group','value','p','proposed','rank'])
        items = pd.DataFrame(dict(id=ids, image=new.image, status='proposed', uncertainty=rng.random(proposals).round(4), priority=rng.permutation(proposals)+1))
        items['labels'] = items.id.map(attrs[attrs.proposed].assign(a=lambda d: d.group+'::'+d.value).groupby('id').a.agg('|'.join)).fillna('')
        Proposals(items, attrs, unit(proposals), ReadReport(), groups).save(run/'catalogue')
    return run, coll

def start_serve(run, *args, timeout=120):
    "A `clipart-serve --run run` process on a free loopback port, answering: (process, base url, seconds to the first page); its output goes to `p.log`"
    exe = Path(sys.executable).parent/'clipart-serve'
    if not exe.exists(): sys.exit(f"{exe}: not found: pip install -e . installs the console scripts")
    port = free_port(); url = f'http://127.0.0.1:{port}'
    import urllib.request
    t0 = time.perf_counter()
    log = Path(tempfile.mkstemp(suffix='.log')[1])   # a file, not a pipe: a server that logs a lot never blocks on a full pipe
    p = subprocess.Popen([str(exe), '--run', str(run), '--port', str(port), *map(str, args)], stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    p.log = log
    while True:
        try: urllib.request.urlopen(url + '/?q=warm+up', timeout=5).read(); break   # the first page builds the facet menus once
        except Exception:
            if p.poll() is not None: sys.exit(f"clipart-serve exited:\n{log.read_text()}")
            if time.perf_counter() - t0 > timeout: p.kill(); sys.exit(f"clipart-serve did not answer in {timeout} s")
            time.sleep(0.1)
    return p, url, time.perf_counter() - t0

def rss_mb(pid):
    "The resident memory of process `pid` in MB (Linux)"
    for l in open(f'/proc/{pid}/status'):
        if l.startswith('VmRSS:'): return int(l.split()[1])/1024
    return float('nan')
