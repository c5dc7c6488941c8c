"""Reading a collection from WebDataset shards against reading it from its folder: items/s (read and decode every
image) and the reader's peak memory at two sizes, to show whether it grows with the number of items.

    python benchmarks/shards_read.py [--n 50000] [--small 5000] [--rounds 3] [--src ../shared/data/aic500] [--out F]

The collection: the `--src` iMet-layout folder's images (aic500: real museum photographs, ~14 kB JPEGs) repeated to
`--n` items, hard-linked into a new iMet-layout folder (its train.csv cycles the source's attributes), then written as
shards of 1,000 samples (`write_shards`). Each reading runs in its own process (its peak RSS is that reader's): the
folder way is `read_imet` (listing, CSVs; images not checked up front) then every image opened and decoded; the shard
way is `iter_shards` (every sample checked as streamed) with every image decoded. Peak memory is the reader's
VmHWM (not `ru_maxrss`, which Linux carries over from the parent across exec). Rounds alternate folder and shards;
the files are in the page cache after the first round on both sides (a cold read from network storage, where shards
matter most, is not measured here).
"""

import argparse, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import machine_info, machine_line, spread, write_results

READ = r'''
import io, json, sys, time
from PIL import Image
kind, path = sys.argv[1], sys.argv[2]
t = time.perf_counter()
n = 0
if kind == 'folder':
    from clipart.data.imet import read_imet
    coll = read_imet(path, check_images=False, warn=False)
    for fn in coll.df.image:
        Image.open(fn).convert('RGB')
        n += 1
else:
    from clipart.data.shards import iter_shards
    for s in iter_shards(path):
        Image.open(io.BytesIO(s['image'])).convert('RGB')
        n += 1
rss = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) / 1024
print(json.dumps(dict(n=n, seconds=time.perf_counter() - t, peak_rss_mb=rss)))
'''


def make_folder(src, out, n):
    "An iMet-layout folder of `n` items whose images are hard links to `src`'s, cycled"
    import pandas as pd

    tr = pd.read_csv(Path(src) / 'train.csv', dtype=str)
    (out / 'train').mkdir(parents=True)
    shutil.copy(Path(src) / 'labels.csv', out / 'labels.csv')
    files = {p.stem: p for p in (Path(src) / 'train').iterdir()}  # once: a listing per item costs minutes at 500k
    ids, attrs = [], []
    for i in range(n):
        r = tr.iloc[i % len(tr)]
        fn = files[r.id]
        os.link(fn, out / 'train' / f'item{i:07d}{fn.suffix}')
        ids.append(f'item{i:07d}')
        attrs.append(r.attribute_ids)
    pd.DataFrame(dict(id=ids, attribute_ids=attrs)).to_csv(out / 'train.csv', index=False)


def read(kind, path):
    r = subprocess.run([sys.executable, '-c', READ, kind, str(path)], capture_output=True, text=True)
    if r.returncode:
        sys.exit(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=50_000)
    ap.add_argument('--small', type=int, default=5_000, help='the smaller size, for the memory comparison')
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--src', default=str(Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'aic500'))
    ap.add_argument('--out', help='write the results (JSON) here')
    a = ap.parse_args(argv)
    from clipart.data.imet import read_imet
    from clipart.data.shards import write_shards

    info = machine_info()
    print(machine_line(info))
    tmp = tempfile.TemporaryDirectory()
    res = dict(rows=[])
    for n in (a.small, a.n):
        folder, shards = Path(tmp.name) / f'f{n}', Path(tmp.name) / f's{n}'
        make_folder(a.src, folder, n)
        t = time.perf_counter()
        w = write_shards(read_imet(folder, check_images=False, warn=False), shards, maxcount=1000)
        wrote = time.perf_counter() - t
        size = sum(p.stat().st_size for p in shards.glob('*.tar')) / 1e6
        print(f"\n{n} items: {len(w['shards'])} shards ({size:.0f} MB) written in {wrote:.1f} s")
        got = {'folder': [], 'shards': []}
        for _ in range(a.rounds if n == a.n else 1):
            for kind, path in (('folder', folder), ('shards', shards)):
                got[kind].append(read(kind, path))
        for kind, rs in got.items():
            ips = [r['n'] / r['seconds'] for r in rs]
            rss = [r['peak_rss_mb'] for r in rs]
            print(f"  {kind:<6} {spread(ips, fmt='.0f')} items/s  peak RSS {spread(rss, fmt='.0f')} MB")
            res['rows'].append(dict(n=n, kind=kind, items_per_s=ips, peak_rss_mb=rss, write_s=wrote, shard_mb=size))
        shutil.rmtree(folder)
        shutil.rmtree(shards)
    write_results(a.out, info, **res)


if __name__ == '__main__':
    main()
