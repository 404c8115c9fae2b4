"""Per-layer gradient norms against autograd; confusion matrix against scikit-learn."""

import pytest
import torch
from torch import nn

from dlcore.train import confusion_matrix, decision_grid, grad_norms, layer_names, predict_labels


def _net(depth: int = 4, act: type[nn.Module] = nn.Sigmoid) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Linear(3, 8), act()]
    for _ in range(depth - 2):
        layers += [nn.Linear(8, 8), nn.BatchNorm1d(8), act()]
    layers.append(nn.Linear(8, 2))
    return nn.Sequential(*layers)


@pytest.mark.parametrize("depth", [2, 5])
def test_grad_norms_equal_autograd(depth):
    torch.manual_seed(depth)
    model = _net(depth)
    x, y = torch.randn(16, 3), torch.randint(0, 2, (16,))
    weights = [m.weight for m in model if isinstance(m, nn.Linear)]
    loss = nn.functional.cross_entropy(model(x), y)
    ref = torch.stack([g.norm() for g in torch.autograd.grad(loss, weights, retain_graph=True)])
    loss.backward()
    torch.testing.assert_close(grad_norms(model), ref)
    assert len(layer_names(model)) == depth
    assert layer_names(model)[0] == "1: Linear 3→8"


def test_grad_norms_no_grad_is_zero():
    model = _net(3)
    assert torch.equal(grad_norms(model), torch.zeros(3))


def test_confusion_matrix_matches_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    g = torch.Generator().manual_seed(0)
    t, p = torch.randint(0, 5, (200,), generator=g), torch.randint(0, 5, (200,), generator=g)
    ref = metrics.confusion_matrix(t.numpy(), p.numpy(), labels=list(range(5)))
    assert torch.equal(confusion_matrix(p, t, 5), torch.from_numpy(ref).long())


def test_predict_labels():
    assert predict_labels(torch.tensor([[0.1, 2.0], [3.0, -1.0]]), "multiclass").tolist() == [1, 0]
    assert predict_labels(torch.tensor([[-0.1], [0.2]]), "binary").tolist() == [0, 1]
    with pytest.raises(ValueError, match="regression"):
        predict_labels(torch.zeros(2, 1), "regression")


def test_decision_grid():
    model = nn.Sequential(nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0.0]]))
        model[0].bias.zero_()
    x = torch.tensor([[-1.0, -1.0], [1.0, 1.0]])
    xs, ys, probs = decision_grid(model, x, "binary", steps=11, margin=0.0)
    assert probs.shape == (11, 11, 2) and xs[0] == -1 and ys[-1] == 1
    torch.testing.assert_close(probs.sum(-1), torch.ones(11, 11))
    z = probs[..., 1]
    # P(class 1) = sigmoid(x1): rises along x, constant along y
    torch.testing.assert_close(z[:, 5], torch.full((11,), 0.5))
    assert (z[0, 1:] > z[0, :-1]).all()
    two = nn.Linear(2, 3)
    torch.testing.assert_close(decision_grid(two, x, "multiclass", steps=5)[2].sum(-1), torch.ones(5, 5))
    with pytest.raises(ValueError, match="classifier"):
        decision_grid(model, x, "regression")
    with pytest.raises(ValueError, match="2-D inputs"):
        decision_grid(model, torch.zeros(4, 3), "binary")


def test_pruned_layers_still_report_their_gradient_norms():
    """torch.nn.utils.prune moves the trainable weight to weight_orig; the norms must follow it."""
    import torch
    from torch import nn
    from torch.nn.utils import prune

    from dlcore.train.metrics import grad_norms, layer_names

    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    prune.l1_unstructured(net[0], "weight", amount=0.5)
    net(torch.randn(5, 4)).sum().backward()
    assert len(layer_names(net)) == 2
    norms = grad_norms(net)
    assert norms.shape == (2,) and bool((norms > 0).all())
