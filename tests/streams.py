"""The final value of a handler or a library stream, for tests."""

from __future__ import annotations

from typing import Any


def last(result: Any) -> Any:
    """The last item of a generator (the last yield of a streaming handler); anything else as is."""
    if hasattr(result, "__next__"):
        out = None
        for out in result:
            pass
        return out
    return result
