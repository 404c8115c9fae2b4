"""GAN objectives, the gradient penalty and one step of the GAN loop against their formulas."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dlcore.generative import (OBJECTIVES, GANConfig, GANTrainer, discriminator_loss, generator_loss,
                               gradient_penalty)


def _grad_wrt_score(objective: str, d: float) -> float:
    s = torch.tensor([[d]], requires_grad=True)
    generator_loss(objective, s).backward()
    return float(s.grad)


def test_saturating_vs_non_saturating_gradient_when_d_rejects_fakes() -> None:
    """At D(G(z)) ~ 0 (logit -8) the minimax generator gets almost no gradient, the
    non-saturating one a full one (Goodfellow et al. 2014, section 3)."""
    d = -8.0
    sat, nonsat = _grad_wrt_score("minimax", d), _grad_wrt_score("non_saturating", d)
    sig = 1 / (1 + math.exp(-d))
    assert sat == pytest.approx(-sig, rel=1e-5) and abs(sat) < 1e-3   # d/dd log(1 - s(d)) = -s(d)
    assert nonsat == pytest.approx(sig - 1, rel=1e-5) and nonsat < -0.99  # d/dd -log s(d) = s(d) - 1
    # both push d up (negative gradient of a loss that is minimised)
    assert sat < 0 and nonsat < 0
    assert _grad_wrt_score("wgan", d) == pytest.approx(-1.0) == _grad_wrt_score("wgan_gp", 3.0)


def test_discriminator_losses_equal_their_formulas() -> None:
    dr, df = torch.tensor([[0.3], [2.0]]), torch.tensor([[-1.0], [0.5]])
    s = torch.sigmoid
    bce = -(torch.log(s(dr)).mean() + torch.log(1 - s(df)).mean())
    for name in ("minimax", "non_saturating"):
        torch.testing.assert_close(discriminator_loss(name, dr, df), bce)
    for name in ("wgan", "wgan_gp"):
        torch.testing.assert_close(discriminator_loss(name, dr, df), df.mean() - dr.mean())
    torch.testing.assert_close(generator_loss("minimax", df), torch.log(1 - s(df)).mean())
    torch.testing.assert_close(generator_loss("non_saturating", df), -torch.log(s(df)).mean())


def test_gradient_penalty_of_a_linear_critic_is_its_norm_minus_one_squared() -> None:
    critic = nn.Linear(3, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0]]))  # |grad D| = 5 everywhere
    real, fake = torch.randn(8, 3), torch.randn(8, 3)
    gp, norms = gradient_penalty(critic, real, fake)
    torch.testing.assert_close(norms, torch.full((8,), 5.0))
    assert float(gp.detach()) == pytest.approx(16.0)


def test_gradient_penalty_equals_formula_on_a_quadratic_critic() -> None:
    """D(x) = sum(x^2): grad = 2 x_hat, x_hat = e x + (1 - e) G(z), penalty = mean((2|x_hat| - 1)^2)."""
    class Quad(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (x ** 2).sum(1, keepdim=True)

    g = torch.Generator().manual_seed(0)
    real, fake, eps = torch.randn(6, 2, generator=g), torch.randn(6, 2, generator=g), torch.rand(6, generator=g)
    gp, norms = gradient_penalty(Quad(), real, fake, eps)
    x_hat = eps[:, None] * real + (1 - eps[:, None]) * fake
    torch.testing.assert_close(norms, 2 * x_hat.norm(dim=1))
    torch.testing.assert_close(gp, ((2 * x_hat.norm(dim=1) - 1) ** 2).mean())
    gp.backward()  # create_graph=True: the penalty is differentiable (it trains the critic)


class _G(nn.Module):
    latent_dim = 1

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(1, 1)
        with torch.no_grad():
            self.lin.weight.fill_(0.5)
            self.lin.bias.fill_(-1.0)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.lin(z)


def _D() -> nn.Module:
    d = nn.Linear(1, 1)
    with torch.no_grad():
        d.weight.fill_(0.8)
        d.bias.fill_(0.1)
    return d


def _real(n: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randn(n, 1, generator=gen) + 3.0


@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_one_gan_step_matches_the_formulas(objective: str) -> None:
    """One step of GANTrainer (n_critic = 1) = the objective's losses, differentiated by hand, and
    the first update of its optimizer (Adam: -lr g/|g|; RMSprop: -lr g / sqrt(0.01 g^2)), clipped for WGAN."""
    obj = OBJECTIVES[objective]
    G, D = _G(), _D()
    tr = GANTrainer(G, D, _real, GANConfig(objective, n_critic=1, batch_size=8, steps=1, seed=3))
    log = tr.train_step()
    # replay the same draws
    gen = torch.Generator().manual_seed(3)
    x = _real(8, gen)
    z = torch.randn(8, 1, generator=gen)
    w, b, a, c = 0.8, 0.1, 0.5, -1.0
    fake = a * z + c
    dr, df = w * x + b, w * fake + b
    if obj.critic:                                     # dL_D/dw, dL_D/db for E[D(f)] - E[D(r)]
        gw, gb = float((fake - x).mean()), 0.0
    else:
        s = torch.sigmoid
        gw = float((-(1 - s(dr)) * x).mean() + (s(df) * fake).mean())
        gb = float((-(1 - s(dr))).mean() + s(df).mean())
    if obj.gp_lambda:
        e = torch.rand(8, generator=gen)
        # linear critic: |grad D| = |w|, so the penalty adds lambda * 2 (|w| - 1) sign(w) to dL/dw
        gw += obj.gp_lambda * 2 * (abs(w) - 1) * math.copysign(1, w)
        del e

    def first_update(p: float, grad: float) -> float:
        if grad == 0.0:
            return p
        if obj.optimizer == "rmsprop":
            return p - obj.lr * grad / (math.sqrt(0.01 * grad * grad) + 1e-8)
        return p - obj.lr * grad / (abs(grad) + 1e-8)

    w1, b1 = first_update(w, gw), first_update(b, gb)
    if obj.clip:
        w1, b1 = max(-obj.clip, min(obj.clip, w1)), max(-obj.clip, min(obj.clip, b1))
    assert float(D.weight) == pytest.approx(w1, rel=1e-5, abs=1e-7)
    assert float(D.bias) == pytest.approx(b1, rel=1e-5, abs=1e-7)
    # generator step with the updated D on fresh latents
    z2 = torch.randn(8, 1, generator=gen)
    d_fake = w1 * (a * z2 + c) + b1
    if objective == "minimax":
        dl_dd = -torch.sigmoid(d_fake)
    elif objective == "non_saturating":
        dl_dd = torch.sigmoid(d_fake) - 1
    else:
        dl_dd = -torch.ones_like(d_fake)
    ga, gc = float((dl_dd * w1 * z2).mean()), float((dl_dd * w1).mean())
    assert float(G.lin.weight) == pytest.approx(first_update(a, ga), rel=1e-5)
    assert float(G.lin.bias) == pytest.approx(first_update(c, gc), rel=1e-5)
    assert log.step == 1 and math.isfinite(log.d_loss) and math.isfinite(log.g_loss)


def test_paper_defaults_and_n_critic() -> None:
    assert (OBJECTIVES["wgan"].optimizer, OBJECTIVES["wgan"].lr, OBJECTIVES["wgan"].clip, OBJECTIVES["wgan"].n_critic) \
        == ("rmsprop", 5e-5, 0.01, 5)
    gp = OBJECTIVES["wgan_gp"]
    assert (gp.optimizer, gp.lr, gp.betas, gp.gp_lambda, gp.n_critic) == ("adam", 1e-4, (0.0, 0.9), 10.0, 5)
    calls = []
    tr = GANTrainer(_G(), _D(), lambda n, g: (calls.append(n), _real(n, g))[1], GANConfig("wgan", steps=2))
    list(tr.steps())
    assert len(calls) == 2 * 5 and tr.status == "finished"
    assert all(p.abs().max() <= 0.01 for p in tr.D.parameters())  # clipped after every critic step


def test_gan_loop_stops_and_is_reproducible() -> None:
    def run(**kw):
        tr = GANTrainer(_G(), _D(), _real, GANConfig("non_saturating", steps=50, seed=1))
        logs = list(tr.steps(**kw))
        return tr, logs
    tr1, l1 = run()
    tr2, l2 = run()
    assert [x.g_loss for x in l1] == [x.g_loss for x in l2] and tr1.status == "finished"
    tr3, l3 = run(callback=lambda step, m: step >= 7)
    assert len(l3) == 7 and tr3.status == "stopped"


@pytest.mark.parametrize("bad, match", [
    (dict(objective="lsgan"), "objective 'lsgan' is not one of"),
    (dict(steps=10**9), "steps 1000000000 must be in"),
    (dict(steps="100"), "steps '100' must be an integer"),
    (dict(lr=float("nan")), "learning rate nan must be a finite number"),
    (dict(lr=-1.0), "learning rate -1 must be in"),
    (dict(n_critic=0), "n_critic 0 must be in"),
    (dict(betas=(1.0, 0.9)), "beta1 1 must be in"),
    (dict(batch_size=10**6), "batch size 1000000 must be in"),
])
def test_bad_gan_configs_are_refused(bad: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        GANConfig(**bad).resolved()
