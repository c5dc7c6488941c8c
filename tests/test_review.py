"""Cataloguing end to end in a real browser (headless Chromium) against a real `clipart-serve --review` process:
review with the mouse and the keyboard, undo, reload, two browsers at once, `kill -9` of the server mid-review,
export, and `clipart-train --data` on the export. Screenshots go to docs/_site/screenshots/review-*.png."""

import os, re, signal, socket, subprocess, sys, threading, time
from pathlib import Path
import pytest
from conftest import clipart_cache, CHROMIUM, DRIVER, go as click, wait_load

pytestmark = pytest.mark.slow  # the slow tier: `pytest --slow`
SHOTS = Path(__file__).resolve().parents[1] / 'docs' / '_site' / 'screenshots'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_server(run, db, port, token=None):
    "A `clipart-serve --review` process, answering"
    import httpx

    cmd = [
        str(Path(sys.executable).parent / 'clipart-serve'),
        '--run',
        str(run),
        '--port',
        str(port),
        '--review',
        str(db),
    ] + (['--token', token] if token else [])
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for _ in range(600):
        if p.poll() is not None:
            raise RuntimeError(f"clipart-serve ended: {p.stdout.read()}")
        try:
            if httpx.get(f'http://127.0.0.1:{port}/review', timeout=2).status_code == 200:
                return p
        except httpx.HTTPError:
            time.sleep(0.2)
    p.kill()
    raise RuntimeError("clipart-serve did not answer in 120 s")


@pytest.fixture(scope='module')
def labelled(tmp_path_factory):
    "A synthetic run trained for a minute and 30 new works labelled by `clipart-label`"
    from clipart.cli.train import clipart_train
    from clipart.cli.label import clipart_label
    from clipart.data.synthetic import make_synthetic_imet

    tmp = tmp_path_factory.mktemp('review')
    with clipart_cache(tmp / 'cache'):
        clipart_train(out=str(tmp / 'run'), n_synthetic=200, epochs=6, bs=32, workers=0, pictures=False, seed=0)
        new = make_synthetic_imet(tmp / 'new', n=30, seed=7)
        for f in (new / 'train').iterdir():
            f.rename(f.with_name('new-' + f.name))
        clipart_label(run=str(tmp / 'run'), images=str(new / 'train'), bs=16)
    return tmp


@pytest.fixture(scope='module')
def server(labelled):
    port = free_port()
    db = labelled / 'cat.sqlite'
    p = start_server(labelled / 'run', db, port)
    yield f'http://127.0.0.1:{port}', db
    p.terminate()
    p.wait(10)


def shot(browser, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f'review-{name}.png'))


def key(browser, k, loads=True):
    "Press `k` on the page (a shortcut) and wait for the page it submits (`loads`)"
    from selenium.webdriver.common.action_chains import ActionChains

    old = browser.find_element('tag name', 'html')
    ActionChains(browser).send_keys(k).perform()
    if loads:
        wait_load(browser, old)


def login(browser, url, name):
    browser.get(url + '/review')
    if not browser.find_elements('id', 'name'):
        click(browser, browser.find_element('css selector', 'form[action="/review/logout"] button'))  # 'change'
    browser.find_element('id', 'name').send_keys(name)
    click(browser, browser.find_element('id', 'start'))
    assert f'reviewing as {name}' in browser.page_source


def states(browser):
    "{attribute: state} of the item page's rows"
    return {
        r.get_attribute('data-attr'): r.get_attribute('data-state')
        for r in browser.find_elements('css selector', 'tr[data-attr]')
    }


def current_id(browser):
    return browser.find_element('tag name', 'h2').text


def ro(db):
    from clipart.catalogue.core import CatalogueDB

    return CatalogueDB(db, readonly=True)  # what an export sees while the server writes


def test_review_with_mouse_keyboard_undo_and_reload(server, browser):
    url, db = server
    login(browser, url, 'ana')
    assert '30 to review' in browser.find_element('id', 'review-summary').text
    shot(browser, 'queue')
    first = browser.find_elements('css selector', '#queue .card a')[1]
    click(browser, first)
    id1 = current_id(browser)
    rows = browser.find_elements('css selector', 'tr[data-proposed="1"]')
    a1, a2 = rows[0].get_attribute('data-attr'), rows[1].get_attribute('data-attr')
    # the mouse: accept one value, reject another, add one from the vocabulary
    click(browser, rows[0].find_element('css selector', 'button[id^=accept]'))
    click(
        browser,
        browser.find_elements('css selector', 'tr[data-proposed="1"]')[1].find_element(
            'css selector', 'button[id^=reject]'
        ),
    )
    box = browser.find_element('id', 'add-value')
    box.send_keys('tags::birds')
    click(browser, browser.find_element('id', 'add'))
    assert (
        states(browser)[a1] == 'accepted'
        and states(browser)[a2] == 'rejected'
        and states(browser)['tags::birds'] == 'accepted'
    )
    shot(browser, 'item')
    # undo takes back the addition
    click(browser, browser.find_element('css selector', '#undo button'))
    assert states(browser).get('tags::birds', '') == ''  # (a row remains if it was an alternative)
    # the keyboard, on the next item: a accepts the focused value, j moves down, r rejects, z undoes, u marks not sure
    click(browser, browser.find_element('id', 'next'))
    id2 = current_id(browser)
    assert id2 != id1
    key(browser, 'a')
    key(browser, 'j', loads=False)
    key(browser, 'r')  # after a decision the focus is on the next undecided value
    st = states(browser)
    assert sorted(v for v in st.values() if v) == ['accepted', 'rejected'], st
    key(browser, 'z')
    assert sorted(v for v in states(browser).values() if v) == ['accepted']
    key(browser, 'u')
    assert current_id(browser) not in (id1, id2)  # not sure: on to the next item
    # a reload shows every decision kept, and the database (read-only, while the server runs) holds them
    browser.get(url + '/review/item?id=' + id1)
    assert states(browser)[a1] == 'accepted' and states(browser)[a2] == 'rejected'
    d = ro(db)
    assert d.item(id1)['state'] == {a1: 'accepted', a2: 'rejected'} and d.item(id2)['flag'] == 'unsure'
    assert d.counts()['reviewed'] == 2 and (d.decisions().undone == 1).sum() == 2
    browser.get(url + '/review')
    assert 'Marked "not sure"' in browser.page_source and '28 to review' in browser.page_source
    browser.get(url + '/api/search?k=1000&f=' + a1)
    assert f'"{id1}"' in browser.page_source  # the accepted value is a facet
    assert not [
        e for e in browser.get_log('browser') if e['level'] == 'SEVERE' and 'favicon.ico' not in e['message']
    ]  # (the JSON page has no icon link)


