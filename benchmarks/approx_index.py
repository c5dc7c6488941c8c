"""The approximate index at 1M and 5M items: build time, disk, memory, latency and recall@10 against the exact search.

    python benchmarks/approx_index.py [--sizes 1000000 5000000] [--out benchmarks/results/approx_index.json]

Synthetic embeddings shaped like a ViT-B-32's (512 dimensions, unit rows): images around 5,000 "subjects" (cosine
~0.5 between two images of one subject); text queries sit across a modality gap, as CLIP's do: a shared offset
direction puts them at cosine ~0.3 to their subject's images and far from every image cluster centre; image queries
are new images of a random subject. For each size the embeddings are written as a run's `index/image_embeddings.npy`
(in chunks: never whole in memory), then, each in its own process so that its peak memory (RSS) is its own:

- build: `build_approx_index` (seconds, index size on disk, peak RSS);
- exact: the exact search's answers for the queries (a chunked pass over the memory-mapped file), and its latency
  per single query with the embeddings in memory (`SearchIndex`, faiss flat) where they fit;
- approx: `ApproxIndex` for each `--nprobe`: recall@10 against the exact answers for text->image and image->image,
  latency per single query p50/p95 (the candidates re-ranked from the file on disk, page cache warm), peak RSS.

Peak RSS is reported with the imports' own (python, torch, fastai, faiss: ~0.9 GB) beside it.
"""

import argparse, json, subprocess, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import numpy as np

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--sizes', type=int, nargs='+', default=[1_000_000, 5_000_000])
p.add_argument('--dim', type=int, default=512)
p.add_argument('--queries', type=int, default=200, help='per modality')
p.add_argument('--nprobe', type=int, nargs='+', default=[16, 64, 256])
p.add_argument('--rerank', type=int, nargs='+', default=[10, 30, 100], help='candidates per result scored exactly')
p.add_argument('--reuse', action='store_true', help="keep a size's exact answers and index when --dir holds them")
p.add_argument('--subjects', type=int, default=5000)
p.add_argument('--dir', default=None, help='where the embeddings go (default: a temporary folder, removed)')
p.add_argument('--out', default=None)
p.add_argument('--child', default=None, help=argparse.SUPPRESS)
p.add_argument('--size', type=int, default=None, help=argparse.SUPPRESS)
a = p.parse_args()


def gen(n, seed, d, kind='image', subjects=None):
    "Unit rows: images of random subjects, or text queries across the gap (with the subjects they describe)"
    rng = np.random.default_rng(seed)
    cs = np.random.default_rng(12345).standard_normal((a.subjects, d)).astype(np.float32)
    cs /= np.linalg.norm(cs, axis=1, keepdims=True)
    gap = np.random.default_rng(999).standard_normal(d).astype(np.float32)
    gap /= np.linalg.norm(gap)
    s = rng.integers(a.subjects, size=n) if subjects is None else subjects
    noise = rng.standard_normal((n, d)).astype(np.float32) / np.sqrt(d)
    x = cs[s] + noise if kind == 'image' else 0.55 * cs[s] + 1.2 * gap + 1.1 * noise
    return x / np.linalg.norm(x, axis=1, keepdims=True), s


def write(path, n, d, chunk=250_000):
    "The image embeddings of `n` items as an .npy written in chunks"
    path.mkdir(parents=True, exist_ok=True)
    mm = np.lib.format.open_memmap(path / 'image_embeddings.npy', mode='w+', dtype=np.float32, shape=(n, d))
    for i in range(0, n, chunk):
        mm[i : i + chunk] = gen(min(chunk, n - i), i, d)[0]
    mm.flush()
    del mm


def queries(d):
    qi, _ = gen(a.queries, 10**9, d)
    qt, _ = gen(a.queries, 10**9 + 1, d, kind='text')
    return dict(image=qi, text=qt)


def peak_rss_mb():
    """This process's peak resident memory since it started (VmHWM: getrusage's ru_maxrss would count the parent's
    memory at the fork that started it)"""
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) / 1024


def child(kind, path):
    "One measurement in this process: its figures as JSON on stdout"
    from clipart.search.approx import build_approx_index, ApproxIndex, approx_file
    import pandas as pd, faiss

    imports_mb = peak_rss_mb()  # python, torch, fastai, faiss
    path = Path(path)
    emb = np.load(path / 'image_embeddings.npy', mmap_mode='r')
    n, d = emb.shape
    qs = queries(d)
    out = {}
    if kind == 'build':
        t = time.time()
        build_approx_index(path, verbose=False)
        out = dict(build_s=time.time() - t, index_mb=approx_file(path).stat().st_size / 2**20)
        out.update(json.loads(approx_file(path).with_suffix('.json').read_text()))
    elif kind == 'exact':
        for m, q in qs.items():  # ground truth: a chunked pass over the file
            best = []
            for i in range(0, n, 500_000):
                s = q @ np.asarray(emb[i : i + 500_000]).T
                j = np.argpartition(-s, 10, axis=1)[:, :10]
                best.append((np.take_along_axis(s, j, 1), j + i))
            s, j = np.concatenate([b[0] for b in best], 1), np.concatenate([b[1] for b in best], 1)
            o = np.argsort(-s, 1)[:, :10]
            out[m] = np.take_along_axis(j, o, 1).tolist()
        if n * d * 4 < 12 * 2**30:  # the exact index in memory, as the gallery holds it
            t = time.time()
            ix = faiss.IndexFlatIP(d)
            ix.add(np.ascontiguousarray(emb))
            out['load_s'] = time.time() - t
            lat = []
            for q in qs['text'][:50]:
                t = time.perf_counter()
                ix.search(q[None], 10)
                lat.append(time.perf_counter() - t)
            out['latency_ms'] = [1000 * x for x in lat]
    else:
        truth = json.loads(Path(path / 'truth.json').read_text())
        ax = ApproxIndex(path, items=pd.DataFrame(index=range(n)), nprobe=int(kind))
        for rr in a.rerank:
            ax.rerank, o = rr, {}
            for m, q in qs.items():
                _, rows = ax.search(q, 10)
                o[f'recall_{m}'] = float(np.mean([len(set(r) & set(t)) / 10 for r, t in zip(rows.tolist(), truth[m])]))
            lat = []
            for q in np.concatenate([qs['text'][:100], qs['image'][:100]]):
                t = time.perf_counter()
                ax.search(q[None], 10)
                lat.append(time.perf_counter() - t)
            out[rr] = dict(o, latency_ms=[1000 * x for x in lat])
        # resident memory now: anonymous (the index, the process) and the embeddings file's pages re-ranking read
        st = {l.split(':')[0]: int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('Rss')}
        out.update(anon_mb=st.get('RssAnon'), file_mb=st.get('RssFile'))
    out['peak_rss_mb'] = peak_rss_mb()
    out['imports_rss_mb'] = imports_mb
    print(json.dumps(out))


