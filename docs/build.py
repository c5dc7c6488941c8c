"""Build the documentation site from the notebooks, without quarto.

    python docs/build.py            # -> docs/_site/

Each notebook in nbs/ (index first, then in file order) is turned into a page with its stored outputs: hidden cells and
nbdev directives are dropped, each exported function or class gets its API reference (nbdev's `show_doc`, rendered as
markdown) right after the code that defines it, and progress-bar streams are removed, and LaTeX becomes MathML (rendered
by the browser itself: no MathJax, nothing fetched). The pages are rendered by mkdocs-material with mkdocs-jupyter (no
execution), with a sidebar section per subpackage (data, vision, multimodal, eval, search, run, catalogue, app, cli,
shared pieces), in notebook order within each. With quarto installed, `nbdev-docs` renders the same notebooks the nbdev
way.
"""

import ast, copy, importlib, json, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS, SRC, SITE = ROOT / 'nbs', ROOT / 'docs' / '_src', ROOT / 'docs' / '_site'


def md_cell(text):
    return dict(cell_type='markdown', metadata={}, source=text)


def directives(src):
    return {l[3:].strip().split()[0] for l in src.splitlines() if l.startswith('#| ') and l[3:].strip()}


def strip_directives(src):
    return '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()


def api_doc(module, src):
    "show_doc markdown for the public top-level functions and classes defined in `src`"
    from nbdev.showdoc import show_doc

    out = []
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return out
    for node in tree.body:
        if (
            isinstance(node, (ast.FunctionDef, ast.ClassDef))
            and not node.name.startswith('_')
            and hasattr(module, node.name)
        ):
            doc = show_doc(getattr(module, node.name))
            if doc is None:
                continue  # e.g. a plum-dispatched `show_batch` method: nbdev has no page for it
            md = doc._repr_markdown_()
            md = re.sub(r'^---\s*', '', md.strip())
            md = re.sub(r'\[source\]\([^)]*\)\{[^}]*\}\s*', '', md)  # quarto-only source link
            out.append(md_cell('<div class="api-doc" markdown>\n\n' + md.replace('### ', '#### ', 1) + '\n\n</div>'))
    return out


def strip_progress(t):
    "fastprogress's console bars out of a stream, keeping its results table"
    t = re.sub(r'Epoch \d+/\d+ : (?:\|[█\-]*\| [\d.]+% \[[^\]]*\])?', '', t)
    t = re.sub(r' {20,}', '\n', t.replace('█', '\n'))
    return '\n'.join(l.rstrip() for l in t.splitlines() if l.strip()) + '\n'


def clean_outputs(outputs):
    "Drop stderr (warnings), clean progress bars out of stdout"
    keep = []
    for o in outputs:
        if o.get('output_type') == 'stream':
            if o.get('name') == 'stderr':
                continue
            o = dict(o, text=strip_progress(''.join(o.get('text', ''))))
        keep.append(o)
    return keep


def tex_to_mathml(md):
    "LaTeX ($...$, $$...$$) in markdown outside code spans -> MathML, which browsers render without scripts or fonts"
    from latex2mathml.converter import convert

    parts = re.split(r'(```.*?```|`[^`]*`)', md, flags=re.S)
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(
            r'\$\$(.+?)\$\$',
            lambda m: '\n\n' + convert(m.group(1).strip(), display='block') + '\n\n',
            parts[i],
            flags=re.S,
        )
        parts[i] = re.sub(r'(?<![\\$])\$([^$\n]+?)\$', lambda m: convert(m.group(1).strip()), parts[i])
    return ''.join(parts)


def process(nb_path):
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    module, cells = None, []
    for c in nb['cells']:
        src = ''.join(c['source'])
        d = directives(src) if c['cell_type'] == 'code' else set()
        if 'default_exp' in d:
            m = re.search(r'#\| default_exp (\S+)', src).group(1)
            module = importlib.import_module(f'clipart.{m}')
            continue
        if 'hide' in d:
            continue
        c = copy.deepcopy(c)
        if c['cell_type'] == 'code':
            c['source'] = strip_directives(src)
            c['outputs'] = clean_outputs(c.get('outputs', []))
            if not c['source'] and not c['outputs']:
                continue
            cells.append(c)
            if 'export' in d and module is not None:
                cells += api_doc(module, c['source'])
        else:
            c['source'] = tex_to_mathml(''.join(c['source'])) if c['cell_type'] == 'markdown' else c['source']
            cells.append(c)
    nb['cells'] = cells
    return nb


