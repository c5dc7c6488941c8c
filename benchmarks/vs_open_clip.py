"""clipart against open_clip_train, side by side on the same CSV of image paths and captions, in one run.

    # open_clip_train's own needs (braceexpand, webdataset): it ships inside open_clip's wheel
    pip install -e ".[bench]"
    python benchmarks/vs_open_clip.py [--n 1000] [--epochs 8] [--bs 64] [--seeds 0 1 2] [--workers 2]

Both train clipart's `clipart-tiny-vit` (registered with open_clip, so `open_clip_train.main --model` finds it) from
random initialisation on the same train/validation CSVs (written from the synthetic collection: absolute image paths,
one fixed caption per image), each in its own process, one after the other, with the same settings: batch, epochs, AdamW
(beta 0.9/0.99, eps 1e-5, decoupled weight decay), peak learning rate, schedule (linear warm-up for `--warmup` steps,
then cosine to 0: open_clip_train's `cosine_lr`, built in fastai from `SchedLin` + `SchedCos`), fp32, `--workers` loader
processes, no augmentation (open_clip's RandomResizedCrop pinned to the whole image), a validation pass after every
epoch. clipart runs as its users write it: `read_pairs_csv` + `imet_dataloaders` + `Learner(..., cbs=CLIPTrainer())`.

Reported per tool (mean over seeds): training seconds per epoch (the training phase alone, timed inside each process),
images/s, the whole process's wall time (start-up, reading, validation included), peak RSS of the main process, and
validation R@1 both ways after the same epochs. R@1 is measured by one evaluator for both final models (clipart's
validation pipeline; every validation pair is its own positive, as open_clip_train counts it), beside open_clip_train's
own figure from its log. Results go to `benchmarks/results/vs_open_clip_workers{W}.json`. Goal (issue #16): clipart <=
1.0x open_clip_train's time and >= its R@1.
"""

import argparse, json, os, resource, subprocess, sys, tempfile, time, warnings
from pathlib import Path

