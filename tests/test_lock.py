"""Every CLIP trainer locks a tower the same way (LockTower): the locked tower's weights do not move, the other tower's
do."""

import pytest, torch
from fastai.basics import Learner
from clipart.data.imet import read_imet
from clipart.data.tokens import imet_dataloaders
from clipart.data.synthetic import make_synthetic_imet
from clipart.multimodal.models import create_clip_model
from clipart.multimodal.clip import CLIPTrainer, LockTower
from clipart.multimodal.clip_moco import CLIPMOCOTrainer
from clipart.multimodal.adapt import tower_params

TRAINERS = dict(
    clip=lambda lock: CLIPTrainer(lock=lock),
    siglip=lambda lock: CLIPTrainer(loss='siglip', lock=lock),
    clip_moco=lambda lock: CLIPMOCOTrainer(queue_size=32, momentum=0.9, lock=lock),
)


@pytest.fixture(scope='module')
def dls(tmp_path_factory):
    coll = read_imet(make_synthetic_imet(tmp_path_factory.mktemp('s'), n=48, seed=0))
    return imet_dataloaders(coll, size=32, bs=16, context_length=16, num_workers=0, seed=0)


@pytest.mark.parametrize('lock', ['image', 'text'])
@pytest.mark.parametrize('algo', list(TRAINERS))
@pytest.mark.parametrize('how', ['Learner(cbs=)', 'fit(cbs=)'])
def test_the_locked_tower_does_not_move(dls, algo, lock, how):
    torch.manual_seed(0)
    model = create_clip_model('clipart-tiny-vit', image_size=32, context_length=16, siglip=algo == 'siglip')
    other = 'text' if lock == 'image' else 'image'
    locked0 = [p.detach().clone() for p in tower_params(model, lock)]
    free0 = [p.detach().clone() for p in tower_params(model, other)]
    trainer = TRAINERS[algo](lock)
    learn = Learner(dls, model, cbs=trainer if how == 'Learner(cbs=)' else None)
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, 1e-3, cbs=trainer if how == 'fit(cbs=)' else None)
    # added once; the lock stays with the learner (as requires_grad does)
    assert sum(isinstance(c, LockTower) for c in learn.cbs) == 1
    locked1, free1 = tower_params(learn.model, lock), tower_params(learn.model, other)
    assert len(locked1) == len(locked0) > 0
    assert all(torch.equal(a, b) for a, b in zip(locked0, locked1)), f"{algo} moved the locked {lock} tower"
    assert sum(not torch.equal(a, b) for a, b in zip(free0, free1)) > len(free0) // 2, (
        f"{algo} did not train the {other} tower"
    )
    assert all(not p.requires_grad for p in locked1)
