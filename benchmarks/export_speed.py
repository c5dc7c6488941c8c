"""Embedding export speed: images/s of `export_embeddings` against bare loops over the same DataLoader.

    python benchmarks/export_speed.py [--n 2000] [--arch clipart-tiny-vit] [--bs 64] [--repeats 5] [--threads 2]
        [--busy] [--out FILE]

`export_embeddings` writes image and text embeddings of every item (and items.csv); the baselines are a bare
`model.encode_image` loop and a bare image + text loop (`model(images, tokens)`) over the same `test_dl`, in
`torch.no_grad()`, and `embed_dl(ahead=0)` (the export's own loop without its loading thread) shows what the thread
buys. The four are interleaved (A B C D, A B C D, ...) for `--repeats` rounds so a drifting machine moves all of them;
the median and the spread (min-max) are printed. `--threads` sets torch's threads; `--busy` keeps one core busy with
another process while measuring. Goal (issues #16, #28): export >= 1.0x the bare loop that computes what it writes
(image + text), idle or busy, at 1 and 2 threads.
"""

import argparse, json, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path
import torch

warnings.simplefilter('ignore')
from benchlib import machine_info, machine_line


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=2000)
    p.add_argument('--arch', default='clipart-tiny-vit')
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--threads', type=int, default=None, help="torch threads (default torch's)")
    p.add_argument('--busy', action='store_true', help='keep one core busy with another process while measuring')
    p.add_argument('--out', default=None, help='write the results here as JSON')
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    from clipart.data.imet import read_imet
    from clipart.data.synthetic import synthetic_path
    from clipart.data.tokens import imet_dataloaders
    from clipart.multimodal.models import create_clip_model, image_size
    from clipart.search.index import export_embeddings
    from clipart.multimodal.embed import embed_dl

    coll = read_imet(synthetic_path(n=a.n))
    torch.manual_seed(0)
    m = create_clip_model(a.arch).eval()
    # an export reads each image once: without the image cache, or rounds 2-5 would read from memory what a user's
    # export decodes
    dls = imet_dataloaders(
        coll, size=image_size(m), bs=a.bs, context_length=m.context_length, num_workers=0, cache_images=False
    )
    dl = dls.test_dl(coll.df, with_labels=True, bs=a.bs)

    @torch.no_grad()
    def bare_image():
        for xb, yb in dl:
            m.encode_image(xb.as_subclass(torch.Tensor), normalize=True)

    @torch.no_grad()
    def bare_both():
        for xb, yb in dl:
            m(xb.as_subclass(torch.Tensor), yb.as_subclass(torch.Tensor))

    out = Path(tempfile.mkdtemp())
    runs = {
        'bare encode_image loop': bare_image,
        'bare image + text loop': bare_both,
        'embed_dl(ahead=0): no loading thread': lambda: embed_dl(m, dl, ahead=0),
        'export_embeddings': lambda: export_embeddings(m, dls, coll.df, out / 'index'),
    }
    hog = subprocess.Popen([sys.executable, '-c', 'while True: pass']) if a.busy else None
    try:
        bare_image()  # warm up: first batches, allocator
        times = {k: [] for k in runs}
        for _ in range(a.repeats):
            for k, f in runs.items():
                t = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t)
    finally:
        if hog:
            hog.kill()
    info = machine_info()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{machine_line(info)}{'; one core kept busy by another process' if a.busy else '; otherwise idle'}")
    print(
        f"{len(coll.df)} items, {a.arch} at {image_size(m)} px, batch {a.bs}, {torch.get_num_threads()} torch threads, "
        f"median of {a.repeats} interleaved rounds\n"
    )
    print("| what | median s | min-max s | images/s | export's speed / this |\n|---|---|---|---|---|")
    for k, v in times.items():
        print(
            f"| {k} | {med[k]:.2f} | {min(v):.2f}-{max(v):.2f} | {len(coll.df) / med[k]:.0f} | "
            f"{med[k] / med['export_embeddings']:.2f}x |"
        )
    if a.out:
        Path(a.out).write_text(
            json.dumps(
                dict(
                    machine=info,
                    busy=a.busy,
                    threads=torch.get_num_threads(),
                    n=len(coll.df),
                    repeats=a.repeats,
                    seconds=times,
                ),
                indent=1,
            )
        )


if __name__ == '__main__':
    main()
