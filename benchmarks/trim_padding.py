"""A training step with and without `TrimPadding` (the text tower skipping the padding after each batch's longest
caption).

    python benchmarks/trim_padding.py [--archs clipart-tiny-vit:64 ViT-B-32:224] [--sources wikiart17k:labels
        aic500:text aic500:labels]
                                      [--bs 32] [--rounds 5] [--out FILE]

Captions are the real ones a user trains on: for each source (a collection in ../shared/data, or 'synthetic', and
'labels' or 'text' captions), a random batch of its items' captions, tokenized to each model's context (32 for clipart's
tiny towers, 77 for open_clip's ViT-B-32; a source not on this machine is skipped, said so). Each round takes one
training step (both towers forward, CLIP loss, backward, AdamW) on the same batch with the padding kept and with it
trimmed (`trim_padding`), in turn (A B A B ...); printed per model: the machine, the columns kept, the median (min-max)
step over rounds and the ratio trimmed / kept, and the largest difference between the two runs' text features (the same
features: the text tower is causal and read at the end-of-text token). Random initialisation: no weights are downloaded.
"""

import argparse, contextlib, functools, statistics, warnings
from pathlib import Path

warnings.simplefilter('ignore')
import torch
from benchlib import machine_info, machine_line, interleaved, spread, ratios, write_results

HERE = Path(__file__).resolve().parent
p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--archs', nargs='+', default=['clipart-tiny-vit:64', 'ViT-B-32:224'], help='model:image size')
p.add_argument('--bs', type=int, default=32)
p.add_argument('--rounds', type=int, default=5)
p.add_argument(
    '--sources',
    nargs='+',
    default=['wikiart17k:labels', 'aic500:text', 'aic500:labels'],
    help="collection:captions ('synthetic' or a folder of ../shared/data)",
)
p.add_argument('--shared', default=str(HERE.parent.parent / 'shared' / 'data'), help='where the collections are')
p.add_argument('--out', default=None, help='write the results (JSON) here')
a = p.parse_args()
from clipart.data.imet import read_imet
from clipart.data.synthetic import synthetic_path
from clipart.data.captions import make_captioner
from clipart.data.tokens import Tokenize
from clipart.multimodal.models import create_clip_model, trim_padding, trim_length
from clipart.multimodal.losses import create_loss

info = machine_info()
print(machine_line(info))


@functools.cache
def batch_captions(source):
    "A random batch of `source`'s captions, or None where the collection is not here"
    name, kind = source.split(':')
    path = synthetic_path() if name == 'synthetic' else Path(a.shared) / name
    if not (Path(path) / 'labels.csv').exists():
        print(f"{source}: skipped, no {path}")
        return None
    coll = read_imet(path, text='descriptions.csv' if (Path(path) / 'descriptions.csv').exists() else None)
    cap = make_captioner(coll, kind)
    return [cap.caption(r) for _, r in coll.df.sample(a.bs, random_state=0).iterrows()]


res = {}
for source, spec in [(src, spec) for src in a.sources for spec in a.archs]:
    if (captions := batch_captions(source)) is None:
        continue
    arch, size = spec.split(':')
    size = int(size)
    torch.manual_seed(0)
    m = create_clip_model(arch)
    tok = torch.stack([Tokenize(context_length=m.context_length)(c).as_subclass(torch.Tensor) for c in captions])
    img = torch.randn(a.bs, 3, size, size)
    opt, lf = torch.optim.AdamW(m.parameters(), lr=1e-6), create_loss('clip')

    def step(trim):
        with trim_padding(m) if trim else contextlib.nullcontext():
            out = m(img, tok)
            loss = lf(*out[:3])
            loss.backward()
            opt.step()
            opt.zero_grad()

    with torch.no_grad():
        m.eval()
        full = m.encode_text(tok)
        with trim_padding(m):
            trimmed = m.encode_text(tok)
        m.train()
    diff = float((full - trimmed).abs().max())
    assert diff < 1e-3 * float(full.abs().max()), f"{arch}: trimmed text features differ by {diff}"
    t = interleaved({'kept': lambda: step(False), 'trimmed': lambda: step(True)}, rounds=a.rounds)
    r = ratios(t['trimmed'], t['kept'])
    kept = trim_length(tok)
    print(
        f"{source} captions (e.g. {captions[0]!r}), {arch} at {size} px, batch {a.bs}: {kept} of {m.context_length} "
        "token columns kept (longest caption "
        f"{trim_length(tok, 1)}); step {spread(t['kept'], 1e3, '.0f')} ms -> {spread(t['trimmed'], 1e3, '.0f')} ms, "
        f"ratio {statistics.median(r):.2f}x ({min(r):.2f}-{max(r):.2f}); text features differ by at most {diff:.1e}"
    )
    res[f'{source} {spec}'] = dict(
        kept=kept,
        context=m.context_length,
        longest=trim_length(tok, 1),
        kept_s=t['kept'],
        trimmed_s=t['trimmed'],
        ratio=statistics.median(r),
        ratios=r,
        max_feature_diff=diff,
    )
write_results(a.out, info, settings=dict(bs=a.bs, rounds=a.rounds, sources=a.sources, archs=a.archs), results=res)
