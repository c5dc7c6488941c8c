"""clipart-serve under a long mixed load: does it stay fast, error-free and the same size?

    python benchmarks/serve_soak.py [--minutes 10] [--n 100000] [--clients 4] [--think 0.05] [--no-review] [--out FILE]

Builds a run of `--n` items (random unit embeddings, images from a synthetic collection, the tiny model) with
`--proposals` uncatalogued items that `clipart-label` would have proposed attributes for, starts the real console
script `clipart-serve --review DB` in its own process, and for `--minutes` minutes keeps `--clients` loopback
clients busy (each a kept-alive connection with its own session, pausing `--think` seconds between requests: a
bounded load, not a flood) with a mix of what users do: text searches (API and page), facet searches, item pages
with "more like this", similar-item API calls, thumbnails, image uploads (page and API), and reviewers' work: the
queue, review pages, decisions and undos, each committed to SQLite.

Prints per minute: requests, p50 / p95 latency, errors and the server's resident memory; then per kind; then the
issue's goals (#27): no errors, the last minute's p95 at most 1.2x the first's, memory growth under 10 % after the
first minute (the warm-up). Results (with the machine they ran on) go to `--out` as JSON.
"""

import argparse, json, random, re, statistics, threading, time
from pathlib import Path
from urllib.parse import urlencode
import httpx
from benchlib import fake_gallery_run, start_serve, rss_mb, machine_info, machine_line

