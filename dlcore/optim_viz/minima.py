"""The minima SGD and Adam find from one start, on the zoo CNN's architecture (issue 15, item 4).

Two copies of the zoo CNN's network (:class:`~dlcore.models.cnn.SmallCNN`) start from the *same*
random weights θ₀ and train in lockstep on the *same* mini-batches with the *same* dropout masks;
only the optimizer differs (the registry's ``Momentum``, i.e. SGD with β = 0.9, and ``Adam``).
Three views of where they end, θ_S and θ_A:

* **how far** each went, ‖θ − θ₀‖, and how far apart they are, ‖θ_S − θ_A‖;
* **the straight line** between them (Goodfellow, Vinyals & Saxe 2015, "Qualitatively
  characterizing neural network optimization problems", https://arxiv.org/abs/1412.6544)::

      L((1 − t)·θ_S + t·θ_A),  t ∈ [−0.25, 1.25]

  with the BatchNorm running statistics interpolated too (t clipped to [0, 1] for them). A bump between t = 0 and 1 (the
  *barrier*) says the two minima sit in different basins; no bump, one connected valley;
* **sharpness** (Li et al. 2018, https://arxiv.org/abs/1712.09913, §5): the loss along one random
  direction through each minimum, filter-normalised to *that* minimum's own weights, so that the
  two curves are comparable although the weights' scales differ::

      L(θ_m + α·d_m),   d_m,ij = d_ij / ‖d_ij‖ · ‖θ_m,ij‖,   α ∈ [−1, 1]

All losses are the mean cross-entropy on the first ``n_eval`` test images in eval mode, computed
with :class:`~dlcore.optim_viz.cnnforward.CNNForward`.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from dlcore.optim_viz.cnnforward import CNNForward
from dlcore.optim_viz.directions import model_params, random_direction
from dlcore.optim_viz.landscape import score_logits
from dlcore.optim_viz.names import check_whole
from dlcore.train.optim import make_optimizer

__all__ = ["MinimaConfig", "Minimum", "MinimaComparison", "compare_minima", "RUNS", "LINE_T", "SHARP_A"]

#: The two runs: (registry name, the config field holding its learning rate).
RUNS = (("Momentum", "sgd_lr"), ("Adam", "adam_lr"))
#: Where the line between the minima is sampled: t = 0 is SGD's minimum, t = 1 Adam's.
LINE_T = torch.arange(-3, 16, dtype=torch.float64) / 12                  # −0.25 … 1.25, 0 and 1 exactly
#: Where the sharpness slices are sampled (in units of the filter-normalised direction).
SHARP_A = torch.arange(-8, 9, dtype=torch.float64) / 8                   # −1 … 1, ±0.5 and 0 exactly


@dataclass(frozen=True)
class MinimaConfig:
    """The shared settings.

    Args:
        steps: optimizer steps of each run, 10 … 2000. Default 300.
        batch: mini-batch size, 8 … 256. Default 64.
        n_train: the first n training images, batches drawn from them (reshuffled per epoch), 100 … 60,000.
        n_eval: test images for every loss shown, 50 … 1,000. Default 500.
        sgd_lr, adam_lr: the two learning rates, (0, 1]. Defaults 0.05 and 0.001.
        seed: θ₀, the batch order, the dropout masks and the sharpness direction, 0 … 10,000.
    """

    steps: int = 300
    batch: int = 64
    n_train: int = 10_000
    n_eval: int = 500
    sgd_lr: float = 0.05
    adam_lr: float = 1e-3
    seed: int = 0

    def validate(self) -> None:
        """Raises ValueError naming the setting and the rule."""
        for name, v, lo, hi in (("steps", self.steps, 10, 2000), ("batch size", self.batch, 8, 256),
                                ("training images", self.n_train, 100, 60_000),
                                ("test images", self.n_eval, 50, 1000), ("seed", self.seed, 0, 10_000)):
            check_whole(name, v, lo, hi)
        for name, v in (("SGD learning rate", self.sgd_lr), ("Adam learning rate", self.adam_lr)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
                raise ValueError(f"{name} {v!r} must be in (0, 1]")


@dataclass
class Minimum:
    """Where one optimizer ended.

    Attributes:
        optimizer: registry name. lr: its learning rate.
        train_loss: ``(steps,)`` the mini-batch loss at every step (train mode).
        test_loss, test_acc: at the end, on the ``n_eval`` test images (eval mode).
        travelled: ‖θ − θ₀‖ over all parameters.
        sharp: ``(len(SHARP_A),)`` the loss along its own filter-normalised direction.
    """

    optimizer: str
    lr: float
    train_loss: torch.Tensor
    test_loss: float = float("nan")
    test_acc: float = float("nan")
    travelled: float = float("nan")
    sharp: torch.Tensor | None = None

    @property
    def label(self) -> str:
        """The name on the page: ``SGD-momentum`` for the registry's ``Momentum``."""
        return "SGD-momentum" if self.optimizer == "Momentum" else self.optimizer

    @property
    def sharpness(self) -> float:
        """Mean rise of the loss at α = ±0.5 over its centre value."""
        if self.sharp is None:
            return float("nan")
        i, j, c = int((SHARP_A + 0.5).abs().argmin()), int((SHARP_A - 0.5).abs().argmin()), len(SHARP_A) // 2
        return float((self.sharp[i] + self.sharp[j]) / 2 - self.sharp[c])