def test_two_browsers_at_once(server, browser, tmp_path):
    "Two reviewers, each in a browser, decide on different items at the same time: every decision is kept"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    url, db = server
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ['--headless', '--no-sandbox', '--disable-gpu', f'--user-data-dir={tmp_path / "profile2"}']:
        opts.add_argument(a)
    other = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        login(browser, url, 'ana')
        login(other, url, 'bo')
        queue = ro(db).queue(10)
        before = len(ro(db).decisions())

        def review(b, ids):
            for i in ids:
                b.get(url + '/review/item?id=' + i)
                for n in range(2):
                    click(
                        b,
                        b.find_elements('css selector', 'tr[data-proposed="1"]')[n].find_element(
                            'css selector', 'button[id^=accept]'
                        ),
                    )

        ts = [threading.Thread(target=review, args=(b, ids)) for b, ids in ((browser, queue[:4]), (other, queue[4:8]))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        d = ro(db).decisions().iloc[before:]
        assert len(d) == 16 and set(d.reviewer) == {'ana', 'bo'} and d.item.nunique() == 8
    finally:
        other.quit()


def test_killed_server_keeps_acknowledged_decisions(labelled, tmp_path):
    "A server killed with SIGKILL in the middle of a stream of decisions loses none that it answered"
    import httpx
    from clipart.catalogue.core import CatalogueDB

    port = free_port()
    db = tmp_path / 'kill.sqlite'
    p = start_server(labelled / 'run', db, port)
    url = f'http://127.0.0.1:{port}'
    c = httpx.Client(base_url=url, timeout=10)
    tok = lambda t: re.search(r'name="csrf" value="([^"]+)"', t).group(1)
    r = c.post('/review/login', data=dict(name='kim', csrf=tok(c.get('/review').text)))
    assert r.status_code == 303
    item = CatalogueDB(db, readonly=True).queue(1)[0]
    t = tok(c.get('/review/item?id=' + item).text)
    acked, stop = [], threading.Event()

    def write():
        n = 0
        while not stop.is_set():
            try:
                r = c.post('/review/decide', data=dict(csrf=t, id=item, action='add', attribute=f'tags::k{n}'))
            except httpx.HTTPError:
                return
            if r.status_code == 303:
                acked.append(f'tags::k{n}')
            n += 1

    th = threading.Thread(target=write)
    th.start()
    while len(acked) < 40:
        time.sleep(0.01)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    stop.set()
    th.join(10)
    kept = set(CatalogueDB(db).decisions().attribute)
    assert len(acked) >= 40 and not set(acked) - kept, set(acked) - kept


def test_export_and_train_on_it(server, labelled, tmp_path):
    "`clipart-label export` (the console script) writes what clipart-train --data reads; training on it runs"
    from clipart.data.imet import read_imet
    from clipart.cli.train import clipart_train

    url, db = server
    out = tmp_path / 'export'
    r = subprocess.run(
        ['clipart-label', 'export', '--db', str(db), '--out', str(out), '--run', str(labelled / 'run')],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    coll = read_imet(out)
    acc = ro(db).accepted()
    assert len(coll.df) == 200 + sum(1 for v in acc.values() if v) and (out / 'decisions.csv').exists(), r.stdout
    clipart_train(data=str(out), out=str(tmp_path / 'again'), epochs=1, bs=32, workers=0, pictures=False, seed=0)
    assert (tmp_path / 'again' / 'model').is_dir() and (tmp_path / 'again' / 'index' / 'items.csv').exists()


def test_rebinding_and_unauthenticated_reads_are_refused(labelled):
    # a real `clipart-serve --review --token` on the loopback interface (the page "Security of the review desk")
    import httpx

    port = free_port()
    p = start_server(labelled / 'run', labelled / 'sec.sqlite', port, token='s3cret-token')
    try:
        base, evil = (
            f'http://127.0.0.1:{port}',
            {'Host': f'evil.example:{port}', 'Origin': f'http://evil.example:{port}'},
        )
        assert httpx.get(base + '/review', headers=evil).status_code == 400  # DNS rebinding: refused
        assert httpx.post(base + '/review/decide', data=dict(id='x', action='skip'), headers=evil).status_code == 400
        assert httpx.get(base + '/api/review/decisions').status_code == 401  # no session, no token
        assert httpx.get(base + '/api/review/decisions', headers={'Authorization': 'Bearer guess'}).status_code == 401
        ok = httpx.get(base + '/api/review/decisions', headers={'Authorization': 'Bearer s3cret-token'})
        assert ok.status_code == 200 and 'decisions' in ok.json()
        assert httpx.get(f'http://localhost:{port}/').status_code == 200  # the desk's own names answer
    finally:
        p.terminate()
        p.wait(10)
