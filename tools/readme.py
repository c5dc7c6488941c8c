"""Write README.md from nbs/index.ipynb (markdown cells as they are, code cells fenced), for machines without quarto;
`--check` only says whether it is up to date."""

import json, sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]


def readme_text():
    "README.md as nbs/index.ipynb makes it"
    nb = json.loads((root / 'nbs' / 'index.ipynb').read_text(encoding='utf-8'))
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source']).strip()
        if not src or src.startswith('#| hide'):
            continue
        parts.append(src if c['cell_type'] == 'markdown' else f'```python\n{src}\n```')
    return (
        '<!-- Generated from nbs/index.ipynb by tools/readme.py: edit the notebook -->\n\n' + '\n\n'.join(parts) + '\n'
    )


if __name__ == '__main__':
    if '--check' in sys.argv[1:]:
        ok = (root / 'README.md').read_text(encoding='utf-8') == readme_text()
        print(
            'README.md is up to date'
            if ok
            else 'README.md differs from nbs/index.ipynb: edit the notebook, then run python tools/readme.py'
        )
        sys.exit(0 if ok else 1)
    (root / 'README.md').write_text(readme_text(), encoding='utf-8')
    print('wrote README.md')
