"""The evaluation phase of a clipart-train run: every item embedded once (the run layer) against the passes the
evaluation made before it, measured in the same process on the same model, DataLoaders and collection.

before ("per report"): the search index's pass over every item, then `evaluate` embedded the validation set, the
zero-shot report embedded the first 2,000 training items and the validation set again, and the probes embedded the
whole training set: 4 passes more, over 2 x valid + min(2000, train) + train items.
after ("embed once"): `embed_all` (one pass over every item, written as the index) and `score` (retrieval, zero-shot
attributes and kNN / linear probes from those rows).

    python benchmarks/eval_phase.py --data ../shared/data/aic500
    python benchmarks/eval_phase.py --data ../shared/data/wikiart17k --recipe art-cpu --repeats 1

`--repeats` rounds alternate the two (A B A B ...), so a drifting machine moves both; printed: the machine, each
one's median (min-max) and the median of the round-by-round ratios.
"""

import argparse, statistics, tempfile, time, warnings
from pathlib import Path

warnings.simplefilter('ignore')
import torch
from clipart.run.config import TrainConfig
from clipart.run.train import (
    read_collection,
    build_model,
    fit_to_data,
    build_dataloaders,
    build_learner,
    embed_all,
    score,
)
from clipart.multimodal.embed import embed_dl, find_tokenize
from clipart.search.index import export_embeddings
from clipart.eval.zero_shot import zero_shot_eval
from clipart.eval.report import evaluate_embeddings
from benchlib import machine_info, machine_line, ratios, spread, write_results


def per_report(cfg, learn, coll, tmp):
    """The evaluation's passes before the run layer: the index, the validation set twice, 2,000 training items, all
    training items"""
    dls = learn.dls
    export_embeddings(learn.model, dls, coll.df, tmp / 'index')  # the index: every item
    valid = embed_dl(learn.model, dls.valid)  # evaluate: the validation set
    tr = dls.train_ds.items
    tr2k = embed_dl(learn.model, dls.test_dl(tr.iloc[:2000], with_labels=True))[
        0
    ]  # zero_shot: 2,000 training items ...
    v2 = embed_dl(learn.model, dls.valid)[0]  # ... and the validation set again
    zero_shot_eval(learn.model, find_tokenize(dls), coll.vocab, v2, dls.valid_ds.items, tr2k, tr.iloc[:2000])
    tr_all = embed_dl(learn.model, dls.test_dl(tr, with_labels=True))[0]  # the probes: every training item
    return evaluate_embeddings(
        learn.model, find_tokenize(dls), coll.vocab, valid, dls.valid_ds.items, tr_all, tr, probes=True
    )


def embed_once(cfg, learn, coll, tmp):
    "The run layer's evaluation: one pass over every item, every report from its rows"
    return score(cfg, learn, coll, embed_all(learn, coll, tmp), dict(source=None))['trained']


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=None)
    p.add_argument('--recipe', default=None)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--out', default=None)
    a = p.parse_args()
    cfg = TrainConfig.resolve(
        {
            k: v
            for k, v in dict(data=a.data, recipe=a.recipe, workers=0, out=tempfile.mkdtemp(), pictures=False).items()
            if v is not None
        }
    )
    coll = read_collection(cfg)
    torch.manual_seed(0)
    model = build_model(cfg)
    cfg = fit_to_data(cfg, coll)
    learn = build_learner(cfg, build_dataloaders(cfg, coll, model), model)
    n_v, n_t = len(learn.dls.valid_ds), len(learn.dls.train_ds)
    info = machine_info()
    print(
        f"{machine_line(info)}; "
        f"{cfg.arch} at {cfg.size or 'its size'} px; {len(coll)} items ({n_t} train / {n_v} valid)"
    )
    times = dict(per_report=[], embed_once=[])
    for r in range(a.repeats):  # A B A B ...: a drifting machine moves both
        for name, f in [('per_report', per_report), ('embed_once', embed_once)]:
            tmp = Path(tempfile.mkdtemp())
            t = time.perf_counter()
            rep = f(cfg, learn, coll, tmp)
            times[name].append(time.perf_counter() - t)
            if r == 0:
                print(
                    f"  {name}: zero-shot mAP {rep['zero_shot']['overall']['mAP']:.4f}, linear probe F2 "
                    f"{rep['linear_probe']['overall']['sample_F2']:.4f}"
                )
    r = ratios(times['embed_once'], times['per_report'])
    print(
        f"evaluation phase, median (min-max) of {a.repeats}: before (per report) "
        f"{spread(times['per_report'], fmt='.1f')} s, "
        f"after (embed once) {spread(times['embed_once'], fmt='.1f')} s; after/before {spread(r)}x"
    )
    write_results(
        a.out, info, data=a.data, recipe=a.recipe, n_train=n_t, n_valid=n_v, times=times, ratio=statistics.median(r)
    )


if __name__ == '__main__':
    main()
