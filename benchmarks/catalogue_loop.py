"""The cataloguing loop, simulated: does reviewing in clipart's priority order (least certain first, diverse) improve
the proposals for the rest of a collection faster than reviewing in random order?

On a `clipart-train` run's frozen embeddings (its index/: every item's image embedding, curated labels, train/valid
split): the training split is the collection; 20 % of it is catalogued (the predictor is fitted on it), the other 80 %
is hidden. Each round, the predictor proposes attributes for the hidden items, a simulated curator reviews the
`--per-round` items first in the order (priority: `review_order` on the expected wrong decisions; random: a shuffle) and
gives their true attributes (accepting right proposals, rejecting wrong ones, adding missing values), the predictor is
refitted on everything catalogued so far (the cheap adapter; no retraining of the towers), and we measure sample F2 of
the proposals on the still-unreviewed items and on the run's validation split (never reviewed: a fixed yardstick), and
how many wrong decisions the curator corrected per reviewed item (the work the review did). Several seeds of the hidden
split.

    clipart-train --data ../shared/data/aic500 --recipe art-cpu --out runs/aic500
    python benchmarks/catalogue_loop.py runs/aic500 --out benchmarks/results/catalogue_loop_aic500.json
"""

import argparse, json, os, time, warnings
from pathlib import Path

warnings.simplefilter('ignore')
import numpy as np, torch
from clipart.data.tokens import Tokenize, get_tokenizer
from clipart.eval.zero_shot import zero_shot_report
from clipart.multimodal.classifier import ZeroShotClassifier
from clipart.eval.predict import AttributePredictor
from clipart.catalogue.core import expected_errors, review_order

sys_path = Path(__file__).resolve().parent
import sys

sys.path.insert(0, str(sys_path))
from attributes import read_run, targets_of


def f2(m, s, tg):
    return float(zero_shot_report(m, s, tg, m.predict(s)).loc['overall', 'sample_F2'])


def wrong(dec, tg):
    "[n] wrong decisions per item (proposed and false, or true and not proposed)"
    return sum((dec[g].float() != tg[g]).float().sum(1) for g in dec)


def simulate(clf, feats, tg, va_feats, va_tg, order, seed, rounds, per_round, catalogued=0.2, diversity=0.5):
    n = len(feats)
    rng = np.random.default_rng(seed)
    known = np.zeros(n, bool)
    known[rng.choice(n, int(round(catalogued * n)), replace=False)] = True
    rows = []
    for r in range(rounds + 1):
        k = np.flatnonzero(known)
        h = np.flatnonzero(~known)
        p = AttributePredictor.from_zero_shot(clf).fit(feats[k], {g: t[k] for g, t in tg.items()}, seed=seed)
        s = p.scores(feats[h])
        th = {g: t[h] for g, t in tg.items()}
        row = dict(
            round=r,
            reviewed=int(known.sum() - round(catalogued * n)),
            catalogued=int(known.sum()),
            f2_unreviewed=f2(p, s, th),
            f2_valid=f2(p, p.scores(va_feats), va_tg),
        )
        if r == rounds or not len(h):
            rows.append(row)
            break
        dec = p.predict(s)
        if order == 'priority':
            pick = review_order(expected_errors(s, dec).numpy(), feats[h].numpy(), diversity)[:per_round]
        else:
            pick = rng.permutation(len(h))[:per_round]
        row['corrected_per_item'] = float(
            wrong({g: d[pick] for g, d in dec.items()}, {g: t[pick] for g, t in th.items()}).mean()
        )
        rows.append(row)
        known[h[pick]] = True  # the curator's decisions make these items catalogued
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('run')
    ap.add_argument('--out')
    ap.add_argument('--seeds', type=int, default=3)
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--per-round', type=int, default=50)
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    model, vocab, feats, items, cfg = read_run(a.run)
    tr, va = (items.split == 'train').values, (items.split == 'valid').values
    clf = ZeroShotClassifier(model, Tokenize(get_tokenizer(context_length=model.context_length)), vocab)
    tg = targets_of(clf.values, items.labels.tolist())
    t0 = time.time()
    res = {}
    for order in ('priority', 'random'):
        res[order] = [
            simulate(
                clf,
                feats[tr],
                {g: t[tr] for g, t in tg.items()},
                feats[va],
                {g: t[va] for g, t in tg.items()},
                order,
                s,
                a.rounds,
                a.per_round,
            )
            for s in range(a.seeds)
        ]
    from benchlib import machine_info, machine_line

    machine = machine_info()
    print(
        f"{a.run} ({cfg.get('data')}): {int(tr.sum())} training items (20 % catalogued at the start), {int(va.sum())} "
        "validation; "
        f"{a.seeds} seeds, {a.rounds} rounds of {a.per_round}; {time.time() - t0:.0f} s; {machine_line(machine)}\n"
    )
    print(
        '| reviewed | F2 unreviewed, priority | F2 unreviewed, random | F2 valid, priority | F2 valid, random | '
        'corrected per item, priority | random |'
    )
    print('|---|---|---|---|---|---|---|')
    ms = lambda xs: f"{np.mean(xs):.3f} ± {np.std(xs):.3f}"
    for r in range(a.rounds + 1):
        P = [run[r] for run in res['priority'] if r < len(run)]
        R = [run[r] for run in res['random'] if r < len(run)]
        c = lambda rows: ms([x['corrected_per_item'] for x in rows]) if 'corrected_per_item' in rows[0] else '–'
        print(
            f"| {P[0]['reviewed']} | {ms([x['f2_unreviewed'] for x in P])} | {ms([x['f2_unreviewed'] for x in R])} | "
            f"{ms([x['f2_valid'] for x in P])} | {ms([x['f2_valid'] for x in R])} | {c(P)} | {c(R)} |"
        )
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(
            json.dumps(
                dict(
                    run=a.run,
                    data=cfg.get('data'),
                    machine=machine,
                    seeds=a.seeds,
                    rounds=a.rounds,
                    per_round=a.per_round,
                    results=res,
                ),
                indent=1,
            )
        )


if __name__ == '__main__':
    main()
