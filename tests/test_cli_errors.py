"""Expected user errors of the console scripts: one line naming what is wrong, a non-zero exit, checked before any
work."""

import subprocess, sys, shutil
from pathlib import Path
import pytest
import torch
from safetensors.torch import save_file
from clipart.cli.train import clipart_train

KW = dict(n_synthetic=60, epochs=1, bs=16, workers=0, pictures=False)


@pytest.mark.parametrize(
    'opts,msg',
    [
        (dict(bs=0), '--bs must be a positive integer, not 0'),
        (dict(lr=-1.0), '--lr must be positive, not -1.0'),
        (dict(epochs=0), '--epochs must be a positive integer, not 0'),
        (dict(valid_pct=0.0), '--valid-pct must be between 0 and 1 (exclusive), not 0.0'),
        (dict(valid_pct=1.0), '--valid-pct must be between 0 and 1 (exclusive), not 1.0'),
        (dict(valid_pct=-0.1), '--valid-pct must be between 0 and 1 (exclusive), not -0.1'),
        (dict(size=7), '--size must be at least 16 pixels, not 7'),
        (dict(algo='moco'), "--algo must be 'clip', 'siglip' or 'clip-moco', not 'moco'"),
        (dict(captions='words'), "--captions must be 'labels', 'text' or 'mixed', not 'words'"),
        (dict(algo='clip-moco', queue_size=0), '--queue-size must be a positive integer, not 0'),
        (dict(n_synthetic=0), '--n-synthetic must be at least 10, not 0'),
        (dict(micro_bs=64), '--micro-bs must be between 1 and --bs (16), not 64'),
        (dict(recipe='fast'), "--recipe must be one of art-cpu, not 'fast'"),
        (dict(ema=1.0), '--ema must be in (0, 1), e.g. 0.999, not 1.0'),
        (dict(lora_rank=0), '--lora-rank must be a positive integer, not 0'),
        (
            dict(freeze_epochs=1, lora_rank=4),
            '--freeze-epochs must be >= 0, and cannot be combined with --lora-rank or --resume (it is 1)',
        ),
        (
            dict(image_encoder='enc.safetensors', pretrained='start.pt'),
            '--image-encoder replaces the image tower of a new model: leave --pretrained out',
        ),
        (dict(metric='f1'), "--metric must be 'sample_f2' or 'micro_f1', not 'f1'"),
        (
            dict(label_aware='overlap'),
            "--label-aware must be 'same' or 'jaccard', with --algo clip and without --micro-bs (it is 'overlap', "
            "--algo clip)",
        ),
        (
            dict(label_aware='same', algo='siglip'),
            "--label-aware must be 'same' or 'jaccard', with --algo clip and without --micro-bs (it is 'same', --algo "
            "siglip)",
        ),
        (
            dict(hard_negatives=True, algo='siglip'),
            "--hard-negatives needs --algo clip and no --micro-bs (here --algo siglip, --micro-bs None)",
        ),
        (
            dict(hard_negatives=True, micro_bs=8),
            "--hard-negatives needs --algo clip and no --micro-bs (here --algo clip, --micro-bs 8)",
        ),
        (
            dict(image_encoder='no/such/encoder.safetensors'),
            '--image-encoder no/such/encoder.safetensors: file not found (an encoder.safetensors written by '
            'clipart-pretrain)',
        ),
    ],
)
def test_bad_options_are_one_line(tmp_path, opts, msg):
    with pytest.raises(SystemExit) as e:
        clipart_train(out=str(tmp_path / 'o'), **{**KW, **opts})
    assert str(e.value) == f'clipart-train: error: {msg}'
    assert not (tmp_path / 'o').exists()  # refused before any work