def title_of(nb):
    "The page's first heading, as plain text (the sidebar shows no markdown: `code` would be cut)"
    for c in nb['cells']:
        if c['cell_type'] == 'markdown':
            m = re.match(r'#\s+(.+)', ''.join(c['source']).strip())
            if m:
                return re.sub(r'`([^`]*)`', r'\1', m.group(1).strip())
    return 'Untitled'


# The pages are mostly code: the content column takes the window's width (the page's table of contents shows only on
# screens wider than 1600 px) and code is set small enough that a 120-character line fits a 1280-px window.
EXTRA_CSS = '''.api-doc { border-left: 3px solid var(--md-primary-fg-color); padding-left: .8em; margin: 1em 0; }
.jp-InputPrompt, .jp-OutputPrompt { display: none; }
.md-grid { max-width: 100%; }
@media screen and (max-width: 100em) { .md-sidebar--secondary { display: none !important; } }
.md-typeset pre, .md-typeset code, .jp-Cell pre { font-size: 11.5px; line-height: 1.45; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
'''

# the sidebar follows the package: one section per subpackage, the shared core last
SECTIONS = dict(
    data='Data',
    vision='Vision: self-supervised',
    multimodal='Multimodal: CLIP',
    eval='Evaluation',
    search='Search',
    run='Runs: configs and steps',
    catalogue='Cataloguing',
    app='The web app',
    cli='Command line',
    core='Shared pieces',
)
PAGE_SECTION = {'29_ssl_results.ipynb': 'vision', '35b_attribute_results.ipynb': 'eval'}


def section_of(nb_path):
    "Sidebar section of a notebook: from its module's package (None: a top-level page such as Home or the tutorial)"
    if nb_path.name in PAGE_SECTION:
        return SECTIONS[PAGE_SECTION[nb_path.name]]
    m = re.search(r'#\| default_exp (\S+)', nb_path.read_text(encoding='utf-8'))
    if not m:
        return None
    pkg = m.group(1).split('.')[0]
    return SECTIONS.get(pkg, SECTIONS['core'])


def main():
    sys.path.insert(0, str(ROOT))
    if SRC.exists():
        shutil.rmtree(SRC)
    SRC.mkdir(parents=True)
    order = list(SECTIONS.values())
    nbs = sorted(
        NBS.glob('*.ipynb'),
        key=lambda p: (
            p.name != 'index.ipynb',
            '50_tutorial' not in p.name,
            order.index(section_of(p)) if section_of(p) else -1,
            p.name,
        ),
    )
    nav, sections = [], {}
    for p in nbs:
        nb = process(p)
        name = 'index.ipynb' if p.name == 'index.ipynb' else re.sub(r'^\d+[a-z]?_', '', p.name)
        (SRC / name).write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding='utf-8')
        sec = section_of(p)
        if sec is None:
            nav.append({title_of(nb) if name != 'index.ipynb' else 'Home': name})
            continue
        if sec not in sections:
            sections[sec] = []
            nav.append({sec: sections[sec]})
        sections[sec].append({title_of(nb): name})
    if (NBS / 'images').exists():
        shutil.copytree(NBS / 'images', SRC / 'images')  # pictures the pages link to (e.g. screenshots)
    (SRC / 'extra.css').write_text(EXTRA_CSS)
    cfg = dict(
        site_name='clipart',
        site_description='CLIP-style contrastive pre-training for fine-grained art recognition',
        docs_dir=str(SRC),
        site_dir=str(SITE),
        use_directory_urls=False,
        nav=nav,
        theme=dict(name='material', features=['navigation.sections'], palette=dict(primary='brown'), font=False),
        extra_css=['extra.css'],
        markdown_extensions=[
            'attr_list',
            'md_in_html',
            'tables',
            'admonition',
            dict(**{'pymdownx.highlight': {}}),
            'pymdownx.superfences',
        ],
        plugins=[dict(**{'mkdocs-jupyter': dict(execute=False, include_source=False, ignore_h1_titles=False)})],
    )
    cfg_file = ROOT / 'docs' / '_mkdocs.yml'
    cfg_file.write_text(json.dumps(cfg, indent=1))  # JSON is valid YAML
    subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '-q', '-f', str(cfg_file)], check=True, cwd=ROOT)
    print(f'built {len(nbs)} pages into {SITE}')


if __name__ == '__main__':
    main()
