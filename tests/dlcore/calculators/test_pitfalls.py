"""Pitfalls run on the installed torch: every case still does what the tab says it does."""

from __future__ import annotations

import pytest

from dlcore.calculators.pitfalls import (
    DTYPE_TABLE, DTYPES, PITFALLS, PitfallSetup, explain, fixed, run_pitfall, run_setup, setup_code,
)


@pytest.mark.parametrize("key", list(PITFALLS))
def test_each_pitfall_behaves_as_listed(key):
    """Fails when torch stops raising (or starts raising), so the tab's text stays true."""
    p, out, _ = run_pitfall(key)
    assert out.outcome == p.expect, (key, out.outcome, out.message)
    if p.expect == "raises":
        assert out.message and out.error_type
        assert out.fix and not out.fix.startswith("make the call"), f"no specific fix for {out.message!r}"
    if p.expect == "silent":
        assert abs(float(out.value.split()[0]) - float(out.correct)) > 0.1
    if p.expect == "warns":
        assert out.warnings


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("key", [k for k, p in PITFALLS.items() if p.expect == "raises"])
def test_raising_cases_raise_in_plain_torch(key):
    """The same call written out as code (what the tab shows) raises when executed."""
    code = setup_code(PITFALLS[key].setup)
    with pytest.raises((RuntimeError, ValueError, NotImplementedError, IndexError)):
        exec(compile(code, "<pitfall>", "exec"), {})  # our own generated code, no user text


@pytest.mark.parametrize("key", list(PITFALLS))
def test_fixed_setup_gives_the_correct_loss(key):
    s = fixed(PITFALLS[key].setup)
    out = run_setup(s)
    assert out.outcome == "ok" and out.value.split()[0] == out.correct


def test_notes_differences_are_flagged():
    _, _, cmp = run_pitfall("ce_int32_target")
    assert "notes differ" in cmp and "expected scalar type Long but found Int" in cmp
    _, out, cmp = run_pitfall("bce_float32")
    assert out.outcome == "ok" and "does not raise" in cmp
    _, _, cmp = run_pitfall("bcewl_long_target")
    assert "Same message as in the notes" in cmp


def test_explain_and_validation():
    meaning, fix = explain("expected target dtype to be Long or Byte, but got Int")
    assert fix == "y = y.long()"
    with pytest.raises(ValueError, match="dtype 'float8' is not one of"):
        run_setup(PitfallSetup(input_dtype="float8"))
    assert len(DTYPE_TABLE) == 9 and all(row[1].split()[0].replace("torch.", "") in DTYPES for row in DTYPE_TABLE)
