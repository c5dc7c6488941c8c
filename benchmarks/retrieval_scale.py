"""Chunked retrieval at scale: peak RSS and time for N = 10k, 100k, 1M random unit keys of dimension 512.

Each N runs in its own process (so peak RSS is that N's): 1,000 queries (noisy copies of the first 1,000 keys,
each one's positive) are ranked against all N keys with `clipart.metrics.retrieval_ranks`, keys stored in
float16 (N·d·2 bytes) and scored in float32 one 256 × 16,384 block at a time, so the working memory is
O(N·d + chunk·key_chunk). With a fixed query set the work is O(N): the time per key should stay flat.
Targets: 1M × 512 under 2 GB peak RSS; time linear in N.

    python benchmarks/retrieval_scale.py [--sizes 10000 100000 1000000]
"""
import argparse, resource, subprocess, sys, time

def one(n, d=512, n_q=1000):
    import torch, torch.nn.functional as F
    from clipart.metrics import retrieval_ranks, recall_at_k
    torch.manual_seed(0); torch.set_num_threads(2)
    keys = torch.empty(n, d, dtype=torch.float16)
    for s in range(0, n, 16384):  # random unit vectors, written chunk by chunk (no float32 copy of the whole set)
        keys[s:s+16384] = F.normalize(torch.randn(min(16384, n-s), d), dim=1).half()
    q = F.normalize(keys[:n_q].float() + 0.05*torch.randn(n_q, d), dim=1)
    t0 = time.perf_counter()
    r = retrieval_ranks(q, keys, torch.arange(n_q), torch.arange(n), chunk=256, key_chunk=16384)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    print(f"{n} {dt:.3f} {rss:.3f} {recall_at_k(r)['R@1']:.3f}")

if __name__ == '__main__':
    p = argparse.ArgumentParser(); p.add_argument('--sizes', type=int, nargs='+', default=[10_000, 100_000, 1_000_000]); p.add_argument('--one', type=int)
    a = p.parse_args()
    if a.one: one(a.one); sys.exit()
    print(f"{'N':>9} {'time s':>8} {'us/key':>8} {'vs first':>8} {'peak RSS GiB':>12} {'R@1':>5}")
    base = None
    for n in a.sizes:
        out = subprocess.run([sys.executable, __file__, '--one', str(n)], capture_output=True, text=True, check=True).stdout.split()
        n_, dt, rss, r1 = int(out[0]), float(out[1]), float(out[2]), float(out[3])
        per = dt/n_*1e6; base = base or per
        print(f"{n_:>9} {dt:>8.2f} {per:>8.3f} {per/base:>8.2f} {rss:>12.2f} {r1:>5.3f}")
    print("targets: peak RSS < 2 GiB at 1M x 512; 'vs first' ~1 (time linear in N)")
