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
