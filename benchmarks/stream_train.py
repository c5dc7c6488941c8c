"""Training from shards as they lie (`--stream`) against training from the same shards unpacked into a folder.

    python benchmarks/stream_train.py --data ../shared/data/aic500 [--seeds 2] [--epochs 4] [--torchrun]
        [--out benchmarks/results/stream_train_aic500.json]

The collection is written as shards of `--maxcount` samples (`write_shards`); the last 20 % of them are held out.
Per seed, `clipart-train` (the defaults: clipart-tiny-vit, 64 px, bs 64, no loader workers) trains on the other
shards twice, interleaved: unpacked (the training shards as a list file: unpacked once into the cache and read as a
folder, `--valid-pct 0.05` of them validating) and `--stream` (every shard given; the held-out ones validate). Both
models are then scored by `clipart-eval` on the same held-out items (`--valid-pct 0.5`: the same half fits the
thresholds, the other half is scored), so the columns compare item for item. With `--torchrun` the streamed run is
repeated on 2 processes (gloo, each reading its own shards, the same global batch). Reported: training seconds per
epoch (each run's own clock), image->text and text->image R@1 and zero-shot sample F2 on the held-out items.
"""

import argparse, json, os, statistics, subprocess, sys, tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import machine_info, machine_line, write_results
from clipart.data.imet import read_imet
from clipart.data.shards import write_shards

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--data', required=True, help='iMet-layout folder')
p.add_argument('--seeds', type=int, default=2)
p.add_argument('--epochs', type=int, default=4)
p.add_argument('--maxcount', type=int, default=50)
p.add_argument('--torchrun', action='store_true', help='also the streamed run on 2 processes (seed 0)')
p.add_argument('--out', default=None)
a = p.parse_args()
info = machine_info()
print(machine_line(info))
tmp = tempfile.TemporaryDirectory()
d = Path(tmp.name)
write_shards(read_imet(a.data, warn=False), d / 'shards', maxcount=a.maxcount)
env = {**os.environ, 'CLIPART_CACHE': str(d / 'cache')}


urls = sorted(str(p) for p in (d / 'shards').glob('*.tar'))
k = max(1, round(0.2 * len(urls)))
(d / 'train.txt').write_text('\n'.join(urls[:-k]) + '\n')
(d / 'heldout.txt').write_text('\n'.join(urls[-k:]) + '\n')


def run(cmd, procs=1):
    "A clipart command in its own process(es); exits with its output when it fails"
    pre = [sys.executable, '-m'] + (
        ['torch.distributed.run', '--standalone', '--nproc_per_node', str(procs), '-m'] if procs > 1 else []
    )
    r = subprocess.run(pre + cmd, capture_output=True, text=True, env={**env, 'OMP_NUM_THREADS': str(2 // procs)})
    if r.returncode:
        sys.exit(r.stdout[-2000:] + r.stderr[-2000:])


def train(name, seed, stream, procs=1):
    "One clipart-train run, scored on the held-out shards by clipart-eval; the row of the table"
    out = d / name
    data = (
        ['--data', str(d / 'shards'), '--stream'] if stream else ['--data', str(d / 'train.txt'), '--valid-pct', '0.05']
    )
    run(
        ['clipart.cli.train', *data, '--epochs', str(a.epochs), '--seed', str(seed), '--workers', '0']
        + ['--pictures', 'false', '--out', str(out)],
        procs,
    )
    m = json.loads((out / 'metrics.json').read_text())
    held = ['--data', str(d / 'heldout.txt'), '--valid-pct', '0.5', '--probes', 'false', '--out', str(out / 'heldout')]
    run(['clipart.cli.eval', '--model', str(out), *held])
    e = json.loads((out / 'heldout' / 'metrics.json').read_text())['trained']
    return dict(
        way=('stream' if stream else 'unpacked') + (f' x{procs}' if procs > 1 else ''),
        seed=seed,
        seconds_per_epoch=m['train_seconds'] / a.epochs,
        i2t_R1=e['retrieval']['i2t_R@1'],
        t2i_R1=e['retrieval']['t2i_R@1'],
        zero_shot_F2=e['zero_shot']['overall']['sample_F2'],
        n_train=m['n_train'],
    )


rows = []
for s in range(a.seeds):
    for stream in (False, True):
        rows.append(train(f"{'s' if stream else 'u'}{s}", s, stream))
        print(rows[-1])
if a.torchrun:
    rows.append(train('t0', 0, True, procs=2))
    print(rows[-1])
table = {}
for way in dict.fromkeys(r['way'] for r in rows):
    rs = [r for r in rows if r['way'] == way]
    table[way] = {
        k: (statistics.mean(r[k] for r in rs), statistics.pstdev(r[k] for r in rs))
        for k in ('seconds_per_epoch', 'i2t_R1', 't2i_R1', 'zero_shot_F2')
    }
for way, v in table.items():
    print(f"{way:12s} " + '  '.join(f"{k} {m:.3f} ± {sd:.3f}" for k, (m, sd) in v.items()))
if a.out:
    write_results(a.out, info, rows=rows, table=table, epochs=a.epochs, maxcount=a.maxcount, data=a.data)
