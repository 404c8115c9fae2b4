"""apps.streaming.paced: frames are spaced by the loop's own work, not by the time Gradio takes to send them."""

from __future__ import annotations

import time

from apps.streaming import paced


def _work(n: int, seconds: float):
    for i in range(n):
        time.sleep(seconds)                       # one "epoch" of library work
        yield i


def test_a_slow_consumer_does_not_make_every_item_due() -> None:
    # 12 items of 20 ms work each, every = 0.1 s: about one frame per 5 items. The consumer spends
    # 0.3 s "encoding" each frame; a clock that counted that time would call every later item due.
    due_at = []
    for i, due in paced(_work(12, 0.02), every=0.1):
        if due:
            due_at.append(i)
            time.sleep(0.3)
    assert due_at[0] == 0, f"frames at items {due_at}: the first item shows the run started"
    assert len(due_at) <= 4, f"frames at items {due_at}: the consumer's own time was counted as work"
    assert all(b - a >= 4 for a, b in zip(due_at, due_at[1:])), due_at


def test_items_pass_through_in_order_and_a_fast_loop_has_only_the_first_frame() -> None:
    got = list(paced(range(5), every=60))
    assert [i for i, _ in got] == [0, 1, 2, 3, 4]
    assert [due for _, due in got] == [True, False, False, False, False]


def _drawn(items: int, work: float, draw: float, share: float = 0.2, every: float = 0.0) -> list[int]:
    """The items a FrameBudget draws when each item takes ``work`` s and each frame ``draw`` s."""
    from apps.streaming import FrameBudget

    budget, drawn = FrameBudget(share, every), []
    for i in range(items):
        time.sleep(work)
        if budget.due(final=i == items - 1):
            with budget.drawing():
                time.sleep(draw)
                drawn.append(i)
    return drawn


def test_a_frame_budget_draws_the_first_and_last_frames_and_spends_about_its_share_on_drawing() -> None:
    # 30 items of 10 ms, a 40 ms figure: a fifth of the time buys a figure every ~160 ms, i.e. every ~17th item
    drawn = _drawn(30, 0.01, 0.04)
    assert drawn[0] == 0 and drawn[-1] == 29, drawn
    assert 3 <= len(drawn) <= 8, f"frames at {drawn}: far from one per 160 ms of work"
    assert all(b - a >= 3 for a, b in zip(drawn[:-1], drawn[1:-1])), drawn
    # a cheap figure against slow items: every item is drawn, unless a minimum gap says otherwise
    assert _drawn(6, 0.03, 0.001) == list(range(6))
    gapped = _drawn(12, 0.03, 0.001, every=0.1)
    assert gapped[0] == 0 and gapped[-1] == 11 and 3 <= len(gapped) <= 6, gapped


def test_a_frame_budget_takes_a_share_in_0_1_only() -> None:
    import pytest

    from apps.streaming import FrameBudget

    for bad in (0, -0.5, 1.5):
        with pytest.raises(ValueError, match=rf"share {bad!r} must be in \(0, 1\]"):
            FrameBudget(bad)
    with pytest.raises(ValueError, match="every -1 must be ≥ 0 seconds"):
        FrameBudget(every=-1)
    assert FrameBudget(1).due() and FrameBudget(1).share == 1


def test_a_frame_budget_frame_yields_the_drawing_when_due_and_counts_the_consumers_time() -> None:
    from apps.streaming import FrameBudget

    budget = FrameBudget(share=0.5, every=0.0)
    gen = budget.frame(lambda: "figure", "skipped")
    assert next(gen) == "figure"
    time.sleep(0.05)  # the consumer (Gradio encoding and sending the frame) before it resumes the handler
    assert list(gen) == [] and budget.cost >= 0.05
    assert list(budget.frame(lambda: "figure", "skipped")) == ["skipped"]  # a 50 ms frame at a half share
    assert list(budget.frame(lambda: "figure")) == []  # nothing to say in between
    assert list(budget.frame(lambda: "figure", "skipped", final=True)) == ["figure"]
