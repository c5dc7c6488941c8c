"""Museum in, museum out, end to end on a fresh clone: a IIIF collection served on 127.0.0.1 (never the internet) is
imported, trained on, labelled, reviewed and exported as IIIF annotations and Linked Art records that validate."""

import json
import pandas as pd
from pathlib import Path
import pytest
from clipart.data.imet import read_imet, sample_path, shared_data


@pytest.fixture
def iiif_site(tmp_path):
    """Two collections (12 catalogued works, 4 new ones) of valid Presentation 3.0 manifests of the shipped aic48 works,
    images as a level-0 Image API, on 127.0.0.1"""
    from clipart.data.synthetic import iiif_site, serve_folder

    base, srv = serve_folder(tmp_path / 'site')
    aic = read_imet(sample_path('aic48'), text='descriptions.csv')
    aic.df = aic.df.head(16)
    iiif_site(aic, tmp_path / 'site', base, {'collection.json': range(12), 'new.json': range(12, 16)})
    yield f"{base}/iiif/"
    srv.shutdown()
    srv.server_close()


def test_import_train_label_review_export(iiif_site, tmp_path, monkeypatch):
    from clipart.cli.imports import clipart_import
    from clipart.cli.train import clipart_train
    from clipart.cli.label import clipart_label
    from clipart.catalogue.core import CatalogueDB
    from clipart.catalogue.museum import schema_errors
    from clipart.run.folder import RunFolder

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('CLIPART_CACHE', str(tmp_path / 'cache'))
    # a cataloguer's mapping of terms to authority URIs: IIIF metadata carries none
    aat = 'http://vocab.getty.edu/aat/300033618'
    Path('terms.csv').write_text(f"attribute,uri\nclassification::painting,{aat}\n")
    kw = dict(attr='Culture,Medium,Classification', size=128, terms='terms.csv')
    res = clipart_import('iiif', iiif_site + 'collection.json', out='coll', **kw)
    assert res['objects'] == 12 and res['manifests'] == 12 and res['with_uri'] == 1, res
    assert sorted(p.stem for p in Path('coll/train').iterdir())[:2] == ['iiif-0', 'iiif-1']  # flat ids
    res = clipart_import('iiif', iiif_site + 'new.json', out='new', to_shards='new-shards', **kw)
    from clipart.data.shards import iter_shards, shard_urls

    got = {s['id']: s for s in iter_shards(shard_urls('new-shards'))}  # the acquisitions as shards: nothing lost
    src = pd.read_csv('new/sources.csv', dtype=str, keep_default_na=False).set_index('id')
    assert len(got) == res['objects'] == len(src) and all(
        got[i]['source']['manifest'] == src.manifest[i] and got[i]['source']['canvas'] == src.canvas[i]
        for i in src.index
    ), (got, src)
    clipart_train(data='coll', out='clipart_out', epochs=1, bs=8, size=64, workers=0, pictures=False)
    # the terms' URIs are carried through training: the run's vocabulary names them
    assert RunFolder('clipart_out').vocab().set_index('attribute_name').uri['classification::painting'] == aat
    clipart_label(run='clipart_out', images='new/train', bs=8)  # the new acquisitions
    db = CatalogueDB('catalogue.sqlite')
    db.import_proposals(RunFolder('clipart_out').proposals(), 'clipart_out')
    q = db.queue(3)
    for i in q:
        p = next(x['attribute'] for x in db.item(i)['proposals'] if x['proposed'])
        db.decide(i, 'accept', 'ana', p)
    linked = q[0]
    db.decide(linked, 'add', 'ana', 'classification::painting')
    clipart_label(
        'export',
        run='clipart_out',
        db='catalogue.sqlite',
        out='reviewed',
        iiif=True,
        linked_art=True,
        base_url='https://museum.example/clipart',
    )
    # the desk shows where each work came from: its manifest
    from starlette.testclient import TestClient
    from clipart.app.gallery import Gallery
    from clipart.app.pages import gallery_app

    c = TestClient(gallery_app(Gallery('clipart_out'), review=db))
    c.post(
        '/review/login', data=dict(name='ana', csrf=c.get('/review').text.split('name="csrf" value="')[1].split('"')[0])
    )
    item = c.get('/review/item', params=dict(id=db.queue(1)[0])).text
    assert 'id="source"' in item and '/manifest.json' in item, item[:2000]
    pages = [json.loads(p.read_text()) for p in Path('reviewed/iiif').glob('*.json')]
    recs = [json.loads(p.read_text()) for p in Path('reviewed/linked-art').iterdir()]
    assert len(pages) == 3 and len(recs) == 3
    # each page is identified by the URL it is published at, and referenced from its canvas in an annotated copy of
    # the manifest the work came from, so a IIIF viewer shows the values on the painting
    mans = [json.loads(p.read_text()) for p in Path('reviewed/iiif/manifests').iterdir()]
    assert len(mans) == 3 and all(m['id'].startswith('https://museum.example/clipart/iiif/manifests/') for m in mans)
    listed = {a['id'] for m in mans for c in m['items'] for a in c.get('annotations', [])}
    assert listed == {p['id'] for p in pages} and all(
        p['id'].startswith('https://museum.example/clipart/iiif/') for p in pages
    ), (listed, [p['id'] for p in pages])
    # each annotation targets the canvas the work came from
    assert all(
        a['target'].startswith('http://127.0.0.1:') and a['target'].endswith('/canvas/1')
        for p in pages
        for a in p['items']
    )
    # the linked term goes out as a classifying annotation with its AAT URI, and as Linked Art with its id
    byid = {p['id'].rsplit('/', 1)[1]: p for p in pages}
    a = next(a for a in byid[linked + '.json']['items'] if a['clipart_decision'] == 'added')
    assert a['motivation'] == 'classifying' and a['body'][1]['source'] == aat, a
    rec = json.loads(Path(f'reviewed/linked-art/{linked}.json').read_text())
    assert dict(id=aat, type='Type', _label='painting') in rec['classified_as'], rec
    for d in pages + mans:
        assert schema_errors(d, 'iiif') == []
    for d in recs:
        assert schema_errors(d, 'linked-art') == []
    if (sh := shared_data('iiif')) is not None:  # and against the validator's own copy of the schema
        import jsonschema

        v = jsonschema.Draft7Validator(json.loads((sh / 'iiif_3_0.schema.json').read_text()))
        assert all(not list(v.iter_errors(d)) for d in pages + mans)