HERE = Path(__file__).resolve()


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=1000, help='synthetic items (20 %% validation)')
    p.add_argument('--epochs', type=int, default=8)
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--wd', type=float, default=0.1)
    p.add_argument('--warmup', type=int, default=20, help='warm-up steps')
    p.add_argument('--workers', type=int, default=2, help='loader processes, both tools')
    p.add_argument('--arch', default='clipart-tiny-vit')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--out', default=None, help='working folder (default: a temporary one)')
    p.add_argument('--results', default=None, help='default: benchmarks/results/vs_open_clip_workers{W}.json')
    p.add_argument('--worker', choices=['clipart', 'open_clip'], help=argparse.SUPPRESS)
    p.add_argument('--seed', type=int, default=0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def peak_rss_mb():
    return dict(
        main=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        loader_workers=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )


def write_csvs(a, folder):
    """train.tsv / val.tsv (filepath, title) from the synthetic collection: absolute paths, each item's validation
    caption"""
    import pandas as pd
    from clipart.data.imet import read_imet
    from clipart.data.synthetic import synthetic_path
    from clipart.data.captions import make_captioner

    coll = read_imet(synthetic_path(n=a.n))
    cap = make_captioner(coll, 'labels')
    df = pd.DataFrame(
        dict(
            filepath=[str(Path(p).resolve()) for p in coll.df.image],
            title=[cap.caption(r) for _, r in coll.df.iterrows()],
        )
    )
    df = df.sample(frac=1, random_state=42).reset_index(drop=True)
    n_val = int(0.2 * len(df))
    df[n_val:].to_csv(folder / 'train.tsv', sep='\t', index=False)
    df[:n_val].to_csv(folder / 'val.tsv', sep='\t', index=False)
    return len(df) - n_val, n_val


# --- the two workers: each trains in its own process and writes what it measured ---


def run_clipart(a, folder):
    from functools import partial
    import pandas as pd
    from fastai.vision.all import Learner, Callback, ParamScheduler, SchedLin, SchedCos, combine_scheds, set_seed
    from clipart.training import FusedAdam
    from clipart.data.imet import read_pairs_csv, ImetCollection
    from clipart.data.tokens import imet_dataloaders
    from clipart.multimodal.models import create_clip_model, image_size, save_clip
    from clipart.multimodal.clip import CLIPTrainer

    t_start = time.perf_counter()
    set_seed(a.seed)
    tr, va = (read_pairs_csv(folder / f, sep='\t') for f in ('train.tsv', 'val.tsv'))
    coll = ImetCollection(
        pd.concat([tr.df.assign(is_valid=False), va.df.assign(is_valid=True)], ignore_index=True),
        tr.vocab,
        path=folder,
        text_cols=['caption'],
    )
    model = create_clip_model(a.arch)
    dls = imet_dataloaders(
        coll,
        captions='text',
        size=image_size(model),
        bs=a.bs,
        context_length=model.context_length,
        valid_col='is_valid',
        num_workers=a.workers,
    )

    class EpochTimes(Callback):
        order = -100

        def before_fit(self):
            self.train, self.valid = [], []

        def before_train(self):
            self.t = time.perf_counter()

        def after_train(self):
            self.train.append(time.perf_counter() - self.t)

        def before_validate(self):
            self.t = time.perf_counter()

        def after_validate(self):
            self.valid.append(time.perf_counter() - self.t)

    times = EpochTimes()
    learn = Learner(
        dls, model, cbs=[CLIPTrainer(), times], wd=a.wd, opt_func=partial(FusedAdam, mom=0.9, sqr_mom=0.99, eps=1e-5)
    )
    steps = a.epochs * len(dls.train)
    w = min(a.warmup, steps - 1) / steps
    sched = {
        'lr': combine_scheds([w, 1 - w], [SchedLin(a.lr / max(a.warmup, 1), a.lr), SchedCos(a.lr, 0.0)])
    }  # open_clip's cosine_lr
    with learn.no_bar():
        learn.fit(a.epochs, a.lr, cbs=ParamScheduler(sched))
    save_clip(learn.model, folder / f'clipart_{a.seed}')
    return dict(
        train_s=times.train,
        valid_s=times.valid,
        steps_per_epoch=len(dls.train),
        wall_s=time.perf_counter() - t_start,
        weights=str(folder / f'clipart_{a.seed}' / 'open_clip_model.safetensors'),
        history=[[float(v) for v in r[:2]] for r in learn.recorder.values],
    )


def run_open_clip(a, folder):
    import clipart.multimodal.models  # noqa: F401 (registers clipart's model configs with open_clip)
    import open_clip_train.main as ocm

    t_start = time.perf_counter()
    times = dict(train_s=[], valid_s=[])

    def timed(f, key):
        def g(*args, **kw):
            t = time.perf_counter()
            r = f(*args, **kw)
            times[key].append(time.perf_counter() - t)
            return r

        return g

    ocm.train_one_epoch = timed(ocm.train_one_epoch, 'train_s')
    ocm.evaluate = timed(ocm.evaluate, 'valid_s')
    name = f'open_clip_{a.seed}'
    ocm.main(
        [
            '--train-data',
            str(folder / 'train.tsv'),
            '--val-data',
            str(folder / 'val.tsv'),
            '--dataset-type',
            'csv',
            '--csv-separator',
            '\t',
            '--csv-img-key',
            'filepath',
            '--csv-caption-key',
            'title',
            '--model',
            a.arch,
            '--batch-size',
            str(a.bs),
            '--epochs',
            str(a.epochs),
            '--lr',
            str(a.lr),
            '--wd',
            str(a.wd),
            '--beta1',
            '0.9',
            '--beta2',
            '0.99',
            '--eps',
            '1e-5',
            '--warmup',
            str(a.warmup),
            '--workers',
            str(a.workers),
            '--precision',
            'fp32',
            '--device',
            'cpu',
            '--seed',
            str(a.seed),
            '--logs',
            str(folder),
            '--name',
            name,
            '--save-frequency',
            '0',
            '--val-frequency',
            '1',
            '--zeroshot-frequency',
            '0',
            '--log-every-n-steps',
            '1000',
            '--aug-cfg',
            'scale=(1.0,1.0)',
            'ratio=(1.0,1.0)',
        ]
    )
    t0 = len(times['valid_s']) > a.epochs  # open_clip_train also evaluates once before training when given --val-data
    res = (
        [json.loads(l) for l in (folder / name / 'checkpoints' / 'results.jsonl').read_text().splitlines()]
        if (folder / name / 'checkpoints' / 'results.jsonl').exists()
        else []
    )
    return dict(
        train_s=times['train_s'],
        valid_s=times['valid_s'][1:] if t0 else times['valid_s'],
        wall_s=time.perf_counter() - t_start,
        weights=str(folder / name / 'checkpoints' / f'epoch_{a.epochs}.pt'),
        own_metrics=res[-1] if res else None,
    )


# --- the parent: data, the runs, one evaluator for both ---


def evaluate(a, folder, weights):
    """i2t / t2i R@1 of a `clipart-tiny-vit` state dict on val.tsv through clipart's validation pipeline (diagonal
    positives)"""
    import torch
    from safetensors.torch import load_file
    from clipart.data.imet import read_pairs_csv
    from clipart.data.tokens import imet_dataloaders
    from clipart.multimodal.models import create_clip_model, image_size
    from clipart.multimodal.embed import embed_dl
    from clipart.metrics import cross_modal_retrieval

    m = create_clip_model(a.arch)
    sd = (
        load_file(weights)
        if weights.endswith('.safetensors')
        else torch.load(weights, map_location='cpu', weights_only=True)['state_dict']
    )
    m.load_state_dict({k.removeprefix('module.'): v for k, v in sd.items()})
    va = read_pairs_csv(folder / 'val.tsv', sep='\t')
    dls = imet_dataloaders(
        va, captions='text', size=image_size(m), bs=a.bs, context_length=m.context_length, num_workers=0, valid_pct=0.5
    )
    img, txt, _ = embed_dl(m, dls.test_dl(va.df, with_labels=True))
    r = cross_modal_retrieval(img, txt, torch.arange(len(img)), ks=(1, 5))
    return {k: float(r[k]) for k in ('i2t_R@1', 't2i_R@1', 'i2t_R@5', 't2i_R@5')}


def main(a):
    warnings.simplefilter('ignore')
    if a.worker:
        res = (run_clipart if a.worker == 'clipart' else run_open_clip)(a, Path(a.out))
        res['peak_rss_mb'] = peak_rss_mb()
        print('RESULT ' + json.dumps(res))
        return
    try:
        import braceexpand, webdataset  # noqa: F401  (open_clip_train.data imports them)
    except ImportError:
        sys.exit('open_clip_train needs braceexpand and webdataset: pip install -e ".[bench]"')
    folder = Path(a.out or tempfile.mkdtemp(prefix='vs_open_clip_'))
    folder.mkdir(parents=True, exist_ok=True)
    n_train, n_val = write_csvs(a, folder)
    import torch

    print(
        f"{n_train} train / {n_val} validation pairs in {folder}; {a.arch}, batch {a.bs}, {a.epochs} epochs, lr "
        f"{a.lr}, "
        f"wd {a.wd}, warm-up {a.warmup} steps, {a.workers} loader workers, fp32, {torch.get_num_threads()} torch "
        "threads"
    )
    sys.path.insert(0, str(HERE.parent))
    from benchlib import machine_info, machine_line

    info = machine_info()
    print(machine_line(info))
    runs = {'clipart': [], 'open_clip': []}
    for i, seed in enumerate(a.seeds):
        # alternate, so drift hits both
        for tool in ['clipart', 'open_clip'] if i % 2 == 0 else ['open_clip', 'clipart']:
            cmd = [
                sys.executable,
                str(HERE),
                '--worker',
                tool,
                '--seed',
                str(seed),
                '--out',
                str(folder),
                '--n',
                str(a.n),
                '--epochs',
                str(a.epochs),
                '--bs',
                str(a.bs),
                '--lr',
                str(a.lr),
                '--wd',
                str(a.wd),
                '--warmup',
                str(a.warmup),
                '--workers',
                str(a.workers),
                '--arch',
                a.arch,
            ]
            t = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS='ignore'))
            line = next((l for l in p.stdout.splitlines() if l.startswith('RESULT ')), None)
            if p.returncode or line is None:
                sys.exit(f"{tool} (seed {seed}) failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
            r = json.loads(line[7:])
            r['process_s'] = time.perf_counter() - t
            r['seed'] = seed
            r.update(evaluate(a, folder, r['weights']))
            runs[tool].append(r)
            print(
                f"  seed {seed} {tool:9s}: {sum(r['train_s']) / len(r['train_s']):.2f} s/epoch training, process "
                f"{r['process_s']:.0f} s, "
                f"R@1 i2t {r['i2t_R@1']:.3f} t2i {r['t2i_R@1']:.3f}, peak RSS {r['peak_rss_mb']['main']:.0f} MB"
            )
    import numpy as np

    def agg(tool):
        rs = runs[tool]
        ep = [np.mean(r['train_s'][1:] if len(r['train_s']) > 1 else r['train_s']) for r in rs]
        own = [r['own_metrics'] for r in rs if r.get('own_metrics')]
        return dict(
            epoch_s=float(np.mean(ep)),
            epoch_s_sd=float(np.std(ep)),
            images_per_s=float(np.mean([(n_train // a.bs) * a.bs / e for e in ep])),
            process_s=float(np.mean([r['process_s'] for r in rs])),
            valid_s=float(np.mean([np.mean(r['valid_s']) for r in rs])),
            rss_mb=float(np.mean([r['peak_rss_mb']['main'] for r in rs])),
            **{k: float(np.mean([r[k] for r in rs])) for k in ('i2t_R@1', 't2i_R@1', 'i2t_R@5', 't2i_R@5')},
            **{f'{k}_sd': float(np.std([r[k] for r in rs])) for k in ('i2t_R@1', 't2i_R@1')},
            own_log={
                k: float(np.mean([o['image_to_text_R@1' if k == 'i2t_R@1' else 'text_to_image_R@1'] for o in own]))
                for k in ('i2t_R@1', 't2i_R@1')
            }
            if own
            else None,
        )

    s = {t: agg(t) for t in runs}
    c, o = s['clipart'], s['open_clip']
    print(
        f"\n{n_train} train / {n_val} validation pairs, {a.arch}, batch {a.bs}, {a.epochs} epochs, seeds {a.seeds} "
        "(mean ± sd), "
        f"first epoch left out of the epoch time\n"
    )
    print(
        '| tool | training s / epoch | images/s | process wall s | validation s / epoch | peak RSS MB | i2t R@1 | t2i '
        'R@1 |'
    )
    print('|---|---|---|---|---|---|---|---|')
    for t, r in s.items():
        print(
            f"| {t} | {r['epoch_s']:.2f} ± {r['epoch_s_sd']:.2f} | {r['images_per_s']:.0f} | {r['process_s']:.0f} | "
            f"{r['valid_s']:.2f} | "
            f"{r['rss_mb']:.0f} | {r['i2t_R@1']:.3f} ± {r['i2t_R@1_sd']:.3f} | {r['t2i_R@1']:.3f} ± "
            f"{r['t2i_R@1_sd']:.3f} |"
        )
    print(
        f"\nclipart / open_clip_train: training time per epoch {c['epoch_s'] / o['epoch_s']:.2f}x, process "
        f"{c['process_s'] / o['process_s']:.2f}x, "
        f"peak RSS {c['rss_mb'] / o['rss_mb']:.2f}x; R@1 i2t {c['i2t_R@1'] - o['i2t_R@1']:+.3f}, t2i "
        f"{c['t2i_R@1'] - o['t2i_R@1']:+.3f} "
        f"(goal: time <= 1.0x, R@1 >= open_clip_train's)"
    )
    if o['own_log']:
        print(
            f"open_clip_train's own log: i2t R@1 {o['own_log']['i2t_R@1']:.3f}, t2i R@1 {o['own_log']['t2i_R@1']:.3f} "
            "(same validation set)"
        )
    a.results = a.results or str(HERE.parent / 'results' / f'vs_open_clip_workers{a.workers}.json')
    out = dict(
        machine=info,
        settings={k: v for k, v in vars(a).items() if k not in ('worker', 'seed', 'out', 'results')},
        n_train=n_train,
        n_val=n_val,
        summary=s,
        runs=runs,
    )
    Path(a.results).parent.mkdir(parents=True, exist_ok=True)
    Path(a.results).write_text(json.dumps(out, indent=1))
    print(f"written {a.results}")


if __name__ == '__main__':
    main(parse())
