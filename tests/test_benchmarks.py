"The prepared checks in benchmarks/ run as written: `gpu_check.py --tiny` (the GPU check's parts on CPU) and `cli_start.py`."
import json, subprocess, sys
from pathlib import Path
import pytest

BENCH = Path(__file__).resolve().parents[1]/'benchmarks'

@pytest.mark.slow
def test_gpu_check_tiny(tmp_path):
    "Every part of the GPU check runs and asserts on CPU with the tiny model; its table and JSON hold each figure"
    r = subprocess.run([sys.executable, str(BENCH/'gpu_check.py'), '--tiny', '--out', str(tmp_path/'gpu.json')], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    for part in ('clipart steps/s', 'model FLOP utilisation', 'peak memory of a step', 'GradCache step', 'torchrun clipart-train', 'export_embeddings', 'gallery search'):
        assert f'| {part} |' in r.stdout, part
    res = json.loads((tmp_path/'gpu.json').read_text())
    assert res['machine']['device'] == 'CPU' and 0 < res['mfu_measured_peak'] < 1.5 and res['torchrun_processes'] == 2
    assert res['export_images_per_s'] > 0 and res['search_queries_per_s'] > 0 and res['clipart_step_s'] > 0

def test_cli_start_answers_at_once(tmp_path):
    "cli_start.py runs all 18 answers (it exits non-zero if --help or --version fails, or an option error is accepted or shows a traceback); that none loads torch is tested in nbs/39"
    exe = Path(sys.executable).parent
    if not (exe/'clipart-serve').exists(): pytest.skip('the console scripts are not installed (pip install -e .)')
    r = subprocess.run([sys.executable, str(BENCH/'cli_start.py'), '--repeats', '1', '--out', str(tmp_path/'cli.json')], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    res = json.loads((tmp_path/'cli.json').read_text())
    clip = {k: v[0] for k,v in res['seconds'].items() if k.startswith('clipart-')}
    assert len(clip) == 18 and all(v > 0 for v in clip.values()), clip
