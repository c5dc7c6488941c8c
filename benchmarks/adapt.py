"""Adapting a pretrained CLIP: gain on the target collection against what is forgotten of the source, per strategy.

    python benchmarks/adapt.py --target synthetic [--seeds 3] [--out adapt_synthetic.json]
    python benchmarks/adapt.py --target aic500    [--seeds 3] [--out adapt_aic500.json]

No pretrained weights can be downloaded here, so the starting model is made honestly: clipart trains a CLIP on a
*source* collection, then each strategy adapts it to a *target* collection that shares some attributes and not
others, with the same data, epochs and evaluation:

- synthetic: one synthetic collection split by culture. Source: American, French and Italian works; target:
  Chinese, Egyptian and Japanese ones (new cultures and countries; same media, motifs and sizes).
- aic500: source = 2,000 WikiArt paintings (style, genre, artist, century); target = ../shared/data/aic500 (Art
  Institute of Chicago: classification, culture, medium, department): another museum's vocabulary altogether.

Reported per strategy (mean ± sd over seeds): target zero-shot sample F2 and image→text R@1 (validation split),
source zero-shot sample F2 kept as a fraction of the start's, ms per training step, trainable parameters.
The start model is trained once per seed (synthetic) or once (aic500: its source takes minutes); the seed changes
the adaptation's order, augmentation and initialisation of new parts. The recorded runs (benchmarks/results/, the
page "Adapting a pretrained CLIP") used the defaults with --threads 1, the two targets side by side on 2 cores:
about 12 minutes per seed each.
"""

import argparse, copy, os, sys, time, warnings
from functools import partial
from pathlib import Path
import numpy as np, torch

warnings.simplefilter('ignore')
from fastai.basics import Learner, set_seed, Callback
import fastai.callback.progress  # noqa: F401 (Learner.no_bar)
from clipart.data.imet import read_imet, ImetCollection, shared_data
from clipart.data.tokens import imet_dataloaders
from clipart.data.images import image_dataloaders
from clipart.data.synthetic import synthetic_path
from clipart.multimodal.models import create_clip_model
from clipart.multimodal.clip import CLIPTrainer
from clipart.multimodal.adapt import clip_splitter, layerwise_lrs, wise_ft, EMAWeights, add_lora
from clipart.eval.report import evaluate_collection
from clipart.vision.encoders import create_encoder, save_encoder
from clipart.vision.pretrain import create_ssl

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--target', default='synthetic', choices=['synthetic', 'aic500'])
p.add_argument('--seeds', type=int, default=3)
p.add_argument('--epochs', type=int, default=5, help='adaptation epochs')
p.add_argument('--source-epochs', type=int, default=15)
p.add_argument('--ssl-epochs', type=int, default=15)
p.add_argument('--lr', type=float, default=5e-4, help='fine-tuning learning rate (LoRA: 4x)')
p.add_argument('--n-source', type=int, default=2000, help='aic500: WikiArt items of the source')
p.add_argument('--out', default=None)
p.add_argument('--threads', type=int, default=None, help='torch threads (default: all cores)')
a = p.parse_args()
torch.set_num_threads(a.threads or max(1, os.cpu_count() or 1))
SIZE, BS, ARCH = 64, 64, 'clipart-tiny-vit'


def subset(coll, keep):
    return ImetCollection(coll.df[keep].reset_index(drop=True), coll.vocab, path=coll.path, text_cols=coll.text_cols)


if a.target == 'synthetic':
    coll = read_imet(synthetic_path(n=1500, seed=0, size=SIZE))
    west = coll.df.culture.map(lambda v: v[0] in ('american', 'french', 'italian'))
    source, target = subset(coll, west), subset(coll, ~west)
else:
    aic, wiki = shared_data('aic500'), shared_data('wikiart17k')
    if aic is None or wiki is None:
        sys.exit("aic500 / wikiart17k not found beside the project (../shared/data)")
    target = read_imet(aic)
    w = read_imet(wiki)
    source = subset(w, np.isin(np.arange(len(w)), np.random.default_rng(0).choice(len(w), a.n_source, replace=False)))
print(f"source: {len(source)} items, target: {len(target)} items ({a.target})", flush=True)


def dls_of(coll, seed):
    set_seed(seed)  # fastai's DataLoaders draw their shuffling seed when they are made
    return imet_dataloaders(coll, size=SIZE, bs=BS, context_length=32, valid_pct=0.2, seed=0, num_workers=0)


def scores(model):
    t = evaluate_collection(model, target, valid_pct=0.2, seed=0)
    s = evaluate_collection(model, source, valid_pct=0.2, seed=0)
    return dict(
        target_F2=t['zero_shot']['overall']['sample_F2'],
        target_R1=t['retrieval']['i2t_R@1'],
        source_F2=s['zero_shot']['overall']['sample_F2'],
    )


def train_start(seed):
    set_seed(seed)
    m = create_clip_model(ARCH)
    learn = Learner(dls_of(source, seed), m, cbs=CLIPTrainer(), wd=0.1)
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(a.source_epochs, 2e-3)
    return m


