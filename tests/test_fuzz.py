"""Property-based tests: generated bad inputs (random bytes, random CSV shapes, separators and encodings, random query
strings and uploads) give only the library's own errors or counted skips: never another exception type, a hang or an
HTTP 500. A few hundred cases in the fast tier (fixed seeds); the slow tier runs this file again with
`CLIPART_FUZZ_LONG=1`: `CLIPART_FUZZ_SLOW` (default 2,000) random cases per property."""

import io, os, random, tempfile, time
from pathlib import Path
import pytest

hypothesis = pytest.importorskip('hypothesis', reason='the fuzz tests need hypothesis (pip install -e ".[dev]")')
from hypothesis import given, settings, HealthCheck, strategies as st
from PIL import Image
from clipart.cli.common import _EXPECTED
from clipart.data.imet import read_imet, read_pairs_csv, ImetCollection
from clipart.data.captions import read_phrases, LabelCaptioner

LONG = bool(os.environ.get('CLIPART_FUZZ_LONG'))
N = int(os.environ.get('CLIPART_FUZZ_SLOW', 2000)) if LONG else int(os.environ.get('CLIPART_FUZZ_EXAMPLES', 50))
fuzz = settings(
    max_examples=N, deadline=None, suppress_health_check=list(HealthCheck), derandomize=not LONG, database=None
)
COUNT = {}  # cases run per property


@pytest.fixture(scope='module', autouse=True)
def _counts():
    yield
    if os.environ.get('CLIPART_FUZZ_COUNTS'):
        Path(os.environ['CLIPART_FUZZ_COUNTS']).write_text(__import__('json').dumps(COUNT))


def own_error(f, *args, seconds=20, **kwargs):
    "Run `f`; return its value or the library's own error; anything else (or a call over `seconds`) fails the test"
    t = time.time()
    try:
        out = f(*args, **kwargs)
    except _EXPECTED as e:
        assert str(e).strip(), f"{type(e).__name__} without a message"
        out = e
    assert time.time() - t < seconds, f"{f.__name__} took {time.time() - t:.0f} s"
    return out


# --- strategies: CSV text of plausible and implausible shapes
cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            '',
            ' ',
            '0',
            '-1',
            '1 2 3',
            '99999999999999999999',
            'nan',
            'medium::oil',
            'culture::',
            '::x',
            'a::b::c',
            '"',
            '""',
            'x,y',
            '\t',
            '\n',
            'é',
            '\x00',
            '1e3',
            'train/a.jpg',
            '../../etc/passwd',
        ]
    ),
)


def csv_text(columns):
    """A CSV as bytes: a header (the expected columns, some of them, or others), rows of random cells, a random
    separator and encoding"""
    header = st.one_of(
        st.just(columns),
        st.lists(st.sampled_from(columns + ['x', '', 'ID', 'Attribute_Ids']), max_size=4),
        st.lists(st.text(max_size=6), max_size=3),
    )

    @st.composite
    def build(draw):
        cols = draw(header)
        sep = draw(st.sampled_from([',', ',', '\t', ';', '|']))
        rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(cols) + 2), max_size=12))
        text = '\n'.join(sep.join(r) for r in [cols] + rows)
        enc = draw(st.sampled_from(['utf-8', 'utf-8-sig', 'utf-16', 'latin-1', 'cp1252']))
        data = text.encode(enc, errors='replace')
        if draw(st.booleans()) and data:
            data = data[: draw(st.integers(0, len(data)))]  # cut short
        return data

    return st.one_of(build(), st.binary(max_size=200))


def tiny_jpeg(seed):
    b = io.BytesIO()
    Image.new('RGB', (8, 8), (seed * 40 % 256, 0, 0)).save(b, 'JPEG')
    return b.getvalue()


image_bytes = st.one_of(
    st.builds(tiny_jpeg, st.integers(0, 5)),
    st.binary(max_size=64),
    st.builds(lambda n: tiny_jpeg(1)[:n], st.integers(0, 300)),
    st.just(b''),
)


@st.composite
def imet_folder(draw):
    "Bytes of labels.csv, train.csv and a few image files named like ids (or not)"
    files = draw(
        st.dictionaries(st.sampled_from(['1', '2', '3', 'a', 'x y', 'é', '1.jpg', '2.png']), image_bytes, max_size=4)
    )
    return draw(csv_text(['attribute_id', 'attribute_name'])), draw(csv_text(['id', 'attribute_ids'])), files


