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


def long_lines(text, width=120):
    """Lines of `text` over `width` characters, but those of the `__all__` list nbdev writes (wrapped at 120 after a
    prefix)"""
    out, in_all = [], False
    for i, line in enumerate(text.splitlines(), 1):
        in_all = line.startswith('__all__ = [') or (in_all and not line.startswith('#') and line.strip() != '')
        if len(line) > width and not in_all:
            out.append(f"{i}: {line[:60]}...")
    return out


def test_no_code_line_is_over_120_characters():
    "The notebooks' code (the source) and the modules exported from it: at most 120 characters a line (ruff format)"
    bad = {}
    for f in sorted(NBS.glob('*.ipynb')):
        for k, c in enumerate(json.loads(f.read_text())['cells']):
            if c['cell_type'] == 'code' and (ls := long_lines(''.join(c['source']))):
                bad[f'{f.name} cell {k}'] = ls
    for f in sorted((NBS.parent / 'clipart').rglob('*.py')):
        if f.name != '_modidx.py' and (ls := long_lines(f.read_text(encoding='utf-8'))):
            bad[str(f.relative_to(NBS.parent))] = ls
    assert not bad, f"{len(bad)} places with lines over 120 characters (tools/wrap_long_lines.py wraps them): {bad}"


def test_the_notebooks_leave_no_temporary_folders():
    """A folder the examples make is inside the notebook's `scratch` folder, which its last cell removes (nbdev-test
    left ~2 GB in /tmp per run before: a full disk failed CI); a `CLIPART_CACHE` set is put back (nbdev-test runs the
    next notebook in the same process: it wrote into the removed folder again)"""
    bad = []
    for f in sorted(NBS.glob('*.ipynb')):
        cells = [''.join(c['source']) for c in json.loads(f.read_text())['cells'] if c['cell_type'] == 'code']
        code = '\n'.join(c for c in cells if not c.startswith('#| export'))  # the library's own: its tests say
        for m in re.finditer(r'tempfile\.(mkdtemp|mkstemp)\(([^)]*)\)', code):
            if 'dir=scratch.name' not in m.group(2):
                bad.append(f'{f.name}: {m.group(0)}')
        if 'scratch = tempfile.TemporaryDirectory()' in code and 'scratch.cleanup()' not in cells[-1]:
            bad.append(f"{f.name}: its last code cell does not remove `scratch`")
        if re.search(r"environ\['CLIPART_CACHE'\] = ", code) and "os.environ.get('CLIPART_CACHE')" not in code:
            bad.append(f"{f.name}: sets CLIPART_CACHE and never puts the caller's back")
    assert not bad, bad


def test_module_docstrings_are_at_most_three_lines():
    """nbdev-export rewrites clipart/__init__.py's docstring into a list of modules (and writes nbs/llms.txt) as soon as
    one module's docstring (its notebook's `>` description) runs past three lines"""
    import ast

    long = {}
    for f in sorted((NBS.parent / 'clipart').rglob('*.py')):
        d = ast.get_docstring(ast.parse(f.read_text(encoding='utf-8')), clean=False) or ''
        if not f.name.startswith('_') and len(d.strip().splitlines()) > 3:
            long[str(f.relative_to(NBS.parent))] = len(d.strip().splitlines())
    assert not long, long