def test_bad_files_are_one_line(tmp_path, synth_path):
    def err(**kw):
        with pytest.raises(SystemExit) as e:
            clipart_train(out=str(tmp_path / 'o'), **{**KW, **kw})
        return str(e.value)

    assert (
        err(data=str(tmp_path / 'nowhere')) == f'clipart-train: error: --data {tmp_path / "nowhere"}: folder not found'
    )
    (tmp_path / 'empty').mkdir()
    assert err(data=str(tmp_path / 'empty')).startswith(
        f'clipart-train: error: --data {tmp_path / "empty"}: no labels.csv'
    )
    no_text = tmp_path / 'no_text'
    shutil.copytree(synth_path, no_text)
    (no_text / 'descriptions.csv').unlink()
    assert (
        err(data=str(no_text), captions='text')
        == f"clipart-train: error: --captions text needs free text, but {no_text / 'descriptions.csv'} does not exist "
        "(set --text)"
    )
    assert err(arch='no-such-model').startswith("clipart-train: error: unknown model 'no-such-model'")
    assert (
        err(pretrained=str(tmp_path / 'missing.safetensors'))
        == f"clipart-train: error: --pretrained {tmp_path / 'missing.safetensors'}: file not found"
    )
    (tmp_path / 'notes.txt').write_text('not weights')
    assert err(pretrained=str(tmp_path / 'notes.txt')).startswith(
        f"clipart-train: error: --pretrained {tmp_path / 'notes.txt'}"
    )
    save_file({'w': torch.zeros(1000)}, tmp_path / 'w.safetensors')
    (tmp_path / 'cut.safetensors').write_bytes((tmp_path / 'w.safetensors').read_bytes()[:500])
    assert err(pretrained=str(tmp_path / 'cut.safetensors')).startswith(
        f"clipart-train: error: --pretrained {tmp_path / 'cut.safetensors'}"
    )
    (tmp_path / 'p.json').write_text('{"medium": "of"}')
    assert err(templates=str(tmp_path / 'p.json')).startswith(
        f"clipart-train: error: {tmp_path / 'p.json'}: group 'medium'"
    )


def test_batch_larger_than_the_data_is_shrunk(tmp_path, capsys):
    res = clipart_train(out=str(tmp_path / 'o'), **{**KW, 'n_synthetic': 20, 'bs': 64})
    assert 'warning: --bs 64 is larger than the 16 training items: using --bs 16' in capsys.readouterr().out
    assert res['bs'] == 16 and all(h['train_loss'] == h['train_loss'] for h in res['history'])  # trained: no NaN loss


def test_console_script_exit_status_and_debug(tmp_path):
    exe = Path(sys.executable).parent / 'clipart-train'
    if not exe.exists():
        pytest.skip('console script not installed')
    r = subprocess.run([str(exe), '--bs', '0', '--out', str(tmp_path / 'o')], capture_output=True, text=True)
    assert (
        r.returncode != 0
        and r.stderr.strip().splitlines()[-1] == 'clipart-train: error: --bs must be a positive integer, not 0'
    ), r.stderr
    r = subprocess.run([str(exe), '--bs', '0', '--debug', '--out', str(tmp_path / 'o')], capture_output=True, text=True)
    assert r.returncode != 0 and 'Traceback' in r.stderr and 'UsageError' in r.stderr


def test_search_and_pretrain_errors_are_one_line(tmp_path):
    from clipart.cli.search import clipart_search
    from clipart.cli.pretrain import clipart_pretrain

    def err(f, **kw):
        with pytest.raises(SystemExit) as e:
            f(**kw)
        return str(e.value)

    assert (
        err(clipart_search, run=str(tmp_path)) == 'clipart-search: error: --text or --image: give exactly one of them'
    )
    assert (
        err(clipart_search, run=str(tmp_path), text='  ')
        == 'clipart-search: error: --text is empty: say what to look for'
    )
    assert (
        err(clipart_search, run=str(tmp_path), text='a vase', k=0)
        == 'clipart-search: error: --k must be a positive integer, not 0'
    )
    assert (
        err(clipart_search, run=str(tmp_path), text='a vase')
        == f'clipart-search: error: --run {tmp_path}: not a clipart-train output folder (model/ and index/ missing)'
    )
    assert (
        err(clipart_search, run=str(tmp_path), image=str(tmp_path / 'x.jpg'))
        == f"clipart-search: error: --image {tmp_path / 'x.jpg'}: file not found"
    )
    assert err(clipart_pretrain, algo='simsiam', out=str(tmp_path / 'p')).startswith(
        "clipart-pretrain: error: --algo must be one of simclr, moco"
    )
    assert (
        err(clipart_pretrain, bs=1, out=str(tmp_path / 'p'))
        == 'clipart-pretrain: error: --bs must be at least 2, not 1'
    )
    assert (
        err(clipart_pretrain, data=str(tmp_path / 'none'), out=str(tmp_path / 'p'))
        == f"clipart-pretrain: error: --data {tmp_path / 'none'}: folder not found"
    )


