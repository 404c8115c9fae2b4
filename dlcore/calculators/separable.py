"""Depthwise-separable vs standard convolution (notes §8.2.2; Howard et al. 2017, MobileNets,
https://arxiv.org/abs/1704.04861).

A standard k_h×k_w convolution has ``C_in·C_out·k_h·k_w`` weights. The separable one splits
it into a depthwise convolution (``groups = C_in``, one k_h×k_w filter per channel:
``C_in·k_h·k_w``) and a pointwise 1×1 convolution (``C_in·C_out``). Without biases::

    separable / standard = (C_in·k_h·k_w + C_in·C_out) / (C_in·C_out·k_h·k_w)
                         = 1/C_out + 1/(k_h·k_w)

The same ratio holds for MACs (both parts run at every output position when the
depthwise stage keeps the stride and padding and the pointwise stage has stride 1).
The notes' example: C_in = 2, C_out = 4, 3×3 -> 72 vs 26.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from dlcore.calculators.layers import analyze

__all__ = ["SeparableComparison", "compare_separable"]


@dataclass
class SeparableComparison:
    """Parameters and MACs of both designs, the ratio and the formula's prediction."""

    standard_params: int
    depthwise_params: int
    pointwise_params: int
    standard_macs: int
    depthwise_macs: int
    pointwise_macs: int
    output_shape: tuple[int, ...]
    ratio: float
    predicted_ratio: float
    lines: list[str]

    @property
    def separable_params(self) -> int:
        return self.depthwise_params + self.pointwise_params

    @property
    def separable_macs(self) -> int:
        return self.depthwise_macs + self.pointwise_macs


def compare_separable(c_in: int = 2, c_out: int = 4, k_h: int = 3, k_w: int = 3, h: int = 5, w: int = 5,
                      stride: int = 1, padding: int = 0, bias: bool = False) -> SeparableComparison:
    """Compare a standard Conv2d with depthwise + pointwise, on an input (1, C_in, H, W).

    Args:
        c_in, c_out: channels (default 2 and 4, the notes' figure).
        k_h, k_w: kernel size (default 3×3).
        h, w: input height and width (default 5×5).
        stride, padding: of the standard and the depthwise convolution.
        bias: count biases too (default False, as in the notes' 72 vs 26).
    """
    shape = (1, c_in, h, w)
    k = f"({k_h}, {k_w})"
    std = analyze(f"Conv2d({c_in}, {c_out}, {k}, stride={stride}, padding={padding}, bias={bias})", shape)
    dw = analyze(f"Conv2d({c_in}, {c_in}, {k}, stride={stride}, padding={padding}, groups={c_in}, bias={bias})", shape)
    pw = analyze(f"Conv2d({c_in}, {c_out}, 1, bias={bias})", dw.output_shape)
    ratio = (dw.params + pw.params) / std.params
    pred = Fraction(1, c_out) + Fraction(1, k_h * k_w)
    lines = [
        f"standard: C_in·C_out·k_h·k_w = {c_in}·{c_out}·{k_h}·{k_w} = {c_in * c_out * k_h * k_w}"
        + (f" + {c_out} biases = {std.params}" if bias else ""),
        f"depthwise (groups = C_in = {c_in}): C_in·k_h·k_w = {c_in}·{k_h}·{k_w} = {c_in * k_h * k_w}"
        + (f" + {c_in} biases = {dw.params}" if bias else ""),
        f"pointwise (1×1): C_in·C_out = {c_in}·{c_out} = {c_in * c_out}" + (f" + {c_out} biases = {pw.params}" if bias else ""),
        f"separable total = {dw.params} + {pw.params} = {dw.params + pw.params}",
        f"ratio = {dw.params + pw.params}/{std.params} = {ratio:.4f}; 1/C_out + 1/(k_h·k_w) = 1/{c_out} + 1/{k_h * k_w} "
        f"= {float(pred):.4f}" + ("" if bias else " (equal without biases)"),
        f"MACs on {shape}: standard {std.macs:,} vs separable {dw.macs:,} + {pw.macs:,} = {dw.macs + pw.macs:,} "
        f"(ratio {(dw.macs + pw.macs) / std.macs:.4f})",
    ]
    return SeparableComparison(std.params, dw.params, pw.params, std.macs, dw.macs, pw.macs, std.output_shape,
                               ratio, float(pred), lines)
