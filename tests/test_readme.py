"""README.md is written from nbs/index.ipynb (tools/readme.py): a hand edit of the README is lost the next time it is
written."""

import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_is_written_from_the_index_notebook():
    r = subprocess.run([sys.executable, str(ROOT / 'tools' / 'readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