def test_search_index_and_query_files_are_checked(tmp_path):
    import numpy as np, pandas as pd
    from clipart.search.index import SearchIndex
    from clipart.cli.search import clipart_search

    idx = tmp_path / 'index'
    idx.mkdir()
    np.save(idx / 'image_embeddings.npy', np.eye(3, dtype=np.float32))
    pd.DataFrame(dict(id=['a', 'b'])).to_csv(idx / 'items.csv', index=False)
    with pytest.raises(
        ValueError, match=r"items.csv has 2 rows but image_embeddings.npy has 3: export the index again"
    ):
        SearchIndex.load(idx)
    (idx / 'image_embeddings.npy').write_bytes(b'\x93NUMPY garbage')
    with pytest.raises(ValueError, match=r"image_embeddings.npy: not a readable .npy array"):
        SearchIndex.load(idx)
    (tmp_path / 'model').mkdir()
    (tmp_path / 'notes.jpg').write_text('not an image')
    with pytest.raises(SystemExit) as e:
        clipart_search(run=str(tmp_path), image=str(tmp_path / 'notes.jpg'))
    assert (
        str(e.value)
        == f"clipart-search: error: --image {tmp_path / 'notes.jpg'}: not a readable image (UnidentifiedImageError)"
    )


def test_an_earlier_run_is_not_overwritten_silently(tmp_path):
    import os
    from clipart.cli.train import out_lock

    out = tmp_path / 'o'
    out.mkdir()
    (out / 'metrics.json').write_text('{}')
    with pytest.raises(SystemExit) as e:
        clipart_train(out=str(out), **KW)
    assert (
        str(e.value)
        == f"clipart-train: error: --out {out}: holds an earlier run (metrics.json): add --resume to continue it, "
        "--overwrite to replace it, or choose another --out"
    )
    # a live run holds the folder: a second one is refused; a dead run's lock is taken over
    (out / 'metrics.json').unlink()
    (out / '.lock').write_text(str(os.getppid()))
    with pytest.raises(SystemExit) as e:
        clipart_train(out=str(out), **KW)
    assert (
        str(e.value)
        == f"clipart-train: error: --out {out}: another run (pid {os.getppid()}) is writing there; wait for it or "
        "choose another --out"
    )
    (out / '.lock').write_text('999999999')
    with out_lock(out):
        assert (out / '.lock').read_text() == str(os.getpid())
    assert not (out / '.lock').exists()


def test_pretrain_names_an_unreadable_image(tmp_path):
    from PIL import Image
    from clipart.cli.pretrain import clipart_pretrain

    d = tmp_path / 'imgs'
    d.mkdir()
    for i in range(12):
        Image.new('RGB', (40, 40), (i * 20, 0, 0)).save(d / f'{i}.jpg')
    (d / 'cut.jpg').write_bytes((d / '0.jpg').read_bytes()[:300])
    with pytest.raises(SystemExit) as e:
        clipart_pretrain(data=str(d), epochs=1, bs=4, size=32, out=str(tmp_path / 'p'))
    assert str(e.value).startswith(f"clipart-pretrain: error: {d / 'cut.jpg'}: not a readable image"), str(e.value)
    # skipped and counted
    res = clipart_pretrain(data=str(d), epochs=1, bs=4, size=32, out=str(tmp_path / 'p'), skip_bad=True)
    assert res['args']['algo'] == 'simclr'


def test_items_without_free_text_are_counted(tmp_path, synth_path, capsys):
    import pandas as pd

    d = tmp_path / 'data'
    shutil.copytree(synth_path, d)
    desc = pd.read_csv(d / 'descriptions.csv', dtype=str, keep_default_na=False)
    desc.loc[:9, ['title', 'artist', 'year']] = ''
    desc.to_csv(d / 'descriptions.csv', index=False)
    res = clipart_train(data=str(d), captions='text', out=str(tmp_path / 'a'), **KW)
    assert '10 of 40 items have no free text: captioned from their labels' in capsys.readouterr().out
    res = clipart_train(data=str(d), captions='text', missing_text='skip', out=str(tmp_path / 'b'), **KW)
    assert '10 of 40 items have no free text: left out (--missing-text skip)' in capsys.readouterr().out
    assert res['n_train'] + res['n_valid'] == 30
    assert pd.read_csv(tmp_path / 'b' / 'skipped.csv').kind.tolist() == ['no free text'] * 10


def test_pretrained_of_another_architecture_is_named(tmp_path):
    from clipart.multimodal.models import create_clip_model, save_clip

    save_clip(create_clip_model('clipart-tiny-rn'), tmp_path / 'rn.safetensors')
    with pytest.raises(SystemExit) as e:
        clipart_train(pretrained=str(tmp_path / 'rn.safetensors'), out=str(tmp_path / 'o'), **KW)
    assert (
        str(e.value)
        == f"clipart-train: error: --pretrained {tmp_path / 'rn.safetensors'} holds clipart-tiny-rn, not --arch "
        "clipart-tiny-vit: add --arch clipart-tiny-rn"
    )


