"""Static int8 (torch.fx tracing) while another thread runs a model: the other model is unaffected.

``torch.fx`` patches ``nn.Module.__call__`` process-wide while it traces; without
:func:`~dlcore.compression.quantization.fx_patches_in_this_thread` a model run by another thread
(another user of the app) during the trace fails with "module is not installed as a submodule".
"""

from __future__ import annotations

import threading

import torch
from torch import nn

import dlcore.compression as C
from tests.dlcore.compression.fixtures import make_mlp


ENTERED, RELEASE = threading.Event(), threading.Event()


class _Hold(nn.Module):
    """Identity whose forward blocks the tracing thread until released (a long trace, on demand;
    the events live outside the module, which ``quantize`` deep-copies)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ENTERED.set()
        RELEASE.wait(60)
        return x


def test_a_model_in_another_thread_runs_while_static_int8_traces() -> None:
    C.quantize(make_mlp(), "ao_static_int8", calibration=torch.rand(256, 1, 8, 8))  # first-use imports, here
    ENTERED.clear()
    RELEASE.clear()
    traced = nn.Sequential(nn.Flatten(), _Hold(), nn.Linear(64, 10)).eval()
    box: dict[str, object] = {}

    def quantize() -> None:
        try:
            box["q"] = C.quantize(traced, "ao_static_int8", calibration=torch.rand(256, 1, 8, 8))
        except Exception as exc:  # noqa: BLE001 - reported below
            box["error"] = exc

    worker = threading.Thread(target=quantize)
    worker.start()
    while not ENTERED.wait(0.1):
        assert worker.is_alive(), f"the trace never reached the blocking module: {box.get('error')!r}"
    try:
        other = make_mlp()
        y = other(torch.rand(4, 1, 8, 8))  # runs while the tracer holds its patches
        assert y.shape == (4, 10)
    finally:
        RELEASE.set()
        worker.join(60)
    assert "error" not in box, box.get("error")
    assert box["q"](torch.rand(2, 1, 8, 8)).shape == (2, 10)


def test_the_fx_patcher_is_restored() -> None:
    from torch.fx import _symbolic_trace as st

    before = st._Patcher.patch_method
    C.quantize(make_mlp(), "ao_static_int8", calibration=torch.rand(256, 1, 8, 8))
    assert st._Patcher.patch_method is before and nn.Module.__call__ is nn.Module.__dict__["__call__"]
