import os, shutil
from contextlib import contextmanager
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('CLIPART_SHARED', ROOT.parent / 'shared'))


def pytest_addoption(parser):
    parser.addoption(
        '--slow', action='store_true', help='also run the slow tier: long training, several processes, the browser'
    )


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: the slow tier, run with `pytest --slow` (CI runs both tiers)')


def pytest_collection_modifyitems(config, items):
    if config.getoption('--slow') or os.environ.get('CLIPART_SLOW'):
        return
    skip = pytest.mark.skip(reason='slow tier: run with `pytest --slow`')
    for it in items:
        if 'slow' in it.keywords:
            it.add_marker(skip)


@contextmanager
def clipart_cache(path):
    "`CLIPART_CACHE` set to `path` within, restored after (module-scoped fixtures cannot use monkeypatch)"
    old = os.environ.get('CLIPART_CACHE')
    os.environ['CLIPART_CACHE'] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop('CLIPART_CACHE', None)
        else:
            os.environ['CLIPART_CACHE'] = old


@pytest.fixture(scope='session')
def aic_path():
    p = SHARED / 'data' / 'aic500'
    if not p.exists():
        pytest.skip(f'the full aic500 set is not at {p} (set CLIPART_SHARED to a folder holding data/aic500)')
    return p


@pytest.fixture(scope='session')
def synth_path(tmp_path_factory):
    from clipart.data.synthetic import make_synthetic_imet

    return make_synthetic_imet(tmp_path_factory.mktemp('synth'), n=40, seed=3)


CHROMIUM, DRIVER = shutil.which('chromium'), shutil.which('chromedriver')


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    "A headless Chromium driven by selenium (skipped where it is not installed; an error in CI, which installs it)"
    if not (CHROMIUM and DRIVER):
        if os.environ.get('CI'):
            pytest.fail('chromium and chromedriver are needed in CI (.ci/run installs them)')
        pytest.skip('chromium / chromedriver not installed')
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--window-size=1280,2000',
        f'--user-data-dir={tmp_path_factory.mktemp("chrome-profile")}',
    ]:
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(service=Service(DRIVER), options=opts)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


def wait_load(browser, old):
    "Wait until the page `old` (its <html> element) is replaced and the new one has loaded"
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.common.exceptions import WebDriverException

    # chromedriver may answer a query on the old page mid-navigation with an 'unknown error' rather than "stale"
    def gone(d):
        try:
            return EC.staleness_of(old)(d)
        except WebDriverException:
            return True

    WebDriverWait(browser, 30).until(gone)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState==='complete'"))


def go(browser, el):
    "Click `el` and wait for the next page to have loaded"
    old = browser.find_element('tag name', 'html')
    el.click()
    wait_load(browser, old)
