"""Sanity check: does the map depend on what the model learned? (Adebayo et al. 2018)

https://arxiv.org/abs/1810.03292, §3: an explanation that still looks the same after the
model's weights are replaced by random ones cannot be explaining the model — it shows the
input (edges, the object's outline). **Cascading randomisation**: re-initialise the layers
one by one from the top (logits) down, cumulatively, and after each step compare each
method's map with the original one by the Spearman rank correlation of ``|map|`` (and SSIM).
``"independent"`` randomises one layer at a time instead. The paper found guided backprop
and gradient × input barely change (they fail); the gradient, SmoothGrad and Grad-CAM do.

A layer is re-initialised to PyTorch's default initialisation, ``U(-1/√fan_in, 1/√fan_in)``
for weights and biases (seeded), and a BatchNorm right after a convolution is reset with it
(γ = 1, β = 0, running mean 0, variance 1). Everything happens on a private copy: the shared
(zoo) model is never touched. The verdict: a method *fails* when its rank correlation with the
original map, averaged over the randomisation steps, stays above ``fail_threshold`` (guided
backprop keeps its picture while the top layers are random, then fades only when the first
convolutions are: the mean catches that, the last step alone would not).
"""

from __future__ import annotations

import copy
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Sequence

import torch
from torch import nn

from dlcore.explain.base import assume_private, check_config, check_image, check_model, class_probabilities, \
    check_target, make_config, option
from dlcore.explain.metrics import spearman, ssim
from dlcore.explain.names import SANITY_METHODS

__all__ = ["SanityConfig", "SanityResult", "randomizable_layers", "randomize_layer", "sanity_check",
           "SANITY_METHODS"]  # SANITY_METHODS: checked by default (occlusion and LIME can be added; they take longer)


@dataclass(frozen=True)
class SanityConfig:
    """Options of the model-randomisation test (Adebayo et al. 2018, https://arxiv.org/abs/1810.03292).

    Args:
        mode: ``"cascading"`` (default: top layer first, cumulatively) or ``"independent"``.
        fail_threshold: a method fails if ``ρ(|map|)`` averaged over the steps is above this (default 0.5).
        seed: seed of the re-initialisation.
    """

    mode: Literal["cascading", "independent"] = option("cascading", "randomisation")
    fail_threshold: float = option(0.5, "fails if the mean rank correlation stays above", lo=0.0, hi=1.0, step=0.05)
    seed: int = option(0, "seed", lo=0, hi=2**31 - 1, step=1)

    def __post_init__(self) -> None:
        check_config(self)


def randomizable_layers(model: nn.Module) -> list[tuple[str, str]]:
    """``(module name, description)`` of every ``Linear``/``Conv2d``, top (output) layer first."""
    out = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Linear):
            out.append((name, f"{name} (Linear {m.in_features}→{m.out_features})"))
        elif isinstance(m, nn.Conv2d):
            out.append((name, f"{name} (Conv {m.in_channels}→{m.out_channels}, {m.kernel_size[0]}×{m.kernel_size[1]})"))
    return out[::-1]


@torch.no_grad()
def randomize_layer(model: nn.Module, name: str, generator: torch.Generator) -> None:
    """Re-initialise layer ``name`` of ``model`` in place (and a BatchNorm right after a conv)."""
    mods = list(model.named_modules())
    idx = [n for n, _ in mods].index(name)
    layer = mods[idx][1]
    fan_in = layer.weight[0].numel()
    bound = 1.0 / math.sqrt(fan_in)
    layer.weight.copy_(torch.empty_like(layer.weight).uniform_(-bound, bound, generator=generator))
    if layer.bias is not None:
        layer.bias.copy_(torch.empty_like(layer.bias).uniform_(-bound, bound, generator=generator))
    if isinstance(layer, nn.Conv2d) and idx + 1 < len(mods) and isinstance(mods[idx + 1][1], nn.BatchNorm2d):
        bn = mods[idx + 1][1]
        bn.reset_running_stats()
        if bn.affine:
            bn.weight.fill_(1.0)
            bn.bias.zero_()