def write_imet(d, labels, train, files, folders=True):
    d = Path(d)
    if labels is not None:
        (d / 'labels.csv').write_bytes(labels)
    if train is not None:
        (d / 'train.csv').write_bytes(train)
    if folders:
        (d / 'train').mkdir(exist_ok=True)
    for name, b in files.items():
        (d / 'train' / (name if '.' in name else name + '.jpg')).write_bytes(b)
    return d


def check_imet(labels, train, files, on_bad):
    with tempfile.TemporaryDirectory() as d:
        out = own_error(
            read_imet, write_imet(d, labels, train, files), on_bad=on_bad, cache=False, n_workers=1, warn=False
        )
        if isinstance(out, ImetCollection):
            assert len(out) >= 1 and all(Path(p).is_file() for p in out.df.image)  # what it returns is there
            if on_bad == 'raise':
                assert len(out.report) == 0
    COUNT['read_imet'] = COUNT.get('read_imet', 0) + 1


@fuzz
@given(imet_folder(), st.sampled_from(['raise', 'skip']))
def test_read_imet_gives_only_its_own_errors(folder, on_bad):
    check_imet(*folder, on_bad)


@fuzz
@given(
    st.lists(
        st.tuples(
            st.sampled_from(['', 'medium::oil', 'culture::french', 'tags::a b', 'x', 'a::b::c', 'é::ü']),
            st.sampled_from(['0', '1', '2', '', 'x', '-3']),
        ),
        max_size=6,
    ),
    st.lists(
        st.tuples(
            st.sampled_from(['1', '2', '3', '', 'a', '1']),
            st.sampled_from(['0', '1', '0 1', '', '2 2', '7', 'x', '0  1']),
        ),
        max_size=6,
    ),
    st.dictionaries(st.sampled_from(['1', '2', '3', 'a']), image_bytes, max_size=4),
    st.sampled_from(['raise', 'skip']),
)
def test_read_imet_with_well_formed_csvs_of_bad_values(labels, rows, files, on_bad):
    "CSV files that parse, with ids, attribute names and attribute lists that may not fit together"
    lab = ('attribute_id,attribute_name\n' + '\n'.join(f'{i},{n}' for n, i in labels)).encode()
    tr = ('id,attribute_ids\n' + '\n'.join(f'{i},{a}' for i, a in rows)).encode()
    check_imet(lab, tr, files, on_bad)


@fuzz
@given(
    csv_text(['filepath', 'title']),
    st.dictionaries(st.sampled_from(['a.jpg', 'b.png', 'c', 'train/a.jpg']), image_bytes, max_size=3),
    st.sampled_from([',', '\t']),
    st.sampled_from(['raise', 'skip']),
)
def test_read_pairs_csv_gives_only_its_own_errors(data, files, sep, on_bad):
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / 'train').mkdir()
        for name, b in files.items():
            (d / name).write_bytes(b)
        (d / 'pairs.csv').write_bytes(data)
        out = own_error(read_pairs_csv, d / 'pairs.csv', sep=sep, on_bad=on_bad, n_workers=1, warn=False)
        if isinstance(out, ImetCollection):
            assert len(out) >= 1 and (out.df.caption.str.strip() != '').all()
    COUNT['read_pairs_csv'] = COUNT.get('read_pairs_csv', 0) + 1


@fuzz
@given(
    st.one_of(
        st.binary(max_size=100),
        st.recursive(
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(),
                st.text(max_size=10),
                st.just('by {}'),
                st.just('{}'),
                st.just(['pre', 'made of {}']),
            ),
            lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(st.text(max_size=6), c, max_size=3)),
            max_leaves=6,
        ).map(lambda v: __import__('json').dumps(v).encode()),
    )
)
def test_caption_templates_give_only_their_own_errors(data):
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / 'p.json').write_bytes(data)
        ph = own_error(read_phrases, Path(d) / 'p.json')
        if isinstance(ph, dict):  # a file it accepts makes captions: each group's phrase holds {}
            import pandas as pd

            groups = list(ph) or ['medium']
            cap = LabelCaptioner(groups, phrases=ph).caption(
                pd.Series({g: ['oil {x}', 'a{}b'] for g in groups}), random.Random(0)
            )
            assert isinstance(cap, str) and cap
    COUNT['read_phrases'] = COUNT.get('read_phrases', 0) + 1


