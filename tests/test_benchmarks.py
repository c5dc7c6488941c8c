"""The prepared checks in benchmarks/ run as written: `gpu_check.py --tiny` (the GPU check's parts on CPU),
`cli_start.py`, and the shared way every benchmark reports (its machine, interleaved rounds)."""

import json, subprocess, sys
from pathlib import Path
import pytest

BENCH = Path(__file__).resolve().parents[1] / 'benchmarks'


@pytest.mark.slow
def test_gpu_check_tiny(tmp_path):
    "Every part of the GPU check runs and asserts on CPU with the tiny model; its table and JSON hold each figure"
    r = subprocess.run(
        [sys.executable, str(BENCH / 'gpu_check.py'), '--tiny', '--out', str(tmp_path / 'gpu.json')],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    for part in (
        'clipart steps/s',
        'model FLOP utilisation',
        'peak memory of a step',
        'GradCache step',
        'torchrun clipart-train',
        'export_embeddings',
        'gallery search',
    ):
        assert f'| {part} |' in r.stdout, part
    res = json.loads((tmp_path / 'gpu.json').read_text())
    assert res['machine']['device'] == 'CPU' and 0 < res['mfu_measured_peak'] < 1.5 and res['torchrun_processes'] == 2
    assert res['export_images_per_s'] > 0 and res['search_queries_per_s'] > 0 and res['clipart_step_s'] > 0


def test_cli_start_answers_at_once(tmp_path):
    """cli_start.py runs all 21 answers (it exits non-zero if --help or --version fails, or an option error is accepted
    or shows a traceback); that none loads torch is tested in nbs/39"""
    exe = Path(sys.executable).parent
    if not (exe / 'clipart-serve').exists():
        pytest.skip('the console scripts are not installed (pip install -e .)')
    r = subprocess.run(
        [sys.executable, str(BENCH / 'cli_start.py'), '--repeats', '1', '--out', str(tmp_path / 'cli.json')],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    res = json.loads((tmp_path / 'cli.json').read_text())
    clip = {k: v[0] for k, v in res['seconds'].items() if k.startswith('clipart-')}
    assert len(clip) == 21 and all(v > 0 for v in clip.values()), clip


def test_every_benchmark_says_what_it_ran_on():
    """Each script in benchmarks/ prints the machine line from benchlib (CPU, cores, torch threads, versions), so a
    figure quoted from it names its machine"""
    scripts = sorted(p for p in BENCH.glob('*.py') if p.name != 'benchlib.py')
    assert len(scripts) >= 20
    missing = [p.name for p in scripts if 'machine_line' not in p.read_text()]
    assert not missing, f"benchmarks that do not print what they ran on: {missing}"


def test_interleaved_rounds_report_median_and_spread(tmp_path):
    """adapt_step.py and retrieval_scale.py run their compared cases in interleaved rounds and keep every round with the
    machine"""
    r = subprocess.run(
        [
            sys.executable,
            str(BENCH / 'adapt_step.py'),
            '--arch',
            'clipart-tiny-vit',
            '--bs',
            '8',
            '--steps',
            '2',
            '--rounds',
            '2',
            '--out',
            str(tmp_path / 'a.json'),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path / 'a.json').read_text())
    assert res['machine']['cores'] >= 1 and f"{res['machine']['cores']} cores" in r.stdout
    assert {k: len(v) for k, v in res['step_s'].items()} == {'full': 2, 'locked image': 2} and len(res['ratios']) == 2
    assert 0.1 < res['ratio'] < 1.5, res['ratio']  # a locked image tower skips its backward pass: never much slower
    assert 'locked / full: ' in r.stdout and '(' in r.stdout.split('locked / full: ')[1]  # median (min-max)
    r = subprocess.run(
        [
            sys.executable,
            str(BENCH / 'retrieval_scale.py'),
            '--sizes',
            '1000',
            '4000',
            '--rounds',
            '2',
            '--out',
            str(tmp_path / 'r.json'),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path / 'r.json').read_text())
    assert [len(res['runs'][n]) for n in ('1000', '4000')] == [2, 2]
    # each query is a slightly noisy copy of its key
    assert all(x['R1'] == 1.0 for v in res['runs'].values() for x in v)


def test_trim_padding_benchmark(tmp_path):
    """trim_padding.py times a step with and without the padding, on real captions where they are here, and checks the
    features agree"""
    r = subprocess.run(
        [
            sys.executable,
            str(BENCH / 'trim_padding.py'),
            '--archs',
            'clipart-tiny-vit:64',
            '--sources',
            'synthetic:labels',
            'nothere:labels',
            '--bs',
            '8',
            '--rounds',
            '1',
            '--out',
            str(tmp_path / 't.json'),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert 'nothere:labels: skipped' in r.stdout and 'token columns kept' in r.stdout
    res = json.loads((tmp_path / 't.json').read_text())['results']['synthetic:labels clipart-tiny-vit:64']
    assert res['kept'] < res['context'] == 32 and res['max_feature_diff'] < 1e-4 and res['ratio'] > 0


@pytest.mark.slow
def test_attributes_benchmark_on_a_run(tmp_path):
    """attributes.py scores a clipart-train run: the whitened predictor beside the raw one and the probe on whitened
    features; --flip re-embeds every image mirrored"""
    exe = Path(sys.executable).parent
    if not (exe / 'clipart-train').exists():
        pytest.skip('the console scripts are not installed (pip install -e .)')
    run = tmp_path / 'run'
    r = subprocess.run(
        [str(exe / 'clipart-train'), '--n-synthetic', '200', '--epochs', '2', '--pictures', 'false', '--out', str(run)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    res = {}
    for flip in (False, True):
        out = tmp_path / f'a{flip}.json'
        r = subprocess.run(
            [sys.executable, str(BENCH / 'attributes.py'), str(run), '--ks', '', '--out', str(out)] + ['--flip'] * flip,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
        res[flip] = json.loads(out.read_text())['runs'][0]
        assert '| predictor_raw |' in r.stdout and '| linear_probe_whitened |' in r.stdout
    s = {f: {m: v['overall']['sample_F2'] for m, v in res[f]['scores'].items()} for f in res}
    assert res[True]['flip'] and not res[False]['flip']
    assert all(0 < v <= 1 for d in s.values() for v in d.values()), s
    assert s[True]['knn'] != s[False]['knn']  # mirrored views changed the embeddings every scorer reads


def test_inference_precision_benchmark(tmp_path, monkeypatch):
    "benchmarks/inference_precision.py on the tiny tower: every setting timed, its cosine to fp32, auto's choice said"
    import json

    monkeypatch.setenv('CLIPART_CACHE', str(tmp_path / 'cache'))
    out = tmp_path / 'prec.json'
    r = subprocess.run(
        [
            sys.executable,
            str(BENCH / 'inference_precision.py'),
            '--archs',
            'clipart-tiny-vit',
            '--bs',
            '4',
            '--rounds',
            '2',
            '--out',
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'GEMM peak' in r.stdout and 'auto chooses' in r.stdout, r.stdout
    res = json.loads(out.read_text())
    rows = {x['setting']: x for x in res['rows']}
    from importlib.util import find_spec

    extra = {'onnx'} if find_spec('onnxruntime') else set()  # the ONNX Runtime row, with the onnx extra
    extra |= {'int8'} if find_spec('torchao') else set()
    assert set(rows) == {'fp32', 'bf16', 'autocast_bf16'} | extra and rows['fp32']['min_cos'] > 0.9999
    assert 'onnx' not in rows or rows['onnx']['min_cos'] > 0.9999
    assert rows['bf16']['min_cos'] > 0.99 and sum(x['auto'] for x in res['rows']) <= 1


def test_shards_read_benchmark(tmp_path):
    "benchmarks/shards_read.py on the shipped aic48 sample: both readers read every item; peak memory per reader"
    import json
    from clipart.data.imet import sample_path

    out = tmp_path / 'sh.json'
    cmd = [sys.executable, str(BENCH / 'shards_read.py'), '--src', str(sample_path('aic48')), '--n', '96']
    r = subprocess.run(cmd + ['--small', '48', '--rounds', '1', '--out', str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads(out.read_text())['rows']
    assert {(x['n'], x['kind']) for x in rows} == {(48, 'folder'), (48, 'shards'), (96, 'folder'), (96, 'shards')}
    assert all(x['items_per_s'][0] > 0 and x['peak_rss_mb'][0] > 0 for x in rows)


@pytest.mark.slow
def test_approx_index_benchmark(tmp_path):
    "benchmarks/approx_index.py at 20,000 items: build, exact and approximate measured, recall@10 of both modalities"
    r = subprocess.run(
        [sys.executable, str(BENCH / 'approx_index.py'), '--sizes', '20000', '--queries', '40', '--nprobe', '8']
        + ['--rerank', '10', '100', '--subjects', '200', '--out', str(tmp_path / 'a.json')],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    row = json.loads((tmp_path / 'a.json').read_text())['rows'][0]
    assert row['n'] == 20000 and row['build']['nlist'] == 512 and row['build']['index_mb'] < row['embeddings_mb'] / 8
    x = row['approx']['8']['rerank']['100']
    assert x['recall_text'] >= 0.95 and x['recall_image'] >= 0.95 and x['p95_ms'] > 0, x
    assert row['approx']['8']['anon_mb'] > 0 and row['exact']['p50_ms'] > 0, row
