"""How long reading a big iMet-layout collection takes: the first read (every image decoded once to check it), a
second read (the manifest of checked files reused), and a read that checks nothing, per 1,000 items.

    python benchmarks/read_scale.py [--n 50000] [--size 32] [--dir /tmp/read_scale]

The collection is generated once into `--dir` (small JPEGs, 10 attributes in 2 groups) and kept for later runs; the
manifest goes to a fresh cache folder, so the first read really decodes everything. Target (issue #16): a second read
of 50k items in under 5 s.
"""
import argparse, os, tempfile, time, warnings
from pathlib import Path
import numpy as np
from PIL import Image
warnings.simplefilter('ignore')

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--n', type=int, default=50_000)
p.add_argument('--size', type=int, default=32, help='image side in pixels')
p.add_argument('--dir', default=str(Path(tempfile.gettempdir())/'read_scale'))
a = p.parse_args()

d = Path(a.dir)/f'n{a.n}_{a.size}px'
if not (d/'train.csv').exists():
    t = time.time(); (d/'train').mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    base = [Image.fromarray(rng.integers(0, 255, (a.size, a.size, 3), dtype=np.uint8)) for _ in range(64)]
    for i in range(a.n): base[i%64].save(d/'train'/f'{i:07d}.jpg', quality=80)
    (d/'labels.csv').write_text('attribute_id,attribute_name\n' + ''.join(f'{i},{"colour" if i<5 else "shape"}::v{i}\n' for i in range(10)))
    (d/'train.csv').write_text('id,attribute_ids\n' + ''.join(f'{i:07d},{i%5} {5+i%3}\n' for i in range(a.n)))
    print(f"generated {a.n} images of {a.size} px in {d} ({time.time()-t:.0f} s)")

os.environ['CLIPART_CACHE'] = tempfile.mkdtemp()   # a fresh manifest: the first read decodes everything
from clipart.data.imet import read_imet
rows = []
for name,kw in [('first read (decodes every image)', {}), ('second read (manifest reused)', {}), ('no image check', dict(check_images=False))]:
    t = time.time(); c = read_imet(d, **kw); s = time.time()-t
    assert len(c)==a.n
    rows.append((name, s)); print(f"{name}: {s:.2f} s", flush=True)
print(f"\n{a.n:,} items, {a.size} px JPEGs, {os.cpu_count()} CPUs\n")
print('| read | seconds | per 1,000 items |\n|---|---|---|')
for name,s in rows: print(f'| {name} | {s:.2f} | {1000*s/a.n:.3f} |')
