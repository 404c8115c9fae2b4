"""The Conv + BatchNorm fused twin: same outputs and gradients, cached, rebuilt when weights change."""

from __future__ import annotations

import copy

import torch
from torch import nn

from dlcore.explain.fast import fuse_conv_bn, fused_twin
from dlcore.explain.gradients import batch_gradients


def test_twin_matches_the_model_and_leaves_it_alone(cnn, image) -> None:
    _, model, split = cnn
    before = {k: v.clone() for k, v in model.state_dict().items()}
    twin = fused_twin(model)
    assert twin is not model and fused_twin(model) is twin  # cached
    assert sum(isinstance(m, nn.BatchNorm2d) for m in twin.modules()) == 0
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 2
    xs = split.x_test[:16]
    with torch.no_grad():
        torch.testing.assert_close(twin(xs), model(xs), rtol=1e-5, atol=1e-5)
    g0, _ = batch_gradients(model, xs, 3)
    g1, _ = batch_gradients(twin, xs, 3)
    torch.testing.assert_close(g1, g0, rtol=1e-4, atol=1e-6)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_twin_is_rebuilt_after_an_in_place_change(tiny) -> None:
    model, x = tiny
    twin = fused_twin(model)
    with torch.no_grad():
        model.features[0].weight.mul_(2.0)
        out = model(x)
    new = fused_twin(model)
    assert new is not twin
    with torch.no_grad():
        torch.testing.assert_close(new(x), out, rtol=1e-5, atol=1e-5)


def test_nothing_to_fuse_gives_the_model_itself(tiny, mlp) -> None:
    model, _ = tiny
    assert fused_twin(mlp[1]) is mlp[1]  # no BatchNorm
    train = copy.deepcopy(model).train()
    assert fused_twin(train) is train  # training mode: batch statistics, nothing fixed to fold

    class Loose(nn.Module):  # conv and BatchNorm not in a Sequential: order unknown, left alone
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.bn = nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)

        def forward(self, z):
            return self.bn(self.conv(z)).mean((2, 3))

    loose = Loose().eval()
    assert fuse_conv_bn(copy.deepcopy(loose)) == 0 and fused_twin(loose) is loose