if a.child:
    child(a.child, a.dir)
    sys.exit()

from benchlib import machine_info, machine_line, write_results

info = machine_info()
print(machine_line(info))


def run_child(kind, path):
    r = subprocess.run(
        [
            sys.executable,
            __file__,
            '--child',
            kind,
            '--dir',
            str(path),
            '--subjects',
            str(a.subjects),
            '--queries',
            str(a.queries),
            '--rerank',
            *map(str, a.rerank),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode:
        raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


pct = lambda xs, q: float(np.percentile(xs, q))
same = np.zeros(200, int)
im, _ = gen(200, 1, a.dim, subjects=same)
tx, _ = gen(200, 2, a.dim, kind='text', subjects=same)
other, _ = gen(200, 3, a.dim)
print(
    f"cosines: image-image of a subject {np.mean(im[:100] @ im[100:].T):.2f}, text-image of a subject "
    f"{np.mean(tx @ im.T):.2f}, text-image of others {np.mean(tx @ other.T):.2f}, image-image of others "
    f"{np.mean(im @ other.T):.2f}"
)
rows = []
root = Path(a.dir or tempfile.mkdtemp(prefix='approx-'))
try:
    for n in a.sizes:
        path = root / f'n{n}'
        t = time.time()
        if not (path / 'image_embeddings.npy').exists():
            write(path, n, a.dim)
        gen_s = time.time() - t
        kept = [path / f for f in ('truth.json', 'exact.json', 'build.json', 'image.ivfpq.faiss')]
        if a.reuse and all(f.exists() for f in kept):
            exact, build = (json.loads((path / f).read_text()) for f in ('exact.json', 'build.json'))
        else:
            ex = run_child('exact', path)
            (path / 'truth.json').write_text(json.dumps({m: ex[m] for m in ('image', 'text')}))
            exact = dict(
                peak_rss_mb=ex['peak_rss_mb'],
                imports_rss_mb=ex['imports_rss_mb'],
                load_s=ex.get('load_s'),
                p50_ms=pct(ex['latency_ms'], 50) if 'latency_ms' in ex else None,
                p95_ms=pct(ex['latency_ms'], 95) if 'latency_ms' in ex else None,
            )
            (path / 'exact.json').write_text(json.dumps(exact))
            build = run_child('build', path)
            (path / 'build.json').write_text(json.dumps(build))
        row = dict(
            n=n,
            dim=a.dim,
            embeddings_mb=(path / 'image_embeddings.npy').stat().st_size / 2**20,
            write_s=gen_s,
            build=build,
            exact=exact,
            approx={},
        )
        print(
            f"\n{n:,} items x {a.dim}: embeddings {row['embeddings_mb']:.0f} MB; build {build['build_s']:.0f} s "
            f"(IVF{build['nlist']},PQ{build['m']}x{build['nbits']}, {build['index_mb']:.0f} MB on disk, peak RSS "
            f"{build['peak_rss_mb']:.0f} MB); exact in memory: p50 {exact['p50_ms'] or float('nan'):.1f} ms, "
            f"peak RSS {exact['peak_rss_mb']:.0f} MB"
        )
        for npr in a.nprobe:
            r = run_child(str(npr), path)
            row['approx'][npr] = dict(
                peak_rss_mb=r['peak_rss_mb'],
                imports_rss_mb=r['imports_rss_mb'],
                anon_mb=r['anon_mb'],
                file_mb=r['file_mb'],
                rerank={},
            )
            for rr in a.rerank:
                x = row['approx'][npr]['rerank'][rr] = dict(
                    recall_text=r[str(rr)]['recall_text'],
                    recall_image=r[str(rr)]['recall_image'],
                    p50_ms=pct(r[str(rr)]['latency_ms'], 50),
                    p95_ms=pct(r[str(rr)]['latency_ms'], 95),
                )
                print(
                    f"  nprobe {npr:4d} rerank {rr:3d}: recall@10 text->image {x['recall_text']:.3f}, image->image "
                    f"{x['recall_image']:.3f}; latency p50 {x['p50_ms']:.1f} ms p95 {x['p95_ms']:.1f} ms"
                )
            x = row['approx'][npr]
            print(
                f"  nprobe {npr:4d}: peak RSS {x['peak_rss_mb']:.0f} MB (imports {x['imports_rss_mb']:.0f}); at the "
                f"end {x['anon_mb']:.0f} MB anonymous + {x['file_mb']:.0f} MB of the embeddings file's pages"
            )
        rows.append(row)
finally:
    if a.dir is None:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
write_results(a.out, info, rows=rows, queries=a.queries, subjects=a.subjects)
