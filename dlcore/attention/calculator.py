"""The attention calculator: Q, K, V as typed text -> every step with the numbers substituted.

:func:`attention_report` parses the three matrices (:func:`dlcore.textinput.parse_tensor`, never
``eval``), validates every option by the name the learner sees (:func:`calc_config`), and returns
an :class:`AttentionReport`: the tensors of each step (scores, scaling by √d, mask, softmax,
weights × V; or additive scoring; or the multi-head split), the steps as LaTeX (general formula,
then the chosen query row with its numbers, then the whole matrix), and :class:`Agreement` rows
against torch on the same numbers — ``F.scaled_dot_product_attention`` (with the mask),
``nn.MultiheadAttention`` (with the same projections) or, for additive scoring, which torch has no
function for, the formula evaluated entry by entry in plain Python. Seed 000 §8.4.3, 003 §dl_10_1_2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from dlcore.attention.multihead import MultiHeadResult, multi_head_attention, projection_weights, torch_multihead
from dlcore.attention.names import (MASKS, MAX_DIM, MAX_HEADS, MAX_HIDDEN, MAX_TOKENS, PROJECTIONS, SCORINGS,
                                    MaskKind, Projection, Scoring)
from dlcore.attention.scoring import (AdditiveWeights, AttentionResult, additive_attention, additive_weights,
                                      dot_product_attention, make_mask, one_thread)
from dlcore.calculators.losses_base import MAX_SHOWN, Step, as_rows, latex_grid, num
from dlcore.textinput import format_tensor, parse_choice, parse_int, parse_tensor

__all__ = ["CalcConfig", "calc_config", "Agreement", "AttentionReport", "attention_report", "random_qkv", "MATCH_TOL"]

#: Largest |ours − torch| (float64) that counts as the same answer.
MATCH_TOL = 1e-9
_MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class CalcConfig:
    """Options of the calculator.

    Args:
        scoring: ``"scaled_dot"`` (default, Vaswani et al. 2017), ``"dot"`` or ``"additive"``.
        mask: ``"none"`` (default), ``"causal"``, ``"padding"``, ``"causal+padding"``.
        valid_keys: the padding mask keeps keys 0 … valid_keys − 1 (ignored without padding). Default 0.
        heads: h ≥ 1; h > 1 = the multi-head split (dot-product scoring only). Default 1.
        projection: the multi-head W's: ``"identity"`` (default: the pure split) or ``"random"``.
        hidden: additive scoring's hidden size h (W_q: h×d_q, W_k: h×d_k, w_v: h). Default 4.
        seed: seed of the additive / random projection weights. Default 0.
        row: the query row written out with its numbers. Default 0.
    """

    scoring: Scoring = "scaled_dot"
    mask: MaskKind = "none"
    valid_keys: int = 0
    heads: int = 1
    projection: Projection = "identity"
    hidden: int = 4
    seed: int = 0
    row: int = 0


def calc_config(scoring: object = "scaled_dot", mask: object = "none", valid_keys: object = 0, heads: object = 1,
                projection: object = "identity", hidden: object = 4, seed: object = 0,
                row: object = 0) -> CalcConfig:
    """A :class:`CalcConfig` from raw values (any type, e.g. from the web), each checked by its name."""
    return CalcConfig(parse_choice(scoring, "scoring", SCORINGS), parse_choice(mask, "mask", MASKS),
                      parse_int(0 if valid_keys is None else valid_keys, "valid keys", lo=0, hi=MAX_TOKENS),
                      parse_int(heads, "heads h", lo=1, hi=MAX_HEADS),
                      parse_choice(projection, "projections", PROJECTIONS),
                      parse_int(hidden, "additive hidden size", lo=1, hi=MAX_HIDDEN),
                      parse_int(seed, "seed", lo=0, hi=_MAX_SEED), parse_int(row, "query row i", lo=0))


@dataclass(frozen=True)
class Agreement:
    """Our answer next to a trusted one on the same numbers (float64)."""

    what: str        # e.g. "output O"
    reference: str   # the call, e.g. "F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)"
    max_diff: float
    tol: float = MATCH_TOL

    @property
    def matches(self) -> bool:
        return self.max_diff <= self.tol


@dataclass
class AttentionReport:
    """What the calculator shows. ``single`` is set for h = 1, ``multi`` for h > 1; ``weights``
    ``(n, m)`` / ``(h, n, m)`` and ``output`` ``(n, d_v)`` / ``(n, E)`` are the final answer."""

    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    config: CalcConfig
    weights: torch.Tensor
    output: torch.Tensor
    steps: list[Step]
    checks: list[Agreement]
    single: AttentionResult | None = None
    multi: MultiHeadResult | None = None
    additive: AdditiveWeights | None = None
    notes: list[str] = field(default_factory=list)


def _matrix(text: object, name: str) -> torch.Tensor:
    t = parse_tensor(text, name, ndim=2, max_elements=MAX_TOKENS * MAX_DIM)  # float64
    if t.shape[0] > MAX_TOKENS:
        raise ValueError(f"{name} has {t.shape[0]} rows (tokens); the limit is {MAX_TOKENS}")
    if t.shape[1] > MAX_DIM:
        raise ValueError(f"{name} has {t.shape[1]} columns; the limit is {MAX_DIM}")
    return t


def random_qkv(n: object, m: object, d: object, d_v: object, seed: object) -> tuple[str, str, str]:
    """Seeded standard-normal Q ``(n, d)``, K ``(m, d)``, V ``(m, d_v)`` as text for the boxes (2 decimals)."""
    n_, m_ = parse_int(n, "queries n", lo=1, hi=MAX_TOKENS), parse_int(m, "keys m", lo=1, hi=MAX_TOKENS)
    d_, dv = parse_int(d, "d_k", lo=1, hi=MAX_DIM), parse_int(d_v, "d_v", lo=1, hi=MAX_DIM)
    g = torch.Generator().manual_seed(parse_int(seed, "seed", lo=0, hi=_MAX_SEED))
    mats = [torch.randn(r, c, generator=g, dtype=torch.float64).round(decimals=2) for r, c in ((n_, d_), (m_, d_),
                                                                                              (m_, dv))]
    return tuple(format_tensor(t, 2) for t in mats)  # type: ignore[return-value]


def latex_tensor(t: torch.Tensor, decimals: int = 4) -> str:
    """:func:`dlcore.calculators.losses_base.latex_tensor`, formatting only the cells it shows (a 16×32
    matrix is elided to 8×8, so 64 numbers are formatted, not 512)."""
    rows = as_rows(t)

    def shown(n: int) -> set[int]:
        return set(range(MAX_SHOWN - 1)) | {n - 1} if n > MAX_SHOWN else set(range(n))

    kr, kc = shown(len(rows)), shown(len(rows[0]))
    return latex_grid([[num(x, decimals) if j in kc else "" for j, x in enumerate(row)] if i in kr else []
                       for i, row in enumerate(rows)])


def _dot(a: torch.Tensor, b: torch.Tensor) -> str:
    """``(a_1)(b_1) + (a_2)(b_2) + …`` (elided past 6 terms)."""
    terms = [rf"{num(x, 4, True)}\cdot{num(y, 4, True)}" for x, y in zip(a.tolist()[:6], b.tolist()[:6])]
    return " + ".join(terms) + (r" + \cdots" if a.numel() > 6 else "")


def _softmax_row(masked: torch.Tensor, weights: torch.Tensor, i: int) -> str:
    live = [j for j in range(masked.shape[-1]) if math.isfinite(float(masked[i, j]))]
    denom = " + ".join(f"e^{{{num(masked[i, j], 4)}}}" for j in live[:6]) + (r" + \cdots" if len(live) > 6 else "")
    parts = [rf"\alpha_{{{i}{j}}} = \frac{{e^{{{num(masked[i, j], 4)}}}}}{{{denom}}} = {num(weights[i, j], 4)}"
             for j in live[:4]]
    dead = [f"\\alpha_{{{i}{j}}} = 0" for j in range(masked.shape[-1]) if j not in live][:3]
    return r"\\[6pt] ".join(parts + dead) + (r"\\ \ldots" if len(live) > 4 else "")  # one weight a line


def _weighted_sum(weights: torch.Tensor, v: torch.Tensor, out: torch.Tensor, i: int, o: str = "o") -> str:
    terms = [rf"{num(weights[i, j], 4)}\,{latex_tensor(v[j])}" for j in range(v.shape[0])
             if float(weights[i, j]) != 0.0][:4]
    more = r" \\ + \cdots" if int((weights[i] != 0).sum()) > 4 else ""
    # one term a line: the sum stays readable on a phone
    return (rf"{o}_{{{i}}} = \sum_j \alpha_{{{i}j}} v_j = " + r" \\ + ".join(terms) + more +
            rf" \\ = {latex_tensor(out[i])}")


def _attention_steps(r: AttentionResult, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, i: int,
                     scoring: str, tag: str = "") -> list[Step]:
    """Scores, scaling, mask, softmax, weights × V for one (head's) Q, K, V, row ``i`` written out."""
    steps: list[Step] = []
    if scoring == "additive":
        steps.append(Step(f"Scores{tag}: additive", r"s_{ij} = w_v^\top \tanh(W_q q_i + W_k k_j)",
                          r" \\ ".join(rf"s_{{{i}{j}}} = w_v^\top {latex_tensor(r.hidden[i, j])}^\top = "  # type: ignore[index]
                                          f"{num(r.scores[i, j], 4)}" for j in range(min(k.shape[0], 4)))
                          + rf"\\ S = {latex_tensor(r.scores)}", r.scores))
    else:
        steps.append(Step(f"Scores{tag}: S = Q Kᵀ", r"s_{ij} = q_i \cdot k_j = \sum_c q_{ic} k_{jc}",
                          rf"s_{{{i}0}} = {_dot(q[i], k[0])} = {num(r.scores[i, 0], 4)}\\ "
                          rf"S = {latex_tensor(r.scores)}", r.scores))
    if scoring == "scaled_dot":
        d = q.shape[-1]
        steps.append(Step(f"Scaling{tag} by √d_k", rf"S' = S / \sqrt{{d_k}} = S / \sqrt{{{d}}} = {num(r.scale, 4)}\,S",
                          rf"s'_{{{i}0}} = {num(r.scores[i, 0], 4)} / {num(math.sqrt(d), 4)} = "
                          rf"{num(r.scaled[i, 0], 4)} \\ S' = {latex_tensor(r.scaled)}", r.scaled))
    if r.mask is not None:
        steps.append(Step(f"Mask{tag}", r"s'_{ij} = -\infty \text{ where key } j \text{ is masked for query } i",
                          rf"S'_{{\text{{masked}}}} = {latex_tensor(r.masked)}", r.masked))
    steps.append(Step(f"Softmax{tag} over the keys (each row sums to 1)",
                      r"\alpha_{ij} = \frac{\exp(s'_{ij})}{\sum_{j'} \exp(s'_{ij'})}",
                      _softmax_row(r.masked, r.weights, i) + rf"\\ A = {latex_tensor(r.weights)}", r.weights))
    steps.append(Step(f"Weights × V{tag}", r"O = A V",
                      _weighted_sum(r.weights, v, r.output, i) + rf"\\ O = {latex_tensor(r.output)}", r.output))
    return steps


def _direct_additive(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, w: AdditiveWeights,
                     mask: torch.Tensor | None) -> torch.Tensor:
    """Additive attention one (i, j) at a time in plain Python floats (the check torch cannot give)."""
    wq, wk, wv = w.w_q.tolist(), w.w_k.tolist(), w.w_v.tolist()
    out = []
    for i, qi in enumerate(q.tolist()):
        s = []
        for j, kj in enumerate(k.tolist()):
            pre = [sum(a * b for a, b in zip(wq[r], qi)) + sum(a * b for a, b in zip(wk[r], kj)) for r in range(len(wv))]
            s.append(sum(c * math.tanh(p) for c, p in zip(wv, pre)) if mask is None or mask[i, j] else -math.inf)
        top = max(s)
        e = [math.exp(x - top) for x in s]
        out.append([sum(e[j] / sum(e) * v[j, c].item() for j in range(len(e))) for c in range(v.shape[1])])
    return torch.tensor(out, dtype=torch.float64)


def attention_report(q_text: object, k_text: object, v_text: object, config: CalcConfig | None = None
                     ) -> AttentionReport:
    """Parse Q, K, V and compute the attention of ``config`` step by step (see the module docstring).

    Shape: Q ``(n, d_q)``, K ``(m, d_k)``, V ``(m, d_v)``; n, m ≤ :data:`MAX_TOKENS`, dims ≤ :data:`MAX_DIM`.

    Raises:
        ValueError: text that is not a matrix (ragged, empty, not numbers), shapes that do not fit
            (m rows in K and V, d_q = d_k for dot products, h dividing d), a row that does not exist,
            a padding length outside 1..m, additive scoring with h > 1.
    """
    with one_thread():  # tiny tensors: one thread is ~1000x faster than waking a second one on a busy CPU
        return _report(q_text, k_text, v_text, config or CalcConfig())


def _report(q_text: object, k_text: object, v_text: object, c: CalcConfig) -> AttentionReport:
    q, k, v = _matrix(q_text, "Q"), _matrix(k_text, "K"), _matrix(v_text, "V")
    n, m = q.shape[0], k.shape[0]
    if c.row >= n:
        raise ValueError(f"query row i = {c.row} does not exist; Q has rows 0 … {n - 1}")
    mask = make_mask(c.mask, n, m, c.valid_keys if "padding" in c.mask else None)
    if c.heads > 1:
        return _multi_report(q, k, v, c, mask)
    if c.scoring == "additive":
        aw = additive_weights(q.shape[1], k.shape[1], c.hidden, c.seed)
        r = additive_attention(q, k, v, aw, mask)
        steps = [Step("Additive weights (seeded)", r"W_q \in \mathbb{R}^{h\times d_q},\ W_k \in \mathbb{R}^{h\times d_k},"
                      r"\ w_v \in \mathbb{R}^{h}",
                      rf"W_q = {latex_tensor(aw.w_q)} \\ W_k = {latex_tensor(aw.w_k)} \\ w_v = {latex_tensor(aw.w_v)}")]
        steps += _attention_steps(r, q, k, v, c.row, c.scoring)
        checks = [Agreement("output O", "the formula entry by entry in Python floats (torch has no additive attention)",
                            float((r.output - _direct_additive(q, k, v, aw, mask)).abs().max()))]
        return AttentionReport(q, k, v, c, r.weights, r.output, steps, checks, single=r, additive=aw)
    r = dot_product_attention(q, k, v, mask, scaled=c.scoring == "scaled_dot")
    scale = "" if c.scoring == "scaled_dot" else ", scale=1.0"
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=None if not scale else 1.0)
    call = f"F.scaled_dot_product_attention(Q, K, V{', attn_mask=mask' if mask is not None else ''}{scale})"
    checks = [Agreement("output O", call, float((r.output - ref).abs().max()))]
    return AttentionReport(q, k, v, c, r.weights, r.output, _attention_steps(r, q, k, v, c.row, c.scoring), checks,
                           single=r)


