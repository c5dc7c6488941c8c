"Distributed pieces on CPU with gloo: queue keys gathered from every rank; callbacks unwrap DDP's `.module`."

import fastai.callback.progress  # noqa: F401 (Learner.no_bar, in the spawned processes too)
import os, socket
from pathlib import Path
import pytest, torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel as DDP

pytestmark = pytest.mark.slow  # the slow tier: `pytest --slow`


def finish():
    """Wait for every rank, then leave without running C++ teardown: gloo's occasionally aborts at exit ('terminate
    called without an active exception')"""
    dist.barrier()
    os._exit(0)  # results are already on disk; a crash before this line still fails the test


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _enqueue_worker(rank, world, port, out):
    from clipart.momentum import FeatureQueue

    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world)
    torch.manual_seed(0)
    q = FeatureQueue(7, 2)
    q.enqueue(torch.full((3, 2), float(rank + 1)))  # 3 keys per rank: 6 in all
    torch.save(q.state_dict(), Path(out) / f'{rank}.pt')
    finish()


def test_queue_enqueues_keys_of_all_ranks(tmp_path):
    mp.spawn(_enqueue_worker, args=(2, free_port(), str(tmp_path)), nprocs=2)
    a, b = [torch.load(tmp_path / f'{r}.pt', weights_only=True) for r in (0, 1)]
    torch.testing.assert_close(a['feats'], b['feats'])  # every rank holds the same queue
    assert a['ptr'].item() == 6
    torch.testing.assert_close(a['feats'][:6], torch.tensor([[1.0, 1]] * 3 + [[2.0, 2]] * 3))


@pytest.fixture
def one_process_group():
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{free_port()}', rank=0, world_size=1)
    yield
    dist.destroy_process_group()


@pytest.mark.parametrize('algo', ['clip', 'clip-moco'])
def test_trainers_unwrap_ddp(one_process_group, synth_path, tmp_path, algo):
    from fastai.basics import Learner
    from clipart.data.imet import read_imet
    from clipart.data.tokens import imet_dataloaders
    from clipart.multimodal.models import create_clip_model, save_clip, load_clip, clip_of
    from clipart.multimodal.clip import CLIPTrainer
    from clipart.multimodal.clip_moco import CLIPMOCOTrainer
    from clipart.multimodal.clip_moco import MomentumCLIP

    dls = imet_dataloaders(read_imet(synth_path), size=64, bs=8, context_length=32, num_workers=0)
    m = create_clip_model('clipart-tiny-vit')
    if algo == 'clip-moco':
        m, cb = MomentumCLIP(m, queue_size=12), CLIPMOCOTrainer(queue_size=12)
    else:
        cb = CLIPTrainer()
    learn = Learner(dls, DDP(m), cbs=cb)
    with torch.no_grad():
        clip_of(learn.model).logit_scale.fill_(6.0)
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, 1e-4)
    # clamped through .module
    assert clip_of(learn.model).logit_scale.item() <= torch.log(torch.tensor(100.0)).item() + 1e-6
    save_clip(learn.model, tmp_path / 'm')
    torch.testing.assert_close(load_clip(tmp_path / 'm').logit_scale, clip_of(learn.model).logit_scale)


def _batch(n=8):
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 3, 64, 64, generator=g), torch.randint(1, 49000, (n, 32), generator=g)


def _loss_and_grads(algo, rank=0, world=1):
    "This rank's loss and (DDP-averaged when distributed) gradients on its slice of a fixed batch of 8"
    from clipart.multimodal.models import create_clip_model
    from clipart.multimodal.losses import create_loss, QueueClipLoss
    from clipart.multimodal.clip_moco import MomentumCLIP

    torch.manual_seed(0)
    m = create_clip_model('clipart-tiny-vit', siglip=algo == 'siglip')
    if algo == 'clip-moco':
        m = MomentumCLIP(m, queue_size=6)
    net = DDP(m) if world > 1 else m
    imgs, toks = _batch()
    n = len(imgs) // world
    out = net(imgs[rank * n : (rank + 1) * n], toks[rank * n : (rank + 1) * n])
    if algo == 'clip-moco':
        loss = QueueClipLoss(alpha=0.4)(*out, m.img_queue.feats, m.txt_queue.feats)
    else:
        loss = create_loss(algo, rank=rank, world_size=world)(*out)
    loss.backward()
    online = m.online if algo == 'clip-moco' else m
    return loss.detach(), {k: p.grad.clone() for k, p in online.named_parameters() if p.grad is not None}


def _equivalence_worker(rank, world, port, out, algo):
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world)
    loss, grads = _loss_and_grads(algo, rank, world)
    losses = [torch.zeros(()) for _ in range(world)]
    dist.all_gather(losses, loss)
    if rank == 0:
        torch.save(dict(loss=torch.stack(losses).mean(), grads=grads), Path(out) / f'{algo}.pt')
    finish()


@pytest.mark.parametrize('algo', ['clip', 'siglip', 'clip-moco'])
def test_two_process_loss_and_gradients_equal_single_process(tmp_path, algo):
    "2 gloo processes x 4 items, losses gathered with gradients, give the loss and gradients of 1 process x 8 items"
    mp.spawn(_equivalence_worker, args=(2, free_port(), str(tmp_path), algo), nprocs=2)
    ddp = torch.load(tmp_path / f'{algo}.pt', weights_only=True)
    loss, grads = _loss_and_grads(algo)
    torch.testing.assert_close(ddp['loss'], loss, rtol=1e-5, atol=1e-6)
    assert ddp['grads'].keys() == grads.keys() and len(grads) > 10
    for k in grads:
        torch.testing.assert_close(ddp['grads'][k], grads[k], rtol=1e-4, atol=1e-6, msg=k)