@dataclass
class MinimaComparison:
    """The result (possibly partial while training streams).

    Attributes:
        model: the zoo model whose architecture and data are used. config: the settings.
        runs: the two :class:`Minimum` (SGD-momentum first). step: steps done.
        distance: ‖θ_S − θ_A‖. line: ``(len(LINE_T),)`` the loss along the line (None until done).
        start_loss: the test loss at θ₀. seconds: time so far. stopped: ended by Stop.
        n_train: training images used (``config.n_train``, or fewer when the data set is smaller).
    """

    model: str
    config: MinimaConfig
    runs: list[Minimum]
    step: int = 0
    distance: float = float("nan")
    line: torch.Tensor | None = None
    start_loss: float = float("nan")
    seconds: float = 0.0
    stopped: bool = False
    n_train: int = 0

    @property
    def complete(self) -> bool:
        return self.line is not None

    @property
    def barrier(self) -> float:
        """max over t ∈ [0, 1] of the line's loss, minus the higher of its two ends."""
        if self.line is None:
            return float("nan")
        inside = self.line[(LINE_T >= 0) & (LINE_T <= 1)]
        return float(inside.max() - max(float(inside[0]), float(inside[-1])))


def _fresh(model: nn.Module, seed: int) -> nn.Module:
    """A copy of ``model`` with every layer re-initialised from ``seed`` (its own generator: the
    global RNG is not touched) and running statistics reset."""
    net = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):   # torch's default init: kaiming_uniform(a=√5), U(±1/√fan_in)
                fan_in = m.weight[0].numel()
                bound = 1.0 / fan_in ** 0.5
                m.weight.uniform_(-bound, bound, generator=gen)
                m.bias.uniform_(-bound, bound, generator=gen)
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_parameters()
    return net.requires_grad_(True)                                       # the zoo's copy comes frozen


def _blend(nets: list[nn.Module], t: float, into: nn.Module) -> None:
    """``into`` ← (1 − t)·nets[0] + t·nets[1] for the parameters; the BatchNorm running statistics
    are blended with t clipped to [0, 1] (an extrapolated variance could turn negative)."""
    a, b = nets[0].state_dict(), nets[1].state_dict()
    params = {n for n, _ in into.named_parameters()}
    with torch.no_grad():
        for k, v in into.state_dict().items():
            if v.is_floating_point():
                v.copy_(torch.lerp(a[k], b[k], t if k in params else min(max(t, 0.0), 1.0)))


def _loss(fwd: CNNForward, theta: dict[str, torch.Tensor], y: torch.Tensor) -> tuple[float, float]:
    return score_logits(fwd(theta), y)                                    # logits (N, classes)