def _multi_report(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, c: CalcConfig,
                  mask: torch.Tensor | None) -> AttentionReport:
    if c.scoring != "scaled_dot":
        raise ValueError(f"heads h = {c.heads} needs scaled dot-product scoring (the multi-head split of §8.4.3); "
                         f"use h = 1 for {c.scoring} scoring")
    if q.shape[1] != k.shape[1] and c.projection == "identity":
        raise ValueError(f"Q has d_q = {q.shape[1]} columns but K has d_k = {k.shape[1]}; the identity split needs "
                         "d_q = d_k (choose random projections for different sizes)")
    if q.shape[1] % c.heads:
        raise ValueError(f"heads h = {c.heads} must divide d_q = {q.shape[1]} (each head gets d_q/h columns)")
    w = projection_weights(c.projection, q.shape[1], k.shape[1], v.shape[1], c.seed)
    r = multi_head_attention(q, k, v, w, c.heads, mask)
    p = r.head_dim
    steps = [Step("Projections", r"Q' = Q W^Q,\ K' = K W^K,\ V' = V W^V",
                  "W^Q = W^K = W^V = W^O = I" if c.projection == "identity" else
                  rf"W^Q = {latex_tensor(w.w_q)} \\ Q' = {latex_tensor(r.q)}", r.q),
             Step(f"Split into h = {c.heads} heads of p = d/h = {p} columns",
                  rf"Q_i = Q'_{{[:,\ ip\,:\,(i+1)p]}},\ \text{{scale}} = 1/\sqrt{{p}} = {num(1 / math.sqrt(p), 4)}", "")]
    for h in range(c.heads):
        cols = slice(h * p, (h + 1) * p)
        one = AttentionResult(*(t[h] for t in (r.heads.scores, r.heads.scaled, r.heads.masked, r.heads.weights,
                                               r.heads.output)), r.heads.scale, mask)
        steps += _attention_steps(one, r.q[:, cols], r.k[:, cols], r.v[:, cols], c.row, "scaled_dot",
                                  tag=f" (head {h + 1})")
    steps.append(Step("Concatenate and project", r"O = \mathrm{Concat}(o_1, \ldots, o_h)\, W^O",
                      rf"\mathrm{{Concat}} = {latex_tensor(r.concat)} \\ O = {latex_tensor(r.output)}", r.output))
    mha = torch_multihead(w, c.heads)
    with torch.no_grad():
        ref, ref_w = mha(q[None], k[None], v[None], attn_mask=None if mask is None else ~mask, need_weights=True,
                         average_attn_weights=False)
    call = f"nn.MultiheadAttention({q.shape[1]}, {c.heads}, bias=False" + (
        "" if q.shape[1] == k.shape[1] == v.shape[1] else f", kdim={k.shape[1]}, vdim={v.shape[1]}") + \
        ") with the same W" + (", attn_mask=~mask" if mask is not None else "")
    checks = [Agreement("output O", call, float((r.output - ref[0]).abs().max())),
              Agreement("per-head weights A_i", call + ", average_attn_weights=False",
                        float((r.heads.weights - ref_w[0]).abs().max()))]
    return AttentionReport(q, k, v, c, r.heads.weights, r.output, steps, checks, multi=r)
