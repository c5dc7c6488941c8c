"""kNN accuracy of each self-supervised method against a random encoder, on the synthetic collection.

    python benchmarks/ssl_knn.py [--epochs 10] [--algos simclr,moco,...] [--color 0.5] [--seeds 0,1,2]
    python benchmarks/ssl_knn.py --data ../shared/data/aic500 --groups department,classification

The setting of the method notebooks (nbs/21-26): timm `test_resnet` (0.4 M parameters), 64 px, 480 train / 120
valid items, batch 64, crops >= 25% of the image, `fit_one_cycle`. The kNN monitor (k=20, cosine, train set as
memory) is reported for every attribute group, with each group's random-encoder figure from the same initial weights,
averaged over seeds (each seed: new initial weights and augmentations; the split is fixed).
Prints a markdown table (the one in nbs/29_ssl_results.ipynb).
"""

import argparse, time
import torch
from fastai.basics import *
from clipart.data.imet import read_imet
from clipart.data.synthetic import synthetic_path
from clipart.data.images import image_dataloaders
from clipart.vision.encoders import create_encoder
from clipart.vision.augment import two_views, multi_crop_views
from clipart.vision.ssl import knn_monitor
from clipart.vision.simclr import SimCLR, create_simclr_model
from clipart.vision.moco import MoCo, create_moco_model
from clipart.vision.byol import BYOL, create_byol_model
from clipart.vision.swav import SwAV, create_swav_model
from clipart.vision.barlow_twins import BarlowTwins, create_barlow_twins_model
from clipart.vision.dino import DINO, create_dino_model

GROUPS = ['dimension', 'tags', 'culture', 'medium']


def setup(algo, color):
    "(model, callback, lr) as in the method's notebook"
    enc = create_encoder('test_resnet')
    two = lambda **kw: two_views(64, color=color, scale=(0.25, 1), **kw)
    multi = lambda: multi_crop_views(64, n_local=2, global_scale=(0.25, 1), local_scale=(0.1, 0.25), color=color)
    if algo == 'simclr':
        return create_simclr_model(enc, hidden=256, dim=64), SimCLR(two(), temperature=0.2), 1e-2
    if algo == 'moco':
        return (
            create_moco_model(enc, hidden=256, dim=64, queue_size=1024),
            MoCo(two(), temperature=0.2, momentum=0.99),
            1e-2,
        )
    if algo == 'byol':
        return create_byol_model(enc, hidden=256, dim=64), BYOL(two(asymmetric=True), momentum=0.99), 1e-2
    if algo == 'swav':
        return (
            create_swav_model(enc, hidden=256, dim=64, n_prototypes=30),
            SwAV(multi(), temperature=0.1, freeze_prototypes_steps=7),
            1e-2,
        )
    if algo == 'barlow_twins':
        return create_barlow_twins_model(enc, hidden=256, dim=256), BarlowTwins(two(), lambd=1 / 256), 1e-2
    if algo == 'dino':
        return (
            create_dino_model(enc, out_dim=1024, hidden=256, bottleneck=64),
            DINO(multi(), teacher_temp=0.04, momentum=0.996),
            5e-3,
        )
    raise ValueError(algo)


def main(algos, epochs, color, seeds=(0,), data=None, groups=GROUPS):
    coll = read_imet(data or synthetic_path())
    dls = {g: image_dataloaders(coll, label=g, size=64, bs=64, num_workers=0, seed=42) for g in groups}
    rows = []
    for algo in algos:
        res = []
        for seed in seeds:
            set_seed(seed)
            model, cb, lr = setup(algo, color)
            before = {g: knn_monitor(model, dls[g]) for g in groups}
            learn = Learner(dls[groups[0]], model, cbs=cb)
            t = time.time()
            with learn.no_bar(), learn.no_logging():
                learn.fit_one_cycle(epochs, lr)
            after = {g: knn_monitor(learn.model, dls[g]) for g in groups}
            res.append((before, after, time.time() - t))
            print(
                algo, seed, {g: f'{before[g]:.3f} -> {after[g]:.3f}' for g in groups}, f'{res[-1][2]:.0f}s', flush=True
            )
        rows.append((algo, res))
    from benchlib import machine_line

    print(f'\n{machine_line()}')
    print(
        f'{epochs} epochs, colour strength {color}, seeds {list(seeds)}: mean kNN accuracy of the random encoder -> '
        f'after training (± standard deviation over seeds of the gain)\n'
    )
    print('| method | ' + ' | '.join(f'{g}' for g in groups) + ' | train time |')
    print('|---|' + '---|' * (len(groups) + 1))
    for algo, res in rows:
        cells = []
        for g in groups:
            b = torch.tensor([r[0][g] for r in res])
            a = torch.tensor([r[1][g] for r in res])
            sd = f' ± {(a - b).std().item():.3f}' if len(res) > 1 else ''
            cells.append(f'{b.mean():.3f} → **{a.mean():.3f}**{sd}')
        print(f'| {algo} | ' + ' | '.join(cells) + f' | {sum(r[2] for r in res) / len(res):.0f} s |')


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--algos', default='simclr,moco,byol,swav,barlow_twins,dino')
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--color', type=float, default=0.5)
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--data', default=None, help='an iMet-layout folder (default: the synthetic collection)')
    p.add_argument(
        '--groups',
        default=','.join(GROUPS),
        help='attribute groups for the kNN monitor; the first is shown during training',
    )
    a = p.parse_args()
    main(a.algos.split(','), a.epochs, a.color, [int(x) for x in a.seeds.split(',')], a.data, a.groups.split(','))
