"""The Start tab's map: every tab names real sections of the notes, with their own titles."""

from __future__ import annotations

import re

import pytest

from apps.start import SEED_FILES, runtime_info, tab_map
from tests.conftest import ROOT, tab_modules

SEEDS_DIR = ROOT.parent / "shared" / "seeds"


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


@pytest.mark.skipif(not SEEDS_DIR.is_dir(), reason="shared/seeds is not beside the repo")
@pytest.mark.parametrize("name,ref", REFS, ids=[f"{n}:{r.section}" for n, r in REFS])
def test_seed_reference_names_a_real_section_with_its_title(name, ref):
    assert ref.seed in SEED_FILES
    line = heading_for(ref.seed, ref.section)
    own_title = ref.title.split(" (")[0].strip()  # an English gloss may follow in parentheses
    assert own_title in line, f"{name}: {ref.title!r} is not the title of {ref.section}: {line!r}"


def test_map_lists_every_topic_tab_and_runtime_names_torch():
    rows = tab_map()
    assert {r[0] for r in rows} == {n for n, _ in tab_modules() if n != "start"}
    info = runtime_info()
    assert "| torch |" in info and "device" in info
