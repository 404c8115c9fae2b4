"""The tabs of the Hands-On DL Lab, in the order they appear.

Each entry is a module name under ``apps/``. A tab module defines:

* ``TITLE``: the tab label;
* ``SEEDS``: a list of :class:`apps.common.SeedRef` (the notes' sections it teaches);
* ``ENDPOINTS``: a list of :class:`apps.common.Endpoint` (named API endpoints with example
  and bad inputs, looped over by the API tests);
* ``RUN_BUTTON``: the ``elem_id`` of the button that runs the tab's default example
  (clicked by the browser test);
* ``build()``: creates the tab's components inside the current ``gr.Blocks``/``gr.Tab``;
* a ``__main__`` block so ``python -m apps.<name>`` serves the tab alone.
"""

from __future__ import annotations

#: Tab order. A new tab = one module in apps/ + one name here.
TABS: list[str] = [
    "start",
    "layers",
    "losses",
    "train",
    "optim",
    "attacks",
    "explain",
    "generative",
    "compression",
    "sequence",
    "attention",
    "bayes",
    "graphs",
    "bert",
    "gpt",
]