WORDS = [
    'porcelain',
    'silk',
    'birds',
    'a large bronze',
    'fish and boats',
    'women from japan',
    'an oil painting',
    'trees',
    'a vase',
    'landscape',
]
KINDS = [  # (kind, weight)
    ('api search', 20),
    ('search page', 10),
    ('facet search', 10),
    ('item page', 14),
    ('similar api', 10),
    ('thumbnail', 14),
    ('upload page', 3),
    ('upload api', 3),
    ('review queue', 4),
    ('review decision', 10),
    ('review undo', 2),
]


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float('nan')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--minutes', type=float, default=10)
    ap.add_argument('--n', type=int, default=100_000)
    ap.add_argument('--proposals', type=int, default=2000, help='uncatalogued items with proposals to review')
    ap.add_argument('--clients', type=int, default=4)
    ap.add_argument('--think', type=float, default=0.05, help='seconds each client waits between requests')
    ap.add_argument('--no-review', action='store_true', help='serve without --review (no decisions)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', default=None, help='write the results here as JSON')
    a = ap.parse_args()
    info = machine_info()
    t = time.perf_counter()
    run, coll = fake_gallery_run(a.n, 0 if a.no_review else a.proposals, a.seed)
    build = time.perf_counter() - t
    db = run.parent / 'review.sqlite'
    srv, url, startup = start_serve(run, *([] if a.no_review else ['--review', db]))
    n_items = a.n + (0 if a.no_review else a.proposals)
    facets = [f'{g}::{v}' for g, v in zip(coll.vocab.group, coll.vocab.value)]
    images = [Path(p).read_bytes() for p in coll.df.image[:20]]
    kinds = [k for k, _ in KINDS if not (a.no_review and k.startswith('review'))]
    weights = [w for k, w in KINDS if k in kinds]
    res, errors, lock = [], [], threading.Lock()  # res: (start, kind, seconds, ok)
    stop = time.perf_counter() + 60 * a.minutes
    t0 = time.perf_counter()

    def client(ci):
        rnd = random.Random(a.seed * 1000 + ci)
        c = httpx.Client(base_url=url, timeout=30)
        tok = lambda text: re.search(r'name="csrf" value="([^"]+)"', text).group(1)
        csrf = None
        if not a.no_review:  # each client is a reviewer with its own session
            csrf = tok(c.get('/review').text)
            c.post('/review/login', data=dict(name=f'soak{ci}', csrf=csrf))
            review_ids = [f'new{i:05d}' for i in range(a.proposals)]
        while time.perf_counter() < stop:
            kind = rnd.choices(kinds, weights)[0]
            q = rnd.choice(WORDS) + f' {rnd.randrange(10**6)}'
            item = f'item{rnd.randrange(a.n):06d}'
            s = time.perf_counter()
            try:
                if kind == 'api search':
                    r = c.get('/api/search?' + urlencode(dict(q=q, k=20)))
                elif kind == 'search page':
                    r = c.get('/?' + urlencode(dict(q=q, page=rnd.randint(1, 3))))
                elif kind == 'facet search':
                    r = c.get('/api/search?' + urlencode([('q', q), ('k', 20), ('f', rnd.choice(facets))]))
                elif kind == 'item page':
                    r = c.get('/item?' + urlencode(dict(id=item)))
                elif kind == 'similar api':
                    r = c.get('/api/similar?' + urlencode(dict(id=item, k=20)))
                elif kind == 'thumbnail':
                    r = c.get(f'/thumb?row={rnd.randrange(n_items)}')
                elif kind == 'upload page':
                    r = c.post('/upload', files=dict(file=('art.jpg', rnd.choice(images), 'image/jpeg')))
                elif kind == 'upload api':
                    r = c.post('/api/attributes', files=dict(file=('art.jpg', rnd.choice(images), 'image/jpeg')))
                elif kind == 'review queue':
                    r = c.get('/review?' + urlencode(dict(page=rnd.randint(1, 3))))
                # open an item to review, then accept or reject one of its proposals (or add a value)
                elif kind == 'review decision':
                    id_ = rnd.choice(review_ids)
                    r = c.get('/review/item?' + urlencode(dict(id=id_)))
                    if r.status_code == 200:
                        attrs = re.findall(r'data-attr="([^"]+)"', r.text)
                        act = rnd.choice(['accept', 'reject', 'add'])
                        attr = rnd.choice(facets) if act == 'add' or not attrs else rnd.choice(attrs)
                        r = c.post(
                            '/review/decide',
                            data=dict(csrf=csrf, id=id_, action=act, attribute=attr),
                            follow_redirects=True,
                        )
                else:
                    r = c.post('/review/undo', data=dict(csrf=csrf), follow_redirects=True)
                ok = r.status_code == 200 and len(r.content) > 0
                if not ok:
                    why = f'{kind}: HTTP {r.status_code}: {r.text[:200]!r}'
            except Exception as e:
                ok, why = False, f'{kind}: {type(e).__name__}: {e}'
            d = time.perf_counter() - s
            with lock:
                res.append((s - t0, kind, d, ok))
                if not ok:
                    errors.append(why)
            time.sleep(a.think)
        c.close()

    rss = []  # (seconds, MB) every 2 s

    def sample():
        while time.perf_counter() < stop:
            rss.append((time.perf_counter() - t0, rss_mb(srv.pid)))
            time.sleep(2)

    rss.append((0.0, rss_mb(srv.pid)))
    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)] + [threading.Thread(target=sample)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rss.append((time.perf_counter() - t0, rss_mb(srv.pid)))
    srv.terminate()
    srv.wait(10)
    warnings = sum('WARNING' in l or 'Traceback' in l for l in srv.log.read_text().splitlines())

    minutes = []
    for m in range(int(-(-a.minutes // 1))):
        part = [(d, ok) for s, _, d, ok in res if m * 60 <= s < (m + 1) * 60]
        mem = [r for s, r in rss if s < (m + 1) * 60]
        if not part:
            continue
        ds = [d for d, _ in part]
        minutes.append(
            dict(
                minute=m + 1,
                requests=len(part),
                p50_ms=1000 * statistics.median(ds),
                p95_ms=1000 * pct(ds, 0.95),
                errors=sum(not ok for _, ok in part),
                rss_mb=mem[-1],
            )
        )
    per_kind = {
        k: dict(requests=len(v), p50_ms=1000 * statistics.median(v), p95_ms=1000 * pct(v, 0.95))
        for k, v in ((k, [d for _, kk, d, _ in res if kk == k]) for k in kinds)
        if v
    }

    print(
        f"clipart-serve{'' if a.no_review else ' --review'} on {n_items} items ({a.n} catalogued"
        + ('' if a.no_review else f", {a.proposals} with proposals to review")
        + f"); {a.clients} clients, {a.think * 1000:.0f} ms think time, {a.minutes:g} min"
    )
    print(f"{machine_line(info)}; run built in {build:.0f} s, server answered after {startup:.1f} s\n")
    print('| minute | requests | p50 ms | p95 ms | errors | server RSS MB |')
    print('|---|---|---|---|---|---|')
    for r in minutes:
        print(
            f"| {r['minute']} | {r['requests']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['errors']} | "
            f"{r['rss_mb']:.0f} |"
        )
    print('\n| request | count | p50 ms | p95 ms |')
    print('|---|---|---|---|')
    for k, v in per_kind.items():
        print(f"| {k} | {v['requests']} | {v['p50_ms']:.1f} | {v['p95_ms']:.1f} |")
    first, last = minutes[0], minutes[-1]
    warm = first['rss_mb']
    grow = (max(r for s, r in rss if s >= 60) / warm - 1) if len(minutes) > 1 else float('nan')
    goals = dict(no_errors=not errors, p95_ratio=last['p95_ms'] / first['p95_ms'], rss_growth=grow)
    print(
        f"\nerrors: {len(errors)} of {len(res)} requests"
        + (f" (first: {errors[0]})" if errors else '')
        + f"; server log: {warnings} warnings or tracebacks"
    )
    print(f"last minute's p95 / first minute's: {goals['p95_ratio']:.2f} (goal <= 1.2)")
    print(
        f"server RSS after warm-up (minute 1) {warm:.0f} MB, largest after it {warm * (1 + grow):.0f} MB: "
        f"{100 * grow:+.1f} % (goal < 10 %)"
    )
    ok = not errors and goals['p95_ratio'] <= 1.2 and grow < 0.10
    print('goals met' if ok else 'goals not measured: run at least 2 minutes' if len(minutes) < 2 else 'goals NOT met')
    if a.out:
        Path(a.out).write_text(
            json.dumps(
                dict(
                    machine=info,
                    args=vars(a),
                    startup_s=startup,
                    minutes=minutes,
                    per_kind=per_kind,
                    errors=len(errors),
                    first_errors=errors[:5],
                    requests=len(res),
                    goals=goals,
                    met=ok,
                ),
                indent=1,
            )
        )


if __name__ == '__main__':
    main()
