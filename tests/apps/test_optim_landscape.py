"""The optimizers tab's real-network landscape panel: the streamed frames, the centre = the model's own
loss, the cache, Stop, and bad inputs named."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from apps import optim_landscape as P


class _Req:
    """A stand-in for gr.Request: the stop registry only reads the session hash."""

    def __init__(self, key: str) -> None:
        self.session_hash = key


def _msg(exc: pytest.ExceptionInfo) -> str:
    return str(exc.value.message if hasattr(exc.value, "message") else exc.value)


def test_the_landscape_streams_rows_and_the_centre_is_the_models_loss() -> None:
    from dlcore import zoo

    frames = list(P.landscape(5, 3, 20, "float32", request=_Req("landscape-a")))
    assert frames[0][0].startswith("⏳ loading")
    counts = [re.match(r"⏳ (\d+)/25 points: row (\d)/5 ", md) for md, _ in frames[1:-1]]
    assert all(counts) and [int(c[2]) for c in counts] == [1, 2, 3, 4, 5]
    # points done: the finished rows, plus any of the later ones (every point is queued at once)
    assert all(5 * k <= int(c[1]) <= 25 for k, c in enumerate(counts)) and int(counts[0][1]) == 0
    md, fig = frames[-1]
    assert fig is not None and "5×5 grid on the first 20 test images, seed 3" in md
    name, model, split = zoo.image_classifier("cnn")
    with torch.no_grad():
        own = float(nn.functional.cross_entropy(model(split.x_test[:20]), split.y_test[:20]))
    assert f"Centre f(0, 0) = **{own:.4f}** = the trained model's own loss" in md and name in md
    assert "Arithmetic: float32." in md
    again = list(P.landscape(5, 3, 20, "float32", request=_Req("landscape-a")))
    assert len(again) == 2 and again[-1][0] == md  # the kept result, its original timing included
    late = P.stop_landscape(md, request=_Req("landscape-a"))  # Stop pressed after it finished: the summary stays
    assert late.startswith(md) and late.endswith("*Nothing is running: press **Compute the landscape** first.*")


def test_stop_ends_the_grid_early() -> None:
    req = _Req("landscape-stop")
    run = P.landscape(7, 4, 10, request=req)
    next(run)            # loading
    next(run)            # θ* and its own loss
    first = next(run)    # row 1 done
    n = re.match(r"⏳ (\d+)/49 points: row 2/7", first[0])
    assert n and 7 <= int(n[1]) <= 49, first[0]  # row 1, and any of the later rows (all queued at once)
    assert "stopping" in P.stop_landscape(request=req)
    last = list(run)[-1]
    stopped = re.match(r"⏹ stopped after (\d+)/49 points \(.*only the (\d) finished row", last[0])
    assert stopped and int(stopped[1]) == 7 * int(stopped[2]), last[0]  # whole rows only
    assert "Nothing is running" in P.stop_landscape(request=req)


def test_a_bfloat16_grid_says_so_and_reports_its_measured_check() -> None:
    md, _ = list(P.landscape(3, 5, 40, "bfloat16", request=_Req("landscape-bf16")))[-1]
    assert "Arithmetic: **bfloat16** products with float32 sums" in md
    pct = float(md.split("differ by at most **")[1].split(" %")[0])
    assert 0 <= pct < 1, md


@pytest.mark.parametrize("args,fragment", [((3, 0, 100, "float16"),
                                            "arithmetic 'float16' is not one of: 'float32', 'bfloat16', 'auto'"),
                                           ((3, 0, 100, ["auto"]),
                                            "arithmetic a list of 1 item(s) is not one of: 'float32'"),
                                           ((4, 0, 100), "grid points per side = 4 must be odd"),
                                           ((27, 0, 100), "grid points per side = 27 is above the maximum 25"),
                                           (("x", 0, 100), "grid points per side"),
                                           ((3, 0.5, 100), "direction seed must be a whole number"),
                                           ((3, 0, 5), "test images = 5 is below the minimum 10")])
def test_bad_inputs_are_named(args: tuple, fragment: str) -> None:
    with pytest.raises(Exception) as exc:
        list(P.landscape(*args, request=_Req("landscape-bad")))
    assert fragment in _msg(exc)