def test_pretrain_batch_larger_than_the_data_is_shrunk(tmp_path, capsys):
    from PIL import Image
    from clipart.cli.pretrain import clipart_pretrain

    d = tmp_path / 'imgs'
    d.mkdir()
    for i in range(10):
        Image.new('RGB', (40, 40), (i * 20, 0, 0)).save(d / f'{i}.png')
    res = clipart_pretrain(data=str(d), epochs=1, bs=64, size=32, out=str(tmp_path / 'p'))
    assert 'warning: --bs 64 is larger than the 8 training images: using --bs 8' in capsys.readouterr().out
    assert res['history'][0]['train_loss'] == res['history'][0]['train_loss']  # a number: it trained


def test_museum_group_names_and_tiny_validation_sets(tmp_path, synth_path):
    # group names with '.' and braces, and only 4 validation items with pictures on: the whole job runs
    import pandas as pd

    d = tmp_path / 'data'
    shutil.copytree(synth_path, d)
    lab = pd.read_csv(d / 'labels.csv', dtype=str)
    lab['attribute_name'] = lab.attribute_name.str.replace('medium::', 'obj.type::').str.replace(
        'dimension::', 'size {cm}::'
    )
    lab.to_csv(d / 'labels.csv', index=False)
    res = clipart_train(
        data=str(d), out=str(tmp_path / 'o'), **{**KW, 'n_synthetic': 20, 'pictures': True, 'valid_pct': 0.1}
    )
    assert (
        res['n_valid'] == 4
        and {'obj.type', 'size {cm}'} <= set(res['trained']['zero_shot'])
        and 'obj.type' in res['trained']['linear_probe']
    )
    assert (tmp_path / 'o' / 'retrieval.png').exists()


def test_a_recipe_fills_only_the_options_not_given(capsys):
    from clipart.run.config import TrainConfig, RECIPES

    r = TrainConfig.resolve(dict(recipe='art-cpu', epochs=3))
    assert r.epochs == 3  # given by the user: kept
    assert all(getattr(r, k) == v for k, v in RECIPES['art-cpu'].items() if k != 'epochs')
    assert capsys.readouterr().out.startswith('recipe art-cpu: --arch ')  # says what it set
    assert TrainConfig.resolve(dict(recipe='art-cpu', epochs=12)).epochs == 12  # given, even at the default: kept


def test_resume_with_a_checkpoint_of_another_optimiser_is_one_line(tmp_path):
    """A run written before FusedAdam (fastai's Optimizer state) is refused on --resume by name, not by fastai's
    callback wrapper line"""
    out = tmp_path / 'o'
    clipart_train(out=str(out), **KW)
    ck = out / 'checkpoint.pth'
    s = torch.load(ck, weights_only=True)
    assert 'param_groups' in s['opt']  # clipart-train checkpoints torch's FusedAdam state
    s['opt'] = {'state': [], 'hypers': []}
    torch.save(s, ck)  # as fastai's Adam wrote it
    with pytest.raises(SystemExit) as e:
        clipart_train(out=str(out), resume=True, **KW)
    assert str(e.value) == (
        f"clipart-train: error: {ck} holds the state of fastai's Optimizer, this run uses a torch optimiser: "
        "resume with the optimiser it was written with, or train into another folder"
    )


