"""CLIP vs CLIP-MoCo (the default momentum 0.995, and one chosen from the run's length) at batch 16 and 64, 3 seeds, on
the synthetic collection and on shared/data/aic500.

Same model (clipart-tiny-vit, 64 px), epochs, learning rate and split for every run; the queue holds a quarter of the
training items (as clipart-train). Prints a markdown table of validation R@1 (image→text, text→image) and zero-shot
sample F2, mean ± sd over seeds. About 40 minutes on 2 CPU cores.

    python benchmarks/clip_moco_experiment.py [--epochs 10] [--seeds 3] [--algos clip,moco-0.995,moco] [--aic
        ../shared/data/aic500] [--out res.json]
"""

import argparse, tempfile, time, warnings
from pathlib import Path
import numpy as np

warnings.simplefilter('ignore')
from fastai.basics import Learner, set_seed
import fastai.callback.progress  # noqa: F401 (Learner.no_bar)
from clipart.data.imet import read_imet
from clipart.data.synthetic import make_synthetic_imet
from clipart.data.tokens import imet_dataloaders
from clipart.multimodal.models import create_clip_model
from clipart.multimodal.clip import CLIPTrainer
from clipart.multimodal.clip_moco import CLIPMOCOTrainer
from clipart.momentum import momentum_for_steps
from clipart.multimodal.embed import embed_dl
from clipart.eval.zero_shot import retrieval_report
from clipart.eval.report import _json_ready

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--epochs', type=int, default=10)
p.add_argument('--seeds', type=int, default=3)
p.add_argument('--lr', type=float, default=1e-3)
p.add_argument('--aic', default=str(Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'aic500'))
p.add_argument('--n-synthetic', type=int, default=600)
p.add_argument('--out', default=None)

p.add_argument(
    '--algos',
    default='clip,moco-0.995,moco',
    help="comma-separated: clip, moco-0.995 (the default momentum), moco (momentum from the run's length)",
)
a = p.parse_args()
from benchlib import machine_info, machine_line, write_results

info = machine_info()
ALGOS = [
    dict(
        clip=('CLIP', None),
        moco=('CLIP-MoCo, time scale 5 %', 'auto'),
        **{'moco-0.995': ('CLIP-MoCo (default)', 0.995)},
    )[k]
    for k in a.algos.split(',')
]
rows = []
with tempfile.TemporaryDirectory() as d:
    colls = {'synthetic': read_imet(make_synthetic_imet(Path(d) / 'synth', n=a.n_synthetic, seed=0))}
    if Path(a.aic, 'train.csv').exists():
        colls['aic500'] = read_imet(a.aic)
    else:
        print(f"{a.aic} not found: synthetic only")
    for data, coll in colls.items():
        for bs in [16, 64]:
            for name, m in ALGOS:
                for seed in range(a.seeds):
                    dls = imet_dataloaders(coll, size=64, bs=bs, context_length=32, seed=42, num_workers=0)
                    steps = a.epochs * len(dls.train)
                    mom = momentum_for_steps(steps) if m == 'auto' else m
                    set_seed(seed)
                    cb = (
                        CLIPTrainer()
                        if m is None
                        else CLIPMOCOTrainer(queue_size=max(16, len(dls.train_ds) // 4), momentum=mom)
                    )
                    learn = Learner(dls, create_clip_model('clipart-tiny-vit'), cbs=cb)
                    t = time.time()
                    with learn.no_bar(), learn.no_logging():
                        learn.fit_one_cycle(a.epochs, a.lr)
                    train_s = time.time() - t
                    img, txt, tok = embed_dl(learn.model, dls.valid)
                    r = retrieval_report(img, txt, tok)
                    z = _json_ready(learn.zero_shot(coll.vocab)[0])['overall']
                    rows.append(
                        dict(
                            data=data,
                            bs=bs,
                            algo=name,
                            momentum=mom,
                            steps=steps,
                            seed=seed,
                            i2t_R1=r['i2t_R@1'],
                            t2i_R1=r['t2i_R@1'],
                            i2t_R5=r['i2t_R@5'],
                            zs_F2=z['sample_F2'],
                            zs_mAP=z['mAP'],
                            train_s=train_s,
                        )
                    )
                    print({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
                    write_results(a.out, info, quiet=True, args=vars(a), rows=rows)

print(f'\n{a.epochs} epochs, lr {a.lr}, {a.seeds} seeds (mean ± sd); {machine_line(info)}\n')
print('| data | batch | algo | momentum (steps) | i2t R@1 | t2i R@1 | zero-shot sample F2 | zero-shot mAP |')
print('|---|---|---|---|---|---|---|---|')
for key in dict.fromkeys((r['data'], r['bs'], r['algo']) for r in rows):
    rs = [r for r in rows if (r['data'], r['bs'], r['algo']) == key]
    f = lambda k: f"{np.mean([r[k] for r in rs]):.3f} ± {np.std([r[k] for r in rs], ddof=1) if len(rs) > 1 else 0:.3f}"
    mom = '' if rs[0]['momentum'] is None else f"{rs[0]['momentum']:.3g} ({rs[0]['steps']})"
    print(f"| {key[0]} | {key[1]} | {key[2]} | {mom} | {f('i2t_R1')} | {f('t2i_R1')} | {f('zs_F2')} | {f('zs_mAP')} |")
