"""How long reading a big iMet-layout collection takes: the first read (every image decoded once to check it), a
second read (the manifest of checked files reused), and a read that checks nothing, per 1,000 items.

    python benchmarks/read_scale.py [--n 50000] [--size 32] [--dir /tmp/read_scale] [--rounds 5] [--out FILE]

The collection is generated once into `--dir` (small JPEGs, 10 attributes in 2 groups) and kept for later runs; each
of `--rounds` rounds writes its manifest to a fresh cache folder, so its first read really decodes everything, then
reads again (the manifest reused) and once without checks. Printed: the machine and the median (min-max) over rounds.
Target (issue #16): a second read of 50k items in under 5 s.
"""

import argparse, os, tempfile, time, warnings
from pathlib import Path
import numpy as np
from PIL import Image

warnings.simplefilter('ignore')

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--n', type=int, default=50_000)
p.add_argument('--size', type=int, default=32, help='image side in pixels')
p.add_argument('--dir', default=str(Path(tempfile.gettempdir()) / 'read_scale'))
p.add_argument('--rounds', type=int, default=5)
p.add_argument('--out', help='a JSON file for the results')
a = p.parse_args()

d = Path(a.dir) / f'n{a.n}_{a.size}px'
if not (d / 'train.csv').exists():
    t = time.time()
    (d / 'train').mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    base = [Image.fromarray(rng.integers(0, 255, (a.size, a.size, 3), dtype=np.uint8)) for _ in range(64)]
    for i in range(a.n):
        base[i % 64].save(d / 'train' / f'{i:07d}.jpg', quality=80)
    (d / 'labels.csv').write_text(
        'attribute_id,attribute_name\n' + ''.join(f'{i},{"colour" if i < 5 else "shape"}::v{i}\n' for i in range(10))
    )
    (d / 'train.csv').write_text('id,attribute_ids\n' + ''.join(f'{i:07d},{i % 5} {5 + i % 3}\n' for i in range(a.n)))
    print(f"generated {a.n} images of {a.size} px in {d} ({time.time() - t:.0f} s)")

from clipart.data.imet import read_imet
from benchlib import machine_info, machine_line, spread, write_results

reads = [
    ('first read (decodes every image)', {}),
    ('second read (manifest reused)', {}),
    ('no image check', dict(check_images=False)),
]
times = {name: [] for name, _ in reads}
for r in range(a.rounds):
    os.environ['CLIPART_CACHE'] = tempfile.mkdtemp()  # a fresh manifest: the first read decodes everything
    for name, kw in reads:
        t = time.time()
        c = read_imet(d, **kw)
        times[name].append(time.time() - t)
        assert len(c) == a.n
    print(f"round {r + 1}: " + ', '.join(f'{v[-1]:.2f} s' for v in times.values()), flush=True)
info = machine_info()
print(f"\n{a.n:,} items, {a.size} px JPEGs, {a.rounds} rounds, median (min-max); {machine_line(info)}\n")
print('| read | seconds | per 1,000 items |\n|---|---|---|')
for name, v in times.items():
    print(f'| {name} | {spread(v)} | {spread(v, 1000 / a.n, ".3f")} |')
write_results(a.out, info, n=a.n, size=a.size, rounds=a.rounds, seconds=times)