def test_label_and_review_errors_are_one_line(tmp_path):
    "clipart-label and clipart-serve --review, as console scripts: what a user gets wrong first is one line"
    bin_ = Path(sys.executable).parent
    if not (bin_ / 'clipart-label').exists():
        pytest.skip('console scripts not installed')

    def err(*args):
        r = subprocess.run([str(bin_ / args[0]), *args[1:]], capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode != 0, r.stdout
        return r.stderr.strip().splitlines()[-1]

    assert (
        err('clipart-label')
        == 'clipart-label: error: --images is needed: a folder of images or a CSV of image paths to label'
    )
    assert err('clipart-label', '--images', 'nope') == 'clipart-label: error: --images nope: not found'
    assert (
        err('clipart-label', 'export', '--out', 'x')
        == 'clipart-label: error: --db is needed: the review database to export (clipart-serve --review DB)'
    )
    assert (
        err('clipart-label', 'export', '--db', 'nope.sqlite', '--out', 'x')
        == 'clipart-label: error: --db nope.sqlite: not found'
    )
    assert err('clipart-label', 'relabel').startswith("clipart-label: error: 'relabel': not a command")
    # a server that writes, reachable from other machines, without a token: refused before anything loads
    assert 'needs --token' in err('clipart-serve', '--host', '0.0.0.0', '--review', 'cat.sqlite')
    assert 'too short' in err('clipart-serve', '--host', '0.0.0.0', '--review', 'cat.sqlite', '--token', 'abc')
    assert not (tmp_path / 'cat.sqlite').exists()


@pytest.fixture(scope='module')
def small_run(tmp_path_factory, synth_path):
    "One tiny trained run (1 epoch on the 40 synthetic items)"
    out = tmp_path_factory.mktemp('runs') / 'run'
    clipart_train(data=str(synth_path), out=str(out), **KW)
    return out


def _broken_copies(run, tmp_path):
    "Copies of `run` as an interrupted copy or a full disk leaves them, and what each tool must say"

    def copy(name, fix):
        d = tmp_path / name
        shutil.copytree(run, d)
        fix(d / 'model')
        return d

    w = 'open_clip_model.safetensors'
    return {
        copy('noweights', lambda m: (m / w).unlink()): 'a model config but no weights file',
        copy('cut', lambda m: (m / w).write_bytes((m / w).read_bytes()[:4000])): 'not a complete .safetensors file',
        copy('empty', lambda m: (m / w).write_bytes(b'')): 'empty file (0 bytes)',
        copy('noconfig', lambda m: (m / 'open_clip_config.json').unlink()): 'no open_clip_config.json',
    }


def test_no_tool_answers_with_an_untrained_model(small_run, synth_path, tmp_path):
    """A run whose weights are missing or cut short is refused by every entry point, naming the file: never a random
    model's numbers"""
    from clipart.cli.eval import clipart_eval
    from clipart.cli.search import clipart_search
    from clipart.cli.serve import clipart_serve
    from clipart.cli.label import clipart_label

    calls = {
        'clipart-eval': lambda r: clipart_eval(model=str(r), data=str(synth_path), probes=False),
        'clipart-search': lambda r: clipart_search(run=str(r), text='a vase'),
        'clipart-serve': lambda r: clipart_serve(run=str(r), port=8799),
        'clipart-label': lambda r: clipart_label(run=str(r), images=str(synth_path / 'train')),
    }
    for r, msg in _broken_copies(small_run, tmp_path).items():
        for prog, f in calls.items():
            with pytest.raises(SystemExit) as e:
                f(r)
            assert (
                str(e.value).startswith(f'{prog}: error: ') and str(r / 'model') in str(e.value) and msg in str(e.value)
            ), (prog, str(e.value))
    # a single .safetensors file cut short, as --model and as --pretrained
    from clipart.multimodal.models import save_clip, load_clip

    f = save_clip(load_clip(small_run / 'model'), tmp_path / 'm.safetensors')
    f.write_bytes(f.read_bytes()[:5000])
    with pytest.raises(SystemExit, match=f'clipart-eval: error: {f}: not a complete .safetensors file'):
        clipart_eval(model=str(f), data=str(synth_path))
    with pytest.raises(SystemExit, match=f'clipart-train: error: --pretrained {f}: not a complete .safetensors file'):
        clipart_train(pretrained=str(f), out=str(tmp_path / 'o'), **KW)


def test_model_file_messages_say_what_is_expected(tmp_path, synth_path):
    from clipart.cli.eval import clipart_eval

    def err(f, **kw):
        with pytest.raises(SystemExit) as e:
            f(**kw)
        return str(e.value)

    (tmp_path / 'notes.txt').write_text('my notes')
    torch.save({'a': torch.zeros(2)}, tmp_path / 'x.pth')
    assert err(clipart_train, pretrained=str(tmp_path / 'notes.txt'), out=str(tmp_path / 'o'), **KW) == (
        f"clipart-train: error: --pretrained {tmp_path / 'notes.txt'}: not a weights file: a .safetensors file or a "
        "torch file of tensors (.pt, .pth, .bin) is expected"
    )
    assert err(clipart_train, pretrained=str(tmp_path / 'x.pth'), out=str(tmp_path / 'o'), **KW).startswith(
        f"clipart-train: error: --pretrained {tmp_path / 'x.pth'}: does not fit clipart-tiny-vit: "
    )
    assert err(clipart_train, image_encoder=str(tmp_path / 'x.pth'), out=str(tmp_path / 'o'), **KW).startswith(
        f"clipart-train: error: --image-encoder {tmp_path / 'x.pth'}: not an image encoder written by clipart-pretrain"
    )
    assert 'the encoder.safetensors clipart-pretrain writes' in err(
        clipart_train, image_encoder=str(tmp_path / 'notes.txt'), out=str(tmp_path / 'o'), **KW
    )
    assert err(clipart_eval, model='o/nosuch_run', data=str(synth_path)) == (
        'clipart-eval: error: --model o/nosuch_run: no such run folder or model file (nor an open_clip model name)'
    )
    assert (
        err(clipart_eval, model='clipart-tiny-vit')
        == 'clipart-eval: error: --data is required: the iMet-layout folder (or CSV of image paths and captions) to '
        'score'
    )


def test_csv_separator_and_skipped_rows_are_said_once(tmp_path, synth_path, capsys):
    import warnings, pandas as pd

    imgs = sorted((synth_path / 'train').glob('*.jpg'))
    pd.DataFrame(dict(filepath=[str(p) for p in imgs], title=[f'work {i}' for i in range(len(imgs))])).to_csv(
        tmp_path / 'pairs.tsv', index=False
    )
    with pytest.raises(SystemExit) as e:
        clipart_train(data=str(tmp_path / 'pairs.tsv'), out=str(tmp_path / 'o'), **KW)
    assert str(e.value).endswith("is the separator ','? add --csv-separator ','"), str(e.value)
    d = tmp_path / 'data'
    shutil.copytree(synth_path, d)
    (d / 'train' / 'syn00003.jpg').write_text('garbage')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        capsys.readouterr()
        clipart_train(data=str(d), skip_bad=True, out=str(tmp_path / 's'), **KW)
    out = capsys.readouterr().out
    assert (
        out.count('bad row') == 1
        and 'ReadReport' not in out
        and f"skipped 1 bad row(s): not a readable image 1; listed in {tmp_path / 's' / 'skipped.csv'}" in out
    ), out
    assert not [x for x in w if 'skipped' in str(x.message)]  # no Python warning line beside it


def test_eval_scores_a_collection_without_attributes(small_run, synth_path, tmp_path):
    "A CSV of image paths and captions: retrieval only, as clipart-train reports it"
    import pandas as pd
    from clipart.cli.eval import clipart_eval

    imgs = sorted((synth_path / 'train').glob('*.jpg'))
    pd.DataFrame(dict(filepath=[str(p) for p in imgs], title=[f'work {i}' for i in range(len(imgs))])).to_csv(
        tmp_path / 'pairs.csv', index=False
    )
    res = clipart_eval(model=str(small_run), data=str(tmp_path / 'pairs.csv'))
    assert set(res['trained']) == {'retrieval'} and res['n_valid'] == 8 and res['trained']['retrieval']['i2t_R@1'] < 1


def test_a_run_folder_works_from_anywhere_and_after_a_move(tmp_path, synth_path, monkeypatch):
    """Trained from one folder with a relative --data; searched, served and exported from another; moved with its
    collection; the collection moved alone"""
    from clipart.cli.search import clipart_search
    from clipart.cli.serve import clipart_serve
    from clipart.app.pages import gallery_app
    from clipart.app.gallery import Gallery
    from starlette.testclient import TestClient

    a = tmp_path / 'a'
    shutil.copytree(synth_path, a / 'data')
    monkeypatch.chdir(a)
    clipart_train(data='data', out='run', **KW)
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    hits = clipart_search(run=str(a / 'run'), text='a porcelain vase', out=str(elsewhere / 's.png'))
    assert len(hits) == 8 and (elsewhere / 's.png').exists()
    c = TestClient(gallery_app(Gallery(a / 'run')))
    assert c.get('/thumb?row=0').headers['content-type'] == 'image/jpeg'
    b = tmp_path / 'b'
    shutil.move(a, b)  # the run and its collection moved together (another disk, another machine)
    assert len(clipart_search(run=str(b / 'run'), text='a porcelain vase', out=str(elsewhere / 's.png'))) == 8
    shutil.move(b / 'data', tmp_path / 'data2')  # the collection alone moved: one line naming the option
    for f, prog in (
        (lambda **k: clipart_search(run=str(b / 'run'), text='vase', **k), 'clipart-search'),
        (lambda **k: clipart_serve(run=str(b / 'run'), port=8799, **k), 'clipart-serve'),
    ):
        with pytest.raises(SystemExit) as e:
            f()
        assert str(e.value).startswith(f'{prog}: error: {b / "run"}: its images are no longer in ') and str(
            e.value
        ).endswith('give its new place with --images-root'), str(e.value)
    assert (
        len(
            clipart_search(
                run=str(b / 'run'),
                text='vase',
                images_root=str(tmp_path / 'data2' / 'train'),
                out=str(elsewhere / 's.png'),
            )
        )
        == 8
    )
    with pytest.raises(SystemExit, match='--images-root .*: folder not found'):
        clipart_search(run=str(b / 'run'), text='vase', images_root=str(tmp_path / 'nowhere'))
    c = TestClient(gallery_app(Gallery(b / 'run', images_root=tmp_path / 'data2' / 'train')))
    assert c.get('/thumb?row=3').headers['content-type'] == 'image/jpeg'


def test_a_failing_write_stops_the_run_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    """The disk fills up while epoch 2's checkpoint is written: one line, epoch 1's checkpoint intact, --resume finishes
    the run"""
    import errno
    from clipart.training import load_training_state

    out, real, calls = tmp_path / 'o', torch.save, []

    def save(obj, f, *a, **k):
        calls.append(f)
        if len(calls) == 2:
            Path(f).write_bytes(b'half a checkpoint')
            raise RuntimeError(
                '[enforce fail at inline_container.cc:858] . PytorchStreamWriter failed writing file data/3: file '
                'write failed'
            )
        return real(obj, f, *a, **k)

    monkeypatch.setattr(torch, 'save', save)
    with pytest.raises(SystemExit) as e:
        clipart_train(out=str(out), **{**KW, 'epochs': 3})
    assert str(e.value) == (
        f"clipart-train: error: {out / 'checkpoint.pth'}: cannot write the checkpoint (PytorchStreamWriter failed "
        "writing file data/3: file write failed): "
        "the previous one is kept; free some space or write elsewhere"
    ), str(e.value)
    monkeypatch.setattr(torch, 'save', real)
    assert load_training_state(out / 'checkpoint.pth')['epoch'] == 0 and not (out / 'checkpoint.pth.tmp').exists()
    assert len(clipart_train(out=str(out), resume=True, **{**KW, 'epochs': 3})['history']) == 3

    # an output folder that turns read-only before the metrics are written: one line naming the file
    def read_only(self, *a, **k):
        raise OSError(errno.EROFS, 'Read-only file system', str(self))

    monkeypatch.setattr(Path, 'write_text', read_only)
    with pytest.raises(SystemExit) as e:
        clipart_train(out=str(tmp_path / 'ro'), **KW)
    assert (
        str(e.value)
        == f"clipart-train: error: {tmp_path / 'ro' / 'config.json'}: cannot be written (Read-only file system)"
    ), str(e.value)


def _scripts():
    """Each console script's function, its arguments, and the first thing it calls inside its error boundary (where a
    failure is injected)"""
    from clipart.cli.pretrain import clipart_pretrain
    from clipart.cli.eval import clipart_eval
    from clipart.cli.search import clipart_search
    from clipart.cli.label import clipart_label
    from clipart.cli.serve import clipart_serve
    from clipart.cli.imports import clipart_import
    from clipart.cli.onnx import clipart_export_onnx
    from clipart.cli.shards import clipart_shards
    from clipart.run.config import TrainConfig, PretrainConfig, EvalConfig, ImportConfig, ShardsConfig
    from clipart.run.folder import RunFolder

    return {
        'clipart-train': (clipart_train, dict(out='o'), (TrainConfig, 'check')),
        'clipart-pretrain': (clipart_pretrain, dict(out='o'), (PretrainConfig, 'check')),
        'clipart-eval': (clipart_eval, dict(model='m'), (EvalConfig, 'check')),
        'clipart-search': (clipart_search, dict(run='r', text='vase'), (RunFolder, 'check')),
        'clipart-label': (clipart_label, dict(run='r', images='i'), (RunFolder, 'check')),
        'clipart-serve': (clipart_serve, dict(run='r'), (RunFolder, 'check')),
        'clipart-import': (clipart_import, dict(src='x.csv', out='o'), (ImportConfig, 'check')),
        'clipart-export-onnx': (clipart_export_onnx, dict(run='r'), (RunFolder, 'check')),
        'clipart-shards': (clipart_shards, dict(command='write', src='s', out='o'), (ShardsConfig, 'check')),
    }


def _errors():
    "What the system or SQLite raises, and the line each must become"
    import errno, os, sqlite3
    from clipart.catalogue.core import DatabaseUnavailable

    e = lambda no: OSError(no, os.strerror(no), 'out/p.csv')
    return [
        (e(errno.EEXIST), 'out/p.csv: File exists'),
        (e(errno.ENOTDIR), 'out/p.csv: Not a directory'),
        (e(errno.EACCES), 'out/p.csv: Permission denied'),
        (e(errno.EROFS), 'out/p.csv: cannot be written (Read-only file system)'),
        (e(errno.ENOSPC), 'out/p.csv: cannot be written (No space left on device)'),
        (
            DatabaseUnavailable('cat.sqlite', sqlite3.OperationalError('database is locked')),
            'cat.sqlite: the review database is busy: another process is writing to it; try again in a moment '
            '(SQLite: database is locked)',
        ),
        (
            DatabaseUnavailable('cat.sqlite', sqlite3.OperationalError('attempt to write a readonly database')),
            'cat.sqlite: the review database cannot be written: check that the file and its folder are writable '
            '(SQLite: attempt to write a readonly database)',
        ),
        (sqlite3.DatabaseError('file is not a database'), 'the review database: file is not a database (SQLite)'),
    ]


@pytest.mark.parametrize(
    'prog',
    [
        'clipart-train',
        'clipart-pretrain',
        'clipart-eval',
        'clipart-search',
        'clipart-label',
        'clipart-serve',
        'clipart-import',
        'clipart-export-onnx',
        'clipart-shards',
    ],
)
def test_every_script_turns_os_and_sqlite_errors_into_one_line(prog, monkeypatch, tmp_path):
    """One error boundary: each console script, fed each OS and SQLite error, ends with one line naming the path and the
    reason"""
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'i').mkdir()
    fn, args, (cls, name) = _scripts()[prog]
    for err, line in _errors():

        def fail(*a, **k):
            raise err

        monkeypatch.setattr(cls, name, fail)
        with pytest.raises(SystemExit) as e:
            fn(**args)
        assert str(e.value) == f'{prog}: error: {line}', str(e.value)


