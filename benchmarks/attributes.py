"""How good are the attributes? Every attribute scorer clipart has, on the same frozen embeddings of a trained run.

For each `clipart-train` run folder given (its index/ holds every item's image embedding, the curated labels and the
train/valid split; its model/ the text tower for the zero-shot weights), on the validation items: zero-shot (top-1 +
thresholds fitted on train, what `clipart-train` reports as zero-shot), zero-shot calibrated (the predictor with the
zero-shot evidence only: no labelled example enters its scores), zero-shot + cache (Tip-Adapter), the ridge head kept
near the text weights, the predictor (all three, stacked: what `learn.predict` and the gallery use; it decides each
item's expected-F2 set, and `predictor_thresholds` is the same probabilities decided per group by top-1 + thresholds,
the rule it had before; `predictor_raw` the predictor with the cache and head on raw features instead of whitened ones),
kNN and the linear probe (thresholds, and `linear_probe_expected_f2`: its sigmoid scores decided by the same expected-F2
rule; `linear_probe_whitened`: the probe on the predictor's whitened features); per-group sample F2 and top-1 against
chance; the expected calibration error; then the k-shot protocol (k labelled items per value, several draws) for the
predictor, Tip-Adapter and the linear probe fitted on the same items. Runs of several seeds or training variants give
the spread and the rows. `--flip` scores every method on each item's embedding averaged with its mirror image's
(test-time augmentation).

    # (and --label-aware jaccard, --hard-negatives, other seeds)
    clipart-train --data ../shared/data/aic500 --out runs/aic_s0 --seed 0
    python benchmarks/attributes.py runs/aic_s0 runs/aic_s1 runs/aic_s2 --out benchmarks/results/attributes_aic500.json
"""

import argparse, json, time, warnings
from pathlib import Path

warnings.simplefilter('ignore')
import numpy as np, pandas as pd, torch
from clipart.data.tokens import Tokenize, get_tokenizer
from clipart.run.folder import RunFolder
from clipart.eval.zero_shot import zero_shot_report
from clipart.multimodal.classifier import ZeroShotClassifier
from clipart.eval.probes import KNNClassifier, LinearProbe
from clipart.eval.predict import AttributePredictor, calibration_errors, expected_fbeta_sets, few_shot_eval


def read_run(run):
    "(model, vocabulary, image features, items with their split and targets per group) of a clipart-train run folder"
    run = RunFolder(run).check()
    items = pd.read_csv(run.index_dir / 'items.csv', dtype=str, keep_default_na=False)
    if 'split' not in items:
        raise SystemExit(
            f"{run.index_dir / 'items.csv'} has no split column: train the run with this version of clipart"
        )
    return run.model().eval(), run.vocab(), run.embeddings().float(), items, run.config()


@torch.no_grad()
def flip_features(model, run, feats, bs=256):
    """Each item's index embedding averaged with its mirror image's (horizontal-flip test-time augmentation),
    re-normalised"""
    from clipart.search.index import preprocess_image
    from clipart.multimodal.models import image_size

    paths, size, out = RunFolder(run).items(strict=True).image.tolist(), image_size(model), []
    for i in range(0, len(paths), bs):
        x = torch.cat([preprocess_image(p, size) for p in paths[i : i + bs]])
        out.append(model.encode_image(x.flip(-1), normalize=True).float())
    return torch.nn.functional.normalize(feats + torch.cat(out), dim=-1)


def targets_of(values, labels):
    "{group: [n, n_values]} 0/1 truth from 'group::value|...' strings"
    sets = [set(s.split('|')) if s else set() for s in labels]
    return {
        g: torch.tensor([[f'{g}::{v}' in s for v in vals] for s in sets], dtype=torch.float)
        for g, vals in values.items()
    }


def report(m, s, tg, kinds=None, preds=None):
    r = zero_shot_report(m, s, tg, m.predict(s) if preds is None else preds)
    out = {
        g: dict(
            sample_F2=float(r.loc[g, 'sample_F2']),
            micro_F1=float(r.loc[g, 'micro_F1']),  # what iMet 2020 was scored by
            top1=None if pd.isna(r.loc[g, 'top1']) else float(r.loc[g, 'top1']),
            chance_top1=float(r.loc[g, 'chance_top1']),
            mAP=float(r.loc[g, 'mAP']),
        )
        for g in r.index
    }
    if kinds is not None:
        out['overall'].update(calibration_errors(s, tg, kinds))
    return out