# --- the gallery: random query strings and uploads against a real app over a tiny trained run
@pytest.fixture(scope='module')
def fuzz_run(tmp_path_factory):
    "A tiny trained run, and 8 new works `clipart-label` proposed attributes for"
    from clipart.cli.train import clipart_train
    from clipart.cli.label import clipart_label
    from clipart.data.synthetic import make_synthetic_imet

    out = tmp_path_factory.mktemp('fuzzrun') / 'run'
    clipart_train(out=str(out), n_synthetic=60, epochs=1, bs=16, workers=0, pictures=False)
    new = make_synthetic_imet(out.parent / 'new', n=8, seed=3)
    for f in (new / 'train').iterdir():
        f.rename(f.with_name('new-' + f.name))
    clipart_label(run=str(out), images=str(new / 'train'), bs=8)
    return out


@pytest.fixture(scope='module')
def client(fuzz_run):
    from starlette.testclient import TestClient
    from clipart.app.pages import gallery_app
    from clipart.app.gallery import Gallery

    return TestClient(gallery_app(Gallery(fuzz_run), max_upload_mb=1))


PATHS = ['/', '/item', '/thumb', '/image', '/similar', '/duplicates', '/api/search', '/api/similar', '/nosuch']
PARAMS = ['q', 'f', 'page', 'k', 'row', 'id', 'threshold', 'like', 'x']
value = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            '0',
            '-1',
            '1e9',
            'nan',
            'inf',
            '999999999999999999999',
            '',
            ' ',
            '../../etc/passwd',
            'medium::silk',
            'medium::',
            '::',
            'syn00001',
            '%00',
            '<script>',
            '0.5',
            '2',
        ]
    ),
)


def ok_status(r):
    assert r.status_code in (200, 303, 400, 404, 413), (r.status_code, r.url, r.text[:200])


@fuzz
@given(st.sampled_from(PATHS), st.lists(st.tuples(st.sampled_from(PARAMS), value), max_size=4))
def test_gallery_query_strings_never_give_a_server_error(client, path, params):
    ok_status(own_error(client.get, path, params=params))
    COUNT['gallery queries'] = COUNT.get('gallery queries', 0) + 1


@fuzz
@given(
    st.sampled_from(['/upload', '/api/attributes']),
    st.one_of(
        image_bytes,
        st.binary(min_size=1, max_size=300),
        st.builds(lambda b: b'\x89PNG\r\n\x1a\n' + b, st.binary(max_size=100)),
        st.builds(lambda b: b'GIF89a' + b, st.binary(max_size=50)),
    ),
    st.sampled_from(['file', 'upload', 'x']),
    st.sampled_from(['a.jpg', 'a.png', '', '../x', 'a' * 300]),
)
def test_uploads_never_give_a_server_error(client, path, data, field, name):
    ok_status(own_error(client.post, path, files={field: (name, data, 'application/octet-stream')}))
    COUNT['uploads'] = COUNT.get('uploads', 0) + 1


# --- the review desk: generated requests against its routes (a logged-in reviewer, with a valid CSRF token or not)
@pytest.fixture(scope='module')
def desk(fuzz_run):
    "A logged-in reviewer's client of a desk over the run's proposals, its CSRF token, the database and the item ids"
    import re
    from starlette.testclient import TestClient
    from clipart.app.pages import gallery_app
    from clipart.app.gallery import Gallery
    from clipart.catalogue.core import CatalogueDB, Proposals

    db = CatalogueDB(fuzz_run.parent / 'fuzz.sqlite')
    db.import_proposals(Proposals.load(fuzz_run / 'catalogue'), fuzz_run)
    c = TestClient(gallery_app(Gallery(fuzz_run), review=db, loopback_only=True), base_url='http://127.0.0.1:8000')
    csrf = lambda t: re.search(r'name="csrf" value="([^"]+)"', t).group(1)
    r = c.post('/review/login', data=dict(name='fuzz', csrf=csrf(c.get('/review').text)))
    assert r.status_code == 200, r.text[:300]
    return c, csrf(r.text), db, db.queue(100)


action = st.one_of(st.sampled_from(['accept', 'reject', 'add', 'unsure', 'skip']), st.text(max_size=8))
attribute = st.one_of(
    st.none(),
    st.sampled_from(
        [
            'medium::silk',
            'tags:: fish ',
            'tags::fish',
            'culture::',
            '::x',
            'a::b::c',
            'tags::a\nb',
            'tags::\x00',
            'tags::' + 'x' * 250,
            'é::ü',
            'tags::<script>alert(1)</script>',
        ]
    ),
    st.builds(lambda g, v: f'{g}::{v}', st.sampled_from(['tags', 'medium', 'x', '']), st.text(max_size=30)),
    st.text(max_size=40),
)
host = st.sampled_from([None, '127.0.0.1:8000', 'localhost', 'evil.example:8000', '[::1]:1', ''])
origin = st.sampled_from([None, 'http://127.0.0.1:8000', 'http://evil.example', 'null'])
PAGE_BOUND = 400_000  # bytes: no generated request makes a page larger (a queue page of 24 cards is ~30 kB)


