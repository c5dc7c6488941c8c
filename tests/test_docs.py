"""The built docs site in a real browser: every sidebar page loads without console errors, the tutorial shows
its images, no internal link is broken. Saves a screenshot of the tutorial under docs/_site/screenshots/."""

import functools, http.server, subprocess, sys, threading, urllib.request
from pathlib import Path
from urllib.parse import urljoin, urldefrag
import pytest

pytestmark = pytest.mark.slow  # the slow tier: `pytest --slow`

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / 'docs' / '_site'


@pytest.fixture(scope='module')
def site():
    if not (SITE / 'index.html').exists():
        subprocess.run([sys.executable, str(ROOT / 'docs' / 'build.py')], check=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}/'
    srv.shutdown()


def settle(browser, timeout=20):
    "Wait until MathJax (if the page uses it) has typeset everything"
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(
        lambda d: d.execute_script(
            "return document.readyState==='complete' && (!window.MathJax || !MathJax.Hub || "
            "(MathJax.isReady && MathJax.Hub.queue.pending===0 && !MathJax.Hub.queue.running))"
        )
    )


def sidebar_links(browser, base):
    browser.get(base)
    hrefs = [
        a.get_attribute('href')
        for a in browser.find_elements('css selector', 'nav.md-nav--primary a.md-nav__link[href]')
    ]
    return list(dict.fromkeys(urldefrag(h)[0] for h in hrefs if h and h.startswith(base)))


def test_every_sidebar_page_loads_without_console_errors(site, browser):
    pages = sidebar_links(browser, site)
    assert len(pages) >= 10, pages
    assert any(p.endswith('tutorial.html') for p in pages)
    for p in pages:
        browser.get(p)
        settle(browser)
        assert browser.title and '404' not in browser.title, p
        errors = [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']
        assert not errors, (p, errors)


def test_tutorial_shows_its_images(site, browser):
    browser.get(urljoin(site, 'tutorial.html'))
    imgs = browser.find_elements('css selector', '.jp-OutputArea img, .jp-RenderedImage img, article img')
    loaded = [browser.execute_script('return arguments[0].complete && arguments[0].naturalWidth', i) for i in imgs]
    assert sum(bool(w) for w in loaded) >= 3, loaded
    (SITE / 'screenshots').mkdir(exist_ok=True)
    browser.save_screenshot(str(SITE / 'screenshots' / 'tutorial.png'))
    # formulas are MathML, laid out by the browser: each has a real size
    browser.get(urljoin(site, 'losses.html'))
    settle(browser)
    maths = browser.find_elements('css selector', 'math')
    assert len(maths) >= 3 and all(m.size['width'] > 0 for m in maths)
    assert not [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']


def test_no_internal_link_is_broken(site, browser):
    seen, todo, broken = set(), [site], []
    while todo:
        page = todo.pop()
        if page in seen:
            continue
        seen.add(page)
        browser.get(page)
        for a in browser.find_elements('css selector', 'a[href]'):
            href = urldefrag(a.get_attribute('href') or '')[0]
            if not href.startswith(site) or href in seen:
                continue
            try:
                urllib.request.urlopen(href, timeout=10)
            except Exception as e:
                broken.append((page, href, str(e)))
                seen.add(href)
                continue
            if href.endswith('.html') or href.endswith('/'):
                todo.append(href)
            else:
                seen.add(href)
    assert not broken, broken
    assert len(seen) >= 10


def test_code_reads_at_a_glance(site, browser):
    # a 1280-px window (the fixture's): the content column takes most of it and a 120-character code line fits
    browser.get(urljoin(site, 'run.folder.html'))
    settle(browser)
    content = browser.find_element('css selector', 'article.md-content__inner')
    assert content.size['width'] >= 900, content.size
    pre = browser.find_elements('css selector', 'article pre')
    assert pre, 'no code on the page'
    width = browser.execute_script(
        "const s = document.createElement('span'); s.textContent = 'x'.repeat(120); const p = arguments[0]; "
        "p.appendChild(s);"
        "const w = s.getBoundingClientRect().width; s.remove(); return [w, p.clientWidth];",
        pre[0],
    )
    assert width[0] <= width[1], f"a 120-character line is {width[0]:.0f} px, the code block {width[1]} px"
    (SITE / 'screenshots').mkdir(exist_ok=True)
    browser.save_screenshot(str(SITE / 'screenshots' / 'run_folder.png'))
    # the sidebar shows whole titles (a title with `code` in it used to be cut at the code)
    titles = [
        a.text.strip()
        for a in browser.find_elements('css selector', 'nav.md-nav--primary a.md-nav__link')
        if a.text.strip()
    ]
    assert titles and not [t for t in titles if t.endswith(':')], titles
    assert 'The main job: clipart-train' in titles, titles
