"""Chunked retrieval at scale: peak RSS and time for N = 10k, 100k, 1M random unit keys of dimension 512.

Each N runs in its own process (so peak RSS is that N's): 1,000 queries (noisy copies of the first 1,000 keys,
each one's positive) are ranked against all N keys with `clipart.metrics.retrieval_ranks`, keys stored in
float16 (N·d·2 bytes) and scored in float32 one 256 × 16,384 block at a time, so the working memory is
O(N·d + chunk·key_chunk). With a fixed query set the work is O(N): the time per key should stay flat.
Targets: 1M × 512 under 2 GB peak RSS; time linear in N. `--rounds` rounds run every N in turn (10k, 100k, 1M,
10k, ...), so a drifting machine moves all; printed: the machine, median (min-max) over rounds.

    python benchmarks/retrieval_scale.py [--sizes 10000 100000 1000000] [--rounds 5] [--out FILE]
"""

import argparse, resource, subprocess, sys, time


def one(n, d=512, n_q=1000):
    import torch, torch.nn.functional as F
    from clipart.metrics import retrieval_ranks, recall_at_k

    torch.manual_seed(0)
    torch.set_num_threads(2)
    keys = torch.empty(n, d, dtype=torch.float16)
    for s in range(0, n, 16384):  # random unit vectors, written chunk by chunk (no float32 copy of the whole set)
        keys[s : s + 16384] = F.normalize(torch.randn(min(16384, n - s), d), dim=1).half()
    q = F.normalize(keys[:n_q].float() + 0.05 * torch.randn(n_q, d), dim=1)
    t0 = time.perf_counter()
    r = retrieval_ranks(q, keys, torch.arange(n_q), torch.arange(n), chunk=256, key_chunk=16384)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    print(f"{n} {dt:.3f} {rss:.3f} {recall_at_k(r)['R@1']:.3f}")


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[10_000, 100_000, 1_000_000])
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--out', help='a JSON file for the results')
    p.add_argument('--one', type=int, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        one(a.one)
        sys.exit()
    import statistics
    from benchlib import machine_info, machine_line, spread, write_results

    res = {n: [] for n in a.sizes}
    for _ in range(a.rounds):
        for n in a.sizes:
            out = subprocess.run(
                [sys.executable, __file__, '--one', str(n)], capture_output=True, text=True, check=True
            ).stdout.split()
            res[n].append(dict(seconds=float(out[1]), peak_rss_gib=float(out[2]), R1=float(out[3])))
    info = machine_info()
    print(machine_line(info))
    print(f"{a.rounds} rounds, median (min-max)\n")
    print('| N | time s | us / key | us / key vs first N | peak RSS GiB | R@1 |\n|---|---|---|---|---|---|')
    col = lambda n, k: [r[k] for r in res[n]]
    base = statistics.median(col(a.sizes[0], 'seconds')) / a.sizes[0]
    for n in a.sizes:
        t = col(n, 'seconds')
        print(
            f"| {n:,} | {spread(t)} | {spread(t, 1e6 / n, '.3f')} | {statistics.median(t) / n / base:.2f} | "
            f"{spread(col(n, 'peak_rss_gib'))} | {statistics.median(col(n, 'R1')):.3f} |"
        )
    print("\ntargets: peak RSS < 2 GiB at 1M x 512; 'vs first N' ~1 (time linear in N)")
    write_results(a.out, info, rounds=a.rounds, runs={str(n): v for n, v in res.items()})