def score_run(run, ks, draws, flip=False):
    model, vocab, feats, items, cfg = read_run(run)
    if flip:
        feats = flip_features(model, run, feats)
    tr, va = (items.split == 'train').values, (items.split == 'valid').values
    t0 = time.time()
    clf = ZeroShotClassifier(model, Tokenize(get_tokenizer(context_length=model.context_length)), vocab)
    tg = targets_of(clf.values, items.labels.tolist())
    ttr, tva = {g: t[tr] for g, t in tg.items()}, {g: t[va] for g, t in tg.items()}
    ftr, fva = feats[tr], feats[va]
    res, secs = {}, {}

    def add(nm, m, kinds=None, decide=None):
        s = m.scores(fva)
        res[nm] = report(m, s, tva, kinds, None if decide is None else decide(s))

    n = min(2000, len(ftr))
    clf.fit_thresholds(clf.scores(ftr[:n]), {g: t[:n] for g, t in ttr.items()})
    add('zero_shot', clf)
    for nm, parts in [
        ('zero_shot_calibrated', ('zero_shot',)),
        ('tip_adapter', ('zero_shot', 'cache')),
        ('head', ('head',)),
        ('predictor', ('zero_shot', 'cache', 'head')),
    ]:
        t = time.time()
        p = AttributePredictor.from_zero_shot(clf, parts=parts).fit(ftr, ttr)
        secs[nm] = round(time.time() - t, 1)
        add(nm, p, p.kinds)
        if nm == 'predictor':
            res[nm]['stack'] = {g: [round(float(x), 3) for x in p.stack[g][0]] for g in p.values}
            # the per-group rule it replaced
            add('predictor_thresholds', p, p.kinds, lambda s: p.predict(s, thresholds=p.thresholds))
            pw = p
    t = time.time()
    p = AttributePredictor.from_zero_shot(clf, whiten=None).fit(ftr, ttr)
    secs['predictor_raw'] = round(time.time() - t, 1)
    add('predictor_raw', p, p.kinds)  # the same on raw features: what whitening adds
    knn = KNNClassifier(clf.values, ftr, ttr, k=10)
    knn.fit_thresholds(knn.scores(ftr, exclude_self=True), ttr)
    add('knn', knn)
    lp = LinearProbe(clf.values, ftr, ttr)
    lp.fit_thresholds(lp.scores(ftr), ttr)
    add('linear_probe', lp)
    add('linear_probe_expected_f2', lp, None, expected_fbeta_sets)
    wtr, wva = (
        pw.white_feats(ftr),
        pw.white_feats(fva),
    )  # the probe on the predictor's whitened features: is whitening the predictor's gain or the features'?
    lw = LinearProbe(clf.values, wtr, ttr)
    lw.fit_thresholds(lw.scores(wtr), ttr)
    s = lw.scores(wva)
    res['linear_probe_whitened'] = report(lw, s, tva, None, lw.predict(s))
    fs = few_shot_eval(clf, ftr, ttr, fva, tva, ks=ks, seeds=tuple(range(draws))) if ks else pd.DataFrame()
    met = (
        json.loads((Path(run) / 'metrics.json').read_text()).get('trained', {})
        if (Path(run) / 'metrics.json').exists()
        else {}
    )
    return dict(
        run=str(run),
        flip=flip,
        data=cfg.get('data'),
        seed=cfg.get('seed'),
        label_aware=cfg.get('label_aware'),
        hard_negatives=cfg.get('hard_negatives', False),
        recipe=cfg.get('recipe'),
        arch=cfg.get('arch'),
        n_train=int(tr.sum()),
        n_valid=int(va.sum()),
        seconds=round(time.time() - t0, 1),
        fit_seconds=secs,
        scores=res,
        swap_accuracy=met.get('swap_accuracy'),
        retrieval={k: met.get('retrieval', {}).get(k) for k in ('i2t_R@1', 't2i_R@1')},
        few_shot=fs.to_dict(orient='records'),
    )


