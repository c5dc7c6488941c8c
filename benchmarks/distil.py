"""A distilled student against the same student trained alone and against its teacher: the table a user reads to choose.

    python benchmarks/distil.py --data ../shared/data/aic500 [--seeds 3] [--out benchmarks/results/distil_aic500.json]

No pretrained weights can be downloaded here, so the teacher is made honestly: `clipart-train` trains a larger CLIP
(`--teacher-arch`, default clipart-small-vit at 96 px) on the collection, once. Then, per seed, the student
(`--student-arch`, default clipart-tiny-vit at 64 px) trains twice with the same data, epochs and evaluation: alone,
and with `--teacher` (the teacher's image features computed once, its soft image-caption matches added to the loss).
With `--student-items N` the collection is split: the student trains on N random items, the teacher on all the others
(it never sees the student's items; it knows more of the same kind of art, as a pretrained model would).
Reported per model (mean and sd over seeds; the teacher once): predictor sample F2 and micro F1 and zero-shot sample
F2 on the validation split, image->text and text->image R@1, training seconds, and each tower's images/s
(`encode_image`, batch 32, inference mode, median of interleaved repeats in this process). With a pretrained teacher
(`--teacher ViT-B-32 --teacher-pretrained openai` online) the gap to close is larger than here.
"""

import argparse, contextlib, io, json, statistics, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import torch
from benchlib import machine_info, machine_line, interleaved, write_results
from clipart.cli.train import clipart_train
from clipart.run.folder import RunFolder
from clipart.multimodal.models import image_size

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--data', default=None, help='iMet-layout folder (default: the synthetic collection)')
p.add_argument('--seeds', type=int, default=3)
p.add_argument('--epochs', type=int, default=12)
p.add_argument('--teacher-arch', default='clipart-small-vit')
p.add_argument('--teacher-recipe', default=None, help="the teacher's --recipe (e.g. art-cpu: its model, size, epochs)")
p.add_argument(
    '--student-items',
    type=int,
    default=None,
    help='the student trains on this many random items, the teacher on the others (default: both on all)',
)
p.add_argument('--teacher-epochs', type=int, default=12)
p.add_argument('--student-arch', default='clipart-tiny-vit')
p.add_argument('--weight', type=float, default=1.0, help='--distil-weight')
p.add_argument('--runs', default=None, help='folder of the runs (default: a temporary one)')
p.add_argument('--out', default=None)
a = p.parse_args()
info = machine_info()
print(machine_line(info))


def train(out, quiet=True, **kw):
    "One clipart-train run (its report kept quiet); its metrics"
    if not (Path(out) / 'metrics.json').exists():
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf) if quiet else contextlib.nullcontext():
            clipart_train(out=str(out), workers=0, pictures=False, **kw)
    return json.loads((Path(out) / 'metrics.json').read_text())


def figures(m):
    "The columns of the table from a run's metrics.json"
    t = m['trained']
    pr = t.get('predictor', {}).get('overall', {})
    return dict(
        predictor_F2=pr.get('sample_F2'),
        predictor_micro_F1=pr.get('micro_F1'),
        zero_shot_F2=t['zero_shot']['overall']['sample_F2'],
        i2t_R1=t['retrieval']['i2t_R@1'],
        t2i_R1=t['retrieval']['t2i_R@1'],
        train_seconds=m['train_seconds'],
    )


@torch.inference_mode()
def images_per_s(run):
    "encode_image throughput of each run's model, batch 32, interleaved"
    models = {k: RunFolder(r).model().eval() for k, r in run.items()}
    xs = {k: torch.randn(32, 3, image_size(m), image_size(m)) for k, m in models.items()}
    t = interleaved({k: (lambda k=k: models[k].encode_image(xs[k])) for k in models}, rounds=5)
    return {k: 32 / statistics.median(v) for k, v in t.items()}


def split(data, n, root):
    "Two iMet-layout folders beside each other: `n` random items for the student, the others for the teacher"
    import pandas as pd

    df = pd.read_csv(Path(data) / 'train.csv', dtype=str, keep_default_na=False)
    pick = df.sample(n, random_state=0).index
    out = {}
    for name, part in (('student', df.loc[pick]), ('teacher', df.drop(pick))):
        d = root / f'{name}_data'
        if not (d / 'train.csv').exists():
            d.mkdir(parents=True, exist_ok=True)
            for f in ('labels.csv', 'descriptions.csv'):
                if (Path(data) / f).exists():
                    (d / f).write_bytes((Path(data) / f).read_bytes())
            (d / 'train').symlink_to((Path(data) / 'train').resolve())
            part.to_csv(d / 'train.csv', index=False)
        out[name] = str(d)
    return out


root = Path(a.runs or tempfile.mkdtemp(prefix='distil-'))
data = split(a.data, a.student_items, root) if a.student_items else dict(student=a.data, teacher=a.data)
t0 = time.time()
teacher = root / 'teacher'
how = dict(recipe=a.teacher_recipe) if a.teacher_recipe else dict(arch=a.teacher_arch, epochs=a.teacher_epochs)
rows = {'teacher': [figures(train(teacher, seed=0, data=data['teacher'], **how))]}
print(f"teacher {how} on {data['teacher']}: {rows['teacher'][0]} ({time.time() - t0:.0f} s)")
for s in range(a.seeds):
    for name, extra in (
        ('student alone', {}),
        ('student distilled', dict(teacher=str(teacher), distil_weight=a.weight)),
    ):
        kw = dict(arch=a.student_arch, epochs=a.epochs, seed=s, data=data['student'], **extra)
        r = train(root / f"{name.split()[1]}_s{s}", **kw)
        rows.setdefault(name, []).append(figures(r))
        print(f"{name} seed {s}: {rows[name][-1]}" + (f" KD {r['distil']['kd_per_epoch']}" if extra else ''))
speed = images_per_s({'teacher': teacher, 'student': root / 'alone_s0'})
table = {}
for name, rs in rows.items():
    cols = {}
    for k in rs[0]:
        v = [r[k] for r in rs if r[k] is not None]
        cols[k] = dict(mean=statistics.mean(v), sd=statistics.stdev(v) if len(v) > 1 else 0.0) if v else None
    cols['images_per_s'] = speed['teacher' if name == 'teacher' else 'student']
    table[name] = cols
print(
    f"\n{a.data or 'synthetic'}: teacher {how}"
    + (f" on the items but the student's {a.student_items}" if a.student_items else '')
    + f", student {a.student_arch} ({a.epochs} epochs, {a.seeds} seeds"
    + (f", {a.student_items} items" if a.student_items else '')
    + f"), distillation weight {a.weight}"
)
keys = ['predictor_F2', 'predictor_micro_F1', 'zero_shot_F2', 'i2t_R1', 't2i_R1', 'train_seconds']
print('| model | ' + ' | '.join(keys) + ' | images/s |')
for name, cols in table.items():
    cells = [f"{cols[k]['mean']:.3f} ± {cols[k]['sd']:.3f}" if cols[k] else '-' for k in keys]
    print(f"| {name} | " + ' | '.join(cells) + f" | {cols['images_per_s']:.0f} |")
write_results(
    a.out,
    info,
    data=a.data or 'synthetic',
    teacher=how,
    student_items=a.student_items,
    student_arch=a.student_arch,
    epochs=a.epochs,
    seeds=a.seeds,
    weight=a.weight,
    table=table,
    runs=rows,
)