def test_bad_files_in_the_cataloguing_loop_are_one_line(tmp_path):
    "The cases users hit: --out through a file, export into a used folder, null in a --config file, --lr inf"
    from clipart.cli.label import clipart_label
    from clipart.catalogue.core import CatalogueDB

    (tmp_path / 'notes.txt').write_text('x')
    run = Path(__file__).parent / 'data' / 'run_0.1' / 'run'
    imgs = tmp_path / 'imgs'
    imgs.mkdir()
    with pytest.raises(SystemExit) as e:
        clipart_label(run=str(run), images=str(imgs), out=str(tmp_path / 'notes.txt' / 'p.csv'))
    # before any image is read
    assert str(e.value) == f"clipart-label: error: {tmp_path / 'notes.txt'}: File exists", str(e.value)
    db = CatalogueDB(tmp_path / 'cat.sqlite')
    used = tmp_path / 'used'
    used.mkdir()
    (used / 'a').write_text('x')
    with pytest.raises(SystemExit) as e:
        clipart_label('export', run=str(run), db=str(db.path), out=str(used))
    assert (
        str(e.value)
        == f'clipart-label: error: {used}: exists and is not an empty folder: export into a new folder (nothing was '
        'written)'
    ), str(e.value)
    (tmp_path / 'c.json').write_text('{"bs": null}')
    with pytest.raises(SystemExit) as e:
        clipart_train(
            config=str(tmp_path / 'c.json'), out=str(tmp_path / 'o'), **{k: v for k, v in KW.items() if k != 'bs'}
        )
    assert (
        str(e.value)
        == f"clipart-train: error: --config {tmp_path / 'c.json'}: bs is null: give a int or leave it out (default 64)"
    ), str(e.value)
    with pytest.raises(SystemExit) as e:
        clipart_train(out=str(tmp_path / 'o'), **{**KW, 'lr': float('inf')})
    assert str(e.value) == 'clipart-train: error: --lr must be a finite number, not inf'
    assert not (tmp_path / 'o').exists()


