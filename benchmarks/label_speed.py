"""`clipart-label` end to end with a real-size tower: images/s of proposing attributes for `--n` WikiArt paintings
(read, decode, resize, embed, score, order for review) with the model in fp32 (the baseline), bf16 (cast) and ONNX.

    python benchmarks/label_speed.py [--arch ViT-B-32] [--n 1000] [--rounds 2] [--src ../shared/data/wikiart17k]

The run: a random-init `--arch` (speed does not depend on the weights) over an index of 2,000 random unit embeddings
whose curated labels come from aic-like synthetic items (`fake_gallery_run`), its predictor fitted once, its ONNX
export made once. The images: the first `--n` of `--src`'s train/ (real paintings of all sizes: decoding and resizing
them is part of the work). Rounds alternate the settings (fp32, bf16, onnx, fp32, ...); images/s median (min-max)
and the ratio to fp32 of the same round, with the machine.
"""

import argparse, sys, tempfile, time, warnings
from pathlib import Path

warnings.simplefilter('ignore')
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import fake_gallery_run, machine_info, machine_line, ratios, spread, write_results

SETTINGS = ('fp32', 'bf16', 'onnx')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--arch', default='ViT-B-32')
    ap.add_argument('--n', type=int, default=1000, help='images to label')
    ap.add_argument('--rounds', type=int, default=2)
    ap.add_argument('--src', default=str(Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'wikiart17k'))
    ap.add_argument('--out', help='write the results (JSON) here')
    a = ap.parse_args(argv)
    import pandas as pd
    from clipart.catalogue.core import propose_attributes
    from clipart.run.folder import RunFolder

    info = machine_info()
    print(machine_line(info))
    tmp = tempfile.TemporaryDirectory()
    run, _ = fake_gallery_run(2000, path=Path(tmp.name), arch=a.arch)
    r = RunFolder(run)
    pred = r.fit_predictor()
    meta = r.export_onnx(n=4)
    files = sorted((Path(a.src) / 'train').iterdir())[: a.n]
    images = pd.DataFrame(dict(id=[f.stem for f in files], image=[str(f) for f in files]))
    print(f"{a.arch}: {len(images)} images of {a.src}; ONNX export {meta['seconds']:.0f} s")
    t = {s: [] for s in SETTINGS}
    feats = {}
    for _ in range(a.rounds):
        for s in SETTINGS:
            t0 = time.perf_counter()
            p = propose_attributes(r, images, predictor=pred, precision=s, progress=False)
            t[s].append(time.perf_counter() - t0)
            feats[s] = p.feats
    rows = []
    for s in SETTINGS:
        ips = [len(images) / x for x in t[s]]
        rr = ratios(t['fp32'], t[s])
        cos = float((feats[s] * feats['fp32']).sum(1).min())
        print(f"  {s:<5} {spread(ips, fmt='.1f')} images/s  {spread(rr)}x fp32  worst cosine to fp32 {cos:.5f}")
        rows.append(dict(arch=a.arch, setting=s, n=len(images), seconds=t[s], ratio=rr, min_cos=cos))
    write_results(a.out, info, rows=rows)


if __name__ == '__main__':
    main()
