"""The training loop: it learns, stops, detects divergence, is reproducible, refuses bad input."""

import math
import threading

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlcore.train import (MAX_EPOCHS, OPTIMIZERS, ScheduleConfig, TrainConfig, Trainer, fit, lr_curve,
                          make_optimizer, seed_everything)


def _mlp(d_in: int = 4, d_out: int = 3, width: int = 32) -> nn.Module:
    return nn.Sequential(nn.Linear(d_in, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(),
                         nn.Linear(width, d_out))


def _blobs(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = torch.randn(n, 4, generator=g) * 0.5 + torch.eye(3, 4)[y] * 2
    return x, y


def test_tiny_model_overfits_tiny_batch():
    seed_everything(0)
    x, y = torch.randn(8, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])  # random labels: memorise
    h = fit(_mlp(), (x, y), None, TrainConfig(num_threads=1, lr=1e-2, batch_size=8, epochs=300))
    assert h.status == "finished"
    assert h.step_loss[0] > 0.5
    assert h.step_loss[-1] < 1e-2
    assert h.epochs[-1].train_acc == 1.0


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_other_tasks_overfit(task):
    seed_everything(1)
    x = torch.randn(8, 4)
    y = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1.0]) if task == "binary" else torch.randn(8, 1)
    h = fit(_mlp(d_out=1), (x, y), (x, y), TrainConfig(num_threads=1, task=task, lr=1e-2, batch_size=8, epochs=300))
    assert h.epochs[-1].val_loss < 1e-2
    if task == "regression":
        assert h.epochs[-1].val_acc != h.epochs[-1].val_acc  # NaN
    else:
        assert h.epochs[-1].val_acc == 1.0


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_lowers_the_loss(name):
    seed_everything(0)
    x, y = _blobs()
    h = fit(_mlp(), (x, y), (x, y), TrainConfig(num_threads=1, optimizer=name, lr=max(OPTIMIZERS[name].default_lr, 0.01),
                                               batch_size=16, epochs=15))
    assert h.epochs[-1].val_loss < 0.7 * h.epochs[0].val_loss, name


def test_history_lr_follows_the_schedule_and_counts():
    seed_everything(0)
    x, y = _blobs(65)  # 65 = 4 batches of 16 + a batch of 1, which is dropped
    cfg = TrainConfig(num_threads=1, lr=0.01, batch_size=16, epochs=3, schedule=ScheduleConfig("warmup_linear", warmup_steps=5))
    h = fit(_mlp(), (x, y), (x, y), cfg)
    assert h.total_steps == 12 and len(h.step_loss) == 12 and len(h.epochs) == 3
    torch.testing.assert_close(torch.tensor(h.step_lr, dtype=torch.float64),
                               lr_curve(cfg.schedule, 0.01, 12))


def test_same_seed_same_run_and_dataloader_path():
    x, y = _blobs()

    def run(data):
        seed_everything(3)
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
        return fit(model, data, (x, y), TrainConfig(num_threads=1, batch_size=16, epochs=3, seed=3))

    a, b = run((x, y)), run((x, y))
    assert a.step_loss == b.step_loss
    c = run(DataLoader(TensorDataset(x, y), batch_size=16, shuffle=False))
    assert len(c.step_loss) == 12 and c.status == "finished"


def test_stop_by_callback_and_event():
    x, y = _blobs()

    class StopAt:
        def on_step(self, trainer, log):
            return "stop" if log.step == 5 else None

    h = fit(_mlp(), (x, y), None, TrainConfig(num_threads=1, batch_size=8, epochs=10), callbacks=[StopAt()])
    assert h.status == "stopped" and len(h.step_loss) == 5

    ev = threading.Event()
    tr = Trainer(_mlp(), (x, y), None, TrainConfig(num_threads=1, batch_size=8, epochs=10), stop_event=ev)
    for log in tr.steps():
        if log.step == 3:
            ev.set()
    assert tr.history.status == "stopped" and len(tr.history.step_loss) == 4


def test_divergence_is_detected():
    seed_everything(0)
    x = torch.randn(64, 4) * 100
    y = x.sum(1, keepdim=True)
    h = fit(nn.Linear(4, 1), (x, y), (x, y), TrainConfig(num_threads=1, task="regression", optimizer="SGD", lr=5.0,
                                                        batch_size=16, epochs=50))
    assert h.status == "diverged"
    assert "Diverged" in h.message and "learning rate" in h.message
    assert len(h.epochs) < 50


