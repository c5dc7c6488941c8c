"Write README.md from nbs/index.ipynb (markdown cells as they are, code cells fenced), for machines without quarto."
import json
from pathlib import Path

root = Path(__file__).resolve().parents[1]
nb = json.loads((root/'nbs'/'index.ipynb').read_text(encoding='utf-8'))
parts = []
for c in nb['cells']:
    src = ''.join(c['source']).strip()
    if not src or src.startswith('#| hide'): continue
    parts.append(src if c['cell_type']=='markdown' else f'```python\n{src}\n```')
(root/'README.md').write_text('<!-- Generated from nbs/index.ipynb by tools/readme.py: edit the notebook -->\n\n' + '\n\n'.join(parts) + '\n', encoding='utf-8')
print('wrote README.md')
