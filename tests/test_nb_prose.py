"The notebooks' prose names only `clipart.` paths that import."

import importlib, json, re
from pathlib import Path
import pytest

NBS = Path(__file__).resolve().parents[1] / 'nbs'
NAME = re.compile(r'`(clipart(?:\.[A-Za-z_][A-Za-z0-9_]*)+)')


def prose_names():
    out = {}
    for f in sorted(NBS.glob('*.ipynb')):
        for c in json.loads(f.read_text())['cells']:
            if c['cell_type'] != 'markdown':
                continue
            for n in NAME.findall(''.join(c['source'])):
                out.setdefault(n, f.name)
    return out


def resolves(name):
    "Whether `name` is a module or a module's attribute"
    parts = name.split('.')
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:i]))
        except ImportError:
            continue
        try:
            for a in parts[i:]:
                obj = getattr(obj, a)
            return True
        except AttributeError:
            return False
    return False


NAMES = prose_names()


def test_the_notebooks_name_clipart_paths():
    assert len(NAMES) > 20, NAMES


@pytest.mark.parametrize('name', sorted(NAMES))
def test_a_named_path_imports(name):
    assert resolves(name), f"{NAMES[name]} names `{name}`, which does not import "
