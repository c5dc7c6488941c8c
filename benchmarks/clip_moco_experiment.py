"""CLIP vs CLIP-MoCo at batch sizes 16 and 64, on the synthetic collection and on shared/data/aic500.

Same epochs, seed and learning rate for every run; prints a markdown table of validation R@1/R@5 (image→text,
text→image) and zero-shot mean top-1 / mAP.  Takes ~15 minutes on 2 CPU cores.

    python benchmarks/clip_moco_experiment.py [--epochs 10] [--aic ../shared/data/aic500]
"""
import argparse, json, tempfile
from pathlib import Path
from clipart.cli.train import clipart_train

p = argparse.ArgumentParser()
p.add_argument('--epochs', type=int, default=10)
p.add_argument('--aic', default=str(Path(__file__).resolve().parents[2]/'shared'/'data'/'aic500'))
p.add_argument('--n-synthetic', type=int, default=600)
a = p.parse_args()
rows = []
with tempfile.TemporaryDirectory() as d:
    for data in [None, a.aic]:
        for bs in [16, 64]:
            for algo in ['clip', 'clip-moco']:
                r = clipart_train(data=data, algo=algo, bs=bs, epochs=a.epochs, lr=1e-3, seed=0, n_synthetic=a.n_synthetic,
                                  out=f'{d}/{algo}-{bs}', pictures=False)
                t,z = r['trained']['retrieval'],r['trained']['zero_shot']
                rows.append(('synthetic' if data is None else 'aic500', bs, algo, r['queue_size'] or '', r['n_valid'], t['i2t_R@1'], t['i2t_R@5'],
                             t['t2i_R@1'], t['t2i_R@5'], z['overall']['sample_F2'], z['overall']['mAP'], r['train_seconds']))
print('\n| data | bs | algo | queue | n valid | i2t R@1 | i2t R@5 | t2i R@1 | t2i R@5 | zero-shot sample F2 | zero-shot mAP | train s |')
print('|---|---|---|---|---|---|---|---|---|---|---|---|')
for r in rows: print('| ' + ' | '.join(f'{v:.3f}' if isinstance(v, float) else str(v) for v in r) + ' |')