def ssl_tower(seed):
    "SimCLR on the target's images (no captions) -> encoder file"
    fn = Path(f'/tmp/clipart-adapt-ssl-{a.target}-{seed}.safetensors')
    set_seed(seed)
    enc = create_encoder('resnet10t')
    model, cb = create_ssl('simclr', enc, SIZE, hidden=256, dim=64)
    set_seed(seed)
    dls = image_dataloaders(target, size=SIZE, bs=BS, num_workers=0)
    learn = Learner(dls, model, cbs=cb, wd=1e-2)
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(a.ssl_epochs, 1e-2)
    save_encoder(enc, fn)
    return fn


class StepTimer(Callback):
    "Seconds per training step (batch, backward, optimiser), the first 3 steps of each fit left out as warm-up"

    def __init__(self):
        self.times = []

    def before_fit(self):
        self.k = 0

    def before_batch(self):
        if self.training:
            self.t = time.perf_counter()

    def after_step(self):
        self.k += 1
        if self.k > 3:
            self.times.append(time.perf_counter() - self.t)


def adapt(start, strategy, seed, ssl_file=None):
    "The adapted model, seconds per step, trainable parameters"
    set_seed(seed)
    m, cbs, lr, kw, freeze = copy.deepcopy(start), [], a.lr, {}, 0
    trainer = CLIPTrainer()
    if strategy == 'lock image':
        trainer = CLIPTrainer(lock='image')
    elif strategy == 'lock text':
        trainer = CLIPTrainer(lock='text')
    elif strategy == 'layer-wise decay 0.75':
        kw['splitter'] = partial(clip_splitter, n_groups=5)
        lr = layerwise_lrs(a.lr * 2, 0.75, 5)
    elif strategy == 'EMA 0.95':
        cbs.append(EMAWeights(0.95))
    elif strategy == 'LoRA r8':
        add_lora(m, rank=8)
        lr = a.lr * 4
    elif strategy == 'fine_tune (heads 1 epoch)':
        freeze = 1
    elif strategy == 'SSL tower + LiT':
        m = create_clip_model(ARCH, image_encoder=ssl_file)  # SSL image tower, the start's text tower
        sd = {k: v for k, v in start.state_dict().items() if not k.startswith('visual.')}
        m.load_state_dict(sd, strict=False)
        trainer = CLIPTrainer(lock='image')
        lr = a.lr * 4
    dls = dls_of(target, seed)
    timer = StepTimer()
    learn = Learner(dls, m, cbs=[trainer, timer] + cbs, wd=0.1, **kw)
    with learn.no_bar(), learn.no_logging():
        if freeze:
            learn.freeze()
            learn.fit_one_cycle(freeze, lr * 4)
            learn.unfreeze()
        learn.fit_one_cycle(a.epochs, lr)
    secs = float(np.median(timer.times))
    return m, secs, sum(p.numel() for p in m.parameters() if p.requires_grad)


STRATEGIES = [
    'full fine-tune',
    'fine_tune (heads 1 epoch)',
    'lock image',
    'lock text',
    'layer-wise decay 0.75',
    'EMA 0.95',
    'LoRA r8',
    'SSL tower + LiT',
]
rows = []
start_shared = train_start(0) if a.target == 'aic500' else None
for seed in range(a.seeds):
    t0 = time.time()
    start = start_shared if start_shared is not None else train_start(seed)
    s0 = scores(start)
    rows.append(dict(seed=seed, strategy='start (no adaptation)', **s0, step_ms=None, trainable=0))
    ssl_file = ssl_tower(seed)
    for st in STRATEGIES:
        m, secs, n = adapt(start, st, seed, ssl_file)
        rows.append(dict(seed=seed, strategy=st, **scores(m), step_ms=1000 * secs, trainable=n))
        if st == 'full fine-tune':
            for al in (0.25, 0.5, 0.75):
                rows.append(
                    dict(
                        seed=seed,
                        strategy=f'WiSE-FT α={al} (of full)',
                        **scores(wise_ft(m, start, al)),
                        step_ms=1000 * secs,
                        trainable=n,
                    )
                )
    for r in rows[-(len(STRATEGIES) + 4) :]:
        r['source_kept'] = r['source_F2'] / s0['source_F2'] if s0['source_F2'] else None
    print(f"seed {seed} done in {time.time() - t0:.0f} s", flush=True)

order = list(dict.fromkeys(r['strategy'] for r in rows))


def ms(k, st, f='{:.3f}'):
    v = np.array([r[k] for r in rows if r['strategy'] == st and r[k] is not None], dtype=float)
    return '–' if not len(v) else (f.format(v.mean()) + (f" ± {f.format(v.std(ddof=1))}" if len(v) > 1 else ''))


print(
    f"\n{a.target}: {len(source)} source / {len(target)} target items, {ARCH} at {SIZE} px, {a.epochs} adaptation "
    "epochs, "
    f"{a.seeds} seeds, {torch.get_num_threads()} threads\n"
)
print("| strategy | target zero-shot F2 | target i2t R@1 | source F2 kept | ms / step (median) | trainable params |")
print("|---|---|---|---|---|---|")
for st in order:
    n = [r['trainable'] for r in rows if r['strategy'] == st][0]
    print(
        f"| {st} | {ms('target_F2', st)} | {ms('target_R1', st)} | {ms('source_kept', st, '{:.2f}')} | "
        f"{ms('step_ms', st, '{:.0f}')} | {n / 1e6:.2f}M |"
    )
from benchlib import machine_info, machine_line, write_results

info = machine_info()
print(f"\n{machine_line(info)}")
write_results(a.out, info, args=vars(a), rows=rows)
