"""The optimizers tab's "SGD vs Adam from one start" panel: it streams, ends with the table and the
three-panel figure, Stop answers for its own session, and bad inputs are named."""

from __future__ import annotations

import pytest

from apps import optim_minima as P
from tests.streams import last


class _Req:
    """A stand-in for gr.Request: the stop registry only reads the session hash."""

    def __init__(self, key: str) -> None:
        self.session_hash = key


def test_the_panel_ends_with_both_minima_measured() -> None:
    frames = list(P.minima(10, 0.05, 0.001, 2, request=_Req("minima-a")))
    assert frames[0][0].startswith("⏳ loading")
    md, fig = frames[-1]
    assert "| SGD-momentum | 0.05 |" in md and "| Adam | 0.001 |" in md and "seed 2" in md
    assert "apart (‖θ_SGD − θ_Adam‖)" in md and "sharper here" in md
    assert fig is not None and len(fig.axes) == 3


def test_stop_belongs_to_the_session() -> None:
    assert "Nothing is running" in P.stop_minima(request=_Req("minima-idle"))


@pytest.mark.parametrize("args,msg", [((5, 0.05, 0.001, 0), "steps = 5 is below the minimum 10"),
                                      ((10, "fast", 0.001, 0), "SGD-momentum learning rate"),
                                      ((10, 0.05, 7, 0), "Adam learning rate = 7 is above the maximum 1"),
                                      ((10, 0.05, 0.001, 2.5), "seed")])
def test_bad_inputs_are_named(args: tuple, msg: str) -> None:
    with pytest.raises(Exception) as exc:
        last(P.minima(*args, request=_Req("minima-bad")))
    text = str(getattr(exc.value, "message", exc.value))
    assert msg in text, text
