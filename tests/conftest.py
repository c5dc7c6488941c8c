import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('CLIPART_SHARED', ROOT.parent/'shared'))

@pytest.fixture(scope='session')
def aic_path():
    p = SHARED/'data'/'aic500'
    if not p.exists(): pytest.skip(f'{p} not found')
    return p

@pytest.fixture(scope='session')
def synth_path(tmp_path_factory):
    from clipart.data.synthetic import make_synthetic_imet
    return make_synthetic_imet(tmp_path_factory.mktemp('synth'), n=40, seed=3)