def _ssl_loss_and_grads(algo, rank=0, world=1):
    "A linear 'encoder' on 4 views of a fixed batch of 8: this rank's loss, gradients (DDP-averaged) and DINO's centre"
    from clipart.vision.simclr import NTXentLoss
    from clipart.vision.barlow_twins import BarlowTwinsLoss
    from clipart.vision.swav import SwAVLoss
    from clipart.vision.dino import DINOLoss, update_center

    torch.manual_seed(0)
    lin = torch.nn.Linear(16, 8)
    net = DDP(lin) if world > 1 else lin
    views = torch.randn(4, 8, 16, generator=torch.Generator().manual_seed(1))
    n = 8 // world
    # one forward: DDP wants one per backward
    z = list(net(torch.cat([v[rank * n : (rank + 1) * n] for v in views])).split(n))
    center = torch.zeros(1, 8)
    if algo == 'simclr':
        loss = NTXentLoss(0.5)(z[0], z[1])
    elif algo == 'barlow_twins':
        loss = BarlowTwinsLoss(0.1)(z[0], z[1])
    elif algo == 'swav':
        loss = SwAVLoss(0.1, eps=0.5)(z)
    elif algo == 'dino':
        loss = DINOLoss(0.1)(z, [t.detach() for t in z[:2]], center, 0.5)
        update_center(center, [t.detach() for t in z[:2]], 0.5)
    loss.backward()
    return loss.detach(), {k: p.grad.clone() for k, p in lin.named_parameters()}, center


def _ssl_worker(rank, world, port, out, algo):
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world)
    loss, grads, center = _ssl_loss_and_grads(algo, rank, world)
    losses = [torch.zeros(()) for _ in range(world)]
    dist.all_gather(losses, loss)
    if rank == 0:
        torch.save(dict(loss=torch.stack(losses).mean(), grads=grads, center=center), Path(out) / f'{algo}.pt')
    finish()


@pytest.mark.parametrize('algo', ['simclr', 'barlow_twins', 'swav', 'dino'])
def test_ssl_losses_two_processes_equal_one(tmp_path, algo):
    """SimCLR's cross-rank mask, Barlow Twins' gathered correlation, SwAV's cross-rank Sinkhorn and DINO's centre: 2 x 4
    items == 1 x 8"""
    mp.spawn(_ssl_worker, args=(2, free_port(), str(tmp_path), algo), nprocs=2)
    ddp = torch.load(tmp_path / f'{algo}.pt', weights_only=True)
    loss, grads, center = _ssl_loss_and_grads(algo)
    torch.testing.assert_close(ddp['loss'], loss, rtol=1e-5, atol=1e-6)
    for k in grads:
        torch.testing.assert_close(ddp['grads'][k], grads[k], rtol=1e-4, atol=1e-6, msg=k)
    torch.testing.assert_close(ddp['center'], center)


def _trainer_step(rank, world):
    "One SGD step of a Learner with `CLIPTrainer` on this rank's share of a fixed batch of 8; the weights after it"
    from fastai.basics import Learner, DataLoaders, SGD, noop
    from fastai.data.load import DataLoader
    from clipart.multimodal.models import create_clip_model, clip_of
    from clipart.multimodal.clip import CLIPTrainer

    torch.manual_seed(0)
    m = create_clip_model('clipart-tiny-vit')
    x, t = _batch(8)
    n = 8 // world
    items = [(x[i], t[i]) for i in range(rank * n, (rank + 1) * n)]
    dls = DataLoaders(DataLoader(items, bs=n), DataLoader(items, bs=n))
    # CLIPTrainer sets the loss
    learn = Learner(dls, DDP(m) if world > 1 else m, loss_func=noop, opt_func=SGD, lr=0.5, wd=0.0, cbs=CLIPTrainer())
    with learn.no_bar(), learn.no_logging():
        learn.fit(1)
    return {k: v.detach().clone() for k, v in clip_of(learn.model).state_dict().items()}


def _trainer_worker(rank, world, port, out):
    # mp.spawn + TCP init: no RANK / WORLD_SIZE in the environment, so the rank must come from torch.distributed
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world)
    w = _trainer_step(rank, world)
    if rank == 0:
        torch.save(w, Path(out) / 'w.pt')
    finish()


def test_clip_trainer_across_two_spawned_processes_equals_one(tmp_path, monkeypatch):
    for v in ['RANK', 'WORLD_SIZE', 'LOCAL_RANK']:
        monkeypatch.delenv(v, raising=False)
    mp.spawn(_trainer_worker, args=(2, free_port(), str(tmp_path)), nprocs=2)
    two, one = torch.load(tmp_path / 'w.pt', weights_only=True), _trainer_step(0, 1)
    start = {k: v for k, v in _start_weights().items()}
    moved = max((one[k] - start[k]).abs().max().item() for k in one)
    assert moved > 1e-3  # the step really changed the weights
    for k in one:
        torch.testing.assert_close(two[k], one[k], rtol=1e-4, atol=1e-5)


def _start_weights():
    from clipart.multimodal.models import create_clip_model

    torch.manual_seed(0)
    return create_clip_model('clipart-tiny-vit').state_dict()