def table(rows):
    "Markdown: per method, mean ± spread over runs of the overall sample F2, per-group top-1 and the ECE"
    meths = list(rows[0]['scores'])
    groups = [g for g in rows[0]['scores']['zero_shot'] if g != 'overall']
    lp = np.array([r['scores']['linear_probe']['overall']['sample_F2'] for r in rows])
    ms = lambda xs: f"{np.mean(xs):.3f} ± {np.std(xs):.3f}" if len(xs) > 1 else f"{xs[0]:.3f}"
    head = '| method | sample F2 | × probe | ' + ' | '.join(f'{g} top-1' for g in groups) + ' | ECE | ECE top-1 |'
    out = [head, '|' + '---|' * (head.count('|') - 1)]
    for m in meths:
        f = np.array([r['scores'][m]['overall']['sample_F2'] for r in rows])
        t1 = [
            ms([r['scores'][m][g]['top1'] for r in rows]) if rows[0]['scores'][m][g]['top1'] is not None else '–'
            for g in groups
        ]
        e = [
            ms([r['scores'][m]['overall'][k] for r in rows]) if k in rows[0]['scores'][m]['overall'] else '–'
            for k in ('ece', 'ece_top1')
        ]
        out.append(f"| {m} | {ms(f)} | {np.mean(f / lp):.2f}× | " + ' | '.join(t1) + f" | {e[0]} | {e[1]} |")
    ch = [
        f"{rows[0]['scores']['zero_shot'][g]['chance_top1']:.3f}"
        if rows[0]['scores']['zero_shot'][g]['top1'] is not None
        else '–'
        for g in groups
    ]
    out.append('| chance | | | ' + ' | '.join(ch) + ' | | |')
    if all(r.get('swap_accuracy') is not None for r in rows):  # from the runs' metrics.json (clipart-train reports it)
        out += [
            '',
            "swap accuracy (validation images preferring their caption to its one-value swap): "
            f"{ms([r['swap_accuracy'] for r in rows])}; "
            f"image→text R@1 {ms([r['retrieval']['i2t_R@1'] for r in rows])}, text→image R@1 "
            f"{ms([r['retrieval']['t2i_R@1'] for r in rows])}",
        ]
    fs = pd.DataFrame([x for r in rows for x in r['few_shot']])
    if len(fs):
        out += [
            '',
            '| k per value | ' + ' | '.join(sorted(fs.method.unique())) + ' |',
            '|---|' + '---|' * fs.method.nunique(),
        ]
        for k, d in fs.groupby('k'):
            g = d.groupby('method').sample_F2
            out.append(
                f"| {k} (≈{int(d.n.mean())} items) | "
                + ' | '.join(f"{g.mean()[m]:.3f} ± {g.std().fillna(0)[m]:.3f}" for m in sorted(fs.method.unique()))
                + ' |'
            )
    return '\n'.join(out)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('runs', nargs='+', help='clipart-train run folders (several seeds of one setting: the spread)')
    ap.add_argument('--ks', default='1,2,4,8,16', help="k-shot sizes, comma-separated ('' for none)")
    ap.add_argument('--draws', type=int, default=3, help='k-shot draws per k')
    ap.add_argument(
        '--flip',
        action='store_true',
        help="every scorer on each item's embedding averaged with its mirror image's (test-time augmentation; "
        "re-embeds every image)",
    )
    ap.add_argument('--out', help='write the results (JSON) here')
    a = ap.parse_args()
    ks = tuple(int(k) for k in a.ks.split(',') if k)
    from benchlib import machine_info, machine_line

    machine = machine_info()
    print(machine_line(machine))
    rows = [score_run(r, ks, a.draws, a.flip) for r in a.runs]
    for r in rows:
        print(
            f"{r['run']}: {r['n_train']} train / {r['n_valid']} valid, scored in {r['seconds']} s (predictor fit "
            f"{r['fit_seconds']['predictor']} s)"
        )
    print(table(rows))
    if a.out:
        Path(a.out).write_text(json.dumps(dict(machine=machine, runs=rows, table=table(rows)), indent=1))
