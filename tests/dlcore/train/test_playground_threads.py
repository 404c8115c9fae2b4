"""Two users training the same settings at once on one server get the same run (CI found the
train tab's concurrent answers differing: initial weights, shuffling and dropout masks all came
from torch's global RNG, which the other runs re-seeded and drew from meanwhile)."""

from __future__ import annotations

import threading

import torch

from dlcore.models import Dropout, build_mlp, own_dropout_rng
from dlcore.train.playground import build_playground
from dlcore.train.spec import PlaygroundSpec


def _run(spec: PlaygroundSpec) -> list[float]:
    pg = build_playground(spec)
    for _ in pg.trainer.steps():
        pass
    return [e.val_loss for e in pg.trainer.history.epochs]


def test_concurrent_playground_runs_equal_the_sequential_one():
    spec = PlaygroundSpec(dataset="seed_binary", hidden="64, 32", batchnorm=True, dropout=0.2, optimizer="SGD",
                          lr=0.05, epochs=3, seed=123)
    expected = _run(spec)
    out: dict[int, list[float]] = {}
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, _run(spec))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [out[i] for i in range(4)] == [expected] * 4


def test_own_dropout_rng_is_private_and_plain_dropout_is_nn_dropout():
    torch.manual_seed(0)
    net = build_mlp(in_features=8, out_features=2, hidden=(16, 16), dropout=0.5).train()
    assert own_dropout_rng(net, 7) == 2
    x = torch.ones(4, 8)
    torch.manual_seed(1)
    a = net(x)
    torch.manual_seed(2)  # the global RNG no longer matters
    b = (own_dropout_rng(net, 7), net(x))[1]
    assert torch.equal(a, b)
    d = Dropout(0.5).train()
    torch.manual_seed(3)
    y1 = d(x)
    torch.manual_seed(3)
    assert torch.equal(y1, torch.nn.functional.dropout(x, 0.5, training=True))