@fuzz
@given(st.data(), action, attribute, st.booleans(), host, origin)
def test_review_routes_never_give_a_server_error_or_store_a_bad_value(desk, data, act, attr, good_csrf, host_, origin_):
    """Generated decisions, undos and page requests: no 500, no page above PAGE_BOUND, every stored decision within the
    rules"""
    from clipart.app.pages import MAX_FIELD, MAX_NAME
    from clipart.catalogue.core import ACTIONS
    from clipart.data.imet import split_attribute

    c, token, db, ids = desk
    id_ = data.draw(st.one_of(st.sampled_from(ids), st.text(max_size=30), st.just('x' * 300)))
    headers = {k: v for k, v in dict(host=host_, origin=origin_).items() if v is not None}
    form = dict(
        csrf=token if good_csrf else 'forged', id=id_, action=act, **({} if attr is None else dict(attribute=attr))
    )
    kind = data.draw(st.sampled_from(['decide', 'decide', 'undo', 'item', 'queue', 'image', 'api', 'login']))
    if kind == 'decide':
        r = c.post('/review/decide', data=form, headers=headers)
    elif kind == 'undo':
        r = c.post('/review/undo', data=dict(csrf=form['csrf']), headers=headers)
    elif kind == 'item':
        r = c.get('/review/item', params=dict(id=id_), headers=headers)
    elif kind == 'queue':
        r = c.get(
            '/review',
            params=dict(page=data.draw(st.sampled_from(['1', '2', '0', '-1', 'x', '1e9', '99']))),
            headers=headers,
        )
    elif kind == 'image':
        r = c.get(
            '/review/image',
            params=dict(id=id_, size=data.draw(st.sampled_from(['64', '0', '99999', 'x', '']))),
            headers=headers,
        )
    elif kind == 'api':
        r = c.get('/api/review/decisions', headers=headers)
    else:
        r = c.post(
            '/review/login', data=dict(csrf=form['csrf'], name=data.draw(st.text(max_size=120))), headers=headers
        )
    assert r.status_code in (200, 303, 400, 403, 404), (kind, r.status_code, r.text[:300])
    assert len(r.content) < PAGE_BOUND, (kind, len(r.content))
    if host_ is not None and host_.startswith('evil'):
        assert r.status_code == 400, (kind, r.status_code)  # a rebinding page's request
    if kind == 'login' and r.status_code == 200:
        c.post('/review/login', data=dict(name='fuzz', csrf=token))  # stay the fuzz reviewer
    if kind in ('decide', 'undo'):
        d = db.decisions().tail(1)
        for row in d.itertuples():
            assert row.action in ACTIONS and len(str(row.item)) <= MAX_FIELD and 0 < len(row.reviewer) <= MAX_NAME, row
            if row.attribute is not None and row.attribute == row.attribute:  # not NULL
                assert len(row.attribute) <= MAX_FIELD and '::'.join(split_attribute(row.attribute)) == row.attribute, (
                    row
                )
                assert not any(ord(ch) < 32 for ch in row.attribute), row
    COUNT['review requests'] = COUNT.get('review requests', 0) + 1


# --- the long run: the same properties, many more random cases, in a process of their own
@pytest.mark.slow
def test_long_fuzz_run(tmp_path, capsys):
    "This file again with CLIPART_FUZZ_LONG=1; prints the cases run per property (for the closing note)"
    import json, subprocess, sys

    if LONG:
        pytest.skip('this is the long run')
    env = {**os.environ, 'CLIPART_FUZZ_LONG': '1', 'CLIPART_FUZZ_COUNTS': str(tmp_path / 'counts.json')}
    t = time.time()
    r = subprocess.run(
        [sys.executable, '-m', 'pytest', __file__, '-q', '-p', 'no:cacheprovider', '-x'],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    counts = json.loads((tmp_path / 'counts.json').read_text())
    with capsys.disabled():
        print(
            f"\nfuzz long run: {sum(counts.values())} cases in {time.time() - t:.0f} s: "
            + ', '.join(f'{k} {v}' for k, v in counts.items())
        )
    assert all(v >= 100 for v in counts.values()), counts
