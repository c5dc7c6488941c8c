"""`clipart-serve` in a real browser (headless Chromium): search, facets, more like this, uploads good and bad,
near-duplicates. Screenshots go to docs/_site/screenshots/gallery-*.png."""

import socket, threading, time
from pathlib import Path
import pytest
from conftest import clipart_cache, go

pytestmark = pytest.mark.slow  # the slow tier: `pytest --slow`
SHOTS = Path(__file__).resolve().parents[1] / 'docs' / '_site' / 'screenshots'


@pytest.fixture(scope='module')
def gallery_url(tmp_path_factory):
    "A synthetic run trained for a minute, served by uvicorn on a free loopback port"
    import uvicorn
    from clipart.cli.train import clipart_train
    from clipart.app.pages import gallery_app
    from clipart.app.gallery import Gallery

    tmp = tmp_path_factory.mktemp('serve')
    with clipart_cache(tmp / 'cache'):
        clipart_train(out=str(tmp / 'run'), n_synthetic=200, epochs=6, bs=32, workers=0, pictures=False, seed=0)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    g = Gallery(tmp / 'run')
    srv = uvicorn.Server(uvicorn.Config(gallery_app(g), host='127.0.0.1', port=port, log_level='warning'))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.1)
    yield f'http://127.0.0.1:{port}', g, tmp
    srv.should_exit = True
    th.join(10)


def shot(browser, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f'gallery-{name}.png'))


def cards(browser):
    return browser.find_elements('css selector', '.card')


def summary(browser):
    return int(browser.find_element('id', 'summary').text.split()[0])


def images_loaded(browser):
    return [
        browser.execute_script('return arguments[0].complete && arguments[0].naturalWidth', i)
        for i in browser.find_elements('css selector', '.card img')
    ]


def test_search_facets_and_more_like_this(gallery_url, browser):
    from selenium.webdriver.support.ui import Select

    url, g, _ = gallery_url
    browser.get(url)
    assert summary(browser) == 200 and len(cards(browser)) == 24
    browser.find_element('id', 'q').send_keys('an artwork made from porcelain')
    go(browser, browser.find_element('id', 'go'))
    first = [c.text for c in cards(browser)[:8]]
    assert sum('porcelain' in t for t in first) >= 4, first  # chance: 1 in 6
    assert all(images_loaded(browser)[:8])  # thumbnails really load
    shot(browser, 'search')
    Select(browser.find_element('id', 'facet-medium')).select_by_value('medium::silk')
    go(browser, browser.find_element('id', 'go'))
    n_silk = summary(browser)
    assert 0 < n_silk < 200 and all('silk' in c.text for c in cards(browser)), n_silk
    # the query is kept
    assert browser.find_element('id', 'q').get_attribute('value') == 'an artwork made from porcelain'
    go(browser, cards(browser)[0].find_element('css selector', 'a'))
    assert 'More like this' in browser.page_source and 'top-1' in browser.page_source
    assert len(cards(browser)) == 12
    shot(browser, 'item')
    go(browser, browser.find_element('link text', 'near-duplicates'))
    assert browser.find_element('id', 'dup-summary').text
    assert not [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']


def test_uploads(gallery_url, browser, tmp_path):
    url, g, _ = gallery_url
    browser.get(url)
    browser.find_element('id', 'file').send_keys(str(Path(g.items.image.iloc[3]).resolve()))
    go(browser, browser.find_element('id', 'upload'))
    assert browser.find_element('id', 'predicted').text.count('top-1') == 5  # one prediction per group
    assert g.items.id.iloc[3] in cards(browser)[0].text  # the item it came from, first
    shot(browser, 'upload')
    (tmp_path / 'notes.txt').write_text('not a picture')
    browser.get(url)
    browser.find_element('id', 'file').send_keys(str(tmp_path / 'notes.txt'))
    go(browser, browser.find_element('id', 'upload'))
    assert 'not an image' in browser.find_element('css selector', '.error').text
