"`clipart-train` across 2 CPU processes (torchrun, gloo) against 1 process at the same global batch."

import json, os, subprocess, sys
from pathlib import Path
import pytest

pytestmark = pytest.mark.slow  # the slow tier: `pytest --slow`

ARGS = ['--n-synthetic', '160', '--epochs', '4', '--bs', '32', '--seed', '0', '--pictures', 'false']


def _run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    return r.stdout


def test_two_processes_train_like_one(tmp_path):
    out1 = _run([str(Path(sys.executable).parent / 'clipart-train'), *ARGS, '--out', str(tmp_path / 'one')])
    out2 = _run(
        [
            sys.executable,
            '-m',
            'torch.distributed.run',
            '--standalone',
            '--nproc_per_node',
            '2',
            '-m',
            'clipart.cli.train',
            *ARGS,
            '--out',
            str(tmp_path / 'two'),
        ]
    )
    assert out2.count('2 processes (gloo): global batch 32 = 2 x 16') == 1  # said once: only rank 0 prints
    assert out2.count('validation retrieval') == 1 and '2 processes' not in out1
    m1, m2 = [json.loads((tmp_path / d / 'metrics.json').read_text()) for d in ('one', 'two')]
    assert (m1['world_size'], m2['world_size']) == (1, 2)
    # the same optimiser steps: 128 training items / global batch 32 = 4 a epoch, 4 epochs
    assert m1['train_steps'] == m2['train_steps'] == 16
    # the same learning curve within 15 %: the batches differ (each process draws its half of the shuffled epoch) but
    # the loss is one loss over the global batch (measured: train 3.24 vs 3.13, valid 2.61 vs 2.50; after the run layer
    # drew one random number less before training, train 3.42 vs 3.07, valid 2.67 vs 2.53: 16 steps leave that much to
    # chance;
    # seeds 0-3 with the image cache: valid gaps +6 %, +7 %, +2 %, -1.5 %; one random stream before it gave +22 %, so a
    # change
    # to what draws random numbers can fail this by chance: check other seeds before suspecting the distributed path)
    for k in ('train_loss', 'valid_loss'):
        a, b = m1['history'][-1][k], m2['history'][-1][k]
        assert abs(a - b) <= 0.15 * a, (k, a, b)
    # validation metrics over the whole validation set (gathered from both processes, 32 items): the epoch's metric
    # equals rank 0's final single-process evaluation, and R@1 is within 0.15 (5 items) of the one-process run
    for d in ('i2t', 't2i'):
        assert m2['history'][-1][f'{d}_R@1'] == pytest.approx(m2['trained']['retrieval'][f'{d}_R@1'], abs=1e-6)
        assert abs(m1['trained']['retrieval'][f'{d}_R@1'] - m2['trained']['retrieval'][f'{d}_R@1']) <= 0.15
    assert (
        abs(m1['trained']['zero_shot']['overall']['sample_F2'] - m2['trained']['zero_shot']['overall']['sample_F2'])
        <= 0.1
    )
    # one output folder, written by rank 0 alone
    assert sorted(p.name for p in tmp_path.iterdir()) == ['one', 'two']
    assert {'model', 'index', 'metrics.json', 'checkpoint.pth'} <= {p.name for p in (tmp_path / 'two').iterdir()}
    assert not (tmp_path / 'two' / '.lock').exists()


def test_refuses_a_global_batch_that_does_not_split(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            '-m',
            'torch.distributed.run',
            '--standalone',
            '--nproc_per_node',
            '2',
            '-m',
            'clipart.cli.train',
            '--n-synthetic',
            '40',
            '--bs',
            '15',
            '--out',
            str(tmp_path / 'o'),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode != 0
    assert (
        'clipart-train: error: --bs 15 is the global batch: it must be a multiple of the 2 processes'
        in r.stdout + r.stderr
    )


def test_pretrain_on_two_processes(tmp_path):
    out = _run(
        [
            sys.executable,
            '-m',
            'torch.distributed.run',
            '--standalone',
            '--nproc_per_node',
            '2',
            '-m',
            'clipart.cli.pretrain',
            '--algo',
            'moco',
            '--epochs',
            '2',
            '--bs',
            '32',
            '--label',
            'dimension',
            '--out',
            str(tmp_path / 'p'),
        ]
    )
    assert (
        out.count('2 processes (gloo): global batch 32 = 2 x 16') == 1 and out.count('kNN accuracy on dimension') == 1
    )
    m = json.loads((tmp_path / 'p' / 'metrics.json').read_text())
    assert m['args']['world_size'] == 2 and len(m['history']) == 2
    assert sorted(p.name for p in (tmp_path / 'p').iterdir()) == [
        'config.json',
        'encoder.safetensors',
        'metrics.json',
        'views.png',
    ]  # rank 0 alone writes
