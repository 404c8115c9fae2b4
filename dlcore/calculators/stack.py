"""Stack mode: a small network written one layer per line, analysed layer by layer.

Text spec (one PyTorch layer per line, ``#`` starts a comment)::

    Conv2d(1, 6, kernel_size=5, padding=2)
    ReLU()
    MaxPool2d(2)
    ...

Each row gives the shape after the layer, its parameters and MACs; totals at the end. When a
shape does not fit, analysis stops at the *first* layer that breaks, with our message (value
and rule) and, for comparison, the message torch itself raises for the same layer and input
(obtained on the ``meta`` device, so nothing is allocated).

Recurrent layers pass on their main output (``output``, not ``h_n``/``c_n``); the pseudo
layer ``Select(dim=1, index=-1)`` takes one time step, like ``out[:, -1, :]`` in the notes'
LSTM example.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from dlcore.calculators.layers import analyze, build_torch
from dlcore.calculators.spec import fmt_shape, parse_call, parse_shapes, prod

__all__ = ["StackRow", "StackResult", "MAX_LAYERS", "PRESETS", "parse_stack", "analyze_stack"]

MAX_LAYERS = 100
MAX_STACK_CHARS = 10_000


@dataclass
class StackRow:
    """One analysed layer of the stack."""

    index: int
    call: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    macs: int
    detail: str


@dataclass
class StackResult:
    """Rows up to the first error, totals, and the error (layer number, our message, torch's)."""

    input_shape: tuple[int, ...]
    rows: list[StackRow] = field(default_factory=list)
    error_index: int | None = None
    error_layer: str = ""
    error: str = ""
    torch_error: str = ""

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.rows[-1].output_shape if self.rows else self.input_shape


def parse_stack(text: str) -> list[str]:
    """Split the spec into layer lines (comments, blank lines and trailing commas removed)."""
    if len(text) > MAX_STACK_CHARS:
        raise ValueError(f"the network text has {len(text)} characters; the limit is {MAX_STACK_CHARS}")
    lines = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip().rstrip(",").strip()
        if line:
            lines.append(line)
    if not lines:
        raise ValueError("the network is empty: write one layer per line, e.g. Conv2d(1, 6, 5)")
    if len(lines) > MAX_LAYERS:
        raise ValueError(f"the network has {len(lines)} layers; the limit is {MAX_LAYERS}")
    return lines


def _select(line: str, shape: tuple[int, ...]) -> tuple[tuple[int, ...], str]:
    _, args, kw = parse_call(line)
    names = ["dim", "index"]
    bound = dict(zip(names, args)) | kw
    if set(bound) - set(names) or len(bound) != 2:
        raise ValueError("Select needs dim and index, e.g. Select(dim=1, index=-1) for out[:, -1, :]")
    dim, idx = bound["dim"], bound["index"]
    if not isinstance(dim, int) or not -len(shape) <= dim < len(shape):
        raise ValueError(f"Select: dim {dim!r} is out of range for shape {fmt_shape(shape)}")
    d = dim % len(shape)
    if not isinstance(idx, int) or not -shape[d] <= idx < shape[d]:
        raise ValueError(f"Select: index {idx!r} is out of range for dim {d} of size {shape[d]}")
    out = shape[:d] + shape[d + 1:]
    sl = ", ".join([":"] * d + [str(idx)] + ([":"] if d < len(shape) - 1 else []))
    return out, f"x[{sl}]: dim {d} (size {shape[d]}) is removed"


def _torch_message(line: str, shape: tuple[int, ...]) -> str:
    """What torch raises for this layer on this input (meta tensors: shapes only, no memory)."""
    import warnings

    import torch

    dtype = torch.long if line.startswith("Embedding") else torch.float32
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = build_torch(line, device="meta")
            small = sum(p.numel() for p in m.parameters()) <= 1_000_000 and prod(shape) <= 1_000_000
            if small:  # the CPU kernels give the message a learner actually meets
                m = build_torch(line, device="cpu")
                x = torch.zeros(shape, dtype=dtype)
            else:
                x = torch.empty(shape, device="meta", dtype=dtype)
            m(x)
    except Exception as exc:  # noqa: BLE001 - we only want torch's text
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
    return ""


def analyze_stack(text: str | Sequence[str], input_shape: str | Sequence[int]) -> StackResult:
    """Analyse a stack of layers on an input shape.

    Args:
        text: the spec (one layer per line) or a list of layer strings.
        input_shape: e.g. ``(1, 1, 28, 28)``.

    Returns:
        a :class:`StackResult`; ``error_index`` is the 1-based number of the first layer that
        cannot take its input (``None`` when the whole stack fits).
    """
    lines = parse_stack(text) if isinstance(text, str) else parse_stack("\n".join(text))
    shapes = parse_shapes(input_shape)
    if len(shapes) != 1:
        raise ValueError("stack mode takes one input shape, e.g. (1, 1, 28, 28)")
    shape = shapes[0]
    res = StackResult(shape)
    for i, line in enumerate(lines, start=1):
        try:
            if line.split("(")[0].strip() == "Select":
                out, detail = _select(line, shape)
                res.rows.append(StackRow(i, line, shape, out, 0, 0, detail))
            else:
                rep = analyze(line, shape)
                detail = "; ".join(rep.shape_steps)
                if rep.params:
                    detail += f"; params: {rep.params_formula}"
                if rep.extra:
                    detail += " — passed on: output; not passed on: " + ", ".join(
                        f"{k} {fmt_shape(v)}" for k, v in rep.extra.items())
                res.rows.append(StackRow(i, rep.call, shape, rep.output_shape, rep.params, rep.macs, detail))
                out = rep.output_shape
        except ValueError as exc:
            res.error_index, res.error_layer, res.error = i, line, str(exc)
            if not line.startswith("Select"):
                try:
                    parse_call(line)
                    res.torch_error = _torch_message(line, shape)
                except ValueError:
                    res.torch_error = ""
            return res
        shape = out
    return res


#: One-click networks: (label, spec, input shape).
PRESETS: dict[str, tuple[str, str]] = {
    "LeNet-style CNN, 28×28 (§8.2.1 ideas: local receptive fields, shared kernels, pooling)": ("""\
Conv2d(1, 6, kernel_size=5, padding=2)   # 28 -> 28
ReLU()
MaxPool2d(2)                             # 28 -> 14
Conv2d(6, 16, kernel_size=5)             # 14 -> 10
ReLU()
MaxPool2d(2)                             # 10 -> 5
Flatten()                                # 16·5·5 = 400
Linear(400, 120)
ReLU()
Linear(120, 84)
ReLU()
Linear(84, 10)""", "(1, 1, 28, 28)"),
    "LSTM of the sine example (notes B §dl_3_2): LSTM(1, 64) + Linear on the last step": ("""\
LSTM(input_size=1, hidden_size=64, num_layers=1, batch_first=True)
Select(dim=1, index=-1)   # out[:, -1, :] — the last time step
Linear(64, 1)""", "(32, 20, 1)"),
    "Classic mistake: LeNet without padding, Linear still 400": ("""\
Conv2d(1, 6, kernel_size=5)              # no padding: 28 -> 24
ReLU()
MaxPool2d(2)
Conv2d(6, 16, kernel_size=5)
ReLU()
MaxPool2d(2)
Flatten()
Linear(400, 120)                         # breaks: the flattened size is not 400
ReLU()
Linear(120, 10)""", "(1, 1, 28, 28)"),
}