def test_gradient_clipping_bounds_the_update():
    seed_everything(0)
    x = torch.randn(16, 4) * 100
    y = x.sum(1, keepdim=True)
    model = nn.Linear(4, 1)
    before = torch.cat([p.detach().clone().reshape(-1) for p in model.parameters()])
    fit(model, (x, y), None, TrainConfig(num_threads=1, task="regression", optimizer="SGD", lr=0.1, batch_size=16,
                                         epochs=1, clip_grad_norm=1.0))
    after = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    assert (after - before).norm() <= 0.1 * 1.0 + 1e-6  # ‖Δθ‖ = η‖g_clipped‖ ≤ η·max_norm


@pytest.mark.parametrize("kwargs,fragment", [
    ({"epochs": 0}, "epochs 0"),
    ({"epochs": MAX_EPOCHS + 1}, f"1..{MAX_EPOCHS}"),
    ({"batch_size": 0}, "batch size"),
    ({"lr": 0.0}, "learning rate"),
    ({"lr": 1e3}, "learning rate 1000"),
    ({"lr": float("nan")}, "learning rate"),
    ({"weight_decay": -1.0}, "weight decay"),
    ({"optimizer": "LBFGS"}, "unknown"),
    ({"clip_grad_norm": -1.0}, "clipping"),
    ({"task": "ranking"}, "task"),
])
def test_bad_config(kwargs, fragment):
    x, y = _blobs()
    with pytest.raises(ValueError, match=fragment):
        Trainer(_mlp(), (x, y), None, TrainConfig(**kwargs))


def test_bad_data():
    with pytest.raises(ValueError, match="samples"):
        Trainer(_mlp(), (torch.zeros(5, 4), torch.zeros(4)), None)
    with pytest.raises(ValueError, match="empty"):
        Trainer(_mlp(), (torch.zeros(0, 4), torch.zeros(0)), None)


def test_make_optimizer_registry_builds_torch_classes():
    p = [nn.Parameter(torch.zeros(2))]
    opt = make_optimizer("Nesterov", p, lr=0.1)
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["nesterov"] and opt.defaults["momentum"] == 0.9
    assert isinstance(make_optimizer("AdamW", p, 0.1, 0.01), torch.optim.AdamW)


def test_num_threads_is_scoped_to_the_run():
    before = torch.get_num_threads()
    seen = []

    class Probe:
        def on_step(self, trainer, log):
            seen.append(torch.get_num_threads())

    x, y = _blobs()
    fit(_mlp(), (x, y), None, TrainConfig(num_threads=1, batch_size=32, epochs=1), callbacks=[Probe()])
    assert seen == [1, 1] and torch.get_num_threads() == before


def test_batch_hook_rewrites_every_batch_and_the_model_trains_again() -> None:
    """The hook sees each batch (e.g. to swap in adversarial examples) and may use eval mode."""
    torch.manual_seed(0)
    x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    seen: list[int] = []
    modes: list[bool] = []

    def hook(trainer, bx, by):
        trainer.model.eval()          # an attack runs in eval mode ...
        seen.append(len(bx))
        return bx * 0.0, by           # ... and returns a different batch

    orig_forward = model.forward

    def spy(inp):
        modes.append(model.training)
        return orig_forward(inp)

    model.forward = spy  # type: ignore[method-assign]
    h = Trainer(model, (x, y), None, TrainConfig(epochs=2, batch_size=16, seed=0), batch_hook=hook).fit()
    assert h.status == "finished" and seen == [16] * 8
    assert all(modes)  # the loop switched back to train mode before every forward pass


def test_objective_replaces_the_criterion() -> None:
    torch.manual_seed(0)
    x = torch.randn(32, 2)
    model = nn.Linear(2, 2)

    def objective(m, bx, by):  # a self-supervised loss: reconstruct the input, no class outputs
        return ((m(bx) - bx) ** 2).mean(), None

    h = Trainer(model, (x, torch.zeros(32)), (x, torch.zeros(32)),
                TrainConfig(task="regression", epochs=30, batch_size=8, lr=0.05, seed=0),
                objective=objective).fit()
    assert h.status == "finished"
    assert h.epochs[-1].train_loss < 0.1 * h.epochs[0].train_loss
    assert math.isnan(h.epochs[-1].train_acc) and h.epochs[-1].val_loss < 0.05
