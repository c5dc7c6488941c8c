"""How fast the review desk answers: a real `clipart-serve --review` process on a labelled run, loopback requests.

Times the queue page, the review item page, and a decision (POST, committed, then the item page it redirects to),
against the gallery's plain item page in the same run (the baseline: the same image, predictor and "more like this"
work minus the database). Needs a run that `clipart-label` has labelled:

    clipart-label --run runs/aic500 --images some_folder/
    python benchmarks/review_latency.py runs/aic500 --n 200 [--out FILE]

The four kinds of request take turns (A B C D, A B C D, ...) so a drifting machine moves all; printed: the machine,
p50 and p95 of each and each p50 against the gallery page's.
"""

import argparse, re, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import httpx
from benchlib import free_port, machine_info, machine_line, write_results


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('run')
    ap.add_argument('--n', type=int, default=200)
    ap.add_argument('--db')
    ap.add_argument('--out', help='a JSON file for the results')
    a = ap.parse_args()
    db = a.db or str(Path(tempfile.mkdtemp()) / 'bench.sqlite')
    port = free_port()
    exe = str(Path(sys.executable).parent / 'clipart-serve')
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [exe, '--run', a.run, '--port', str(port), '--review', db],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    c = httpx.Client(base_url=f'http://127.0.0.1:{port}', timeout=30)
    try:
        while True:
            if p.poll() is not None:
                raise SystemExit(p.stdout.read())
            try:
                if c.get('/review').status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        start = time.perf_counter() - t0
        tok = lambda t: re.search(r'name="csrf" value="([^"]+)"', t).group(1)
        c.post('/review/login', data=dict(name='bench', csrf=tok(c.get('/review').text)))
        ids = re.findall(r'href="/review/item\?id=([^"]+)"', c.get('/review').text)[::2]
        if not ids:
            raise SystemExit(f"{a.run}: nothing to review: run clipart-label on it first")
        t = tok(c.get('/review/item?id=' + ids[0]).text)
        times = {
            k: []
            for k in (
                'gallery item page (baseline)',
                'review queue page',
                'review item page',
                'decision (POST + redirected page)',
            )
        }
        for i in range(a.n):  # interleaved: the same load on every kind of request
            id_ = ids[i % len(ids)]
            for k, f in [
                ('gallery item page (baseline)', lambda: c.get('/item?id=' + id_)),
                ('review queue page', lambda: c.get('/review')),
                ('review item page', lambda: c.get('/review/item?id=' + id_)),
                (
                    'decision (POST + redirected page)',
                    lambda: c.post(
                        '/review/decide',
                        data=dict(csrf=t, id=id_, action='add', attribute=f'tags::bench{i}'),
                        follow_redirects=True,
                    ),
                ),
            ]:
                s = time.perf_counter()
                r = f()
                times[k].append(time.perf_counter() - s)
                assert r.status_code == 200, (k, r.status_code, r.text[:300])
    finally:
        p.terminate()
        p.wait(10)
    info = machine_info()
    print(
        f"{a.run}: {len(ids)} items on the first queue page, {a.n} requests of each kind, server start {start:.1f} s; "
        f"{machine_line(info)}\n"
    )
    base = statistics.median(times['gallery item page (baseline)'])
    print('| request | p50 ms | p95 ms | p50 × gallery item page |')
    print('|---|---|---|---|')
    for k, v in times.items():
        print(
            f"| {k} | {1000 * statistics.median(v):.1f} | {1000 * pct(v, 0.95):.1f} | "
            f"{statistics.median(v) / base:.2f} |"
        )
    write_results(a.out, info, run=a.run, n=a.n, start_s=start, seconds=times)


if __name__ == '__main__':
    main()
