"""The one :class:`Attack` base class: every chore of an attack, so each attack holds only its maths.

The split is torchattacks' (``attack.py`` does the chores, ``pgd.py`` is 25 lines). An attack
subclass defines three things:

* ``init(x0) -> x``: the starting point (``x0``, or a random point of the ε-ball);
* ``step(i, x, x0, y, t) -> StepOut``: one update ``x_i -> x_{i+1}`` and the loss at ``x_i``;
* ``n_steps()``: how many updates.

The base class does the rest: checks the inputs (a ``ValueError`` names any bad value), switches
the model to eval mode and freezes its weights while attacking (only input gradients are
needed; the model's train/eval mode and ``requires_grad`` flags are restored afterwards, even
on error), moves data to the model's device, splits the data into batches, keeps pixels in
[0, 1], handles targeted and untargeted mode, records the loss per step (the learner's plot),
counts queries (black-box attacks), calls ``callback(step, metrics)`` after every step, stops
when a ``threading.Event`` is set, and returns an :class:`AttackResult` with the perturbation,
its L∞/L2 norms, success flags and the top-k predictions before and after.

Loss convention: every attack *ascends* its objective ``J``; untargeted ``J = CE(f(x), y)``,
targeted ``J = -CE(f(x), t)`` (torchattacks' convention). The loss shown per step is
``CE(f(x), y)`` (rising) for untargeted attacks and ``CE(f(x), t)`` (falling) for targeted ones.
Losses are summed over the batch before differentiating, so each image's gradient is its own
(the result does not depend on the batch size).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from dlcore.attacks.common import (MAX_SAMPLES, MAX_STEPS, NORMS, Callback, Norm, check_choice, check_inputs,
                                   check_number, frozen, lp_norms, model_device, project)
from dlcore.attacks.result import AttackResult

__all__ = ["Attack", "AttackConfig", "AttackResult", "StepOut", "Callback", "Norm", "NORMS", "MAX_SAMPLES",
           "MAX_STEPS", "check_number", "check_inputs", "check_choice", "project", "lp_norms", "frozen", "model_device"]


@dataclass
class AttackConfig:
    """Fields every attack has.

    Args:
        eps: the budget ε, the largest ‖δ‖ allowed (L∞ unless the attack says otherwise).
        target_class: ``None`` = untargeted (make the prediction wrong); a class index = targeted
            (make the prediction that class). A ``target`` passed at call time overrides it.
    """

    eps: float = 0.3
    target_class: int | None = None

    #: largest ε allowed for this config's norm (L∞ pixels live in [0, 1])
    EPS_MAX: ClassVar[float] = 1.0

    def validate(self) -> None:
        """Raise ``ValueError`` for a bad field (called by :class:`Attack`)."""
        self.eps = check_number("epsilon", self.eps, 0.0, self.EPS_MAX)
        if self.target_class is not None:
            self.target_class = int(check_number("target class", self.target_class, 0, None, integer=True))


@dataclass
class StepOut:
    """What one ``step`` returns: the next iterate, the objective ``J`` at the current iterate
    ``(B,)`` (ascent convention), the logits there (for early stopping) and the queries spent per
    sample (black-box)."""

    x: torch.Tensor
    loss: torch.Tensor
    logits: torch.Tensor | None = None
    queries: int = 0


class Attack:
    """Base class: chores here, maths in the subclass (see the module docstring).

    Args:
        model: the classifier to take gradients of (or to query, for black-box attacks);
            ``(N, C, H, W)`` pixels in [0, 1] -> logits ``(N, K)``.
        config: the attack's config dataclass (default: the paper's values); any config field
            may also be given as a keyword (``PGD(model, eps=0.1, steps=20)``).
        eval_model: the model whose predictions decide success (default ``model``); a different
            one makes a transfer attack (gradients of a substitute, success on the target) or an
            adaptive one (gradients of a BPDA/EOT stand-in, success on the real defence).
        callback: ``callback(step, metrics)`` after every step (``metrics``: batch, n_batches,
            step, steps, loss, active, progress); returning ``True``/``"stop"`` stops the attack.
        stop_event: a ``threading.Event``; when set the attack stops after the current step.
        batch_size: images per forward/backward pass, 1..4096. Default 256.
        early_stop: freeze each image at the first iterate that succeeds (saves queries and
            time; the attack then returns the first fooling point). Default False for white-box
            attacks (same output as torchattacks), True for black-box ones.
        seed: seeds the attack's own generator for random starts/samples (same seed, same
            result); None = torch's global RNG, as torchattacks. Default None.

    An instance keeps the state of its current run: build one per request (it is cheap), do not
    share one between threads.
    """

    name: ClassVar[str] = "attack"
    display_name: ClassVar[str] = "Attack"
    family: ClassVar[str] = "white-box"
    paper: ClassVar[str] = ""
    config_cls: ClassVar[type[AttackConfig]] = AttackConfig
    default_early_stop: ClassVar[bool] = False

    def __init__(self, model: nn.Module, config: AttackConfig | None = None, *,
                 eval_model: nn.Module | None = None, callback: Callback | None = None,
                 stop_event: threading.Event | None = None, batch_size: int = 256,
                 early_stop: bool | None = None, seed: int | None = None, **options: Any) -> None:
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if config is not None and not isinstance(config, self.config_cls):
            raise ValueError(f"config must be a {self.config_cls.__name__}, got {type(config).__name__}")
        names = {f.name for f in dataclasses.fields(self.config_cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise ValueError(f"option(s) {unknown} are not options of {self.display_name}; "
                             f"choose from {sorted(names)}")
        self.config = dataclasses.replace(config or self.config_cls(), **options)
        self.config.validate()
        self.model, self.eval_model = model, eval_model
        self.callback, self.stop_event = callback, stop_event
        self.batch_size = int(check_number("batch size", batch_size, 1, 4096, integer=True))
        self.early_stop = self.default_early_stop if early_stop is None else bool(early_stop)
        self.seed = None if seed is None else int(check_number("seed", seed, 0, 2**63 - 1, integer=True))
        self.generator: torch.Generator | None = None
        self.device = model_device(model)

    # -- the subclass's maths ---------------------------------------------------------------
    def n_steps(self) -> int:
        """Number of updates."""
        return 1

    def steps_for(self, x0: torch.Tensor) -> int:
        """Number of updates for images shaped like ``x0`` (black-box attacks cap it by the budget)."""
        return self.n_steps()

    def init(self, x0: torch.Tensor) -> torch.Tensor:
        """Starting point (default: the clean image)."""
        return x0.clone()

    def step(self, i: int, x: torch.Tensor, x0: torch.Tensor, y: torch.Tensor,
             t: torch.Tensor | None) -> StepOut:
        """One update ``x_i -> x_{i+1}``. Shapes ``(B, C, H, W)``, labels ``(B,)``."""
        raise NotImplementedError

    def objective(self, logits: torch.Tensor, y: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
        """Per-sample ``J`` to ascend: ``CE(f(x), y)`` untargeted, ``-CE(f(x), t)`` targeted. ``(B,)``"""
        if t is None:
            return F.cross_entropy(logits, y, reduction="none")
        return -F.cross_entropy(logits, t, reduction="none")

    def shown_loss(self, j: torch.Tensor, targeted: bool) -> torch.Tensor:
        """The loss plotted per step, from ``J`` (default: ``CE`` to y, or ``CE`` to the target)."""
        return -j if targeted else j

    def loss_name(self, targeted: bool) -> str:
        return "CE(f(x'), target)" if targeted else "CE(f(x'), y)"

    # -- helpers for subclasses -------------------------------------------------------------
    def loss_and_grad(self, x: torch.Tensor, y: torch.Tensor, t: torch.Tensor | None
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(J (B,), ∇ₓ ΣJ (B, ...), logits (B, K))`` at ``x``. A model that cuts the gradient
        (a non-differentiable defence) gives a zero gradient, counted in ``zero_grad_fraction``."""
        x = x.detach().requires_grad_(True)
        logits = self.model(x)  # (B, K)
        j = self.objective(logits, y, t)  # (B,)
        grad = None
        if j.requires_grad:
            grad = torch.autograd.grad(j.sum(), x, allow_unused=True)[0]
        if grad is None:
            grad = torch.zeros_like(x)
        self._zero += int((grad.flatten(1).abs().amax(1) == 0).sum())
        self._grads += len(x)
        return j.detach(), grad.detach(), logits.detach()

    def uniform_like(self, x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
        """Uniform noise in ``[lo, hi)`` shaped like ``x`` from the attack's generator."""
        return torch.empty_like(x).uniform_(lo, hi, generator=self.generator)

    def normal_like(self, x: torch.Tensor) -> torch.Tensor:
        """Standard normal noise shaped like ``x`` from the attack's generator."""
        return torch.empty_like(x).normal_(generator=self.generator)

    # -- public entry points ----------------------------------------------------------------
    def __call__(self, x: torch.Tensor, y: torch.Tensor | int,
                 target: torch.Tensor | int | None = None) -> AttackResult:
        """Attack ``x`` (true labels ``y``); ``target`` (class or ``(N,)`` classes) makes it targeted.

        Shape: ``x`` ``(N, C, H, W)`` in [0, 1], ``y`` ``(N,)`` -> :class:`AttackResult`.
        """
        t0 = time.perf_counter()
        x, y = check_inputs(x, y)
        ev = self.eval_model or self.model
        with frozen(self.model, self.eval_model):
            probs_before = self._logits(ev, x).softmax(1)  # (N, K)
            t = self._targets(target, len(x), probs_before.shape[1])
            x_adv, hist, queries, n_done = self._run(x, y, t)
            x, y = x[:n_done], y[:n_done]
            t = None if t is None else t[:n_done]
            probs_before = probs_before[:n_done]
            logits_after = self._logits(ev, x_adv)  # (N, K)
            probs_after = logits_after.softmax(1)
            final = self._logits(self.model, x_adv) if ev is not self.model else logits_after
            j = self.objective(final, y, t)  # J at the last iterate x_T
        hist.append(self.shown_loss(j, t is not None))
        history = torch.stack(hist)  # (T+1, N)
        pred = probs_after.argmax(1)
        success = pred == t if t is not None else pred != y
        linf, l2 = lp_norms(x_adv - x)
        frac = self._zero / self._grads if self._grads else 0.0
        notes = []
        if frac > 0.5:
            notes.append(f"the gradient was exactly zero for {100 * frac:.0f} % of images and steps: the model "
                         "hides its gradient (obfuscated gradients); an adaptive attack (BPDA) can get round it")
        if self._stopped:
            notes.append(f"stopped early: {n_done} image(s) attacked")
        return AttackResult(x=x, x_adv=x_adv, y=y, target=t, linf=linf, l2=l2,
                            loss_per_step=history.mean(1),
                            loss_history=history if history.numel() <= 1_000_000 else None,
                            loss_name=self.loss_name(t is not None), probs_before=probs_before,
                            probs_after=probs_after, success=success, queries=queries, attack=self.name,
                            config=dataclasses.asdict(self.config), steps_done=self._steps_done,
                            stopped=self._stopped, seconds=time.perf_counter() - t0, zero_grad_fraction=frac,
                            notes=notes)

    def perturb(self, x: torch.Tensor, y: torch.Tensor | int, target: torch.Tensor | int | None = None
                ) -> torch.Tensor:
        """Only the adversarial images ``(N, C, H, W)`` (no predictions before/after: the lean call
        for adversarial training)."""
        x, y = check_inputs(x, y)
        with frozen(self.model, self.eval_model):
            n_classes = None if target is None and self.config.target_class is None else \
                self._logits(self.model, x[:1]).shape[1]
            t = self._targets(target, len(x), n_classes)
            return self._run(x, y, t)[0]

    # -- internals --------------------------------------------------------------------------
    @torch.no_grad()
    def _logits(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        dev = model_device(model)
        outs = [model(x[i:i + self.batch_size].to(dev)).float().cpu() for i in range(0, len(x), self.batch_size)]
        return torch.cat(outs)  # (N, K)

    def _targets(self, target: Any, n: int, n_classes: int | None) -> torch.Tensor | None:
        if target is None:
            target = self.config.target_class
        if target is None:
            return None
        if isinstance(target, torch.Tensor) and target.dim() == 1:
            if target.is_floating_point() or len(target) != n:
                raise ValueError(f"targets must be an integer tensor of shape ({n},), got {tuple(target.shape)}")
            t = target.long().cpu()
        else:
            t = torch.full((n,), int(check_number("target class", target, 0, None, integer=True)), dtype=torch.long)
        if n_classes is not None and (int(t.min()) < 0 or int(t.max()) >= n_classes):
            raise ValueError(f"target class {int(t.max()) if int(t.max()) >= n_classes else int(t.min())} "
                             f"must be in [0, {n_classes - 1}] (the model has {n_classes} classes)")
        return t

    def _success(self, logits: torch.Tensor, y: torch.Tensor, t: torch.Tensor | None) -> torch.Tensor:
        pred = logits.argmax(1)
        return pred == t if t is not None else pred != y

    def _ask_stop(self, step: int, metrics: dict[str, Any]) -> bool:
        answer = self.callback(step, metrics) if self.callback is not None else None
        return answer is True or answer == "stop" or (self.stop_event is not None and self.stop_event.is_set())

    def _run(self, x: torch.Tensor, y: torch.Tensor, t: torch.Tensor | None
             ) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor, int]:
        """Batches -> (x_adv (n, ...), shown loss per step [(n,)], queries (n,), n attacked)."""
        self._zero = self._grads = 0
        self._stopped, self._steps_done = False, 0
        self.generator = None
        if self.seed is not None:
            self.generator = torch.Generator(device=self.device).manual_seed(self.seed)
        T, bs = self.steps_for(x[:1]), self.batch_size
        n_batches = math.ceil(len(x) / bs)
        advs, hists, queries = [], [], []
        for b in range(n_batches):
            sl = slice(b * bs, (b + 1) * bs)
            xb, yb = x[sl].to(self.device), y[sl].to(self.device)
            tb = None if t is None else t[sl].to(self.device)
            xa, hist, q = self._run_batch(xb, yb, tb, b, n_batches, T)
            advs.append(xa.cpu())
            hists.append(hist)
            queries.append(q.cpu())
            if self._stopped:
                break
        # pad the batches that stopped sooner (early stop, stop request) with their last loss
        width = max(len(h) for h in hists)
        hist = [torch.cat([h[min(i, len(h) - 1)] if h else torch.full((len(a),), float("nan"))
                           for h, a in zip(hists, advs)]) for i in range(width)]
        return torch.cat(advs), hist, torch.cat(queries), sum(len(a) for a in advs)

    def _run_batch(self, x0: torch.Tensor, y: torch.Tensor, t: torch.Tensor | None, b: int,
                   n_batches: int, T: int) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
        x = self.init(x0).detach()  # 0. start point (B, C, H, W)
        done = torch.zeros(len(x0), dtype=torch.bool, device=x0.device)
        queries = torch.zeros(len(x0), dtype=torch.long)
        cur = torch.full((len(x0),), float("nan"))
        hist: list[torch.Tensor] = []
        for i in range(T):
            idx = (~done).nonzero().squeeze(1) if self.early_stop else None
            if idx is not None and len(idx) == 0:
                break
            xs, x0s, ys = (x, x0, y) if idx is None else (x[idx], x0[idx], y[idx])
            ts = t if t is None or idx is None else t[idx]
            out = self.step(i, xs, x0s, ys, ts)  # 1. one update (the subclass's maths)
            shown = self.shown_loss(out.loss, t is not None).float().cpu()
            x_next = out.x.detach()
            if idx is None:
                cur, x = shown, x_next
                queries += out.queries
            else:
                cur[idx.cpu()] = shown
                queries[idx.cpu()] += out.queries
                if out.logits is not None:  # 2. images already fooled at x_i stay there
                    ok = self._success(out.logits, ys, ts)
                    x_next[ok] = xs[ok]
                    done[idx[ok]] = True
                x[idx] = x_next
            hist.append(cur.clone())
            self._steps_done = max(self._steps_done, i + 1)
            metrics = {"batch": b, "n_batches": n_batches, "step": i + 1, "steps": T,
                       "loss": float(shown.mean()), "active": int((~done).sum()),
                       "queries": int(queries.max()) if len(queries) else 0,
                       "progress": (b + (i + 1) / T) / n_batches}
            if self._ask_stop(b * T + i + 1, metrics):
                self._stopped = True
                break
        return x.detach(), hist if hist else [], queries

    @property
    def stopped(self) -> bool:
        """Whether the last run ended early on a stop request (its images then had fewer steps)."""
        return bool(getattr(self, "_stopped", False))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in dataclasses.asdict(self.config).items())
        return f"{type(self).__name__}({fields})"
