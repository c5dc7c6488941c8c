"""A recipe for real paintings on a CPU budget: a sweep of clipart-train's settings on wikiart17k.

    python benchmarks/recipe_sweep.py [--n-items 6000] [--configs default,rn,...] [--seeds 1] [--first-seed 0]
        [--out sweep.json]

Every config trains from scratch on the same fixed split (20 % validation, split seed 42, as clipart-train) of
`../shared/data/wikiart17k` (or `--n-items` of it, drawn once), then reports on the validation split: zero-shot sample
F2 and mAP, the linear probe's F2 on the same frozen image embeddings, top-1 per group against chance (style, genre,
artist, century), text→image R@10, and the wall time of training and evaluation. Configs are named below; the `art-cpu`
recipe of `clipart-train --recipe art-cpu` is one of them.
"""

import argparse, sys, time, warnings
import numpy as np, torch

warnings.simplefilter('ignore')
from fastai.basics import Learner, set_seed
import fastai.callback.progress  # noqa: F401 (Learner.no_bar)
from clipart.data.imet import read_imet, ImetCollection, shared_data
from clipart.data.tokens import imet_dataloaders
from clipart.multimodal.models import create_clip_model, image_size
from clipart.multimodal.clip import CLIPTrainer
from clipart.eval.report import evaluate
from clipart.run.config import RECIPES
from clipart.run.train import art_augment

BASE = dict(
    arch='clipart-tiny-vit', size=None, bs=64, epochs=8, lr=2e-3, wd=0.1, algo='clip', captions='labels', augment=False
)
CONFIGS = {
    'default': {},
    'rn': dict(arch='clipart-tiny-rn'),
    'vit-96px': dict(size=96),
    'siglip': dict(algo='siglip'),
    'mixed-captions': dict(captions='mixed'),
    'augment': dict(augment=True),
    'lr-5e-3': dict(lr=5e-3),
    'small-vit': dict(arch='clipart-small-vit'),
    **{name: {k: v for k, v in r.items()} for name, r in RECIPES.items()},
}

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--n-items', type=int, default=None, help='items of wikiart17k (default: all 17,754)')
p.add_argument(
    '--configs', default='default,rn,vit-96px,siglip,mixed-captions,augment', help='comma-separated names from CONFIGS'
)
p.add_argument('--epochs', type=int, default=None, help='override every config\'s epochs')
p.add_argument('--seeds', type=int, default=1)
p.add_argument('--first-seed', type=int, default=0, help='seeds run are first-seed .. first-seed+seeds-1')
p.add_argument('--out', default=None)
a = p.parse_args()
from benchlib import machine_info, machine_line, write_results

info = machine_info()

path = shared_data('wikiart17k')
if path is None:
    sys.exit("wikiart17k not found beside the project (../shared/data/wikiart17k)")
coll = read_imet(path, text='descriptions.csv')
if a.n_items:
    keep = np.isin(np.arange(len(coll)), np.random.default_rng(0).choice(len(coll), a.n_items, replace=False))
    coll = ImetCollection(coll.df[keep].reset_index(drop=True), coll.vocab, path=coll.path, text_cols=coll.text_cols)
print(coll, flush=True)

rows = []
for name in a.configs.split(','):
    c = {**BASE, **CONFIGS[name]}
    if a.epochs:
        c['epochs'] = a.epochs
    for seed in range(a.first_seed, a.first_seed + a.seeds):
        set_seed(seed)
        m = create_clip_model(c['arch'], image_size=c['size'], siglip=c['algo'] == 'siglip')
        s = image_size(m)
        dls = imet_dataloaders(
            coll,
            captions=c['captions'],
            size=s,
            bs=c['bs'],
            context_length=m.context_length,
            seed=42,
            batch_tfms=art_augment(s) if c['augment'] else None,
            num_workers=0,
        )
        learn = Learner(dls, m, cbs=CLIPTrainer(loss=c['algo']), wd=c['wd'])
        t = time.time()
        with learn.no_bar(), learn.no_logging():
            learn.fit_one_cycle(c['epochs'], c['lr'])
        train_s, t = time.time() - t, time.time()
        res, _ = evaluate(learn, coll.vocab)
        eval_s = time.time() - t
        z = res['zero_shot']
        row = dict(
            config=name,
            seed=seed,
            **c,
            size_px=s,
            train_s=train_s,
            eval_s=eval_s,
            zs_F2=z['overall']['sample_F2'],
            zs_mAP=z['overall']['mAP'],
            lp_F2=res['linear_probe']['overall']['sample_F2'],
            knn_F2=res['knn']['overall']['sample_F2'],
            t2i_R10=res['retrieval']['t2i_R@10'],
            i2t_R10=res['retrieval']['i2t_R@10'],
            top1={g: (v['top1'], v['chance_top1']) for g, v in z.items() if g != 'overall'},
        )
        rows.append(row)
        print(
            f"{name} seed {seed}: zero-shot F2 {row['zs_F2']:.3f} (linear probe {row['lp_F2']:.3f}), mAP "
            f"{row['zs_mAP']:.3f}, "
            f"t2i R@10 {row['t2i_R10']:.3f}, "
            + ', '.join(
                f"{g} top-1 {t1:.3f} ({t1 / ch:.1f}x chance)" for g, (t1, ch) in row['top1'].items() if t1 is not None
            )
            + f"; train {train_s:.0f} s, eval {eval_s:.0f} s",
            flush=True,
        )
        write_results(a.out, info, quiet=True, args=vars(a), n_items=len(coll), rows=rows)

print(
    f"\nwikiart17k, {len(coll)} items ({int(0.8 * len(coll))} train), {torch.get_num_threads()} threads; "
    f"{machine_line(info)}\n"
)
print(
    "| config | zero-shot F2 | linear probe F2 | zero-shot mAP | style top-1 (chance) | genre | artist | century | t2i "
    "R@10 | train + eval |"
)
print("|---|---|---|---|---|---|---|---|---|---|")
for name in dict.fromkeys(r['config'] for r in rows):
    rs = [r for r in rows if r['config'] == name]
    f = lambda k: (
        f"{np.mean([r[k] for r in rs]):.3f}" + (f" ± {np.std([r[k] for r in rs], ddof=1):.3f}" if len(rs) > 1 else '')
    )
    t1 = lambda g: (
        f"{np.mean([r['top1'][g][0] for r in rs]):.3f}" + (f" ({rs[0]['top1'][g][1]:.3f})" if g == 'style' else '')
    )
    print(
        f"| {name} | {f('zs_F2')} | {f('lp_F2')} | {f('zs_mAP')} | {t1('style')} | {t1('genre')} | {t1('artist')} | "
        f"{t1('century')} | "
        f"{f('t2i_R10')} | {np.mean([r['train_s'] for r in rs]):.0f} + {np.mean([r['eval_s'] for r in rs]):.0f} s |"
    )
