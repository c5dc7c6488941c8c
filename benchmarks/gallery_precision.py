"""The gallery on a real-size model: clipart-serve's start-up time, memory and text-query latency with the model
embedding in fp32 (the baseline), bf16 (cast) and from its ONNX export (ONNX Runtime).

    python benchmarks/gallery_precision.py [--archs clipart-tiny-vit,ViT-B-32] [--n 10000] [--queries 60] [--rounds 3]

Per architecture, a run folder of `--n` items with random unit embeddings and the random-init model (speed does not
depend on the weights), its ONNX export made once (`RunFolder.export_onnx`). Each round starts `clipart-serve --run RUN
--precision P` for every setting in turn (fp32, bf16, onnx, fp32, ...): seconds from the command to the first page,
resident memory then, and `--queries` text searches through the JSON API, each a new text (no answer cached), one at
a time; p50 and p95 per round, the median over rounds and the rounds' min-max printed, with the machine.
"""

import argparse, statistics, sys, tempfile, time, urllib.request, warnings
from pathlib import Path
from urllib.parse import urlencode

warnings.simplefilter('ignore')
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import fake_gallery_run, machine_info, machine_line, rss_mb, spread, start_serve, write_results

SETTINGS = ('fp32', 'bf16', 'onnx')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--archs', default='clipart-tiny-vit,ViT-B-32', help='open_clip architectures, comma-separated')
    ap.add_argument('--n', type=int, default=10_000, help='items in the index')
    ap.add_argument('--queries', type=int, default=60, help='text searches per server and round')
    ap.add_argument('--rounds', type=int, default=3, help='rounds over the settings, interleaved')
    ap.add_argument('--out', help='write the results (JSON) here')
    a = ap.parse_args(argv)
    from clipart.run.folder import RunFolder

    info = machine_info()
    print(machine_line(info))
    tmp = tempfile.TemporaryDirectory()
    rows = []
    for arch in [x for x in a.archs.split(',') if x]:
        run, _ = fake_gallery_run(a.n, path=Path(tmp.name) / arch, arch=arch)
        meta = RunFolder(run).export_onnx(n=4)
        print(
            f"\n{arch}: {a.n} items; ONNX export {meta['seconds']:.0f} s, worst cosine to torch "
            f"{min(v['min_cos'] for v in meta['check'].values()):.6f}"
        )
        got = {s: dict(start_s=[], rss_mb=[], p50_ms=[], p95_ms=[]) for s in SETTINGS}
        for r in range(a.rounds):
            for s in SETTINGS:
                p, url, start = start_serve(run, '--precision', s, timeout=300)
                try:
                    mem = rss_mb(p.pid)
                    ms = []
                    for q in range(a.queries):
                        t = time.perf_counter()
                        path = '/api/search?' + urlencode(dict(q=f'a painting of {q} boats, round {r}', k=20))
                        urllib.request.urlopen(url + path, timeout=60).read()
                        ms.append((time.perf_counter() - t) * 1000)
                finally:
                    p.kill()
                    p.wait()
                ms.sort()
                g = got[s]
                g['start_s'].append(start)
                g['rss_mb'].append(mem)
                g['p50_ms'].append(statistics.median(ms))
                g['p95_ms'].append(ms[int(0.95 * (len(ms) - 1))])
        for s in SETTINGS:
            g = got[s]
            print(
                f"  {s:<5} start {spread(g['start_s'], fmt='.1f')} s  RSS {spread(g['rss_mb'], fmt='.0f')} MB  "
                f"text query p50 {spread(g['p50_ms'], fmt='.1f')} ms  p95 {spread(g['p95_ms'], fmt='.1f')} ms"
            )
            rows.append(dict(arch=arch, setting=s, n=a.n, **g))
    write_results(a.out, info, rows=rows)


if __name__ == '__main__':
    main()