def test_a_free_text_run_has_nothing_to_propose(tmp_path, synth_path, monkeypatch):
    "A run trained on free-text captions has no vocabulary: clipart-label says so (not '0 curated items: too few')"
    import pandas as pd
    from clipart.cli.label import clipart_label

    imgs = sorted(str(p) for p in (Path(synth_path) / 'train').iterdir())[:40]
    pd.DataFrame(dict(filepath=imgs, title=[f'a painting, number {i}' for i in range(len(imgs))])).to_csv(
        tmp_path / 'pairs.csv', index=False
    )
    clipart_train(data=str(tmp_path / 'pairs.csv'), out=str(tmp_path / 'run'), **KW)
    (tmp_path / 'new').mkdir()
    shutil.copy(imgs[0], tmp_path / 'new')
    with pytest.raises(SystemExit) as e:
        clipart_label(run=str(tmp_path / 'run'), images=str(tmp_path / 'new'))
    assert 'has no attribute vocabulary' in str(e.value) and 'trained on free-text captions' in str(e.value), str(
        e.value
    )
    # and clipart-eval reads the run's config.json: that run, on its data
    from clipart.run.config import EvalConfig

    ev = EvalConfig.resolve({}, config=tmp_path / 'run' / 'config.json')
    assert (ev.model, ev.data) == (str(tmp_path / 'run'), str(tmp_path / 'pairs.csv'))
