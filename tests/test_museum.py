"""Museum in, museum out, end to end on a fresh clone: a IIIF collection served on 127.0.0.1 (never the internet) is
imported, trained on, labelled, reviewed and exported as IIIF annotations and Linked Art records that validate."""

import functools, json, shutil, threading
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
from pathlib import Path
import pytest
from clipart.data.imet import read_imet, sample_path, shared_data


@pytest.fixture
def iiif_site(tmp_path):
    """Two collections (12 catalogued works, 4 new ones) of Presentation 3.0 manifests of the shipped aic48 works,
    images as Image API paths, on 127.0.0.1"""
    site = tmp_path / 'site'
    h = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    h.log_message = lambda *a: None
    site.mkdir()
    srv = ThreadingHTTPServer(('127.0.0.1', 0), h)
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    aic, refs = read_imet(sample_path('aic48')), []
    for k, r in enumerate(aic.df.head(16).itertuples()):
        svc = f"{base}/img/{k}"
        d = site / 'img' / str(k) / 'full' / '!128,128' / '0'
        d.mkdir(parents=True)
        shutil.copy(r.image, d / 'default.jpg')
        names = [aic.vocab.attribute_name[aic.vocab.attribute_id == a].iloc[0] for a in r.attribute_ids]
        md = [
            {'label': {'en': [g.title()]}, 'value': {'en': [n.split('::')[1] for n in names if n.startswith(g)]}}
            for g in ('culture', 'medium', 'classification')
        ]
        body = {
            'id': f"{svc}/full/max/0/default.jpg",
            'type': 'Image',
            'format': 'image/jpeg',
            'service': [{'id': svc, 'type': 'ImageService3', 'profile': 'level1'}],
        }
        cid = f"{base}/iiif/{k}/canvas/1"
        paint = {'id': f"{cid}/p/1", 'type': 'Annotation', 'motivation': 'painting', 'body': body, 'target': cid}
        canvas = {  # a valid manifest, as a museum publishes it
            'id': cid,
            'type': 'Canvas',
            'height': 128,
            'width': 128,
            'items': [{'id': f"{cid}/page/1", 'type': 'AnnotationPage', 'items': [paint]}],
        }
        doc = {
            '@context': 'http://iiif.io/api/presentation/3/context.json',
            'id': f"{base}/iiif/{k}/manifest.json",
            'type': 'Manifest',
            'label': {'en': [r.id]},
            'metadata': md,
            'items': [canvas],
        }
        (site / 'iiif' / str(k)).mkdir(parents=True)
        (site / 'iiif' / str(k) / 'manifest.json').write_text(json.dumps(doc))
        refs.append({'id': doc['id'], 'type': 'Manifest'})
    for name, part in (('collection.json', refs[:12]), ('new.json', refs[12:])):  # the catalogued works; new ones
        coll = {
            '@context': 'http://iiif.io/api/presentation/3/context.json',
            'id': f"{base}/iiif/{name}",
            'type': 'Collection',
            'label': {'en': [name]},
            'items': part,
        }
        (site / 'iiif' / name).write_text(json.dumps(coll))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
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
    res = clipart_import(
        'iiif', iiif_site + 'collection.json', out='coll', attr='Culture,Medium,Classification', size=128
    )
    assert res['objects'] == 12 and res['manifests'] == 12, res
    res = clipart_import('iiif', iiif_site + 'new.json', out='new', attr='Culture,Medium,Classification', size=128)
    clipart_train(data='coll', out='clipart_out', epochs=1, bs=8, size=64, workers=0, pictures=False)
    clipart_label(run='clipart_out', images='new/train', bs=8)  # the new acquisitions
    db = CatalogueDB('catalogue.sqlite')
    db.import_proposals(RunFolder('clipart_out').proposals(), 'clipart_out')
    for i in db.queue(3):
        p = next(x['attribute'] for x in db.item(i)['proposals'] if x['proposed'])
        db.decide(i, 'accept', 'ana', p)
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
    for d in pages + mans:
        assert schema_errors(d, 'iiif') == []
    for d in recs:
        assert schema_errors(d, 'linked-art') == []
    if (sh := shared_data('iiif')) is not None:  # and against the validator's own copy of the schema
        import jsonschema

        v = jsonschema.Draft7Validator(json.loads((sh / 'iiif_3_0.schema.json').read_text()))
        assert all(not list(v.iter_errors(d)) for d in pages + mans)
