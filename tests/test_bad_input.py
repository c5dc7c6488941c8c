"Each kind of bad input raises an error naming the file and line, or is skipped and counted with on_bad='skip'."

import shutil, warnings
from pathlib import Path
import pandas as pd, pytest
from clipart.data.imet import read_imet, read_labels


@pytest.fixture
def coll(synth_path, tmp_path):
    "A fresh, writable copy of a small synthetic collection"
    return Path(shutil.copytree(synth_path, tmp_path / 'c'))


def edit_items(p, i, **kw):
    df = pd.read_csv(p / 'train.csv', dtype=str)
    for k, v in kw.items():
        df.loc[i, k] = v
    df.to_csv(p / 'train.csv', index=False)
    return df.loc[i, 'id']


def check(p, match, reason=None, n_skipped=1, **kw):
    "Raises naming the problem; with on_bad='skip' the item is gone and the report says why"
    with pytest.raises(ValueError, match=match):
        read_imet(p, **kw)
    with pytest.warns(UserWarning, match='skipped'):
        c = read_imet(p, on_bad='skip', **kw)
    assert len(c.report) == n_skipped and len(c) == 40 - n_skipped, c.report
    assert reason in c.report.records[0]['reason']
    return c


def test_clean_reads(synth_path):
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        c = read_imet(synth_path)
    assert len(c) == 40 and len(c.report) == 0 and str(c.report) == 'ReadReport: nothing skipped'


def test_missing_image(coll):
    id_ = pd.read_csv(coll / 'train.csv').id[5]
    (coll / 'train' / f'{id_}.jpg').unlink()
    c = check(coll, rf"train.csv, line 7 \(id '{id_}'\): image file not found", 'image file not found')
    assert c.report.to_df().line.tolist() == [7] and id_ not in set(c.df.id)


def test_zero_byte_image(coll):
    id_ = pd.read_csv(coll / 'train.csv').id[0]
    (coll / 'train' / f'{id_}.jpg').write_bytes(b'')
    check(coll, rf"line 2 \(id '{id_}'\): empty image file: .*{id_}.jpg", 'empty image file')


def test_truncated_image(coll):
    id_ = pd.read_csv(coll / 'train.csv').id[1]
    f = coll / 'train' / f'{id_}.jpg'
    f.write_bytes(f.read_bytes()[:300])
    check(coll, rf"line 3 \(id '{id_}'\): not a readable image: .*{id_}.jpg", 'not a readable image')


def test_non_image_file(coll):
    id_ = pd.read_csv(coll / 'train.csv').id[2]
    (coll / 'train' / f'{id_}.jpg').write_text('this is not a picture')
    check(coll, r"line 4 .*not a readable image", 'not a readable image')


def test_unchecked_images_are_not_decoded(coll):
    id_ = pd.read_csv(coll / 'train.csv').id[2]
    (coll / 'train' / f'{id_}.jpg').write_text('this is not a picture')
    assert len(read_imet(coll, check_images=False)) == 40


def test_non_integer_attribute_id(coll):
    edit_items(coll, 3, attribute_ids='1 two 3')
    check(coll, r"train.csv, line 5 .*non-integer attribute id in '1 two 3'", 'non-integer attribute id')


def test_unknown_attribute_id(coll):
    edit_items(coll, 4, attribute_ids='1 9999')
    check(coll, r"line 6 .*unknown attribute id\(s\) \[9999\]", 'unknown attribute id')


def test_empty_attribute_list(coll):
    edit_items(coll, 8, attribute_ids='')
    check(coll, r"line 10 .*empty attribute list", 'empty attribute list')


def test_duplicated_id(coll):
    df = pd.read_csv(coll / 'train.csv', dtype=str)
    df.loc[10, 'id'] = df.loc[9, 'id']
    df.to_csv(coll / 'train.csv', index=False)
    c = check(coll, r"line 12 .*duplicated id \(first on line 11\)", 'duplicated id')
    assert c.df.id.is_unique


def test_labels_without_separator(coll):
    lab = pd.read_csv(coll / 'labels.csv')
    lab.loc[0, 'attribute_name'] = 'china'
    lab.to_csv(coll / 'labels.csv', index=False)
    with pytest.raises(ValueError, match=r"labels.csv, line 2 \(id 0\): no '::' in attribute_name 'china'"):
        read_labels(coll / 'labels.csv')
    with pytest.raises(ValueError, match=r"labels.csv, line 2"):
        read_imet(coll)
    # skipping drops the label, and with it every item that uses it; each is counted
    n_use = sum('0' in s.split() for s in pd.read_csv(coll / 'train.csv', dtype=str).attribute_ids)
    with pytest.warns(UserWarning):
        c = read_imet(coll, on_bad='skip')
    assert c.report.counts()["no '::' in attribute_name"] == 1
    assert c.report.counts()['unknown attribute id'] == n_use and len(c) == 40 - n_use


def test_skip_counts_every_problem(coll):
    edit_items(coll, 0, attribute_ids='x')
    edit_items(coll, 1, attribute_ids='')
    (coll / 'train' / f"{pd.read_csv(coll / 'train.csv').id[2]}.jpg").unlink()
    with pytest.warns(UserWarning, match='skipped 3 bad row'):
        c = read_imet(coll, on_bad='skip')
    assert len(c) == 37 and c.report.to_df().line.tolist() == [2, 3, 4]
    assert dict(c.report.counts()) == {
        'non-integer attribute id': 1,
        'empty attribute list': 1,
        'image file not found': 1,
    }


def test_missing_files_and_columns(coll, tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.csv'):
        read_imet(coll, items='nope.csv')
    with pytest.raises(FileNotFoundError, match='image folder'):
        read_imet(coll, images='missing')
    pd.DataFrame(dict(id=['a'])).to_csv(coll / 'bad.csv', index=False)
    with pytest.raises(ValueError, match=r"bad.csv: missing column\(s\) \['attribute_ids'\]"):
        read_imet(coll, items='bad.csv')
    with pytest.raises(ValueError, match="on_bad must be"):
        read_imet(coll, on_bad='ignore')


def test_synthetic_dataloaders(synth_path):
    "(images, tokens) batches on the synthetic set; tokens decode back to the validation caption"
    from clipart.data.tokens import imet_dataloaders
    from clipart.data.captions import LabelCaptioner, caption_order

    c = read_imet(synth_path)
    dls = imet_dataloaders(c, size=64, bs=8, context_length=32, num_workers=0)
    x, y = dls.one_batch()
    assert tuple(x.shape) == (8, 3, 64, 64) and tuple(y.shape) == (8, 32)
    row = dls.valid_ds.items.iloc[0]
    assert dls.valid_ds.tls[1].decode(dls.valid_ds[0][1]) == LabelCaptioner(caption_order(c.groups)).caption(row)
