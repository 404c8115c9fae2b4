from __future__ import annotations

import math

import pytest
import torch

from dlcore.textinput import (MAX_ELEMENTS, format_tensor, parse_choices, parse_int, parse_int_tuple, parse_literal,
                              parse_number, parse_tensor)


def test_parses_json_and_python_literals():
    assert parse_literal("[[1, 2], [3, 4]]") == [[1, 2], [3, 4]]
    assert parse_literal("(1, 2)") == (1, 2)
    assert parse_literal("1e-3") == 1e-3


def test_never_evaluates_code():
    with pytest.raises(ValueError, match="could not be read"):
        parse_literal("__import__('os').system('echo pwned')", "x")
    with pytest.raises(ValueError):
        parse_literal("[1, 2] + [3]", "x")


@pytest.mark.parametrize("text,frag", [
    ("", "empty"),
    ("[" * 10 + "1" + "]" * 10, "nested 10 levels"),
    ("1" * 30_000, "characters; the limit"),
    ("[1, 2", "could not be read"),
])
def test_bad_literals_name_the_rule(text, frag):
    with pytest.raises(ValueError, match=frag):
        parse_literal(text, "x")


def test_tensor_shape_dtype_and_values():
    t = parse_tensor("[[0.5, 0.2], [0.7, 0.9]]", "pred")
    assert t.dtype == torch.float64 and t.shape == (2, 2)
    torch.testing.assert_close(t, torch.tensor([[0.5, 0.2], [0.7, 0.9]], dtype=torch.float64))
    assert parse_tensor("3", "s").shape == ()


@pytest.mark.parametrize("text,kw,frag", [
    ("[[1, 2], [3]]", {}, "ragged"),
    ("[1, 'a']", {}, "only numbers"),
    ("[true, 1]", {}, "only numbers"),
    ("[]", {}, "empty list"),
    ("[1, 2, 3]", {"ndim": 2}, "must have 2 dimension"),
    ("[[1, 2]]", {"shape": (2, 2)}, "must have shape (2, 2)"),
    ("[1e999]", {}, "NaN or infinity"),
])
def test_bad_tensors_name_the_value_and_rule(text, kw, frag):
    with pytest.raises(ValueError) as info:
        parse_tensor(text, "pred", **kw)
    assert frag in str(info.value) and "pred" in str(info.value)


def test_element_cap():
    n = MAX_ELEMENTS + 1
    with pytest.raises(ValueError, match=f"{n} elements; the limit"):
        parse_tensor(str([0] * n), "big")


def test_numbers_and_int_tuples():
    assert parse_number("0.5", "lr", lo=0, hi=1) == 0.5
    with pytest.raises(ValueError, match="lr = 5 is above the maximum 1"):
        parse_number("5", "lr", lo=0, hi=1)
    with pytest.raises(ValueError, match="whole number"):
        parse_int("2.5", "k")
    assert parse_int_tuple("3", 2, "kernel_size") == (3, 3)
    assert parse_int_tuple("(3, 5)", 2, "kernel_size") == (3, 5)
    with pytest.raises(ValueError, match="needs 1 or 2 numbers"):
        parse_int_tuple("[1, 2, 3]", 2, "kernel_size")
    with pytest.raises(ValueError, match="must be finite"):
        parse_number(math.nan, "x")


def test_format_tensor_rounds():
    assert format_tensor(torch.tensor([[0.12345, 2.0]])) == "[[0.1235, 2]]"


def test_parse_choices_keeps_registry_order_and_names_the_problem():
    opts = ("rnn", "lstm", "gru")
    assert parse_choices(["gru", "rnn", "gru"], "cells", opts) == ["rnn", "gru"]
    with pytest.raises(ValueError, match="cells: tick at least one cell"):
        parse_choices([], "cells", opts, noun="cell")
    with pytest.raises(ValueError, match=r"cells must be a list of cell names such as \['rnn', 'lstm'\]"):
        parse_choices("rnn", "cells", opts, noun="cell")
    with pytest.raises(ValueError, match="cells 'cnn' is not one of"):
        parse_choices(["cnn"], "cells", opts)
    with pytest.raises(ValueError, match="has 7 entries; there are only 3"):
        parse_choices(["rnn"] * 7, "cells", opts)
