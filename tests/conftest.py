import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('CLIPART_SHARED', ROOT.parent/'shared'))

def pytest_addoption(parser):
    parser.addoption('--slow', action='store_true', help='also run the slow tier: long training, several processes, the browser')

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: the slow tier, run with `pytest --slow` (CI runs both tiers)')

def pytest_collection_modifyitems(config, items):
    if config.getoption('--slow') or os.environ.get('CLIPART_SLOW'): return
    skip = pytest.mark.skip(reason='slow tier: run with `pytest --slow`')
    for it in items:
        if 'slow' in it.keywords: it.add_marker(skip)

@pytest.fixture(scope='session')
def aic_path():
    p = SHARED/'data'/'aic500'
    if not p.exists(): pytest.skip(f'the full aic500 set is not at {p} (set CLIPART_SHARED to a folder holding data/aic500)')
    return p

@pytest.fixture(scope='session')
def synth_path(tmp_path_factory):
    from clipart.data.synthetic import make_synthetic_imet
    return make_synthetic_imet(tmp_path_factory.mktemp('synth'), n=40, seed=3)