@dataclass
class SanityResult:
    """Each method's map after each randomisation step, and how far it moved.

    Attributes:
        steps: ``"original"`` then the layer randomised at each step (description).
        names: methods checked. maps: name -> ``(len(steps), H, W)`` map (method's own scale).
        spearman: name -> ρ(|map_step|, |map_original|) per step (1.0 first).
        spearman_signed: the same without absolute values (Adebayo et al. report both).
        ssim: name -> SSIM with the original per step.
        probability: the randomised model's probability of ``target`` at each step.
        mean_spearman: name -> ρ averaged over the randomisation steps (what the verdict reads).
        verdict: name -> ``"fails"`` or ``"passes"``; reason: name -> a sentence with the numbers.
        target, mode, settings, seconds, stopped: as named.
    """

    steps: list[str]
    names: list[str]
    maps: dict[str, torch.Tensor]
    spearman: dict[str, list[float]]
    spearman_signed: dict[str, list[float]]
    ssim: dict[str, list[float]]
    probability: list[float]
    mean_spearman: dict[str, float]
    verdict: dict[str, str]
    reason: dict[str, str]
    target: int
    mode: str
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    stopped: bool = False


def sanity_check(model: nn.Module, image: Any, methods: Sequence[str] = SANITY_METHODS,
                 configs: Mapping[str, Any] | None = None, target: int | None = None,
                 config: SanityConfig | dict | None = None,
                 callback: Callable[[int, dict[str, Any]], None] | None = None,
                 stop: threading.Event | None = None) -> SanityResult:
    """Randomise the model layer by layer and watch each method's map (and its correlation).

    Methods that cannot run on the model (Grad-CAM on an MLP) are left out.

    Args:
        methods: keys of :data:`~dlcore.explain.METHODS` (default :data:`SANITY_METHODS`).
        configs: per-method options, as for :func:`~dlcore.explain.explain_all`.
        target: class explained at every step (default: the original model's prediction).
        callback: ``callback(step, {"layer", "spearman"})`` after each step; ``stop`` ends early.

    Raises:
        ValueError: bad model, image, methods, options or target.
    """
    from dlcore.explain.methods import available_methods, explain_all, method_spec

    t0 = time.perf_counter()
    cfg = make_config(SanityConfig, config)
    check_model(model)
    x = check_image(image)
    avail = available_methods(model)
    if isinstance(methods, str) or not isinstance(methods, Sequence):
        raise ValueError(f"methods {methods!r} must be a list of method names")
    for m in methods:
        method_spec(m)
    names = [m for m in methods if not avail[m]]
    if not names:
        raise ValueError(f"none of the methods {list(methods)} can run on {type(model).__name__}")
    probs = class_probabilities(model, x)[0]
    t = check_target(target, probs.numel(), int(probs.argmax()))
    layers = randomizable_layers(model)
    gen = torch.Generator().manual_seed(cfg.seed)
    base = explain_all(model, x, names, configs, target=t)  # validates names and options
    steps, prob = ["original"], [float(probs[t])]
    maps = {n: [base.attributions[n].map] for n in names}
    work = copy.deepcopy(model)
    stopped = False
    for i, (lname, desc) in enumerate(layers):
        if stop is not None and stop.is_set():
            stopped = True
            break
        if cfg.mode == "independent":
            work = copy.deepcopy(model)
        randomize_layer(work, lname, gen)
        with assume_private(work):
            e = explain_all(work, x, names, configs, target=t)
        steps.append(desc)
        prob.append(e.probability)
        for n in names:
            maps[n].append(e.attributions[n].map)
        if callback is not None:
            callback(i, {"layer": desc, "spearman": {n: spearman(maps[n][-1].abs(), maps[n][0].abs()) for n in names}})
    stacked = {n: torch.stack(v) for n, v in maps.items()}
    rho = {n: [spearman(m.abs(), v[0].abs()) for m in v] for n, v in stacked.items()}
    rho_s = {n: [spearman(m, v[0]) for m in v] for n, v in stacked.items()}
    ss = {n: [ssim(m.abs(), v[0].abs()) for m in v] for n, v in stacked.items()}
    verdict, reason, mean_rho = {}, {}, {}
    for n in names:
        after = rho[n][1:]
        mean = sum(after) / len(after) if after else 1.0
        mean_rho[n] = mean
        fails = mean > cfg.fail_threshold
        verdict[n] = "fails" if fails else "passes"
        reason[n] = (f"mean rank correlation with the original map over {len(after)} randomisation steps is "
                     f"{mean:.2f} (> {cfg.fail_threshold:g}; {after[-1] if after else 1.0:.2f} at the last step): "
                     "the map shows the input more than what the model learned" if fails else
                     f"mean rank correlation over {len(after)} randomisation steps is {mean:.2f} "
                     f"(<= {cfg.fail_threshold:g}): the map depends on the learned weights")
    return SanityResult(steps, names, stacked, rho, rho_s, ss, prob, mean_rho, verdict, reason, t, cfg.mode,
                        dict(cfg.__dict__), time.perf_counter() - t0, stopped)