def _distance(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """‖a − b‖ over all parameters (one flat vector)."""
    return float(torch.sqrt(sum(((a[n] - b[n]) ** 2).sum() for n in a)))


def compare_minima(config: MinimaConfig | None = None, stop: threading.Event | None = None,
                   progress: Callable[[MinimaComparison], object] | None = None, every: int = 25
                   ) -> MinimaComparison:
    """Train SGD-momentum and Adam from one start on the zoo CNN's architecture and data, then
    measure where they ended (see the module docstring).

    Args:
        config: :class:`MinimaConfig`.
        stop: when set, training ends after the current step (the minima views are still computed
            at the weights reached); ``stopped`` is then True.
        progress: called with the partial result every ``every`` steps and once at the end.

    Raises:
        ValueError: bad settings.
    """
    from dlcore import zoo

    cfg = config or MinimaConfig()
    cfg.validate()
    t0 = time.perf_counter()
    name, trained, split = zoo.image_classifier("cnn")
    if not CNNForward.supports(trained):
        raise TypeError(f"{name} is not a SmallCNN")
    n = min(cfg.n_train, len(split.x_train))
    xtr, ytr = split.x_train[:n], split.y_train[:n].long()
    xev, yev = split.x_test[:cfg.n_eval], split.y_test[:cfg.n_eval].long()
    start = _fresh(trained, cfg.seed)
    nets = [copy.deepcopy(start) for _ in RUNS]
    opts = [make_optimizer(opt, net.parameters(), lr=getattr(cfg, lr)) for (opt, lr), net in zip(RUNS, nets)]
    runs = [Minimum(opt, getattr(cfg, lr), torch.full((cfg.steps,), float("nan"))) for opt, lr in RUNS]
    res = MinimaComparison(name, cfg, runs, n_train=n)
    res.start_loss = _loss(CNNForward(start.eval(), xev), model_params(start), yev)[0]
    order = torch.Generator().manual_seed(cfg.seed)
    masks = [torch.Generator() for _ in nets]
    for net, g in zip(nets, masks):                                       # one dropout stream per copy, same seed
        g.manual_seed(cfg.seed + 1)
        for m in net.modules():
            if hasattr(m, "generator"):
                m.generator = g
        net.train()
    perm, at = torch.randperm(n, generator=order), 0
    for step in range(cfg.steps):
        if stop is not None and stop.is_set():
            res.stopped = True
            break
        if at + cfg.batch > n:                                            # a new epoch: reshuffle
            perm, at = torch.randperm(n, generator=order), 0
        idx = perm[at:at + cfg.batch]
        at += cfg.batch
        xb, yb = xtr[idx], ytr[idx]                                       # the same batch for both
        for k, (net, opt) in enumerate(zip(nets, opts)):
            opt.zero_grad(set_to_none=True)
            with torch.enable_grad():
                loss = nn.functional.cross_entropy(net(xb), yb)
            loss.backward()
            opt.step()
            runs[k].train_loss[step] = float(loss.detach())
        res.step = step + 1
        if progress is not None and res.step % every == 0:
            res.seconds = time.perf_counter() - t0
            progress(res)
    _measure(res, start, nets, xev, yev)
    res.seconds = time.perf_counter() - t0
    if progress is not None:
        progress(res)
    return res


def _measure(res: MinimaComparison, start: nn.Module, nets: list[nn.Module], x: torch.Tensor,
             y: torch.Tensor) -> None:
    """Fill the end-point numbers, the sharpness slices and the line between the two minima."""
    theta0 = model_params(start)
    for k, net in enumerate(nets):
        net.eval()
        run, theta = res.runs[k], model_params(net)
        fwd = CNNForward(net, x)
        run.test_loss, run.test_acc = _loss(fwd, theta, y)
        run.travelled = _distance(theta, theta0)
        d = random_direction(theta, res.config.seed + 2, "filter", "biasbn")  # normalised to this minimum
        run.sharp = torch.tensor([_loss(fwd, {n: theta[n] + float(a) * d[n] for n in theta}, y)[0] for a in SHARP_A],
                                 dtype=torch.float64)
    ta, tb = model_params(nets[0]), model_params(nets[1])
    res.distance = _distance(ta, tb)
    mix = copy.deepcopy(nets[0]).eval()
    fwd = CNNForward(mix, x)                                              # reads mix's BatchNorm buffers per call
    line = []
    for t in LINE_T.tolist():
        _blend(nets, t, mix)
        line.append(_loss(fwd, model_params(mix), y)[0])
    res.line = torch.tensor(line, dtype=torch.float64)
