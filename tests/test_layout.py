"""The package's layering: dependencies flow one way (shared core <- data <- vision | multimodal <- eval <- search <-
run <- catalogue <- app <- cli), with no import circles."""

import ast, subprocess, sys
from pathlib import Path
import pytest

PKG = Path(__file__).resolve().parents[1] / 'clipart'


def module_name(f):
    parts = list(f.relative_to(PKG.parent).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def imports(f):
    "Absolute names of the modules `f` imports (relative imports resolved)"
    name, out = module_name(f), set()
    pkg = name if f.name == '__init__.py' else name.rsplit('.', 1)[0]
    for n in ast.walk(ast.parse(f.read_text())):
        if isinstance(n, ast.Import):
            out |= {a.name for a in n.names}
        elif isinstance(n, ast.ImportFrom):
            if n.level:
                base = pkg.split('.')[: len(pkg.split('.')) - (n.level - 1)]
                mod = '.'.join(base + ([n.module] if n.module else []))
                out |= {mod} if n.module else {f'{mod}.{a.name}' for a in n.names}
            else:
                out.add(n.module)
    return out


GRAPH = {module_name(f): imports(f) for f in PKG.rglob('*.py') if f.name != '_modidx.py'}
LAYERS = dict(
    core=['clipart.dist', 'clipart.metrics', 'clipart.momentum', 'clipart.training', 'clipart.weights'],
    data=['clipart.data'],
    vision=['clipart.vision'],
    multimodal=['clipart.multimodal'],
    eval=['clipart.eval'],
    search=['clipart.search'],
    run=['clipart.run'],
    catalogue=['clipart.catalogue'],
    app=['clipart.app'],
    cli=['clipart.cli'],
)
# what each layer may import from clipart (besides itself)
ALLOWED = dict(
    core={'core'},
    data={'core'},
    vision={'core', 'data'},
    multimodal={'core', 'data'},
    eval={'core', 'data', 'multimodal'},
    search={'core', 'data', 'multimodal', 'eval'},
    run={'core', 'data', 'vision', 'multimodal', 'eval', 'search'},
    catalogue={'core', 'data', 'multimodal', 'eval', 'search', 'run'},
    app={'core', 'data', 'multimodal', 'eval', 'search', 'run', 'catalogue'},
    cli={'core', 'data', 'vision', 'multimodal', 'eval', 'search', 'run', 'catalogue', 'app'},
)


def layer(mod):
    for l, prefixes in LAYERS.items():
        if any(mod == p or mod.startswith(p + '.') for p in prefixes):
            return l


def test_graph_covers_the_package():
    assert {
        'clipart.data.imet',
        'clipart.vision.simclr',
        'clipart.multimodal.clip',
        'clipart.eval.zero_shot',
        'clipart.cli.train',
        'clipart.run.train',
        'clipart.dist',
    } <= set(GRAPH)
    assert all(layer(m) for m in GRAPH if m not in ('clipart', 'clipart.all')), [m for m in GRAPH if not layer(m)]


@pytest.mark.parametrize('mod', sorted(m for m in GRAPH if m not in ('clipart', 'clipart.all')))
def test_no_back_edges(mod):
    src = layer(mod)
    bad = sorted(i for i in GRAPH[mod] if i.startswith('clipart.') and layer(i) not in ALLOWED[src] | {src})
    assert not bad, f"{mod} ({src}) imports {bad}: allowed layers are {sorted(ALLOWED[src] | {src})}"


def _module_of(name):
    "The clipart module an imported name belongs to (`clipart.x.y.f` -> `clipart.x.y`)"
    while name and name not in GRAPH:
        name = name.rpartition('.')[0]
    return name or None


def test_no_import_circles():
    # every import counts, those inside functions too: a circle is one even when it works at run time
    edges = {
        m: {
            t
            for i in imps
            if i.startswith('clipart.') and (t := _module_of(i)) and t != m and t not in ('clipart', 'clipart.all')
        }
        for m, imps in GRAPH.items()
    }
    state, path, circles = {}, [], []

    def visit(m):
        state[m] = 'open'
        path.append(m)
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 'open':
                circles.append(path[path.index(t) :] + [t])
            elif t not in state:
                visit(t)
        state[m] = 'done'
        path.pop()

    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert not circles, 'import circles: ' + '; '.join(' -> '.join(c) for c in circles)


def test_no_script_or_benchmark_imports_a_scripts_private_names():
    bad = []
    for f in [*(PKG / 'cli').glob('*.py'), *(PKG.parent / 'benchmarks').glob('*.py')]:
        for n in ast.walk(ast.parse(f.read_text())):
            if isinstance(n, ast.ImportFrom) and (
                (n.module or '').startswith('clipart.cli') or (n.level and f.parent.name == 'cli')
            ):
                bad += [f'{f.name}: {a.name}' for a in n.names if a.name.startswith('_')]
    assert not bad, bad


def test_no_open_clip_outside_text_modules():
    # open_clip (text models, tokenizers, its config registry) only where captions become tokens or models are built
    users = sorted(m for m, imps in GRAPH.items() if any(i == 'open_clip' or i.startswith('open_clip.') for i in imps))
    assert all(
        m.startswith(
            (
                'clipart.multimodal.',
                'clipart.eval.',
                'clipart.search.',
                'clipart.run.',
                'clipart.catalogue.',
                'clipart.app.',
                'clipart.cli.',
            )
        )
        or m == 'clipart.data.tokens'
        for m in users
    ), users


def fresh_python(code):
    "stdout of `code` run in a fresh interpreter (nothing imported before it)"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_vision_and_reader_import_no_open_clip():
    # a fresh interpreter: importing the image-only half must not load open_clip, even indirectly
    code = (
        "import sys, clipart.data.imet, clipart.data.captions, clipart.data.images, clipart.data.synthetic, "
        "clipart.vision.pretrain, clipart.vision.ssl, clipart.dist, clipart.momentum, clipart.training; "
        "print(sorted(m for m in sys.modules if m.split('.')[0]=='open_clip'))"
    )
    out = fresh_python(code)
    assert out.strip() == '[]', out


def test_all_exports_the_main_api():
    code = (
        "from clipart.all import *; g = globals(); print(all(n in g for n in "
        "['read_imet','imet_dataloaders','create_clip_model','CLIPTrainer',"
        "'CLIPMOCOTrainer','SimCLR','DINO','zero_shot_report','SearchIndex','evaluate','Learner','history',"
        "'gather_all']), "
        "RandomResizedCrop.__module__, image_size.__module__)"
    )
    ok, rrc, isz = fresh_python(code).split()
    assert ok == 'True' and rrc == 'fastai.vision.augment' and not isz.startswith('clipart'), (ok, rrc, isz)


# Methods added to a class from outside its module: a class of a lower layer must not gain a method from a higher one
# (a path the import graph cannot see: the lower layer would work only once the higher one is imported), and no fastai
# method may be replaced (extend fastai through its own hooks). Checked in a fresh interpreter that imports every
# module.
PATCH_CHECK = r'''
import importlib, inspect, json, pkgutil, sys
import fastai.learner, fastai.callback.core
fastai_before = {c: dict(vars(c)) for c in (fastai.learner.Learner, fastai.callback.core.Callback)}
import clipart
for m in pkgutil.walk_packages(clipart.__path__, 'clipart.'):
    if m.name != 'clipart._modidx': importlib.import_module(m.name)
for extra in sys.argv[1:]: importlib.import_module(extra)
def owner(v):
    f = getattr(v, '__func__', v); f = getattr(f, 'fget', f)
    return getattr(f, '__module__', None)
added, replaced = [], []
for name, mod in list(sys.modules.items()):
    if name.split('.')[0] not in ('clipart', 'clipart_layout_probe'): continue
    for cname, cls in list(vars(mod).items()):
        if not inspect.isclass(cls) or cls.__module__ != name: continue
        for attr, v in vars(cls).items():
            m = owner(v)
            if m and m != name and m.split('.')[0] in ('clipart', 'clipart_layout_probe'):
                added.append([name, cname, attr, m])
for cls, before in fastai_before.items():
    for attr, v in vars(cls).items():
        if attr in before and v is not before[attr] and (owner(v) or '').startswith('clipart'):
            replaced.append([cls.__name__, attr, owner(v)])
print(json.dumps(dict(added=added, replaced=replaced)))
'''


def patched(*extra, path=None):
    import json, os

    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(path or ''), os.environ.get('PYTHONPATH', '')]))
    )
    out = subprocess.run([sys.executable, '-c', PATCH_CHECK, *extra], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    d = json.loads(out.stdout.strip().splitlines()[-1])
    up = [
        (m, c, a, by)
        for m, c, a, by in d['added']
        if layer(by) and layer(m) and layer(by) != layer(m) and layer(by) not in ALLOWED[layer(m)]
    ]
    return up, [tuple(r) for r in d['replaced']]


@pytest.fixture(scope='module')
def patches():
    return patched()


def test_no_method_patched_in_from_a_higher_layer(patches):
    up, _ = patches
    assert not up, f"methods attached from a higher layer: {sorted(up)}"


def test_no_fastai_method_replaced(patches):
    # a trainer callback makes the plain `Learner` it joins a `TrainerLearner` (`clipart.training`), whose `predict` and
    # `show_results` ask the trainer: fastai's own classes stay as they are (#40)
    _, rep = patches
    assert not rep, f"fastai methods replaced by clipart: {sorted(rep)}"


def test_the_patch_check_catches_a_method_from_above(tmp_path):
    # a deliberately broken example: a module of the app layer attaches a method to the multimodal layer's trainer
    (tmp_path / 'clipart_layout_probe').mkdir()
    (tmp_path / 'clipart_layout_probe' / '__init__.py').write_text('')
    (tmp_path / 'clipart_layout_probe' / 'bad.py').write_text(
        "from fastcore.basics import patch\nfrom clipart.multimodal.clip import CLIPTrainer\n"
        "@patch\ndef show_in_gallery(self:CLIPTrainer): return 'from above'\n"
    )
    LAYERS['app'].append('clipart_layout_probe')
    try:
        up, _ = patched('clipart_layout_probe.bad', path=tmp_path)
    finally:
        LAYERS['app'].remove('clipart_layout_probe')
    assert ('clipart.multimodal.clip', 'CLIPTrainer', 'show_in_gallery', 'clipart_layout_probe.bad') in up, up
