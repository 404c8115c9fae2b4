"""The Start tab: leads with what the suite teaches, names the notes by their titles, maps every tab
to real sections of the notes, and keeps the runtime in a closed fold computed on first open."""

from __future__ import annotations

import re
import subprocess
import sys

import gradio as gr
import pytest

from apps import start
from apps.start import SEED_FILES, map_markdown, notes_outline, runtime_info, tab_map
from tests.conftest import ROOT, tab_modules

SEEDS_DIR = ROOT.parent / "shared" / "seeds"
HAVE_SEEDS = SEEDS_DIR.is_dir()


def heading_for(seed: str, section: str) -> str:
    """The heading line of ``section`` (``1.2.4`` or an anchor such as ``dl_1_3``)."""
    text = (SEEDS_DIR / seed).read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.startswith("#"):
            continue
        if f"{{#{section}}}" in line or re.match(rf"^#+\s+{re.escape(section)}\.?\s", line):
            return line
    raise AssertionError(f"no heading for section {section!r} in {seed}")


REFS = [(name, ref) for name, mod in tab_modules() for ref in getattr(mod, "SEEDS", [])]


@pytest.mark.skipif(not HAVE_SEEDS, reason="shared/seeds is not beside the repo")
@pytest.mark.parametrize("name,ref", REFS, ids=[f"{n}:{r.section}" for n, r in REFS])
def test_seed_reference_names_a_real_section_with_its_title(name, ref):
    assert ref.seed in SEED_FILES
    line = heading_for(ref.seed, ref.section)
    own_title = ref.title.split(" (")[0].strip()  # an English gloss may follow in parentheses
    assert own_title in line, f"{name}: {ref.title!r} is not the title of {ref.section}: {line!r}"


@pytest.mark.skipif(not HAVE_SEEDS, reason="shared/seeds is not beside the repo")
def test_the_notes_are_named_by_their_titles_and_the_file_names_are_small_print():
    assert notes_outline("003_1dbce9a3816ea850.txt")[0] == "深度学习"  # anchor {#dl} removed
    title, chapters = notes_outline("000_5114ce2b17ca1821.txt")
    assert title == "1. 动手算神经网络" and chapters[1] == "2. 常遇到的问题"  # code comments are not headings
    md = map_markdown()
    assert "动手算神经网络" in md and "深度学习" in md
    small = md[md.index("<small>"):]
    for seed in SEED_FILES:
        assert md.count(seed) == small.count(seed) == 1  # only in the small print


def test_outline_without_the_notes_falls_back(tmp_path):
    assert notes_outline("000_5114ce2b17ca1821.txt", tmp_path)[0] == SEED_FILES["000_5114ce2b17ca1821.txt"][1]


def test_map_lists_every_topic_tab_and_leads_with_what_it_teaches():
    rows = tab_map()
    assert {r[0] for r in rows} == {n for n, _ in tab_modules() if n != "start"}
    md = map_markdown()
    for name, mod in tab_modules():
        if name != "start":
            assert f"- **{mod.TITLE}**: " in md
    assert start.INTRO.index("Two study notes") < 60 and "torch" not in start.INTRO.split("\n\n")[1][:80]


def test_runtime_names_torch_and_is_folded_and_computed_on_open():
    info = runtime_info()
    assert "| torch |" in info and "device" in info
    code = ("import sys, gradio as gr, apps.start as t\nwith gr.Blocks() as d:\n    t.build()\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr[-2000:]
    with gr.Blocks() as demo:
        start.build()
    cfg = demo.get_config_file()
    folds = [c for c in cfg["components"] if c["type"] == "accordion"]
    assert len(folds) == 1 and folds[0]["props"]["open"] is False and "Runtime" in folds[0]["props"]["label"]
    md = [c["props"].get("value") or "" for c in cfg["components"] if c["type"] == "markdown"]
    assert not any("| torch |" in v for v in md)  # not computed at build
    assert len(open(start.__file__, encoding="utf-8").read().splitlines()) <= 350


@pytest.mark.skipif(not HAVE_SEEDS, reason="shared/seeds is not beside the repo")
def test_find_in_the_notes_names_sections_and_the_tabs_teaching_them():
    md = start.find_in_notes("梯度消失")
    assert "| Notes A §2.2.1 | 2.2.1 梯度消失和梯度爆炸 |" in md and "Train a network" in md
    assert "No section" in start.find_in_notes("qwertyuiop")
    for args, fragment in [*start.ENDPOINTS[0].bad, ([["a"]], "must be text")]:  # Gradio turns a list into text
        with pytest.raises(gr.Error, match=fragment):
            start.find_in_notes(*args)
    assert start.ERROR_DEMO.click == start.RUN_BUTTON and start.ENDPOINTS[0].api_name == "start_find"
