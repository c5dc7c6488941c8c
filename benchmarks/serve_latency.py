"""clipart-serve at 100,000 items: startup time and request latency under a bounded loopback load.

    python benchmarks/serve_latency.py [--n 100000] [--requests 500] [--threads 8] [--workers 1] [--new-connections] [--profile FILE]

Builds a run folder with random unit image embeddings for `--n` items (their images cycle over a small synthetic
collection, their curated labels are drawn from its vocabulary) and the tiny model, starts the app with uvicorn on a
loopback port, then sends `--requests` requests from `--threads` threads (each keeps one connection alive, as a
browser does; `--new-connections` opens one per request): text searches through the JSON API, text searches with a
facet, and the HTML search page. `--profile` records the server under the load with py-spy (`pip install py-spy`;
sampling slows it). Prints startup seconds, p50 / p95 / max latency per kind, and the
error count. Targets (issue: clipart-serve): startup < 10 s, p95 of a text search < 100 ms on 2 cores, no errors.
"""
import argparse, threading, time, urllib.request, warnings
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode
import numpy as np
warnings.simplefilter('ignore')
from benchlib import fake_gallery_run, start_serve, machine_line

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--n', type=int, default=100_000); p.add_argument('--requests', type=int, default=500); p.add_argument('--threads', type=int, default=8)
p.add_argument('--workers', type=int, default=1, help='clipart-serve --workers')
p.add_argument('--new-connections', action='store_true', help='one TCP connection per request (urllib) instead of one kept alive per client thread, as browsers do')
p.add_argument('--profile', default=None, help='record the server under load with py-spy into this file (raw format)')
a = p.parse_args()

run, _ = fake_gallery_run(a.n)
srv, url, startup = start_serve(run, '--workers', a.workers)   # the console script in its own process, as users run it
port = int(url.rsplit(':', 1)[1])
import subprocess

words = ['porcelain', 'silk', 'birds', 'a large bronze', 'fish and boats', 'women from japan', 'an oil painting', 'trees']
import http.client
conns = threading.local()   # one kept-alive connection per client thread
def fetch(path):
    if a.new_connections:
        with urllib.request.urlopen(url + path, timeout=30) as r: return r.status == 200 and len(r.read()) > 0
    c = getattr(conns, 'c', None)
    if c is None: c = conns.c = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    try: c.request('GET', path); r = c.getresponse(); return r.status == 200 and len(r.read()) > 0
    except Exception: conns.c = None; c.close(); raise

def request(i):
    q = words[i % len(words)] + f' {i}'
    kind = ['api', 'api+facet', 'page'][i % 3]
    path = {'api': '/api/search?' + urlencode(dict(q=q, k=20)), 'api+facet': '/api/search?' + urlencode(dict(q=q, k=20, f='medium::silk')),
            'page': '/?' + urlencode(dict(q=q))}[kind]
    t = time.perf_counter()
    try: ok = fetch(path)
    except Exception: ok = False
    return kind, time.perf_counter()-t, ok

spy = subprocess.Popen(['py-spy', 'record', '-r', '250', '-f', 'raw', '-o', a.profile, '--pid', str(srv.pid)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if a.profile else None
t = time.perf_counter()
with ThreadPoolExecutor(a.threads) as ex: res = list(ex.map(request, range(a.requests)))
wall = time.perf_counter()-t
if spy: spy.send_signal(2); spy.wait(30)
srv.terminate(); srv.wait(10)
print(machine_line())
print(f"{a.n} items, {a.requests} requests from {a.threads} client threads ({'a new connection per request' if a.new_connections else 'one kept-alive connection each'}) "
      f"to clipart-serve --workers {a.workers} in its own process(es)")
print(f"startup (python, imports, load the run, first page): {startup:.1f} s (target < 10 s)")
for kind in ['api', 'api+facet', 'page']:
    ts = np.array([d for k,d,_ in res if k==kind])*1000
    print(f"{kind:>10}: p50 {np.percentile(ts, 50):.0f} ms, p95 {np.percentile(ts, 95):.0f} ms, max {ts.max():.0f} ms ({len(ts)} requests)")
print(f"errors: {sum(not ok for *_,ok in res)}; throughput {a.requests/wall:.0f} requests/s")
