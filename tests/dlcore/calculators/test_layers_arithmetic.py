"""Worked arithmetic equals the torch forward pass (to 1e-6) and reproduces the notes' numbers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlcore.calculators.arithmetic import worked_conv, worked_linear, worked_pool
from dlcore.calculators.arithmetic_norm import (ACTIVATION_KINDS, worked_activation, worked_batchnorm,
                                                worked_flatten, worked_layernorm)
from dlcore.calculators.worked import SEED_EXAMPLES, worked_from_text
from dlcore.textinput import parse_tensor

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = dict(atol=1e-6, rtol=1e-6)


def _t(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("ex", SEED_EXAMPLES, ids=[e.label for e in SEED_EXAMPLES])
def test_seed_examples_reproduce_the_notes_and_torch(ex) -> None:
    r = worked_from_text(ex.kind, ex.x, ex.w, ex.b, ex.options)
    got = r.output.reshape(-1)
    if ex.expected:
        # the notes print 4 decimals (Sigmoid) or exact tenths
        torch.testing.assert_close(got, torch.tensor(ex.expected, dtype=torch.float64), atol=5e-5, rtol=0)
    x = parse_tensor(ex.x)
    w = parse_tensor(ex.w) if ex.w else None
    b = parse_tensor(ex.b) if ex.b else None
    ref = {
        "Linear": lambda: F.linear(x, w, b), "Conv1d": lambda: F.conv1d(x, w, b), "Conv2d": lambda: F.conv2d(x, w, b),
        "ReLU": lambda: F.relu(x), "Sigmoid": lambda: torch.sigmoid(x), "Flatten": lambda: torch.flatten(x, 1),
        "MaxPool2d": lambda: F.max_pool2d(x, 2, 1), "AvgPool2d": lambda: F.avg_pool2d(x, 2, 1),
        "BatchNorm": lambda: F.batch_norm(x, None, None, training=True),
        "LayerNorm": lambda: F.layer_norm(x, x.shape[-1:]),
    }[ex.kind]()
    torch.testing.assert_close(r.output, ref, **TOL)


def test_seed_expressions_read_like_the_notes() -> None:
    conv = worked_from_text(*[SEED_EXAMPLES[0].kind, SEED_EXAMPLES[0].x, SEED_EXAMPLES[0].w, SEED_EXAMPLES[0].b])
    assert conv.elements[0].expression.endswith("= (0.1 + 0.4 + 0.9) + (1.6 + 2.5 + 3.6) + (4.9 + 6.4 + 8.1) + 1 = 29.5")
    two = next(e for e in SEED_EXAMPLES if e.section == "1.2.4.3")
    r = worked_from_text(two.kind, two.x, two.w, two.b)
    assert r.elements[1].expression.endswith("= 2.6") and "(0.8 + (−1) + 1.2)" in r.elements[1].expression


@SETTINGS
@given(n=st.integers(1, 2), cin=st.integers(1, 3), cout=st.integers(1, 3), g=st.sampled_from([1, 1, 2]),
       k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2),
       size=st.integers(3, 7), batch=st.booleans(), bias=st.booleans(), seed=st.integers(0, 999))
def test_conv_equals_torch(n, cin, cout, g, k, s, p, d, size, batch, bias, seed) -> None:
    cin, cout = cin * g, cout * g
    shape = ((2,) if batch else ()) + (cin,) + (size,) * n
    if size + 2 * p < d * (k - 1) + 1:
        with pytest.raises(ValueError, match="larger than the padded input"):
            worked_conv(_t(shape, seed), _t((cout, cin // g) + (k,) * n, seed + 1), stride=s, padding=p,
                        dilation=d, groups=g)
        return
    x, w = _t(shape, seed), _t((cout, cin // g) + (k,) * n, seed + 1)
    b = _t((cout,), seed + 2) if bias else None
    r = worked_conv(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    ref = (F.conv1d if n == 1 else F.conv2d)(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    torch.testing.assert_close(r.output, ref, **TOL)
    # every element reads C_in/groups·∏k cells, and its value is listed in its expression
    assert all(len(e.reads) == (cin // g) * k ** n for e in r.elements)


@SETTINGS
@given(n=st.integers(1, 2), mode=st.sampled_from(["max", "avg"]), k=st.integers(1, 3), s=st.integers(1, 3),
       p=st.integers(0, 1), d=st.integers(1, 2), ceil=st.booleans(), cip=st.booleans(), size=st.integers(3, 7),
       seed=st.integers(0, 999))
def test_pool_equals_torch(n, mode, k, s, p, d, ceil, cip, size, seed) -> None:
    if p > k / 2 or (mode == "avg" and d != 1) or size + 2 * p < d * (k - 1) + 1:
        return
    x = _t((2, 2) + (size,) * n, seed)
    kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil)
    r = worked_pool(x, mode, dims=n, dilation=d, count_include_pad=cip, **kw)  # type: ignore[arg-type]
    if mode == "max":
        ref = (F.max_pool1d if n == 1 else F.max_pool2d)(x, dilation=d, **kw)
    else:
        ref = (F.avg_pool1d if n == 1 else F.avg_pool2d)(x, count_include_pad=cip, **kw)
    torch.testing.assert_close(r.output, ref, **TOL)


@SETTINGS
@given(lead=st.lists(st.integers(1, 3), max_size=2), fin=st.integers(1, 4), fout=st.integers(1, 4),
       bias=st.booleans(), seed=st.integers(0, 999))
def test_linear_equals_torch(lead, fin, fout, bias, seed) -> None:
    x, w = _t((*lead, fin), seed), _t((fout, fin), seed + 1)
    b = _t((fout,), seed + 2) if bias else None
    torch.testing.assert_close(worked_linear(x, w, b).output, F.linear(x, w, b), **TOL)


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), seed=st.integers(0, 999), affine=st.booleans())
def test_norms_equal_torch(shape, seed, affine) -> None:
    x = _t(tuple(shape), seed) * 3 + 1
    C = shape[1]
    g, b = (_t((C,), seed + 1), _t((C,), seed + 2)) if affine else (None, None)
    if x.numel() // C > 1:
        torch.testing.assert_close(worked_batchnorm(x, g, b).output,
                                   F.batch_norm(x, None, None, g, b, training=True), **TOL)
    ns = tuple(shape[-1:])
    g2, b2 = (_t(ns, seed + 3), _t(ns, seed + 4)) if affine else (None, None)
    torch.testing.assert_close(worked_layernorm(x, 1, g2, b2).output, F.layer_norm(x, ns, g2, b2), **TOL)


@pytest.mark.parametrize("kind", ACTIVATION_KINDS)
def test_activations_and_flatten_equal_torch(kind: str) -> None:
    x = _t((2, 3, 4), 7) * 4
    ref = {"ReLU": F.relu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "GELU": F.gelu,
           "Softmax": lambda t: F.softmax(t, -1)}[kind](x)
    torch.testing.assert_close(worked_activation(x, kind).output, ref, **TOL)
    torch.testing.assert_close(worked_flatten(x, 1, -1).output, torch.flatten(x, 1), **TOL)


@pytest.mark.parametrize("args,fragment", [
    (("Conv2d", "[[[[1, 2], [3, 4]]]]", "[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]"), "larger than the padded input"),
    (("Conv2d", "[[[1, 2], [3, 4]]]", "[[[[1]]], [[[2]]]]", "", "groups=2"), "divisible by groups"),
    (("Linear", "[[1, 2, 3]]", "[[1, 2]]"), "in_features = 2"),
    (("Linear", "[[1, 2]]", "[[1, 2]]", "[1, 2]"), "bias must have shape (1,)"),
    (("Conv2d", "[[1, 2], [3"), "could not be read"),
    (("MaxPool2d", "[[[1, 2], [3, 4]]]"), "needs kernel_size"),
    (("Conv1d", "[[1, 2, 3]]", "[[[1]]]", "", "colour=2"), "no option 'colour'"),
    (("BatchNorm", "[[1.0, 2.0]]"), "more than 1 value per channel"),
    (("Linear", "[" + ", ".join(["1"] * 5000) + "]", "[[1]]"), "the limit is 4096"),
    (("Conv2d", str([[[[1] * 60] * 60]]), str([[[[1] * 5] * 5]] * 64)), "limited to 200,000"),
])
def test_bad_input_names_value_and_rule(args, fragment) -> None:
    with pytest.raises(ValueError) as err:
        worked_from_text(*args)
    assert fragment in str(err.value), str(err.value)


def test_sliding_window_picture_marks_the_cells_read() -> None:
    from dlcore.plotting import PALETTE
    from dlcore.plotting.layers import sliding_window_figure

    x = "[[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]"
    r = worked_from_text("Conv2d", x, "[[[[1, 0], [0, 1]]]]", "", "stride=2, padding=1")
    el = r.elements[4]  # y[0, 1, 1] reads x rows 1-2, cols 1-2 -> 6 + 11 = 17
    assert el.value == 17 and sorted(el.reads) == [(0, 1, 1), (0, 1, 2), (0, 2, 1), (0, 2, 2)]
    fig = sliding_window_figure(r, parse_tensor(x).tolist(), 4)
    ax_in = fig.axes[0]
    import matplotlib.colors as mc
    blue = [p for p in ax_in.patches if mc.to_hex(p.get_facecolor()) == PALETTE[0]]
    assert len(blue) == 4 and len(ax_in.patches) == 36  # 4×4 input + padding ring = 6×6
    with pytest.raises(ValueError, match="does not exist"):
        sliding_window_figure(r, parse_tensor(x).tolist(), 9)
