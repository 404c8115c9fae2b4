"""SmoothGrad, SmoothGrad² and VarGrad: average the gradients of noisy copies.

The notes (seed 000 §9.4.1): a gradient is sharp and noisy, so add noise to the input many
times, take each copy's gradient, and average. With ``g_i = ∂S_c/∂x |_(x + ε_i)`` and
``ε_i ~ N(0, σ² I)``:

    SmoothGrad   M̂(x) = 1/n Σ g_i                    (Smilkov et al. 2017, https://arxiv.org/abs/1706.03825)
    SmoothGrad²  M̂(x) = 1/n Σ g_i²                   (Hooker et al. 2019, https://arxiv.org/abs/1806.10758)
    VarGrad      M̂(x) = 1/n Σ g_i² - (1/n Σ g_i)²    (Adebayo et al. 2018, https://arxiv.org/abs/1810.03292)

``σ`` is a fraction of the image's range, ``σ = p · (x_max - x_min)``: Smilkov et al. found
p = 10-20 % and n ≈ 50 best. All n copies go through the model in batches; the noise is drawn
exactly as Captum's ``NoiseTunnel`` draws it (``torch.normal(0, σ)`` per batch, which equals
``σ · randn``), so with the same seed both give the same numbers. Because every copy's gradient is kept, one batch of
``N`` copies also gives the running mean for every ``n <= N`` (:func:`smoothgrad_convergence`),
and one set of standard-normal draws ``ε`` scaled by each ``σ`` gives a whole σ sweep
(:func:`smoothgrad_sigma_sweep`, common random numbers: only σ changes between maps).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import torch
from torch import nn

from dlcore.explain.base import check_config, check_image, check_model, check_target, class_probabilities, option
from dlcore.explain.fast import fused_twin
from dlcore.explain.gradients import batch_gradients
from dlcore.explain.names import DEFAULT_NS, DEFAULT_SIGMAS_PCT, NOISE_KINDS

__all__ = ["SmoothGradConfig", "NoiseKind", "NOISE_KINDS", "MAX_SAMPLES", "sigma_absolute", "noisy_gradients",
           "reduce_noisy", "smoothgrad", "SmoothGradConvergence", "smoothgrad_convergence", "SigmaSweep",
           "smoothgrad_sigma_sweep", "DEFAULT_NS", "DEFAULT_SIGMAS_PCT"]

NoiseKind = Literal["smoothgrad", "smoothgrad_sq", "vargrad"]
#: Most noisy copies in one call (per σ in a sweep), and most gradients in a sweep overall.
MAX_SAMPLES = 1000
MAX_SWEEP_GRADIENTS = 8000


@dataclass(frozen=True)
class SmoothGradConfig:
    """Options of SmoothGrad (Smilkov et al. 2017, https://arxiv.org/abs/1706.03825).

    Args:
        sigma_pct: noise σ as a percentage of the image's range ``x_max - x_min``
            (default 15, inside the paper's 10-20 %; the range of [0, 1] is used for a flat image).
        n_samples: noisy copies averaged (default 50, the paper's choice).
        batch_size: copies per forward/backward pass (default 64).
        seed: noise seed (same seed -> same map).
    """

    sigma_pct: float = option(15.0, "noise σ (% of the image range)", lo=0.0, hi=100.0, step=0.5)
    n_samples: int = option(50, "noisy copies n", lo=1, hi=MAX_SAMPLES, step=1)
    batch_size: int = option(64, "copies per batch", lo=1, hi=1024, step=1)
    seed: int = option(0, "seed", lo=0, hi=2**31 - 1, step=1)

    def __post_init__(self) -> None:
        check_config(self)


def sigma_absolute(x: torch.Tensor, sigma_pct: float) -> float:
    """``σ = sigma_pct / 100 · (x_max - x_min)`` (the range of [0, 1] if the image is flat)."""
    rng = float(x.max() - x.min())
    return sigma_pct / 100.0 * (rng if rng > 0 else 1.0)


def noisy_gradients(model: nn.Module, x: torch.Tensor, target: int, sigma: float, n: int, batch_size: int = 64,
                    seed: int = 0, eps: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients (and logits) of ``n`` noisy copies of one image, batch by batch.

    Args:
        x: ``(1, C, H, W)``.
        sigma: absolute noise standard deviation.
        eps: optional standard-normal draws ``(n, C, H, W)`` to scale by ``sigma`` (a σ sweep);
            by default noise is drawn per batch like Captum's ``NoiseTunnel``.

    Returns:
        ``(grads (n, C, H, W), logits (n, n_classes))``.
    """
    g = torch.Generator(device=x.device).manual_seed(int(seed))
    grads, logits = [], []
    for start in range(0, n, batch_size):
        b = min(batch_size, n - start)
        if eps is not None:
            noise = sigma * eps[start:start + b]
        else:
            # 1. noise N(0, σ²) of shape (b, C, H, W): the same draws as NoiseTunnel's torch.normal(0, σ)
            noise = torch.randn((b, *x.shape[1:]), generator=g, device=x.device) * sigma
        # 2. one forward/backward for the whole batch of copies
        gr, lo = batch_gradients(model, x.expand(b, *x.shape[1:]) + noise, target)  # (b, C, H, W), (b, K)
        grads.append(gr)
        logits.append(lo)
    return torch.cat(grads), torch.cat(logits)


def reduce_noisy(grads: torch.Tensor, kind: NoiseKind) -> torch.Tensor:
    """``(n, C, H, W)`` gradients -> ``(C, H, W)`` SmoothGrad / SmoothGrad² / VarGrad."""
    n = grads.shape[0]
    mean = grads.sum(0) * (1.0 / n)
    if kind == "smoothgrad":
        return mean
    mean_sq = (grads * grads).sum(0) * (1.0 / n)
    if kind == "smoothgrad_sq":
        return mean_sq
    if kind == "vargrad":
        return mean_sq - mean * mean
    raise ValueError(f"kind {kind!r} is not one of {NOISE_KINDS}")


def smoothgrad(model: nn.Module, x: torch.Tensor, target: int, config: SmoothGradConfig | None = None,
               kind: NoiseKind = "smoothgrad") -> torch.Tensor:
    """SmoothGrad-family attribution of one image ``(1, C, H, W)`` -> ``(1, C, H, W)``.

    Equals Captum ``NoiseTunnel(Saliency(model)).attribute(x, nt_type=kind, nt_samples=n,
    nt_samples_batch_size=batch_size, stdevs=σ, target=target, abs=False)`` after
    ``torch.manual_seed(seed)``.
    """
    cfg = config or SmoothGradConfig()
    sigma = sigma_absolute(x, cfg.sigma_pct)
    grads, _ = noisy_gradients(model, x, target, sigma, cfg.n_samples, cfg.batch_size, cfg.seed)
    return reduce_noisy(grads, kind)[None]


def _map(raw: torch.Tensor, kind: str) -> torch.Tensor:
    """(..., C, H, W) -> (..., H, W): |sum over channels| for SmoothGrad, the sum otherwise."""
    m = raw.sum(-3)
    return m.abs() if kind == "smoothgrad" else m


def _spearman_rows(maps: torch.Tensor, ref: torch.Tensor) -> list[float]:
    from dlcore.explain.metrics import spearman

    return [spearman(m, ref) for m in maps]


def _prepare(model: nn.Module, image: Any, target: Any) -> tuple[torch.Tensor, int, float]:
    check_model(model)
    x = check_image(image)
    probs = class_probabilities(model, x)[0]
    t = check_target(target, probs.numel(), int(probs.argmax()))
    return x, t, float(probs[t])


@dataclass
class SmoothGradConvergence:
    """SmoothGrad maps after the first ``n`` copies, for each ``n`` in ``ns`` (one batch of copies).

    Attributes:
        ns: the sample counts. maps: ``(len(ns), H, W)``. vanilla: ``(H, W)`` plain |gradient|.
        spearman_to_final: rank correlation of each map with the last (largest n) one.
        change: relative L2 change ``||M_n - M_prev|| / ||M_last||`` (0 for the first).
        target, probability: the class explained and its clean probability.
        sigma: absolute σ used. kind, settings, seconds: as named.
    """

    ns: list[int]
    maps: torch.Tensor
    vanilla: torch.Tensor
    spearman_to_final: list[float]
    change: list[float]
    target: int
    probability: float
    sigma: float
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def smoothgrad_convergence(model: nn.Module, image: Any, ns: Sequence[int] = DEFAULT_NS,
                           config: SmoothGradConfig | dict | None = None, target: int | None = None,
                           kind: NoiseKind = "smoothgrad") -> SmoothGradConvergence:
    """Watch SmoothGrad converge: the running mean over one batch of ``max(ns)`` noisy gradients.

    ``config.n_samples`` is ignored: ``max(ns)`` copies are drawn once and the map for ``n`` is
    the mean over the first ``n`` of them, so the sequence shows one average sharpening.

    Raises:
        ValueError: empty or bad ``ns`` (each in [1, MAX_SAMPLES]), a bad kind, image or config.
    """
    from dlcore.explain.base import make_config

    t0 = time.perf_counter()
    cfg = make_config(SmoothGradConfig, config)
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind {kind!r} is not one of {NOISE_KINDS}")
    if isinstance(ns, (str, bytes)) or not isinstance(ns, Sequence) or not ns:
        raise ValueError(f"ns {ns!r} must be a non-empty list of sample counts")
    if any(isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SAMPLES for n in ns):
        raise ValueError(f"ns {list(ns)} must be whole numbers in [1, {MAX_SAMPLES}]")
    ns = sorted(set(int(n) for n in ns))
    x, t, p = _prepare(model, image, target)
    model = fused_twin(model)
    sigma = sigma_absolute(x, cfg.sigma_pct)
    grads, _ = noisy_gradients(model, x, t, sigma, ns[-1], cfg.batch_size, cfg.seed)  # (N, C, H, W)
    # running sums give every n at once: mean_n = cumsum_n / n
    k = torch.tensor(ns) - 1
    mean = grads.cumsum(0)[k] / torch.tensor(ns, dtype=grads.dtype).view(-1, 1, 1, 1)  # (len(ns), C, H, W)
    if kind == "smoothgrad":
        raw = mean
    else:
        mean_sq = (grads * grads).cumsum(0)[k] / torch.tensor(ns, dtype=grads.dtype).view(-1, 1, 1, 1)
        raw = mean_sq if kind == "smoothgrad_sq" else mean_sq - mean * mean
    maps = _map(raw, kind)  # (len(ns), H, W)
    vanilla_g, _ = batch_gradients(model, x, t)
    final_norm = float(maps[-1].norm()) or 1.0
    change = [0.0] + [float((maps[i] - maps[i - 1]).norm()) / final_norm for i in range(1, len(ns))]
    return SmoothGradConvergence(ns, maps, vanilla_g[0].sum(0).abs(), _spearman_rows(maps, maps[-1]), change, t, p,
                                 sigma, kind, {**cfg.__dict__, "n_max": ns[-1]}, time.perf_counter() - t0)


@dataclass
class SigmaSweep:
    """SmoothGrad maps for several noise levels, with the same standard-normal draws.

    Attributes:
        sigmas_pct: noise levels (% of range). sigmas: the absolute σ. maps: ``(S, H, W)``.
        noisy_accuracy: fraction of each σ's copies still classified as ``target`` (too much
            noise destroys the class the map explains). noisy_probability: their mean probability.
        target, probability, kind, settings, seconds: as named.
    """

    sigmas_pct: list[float]
    sigmas: list[float]
    maps: torch.Tensor
    noisy_accuracy: list[float]
    noisy_probability: list[float]
    target: int
    probability: float
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def smoothgrad_sigma_sweep(model: nn.Module, image: Any, sigmas_pct: Sequence[float] = DEFAULT_SIGMAS_PCT,
                           config: SmoothGradConfig | dict | None = None, target: int | None = None,
                           kind: NoiseKind = "smoothgrad") -> SigmaSweep:
    """SmoothGrad for each σ in ``sigmas_pct`` from one set of draws ``ε``: copy ``i`` at σ is
    ``x + σ ε_i``, so the maps differ only by the noise level (too little: the vanilla
    gradient's speckle; too much: the class is gone and the map blurs out).

    Raises:
        ValueError: empty or out-of-range sigmas (each in [0, 100]), more than
        ``MAX_SWEEP_GRADIENTS`` gradients in all, or a bad kind, image or config.
    """
    from dlcore.explain.base import make_config

    t0 = time.perf_counter()
    cfg = make_config(SmoothGradConfig, config)
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind {kind!r} is not one of {NOISE_KINDS}")
    if isinstance(sigmas_pct, (str, bytes)) or not isinstance(sigmas_pct, Sequence) or not sigmas_pct:
        raise ValueError(f"sigmas_pct {sigmas_pct!r} must be a non-empty list of percentages")
    if any(isinstance(s, bool) or not isinstance(s, (int, float)) or not 0 <= s <= 100 for s in sigmas_pct):
        raise ValueError(f"sigmas_pct {list(sigmas_pct)} must be numbers in [0, 100]")
    if len(sigmas_pct) * cfg.n_samples > MAX_SWEEP_GRADIENTS:
        raise ValueError(f"{len(sigmas_pct)} sigmas x {cfg.n_samples} samples = {len(sigmas_pct) * cfg.n_samples} "
                         f"gradients exceed the limit of {MAX_SWEEP_GRADIENTS}")
    x, t, p = _prepare(model, image, target)
    model = fused_twin(model)
    g = torch.Generator(device=x.device).manual_seed(cfg.seed)
    eps = torch.randn((cfg.n_samples, *x.shape[1:]), generator=g, device=x.device)  # (n, C, H, W)
    sig = [sigma_absolute(x, float(s)) for s in sigmas_pct]
    maps, acc, prob = [], [], []
    for s in sig:
        grads, logits = noisy_gradients(model, x, t, s, cfg.n_samples, cfg.batch_size, eps=eps)
        maps.append(_map(reduce_noisy(grads, kind), kind))
        pr = torch.softmax(logits, 1)
        acc.append(float((pr.argmax(1) == t).float().mean()))
        prob.append(float(pr[:, t].mean()))
    return SigmaSweep([float(s) for s in sigmas_pct], sig, torch.stack(maps), acc, prob, t, p, kind,
                      dict(cfg.__dict__), time.perf_counter() - t0)
