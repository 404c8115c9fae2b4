"""Start here: what the suite teaches, which tab teaches which part of the notes, and (folded) the runtime."""

from __future__ import annotations

import importlib
import platform
import re
import sys
from pathlib import Path

import gradio as gr

from apps.common import LIGHT, Endpoint, ErrorDemo, SeedRef, guard, md_escape, on, on_first_open
from dlcore.textinput import parse_text

TITLE = "Start here"
SEEDS: list[SeedRef] = []
RUN_BUTTON = "start-find"
DEFAULT_TERM = "BatchNorm"
#: Where the notes live in a checkout (``shared/seeds`` beside the repository).
SEEDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"

#: The two study notes, by file name: (short name, what they are when the file is not here).
SEED_FILES = {
    "000_5114ce2b17ca1821.txt": ("Notes A", "hands-on computations, common problems, models"),
    "003_1dbce9a3816ea850.txt": ("Notes B", "PyTorch practice: data, optimizers, RNN, BERT/GPT"),
}

INTRO = """
# Hands-On DL Lab

Two study notes on deep learning, turned into things you can poke at. You **compute** what a layer
does to a shape and every multiply-add of a convolution; you **work out** a loss by hand and see why
ln C is the loss of a guess; you **train** a network and watch its loss, learning rate and per-layer
gradients move, and see vanishing gradients, over-fitting and a too-large step happen; you **look
inside** BERT's attention and **steer** GPT's decoding token by token. Every number is checked
against PyTorch. Everything runs offline on a CPU.
"""


def _headings(text: str) -> list[tuple[int, str]]:
    """(level, title) of the Markdown headings outside fenced code (anchors ``{#…}`` removed)."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else re.match(r"^(#{1,6})\s+(.*?)\s*(\{#[^}]*\})?\s*$", line)
        if m and m.group(2):
            out.append((len(m.group(1)), m.group(2)))
    return out


def notes_outline(seed: str, seeds_dir: Path = SEEDS_DIR) -> tuple[str, list[str]]:
    """The notes' title (their first heading) and chapters (level-1 headings, or level-2 when
    there is a single level-1 one). Falls back to the short description without the file."""
    path = seeds_dir / seed
    if not path.is_file():
        return SEED_FILES.get(seed, (seed, ""))[1], []
    heads = _headings(path.read_text(encoding="utf-8"))
    if not heads:
        return SEED_FILES.get(seed, (seed, ""))[1], []
    top = [t for lvl, t in heads if lvl == 1]
    chapters = top if len(top) > 1 else [t for lvl, t in heads if lvl == 2]
    return heads[0][1], chapters


def _sections(text: str) -> list[tuple[str, str, str]]:
    """(heading, anchor or number, body) of every section (outside fenced code)."""
    out: list[list[str]] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        m = None if fenced else re.match(r"^#{1,6}\s+(.*?)\s*(?:\{#([^}]*)\})?\s*$", line)
        if m and m.group(1):
            num = m.group(2) or (re.match(r"^(\d+(?:\.\d+)*)", m.group(1)) or [""])[0]
            out.append([m.group(1), num, ""])
        elif out:
            out[-1][2] += line + "\n"
    return [tuple(x) for x in out]  # type: ignore[misc]


@guard
def find_in_notes(term: str) -> str:
    """The sections of the notes whose heading or text mention ``term``, and the tab teaching each."""
    term = parse_text(term, "term to find in the notes", max_chars=100).strip()
    if not term:
        raise ValueError("term to find in the notes is empty: type a word, e.g. BatchNorm or 梯度消失")
    refs = [(r[2], r[3], r[1]) for r in tab_map() if r[2]]
    hits = []
    for seed, (short, _) in SEED_FILES.items():
        path = SEEDS_DIR / seed
        if not path.is_file():
            continue
        for head, num, body in _sections(path.read_text(encoding="utf-8")):
            n = (head + body).lower().count(term.lower())
            if n:
                tabs = sorted({t for s, sec, t in refs if s == seed and num and (num == sec or num.startswith(sec + ".")
                                                                             or num.startswith(sec + "_"))})
                hits.append(f"| {short} §{md_escape(num)} | {md_escape(head)} | {n} | {', '.join(tabs)} |")
    if not hits:
        return f"No section of the notes mentions **{md_escape(term)}**."
    return (f"**{md_escape(term)}** appears in {len(hits)} section(s)" + (" (first 25 shown)" if len(hits) > 25 else "")
            + ":\n\n| where | section | mentions | taught in |\n|---|---|---:|---|\n" + "\n".join(hits[:25]))


def _summary(mod: object) -> str:
    """What a tab does: the first line of its module docstring, after its own title."""
    line = ((getattr(mod, "__doc__", "") or "").strip().splitlines() or [""])[0]
    return line.split(": ", 1)[1] if ": " in line else line


def tab_map() -> list[list[str]]:
    """Rows (tab, title, seed file, section, section title) for every registered tab."""
    from apps import TABS

    rows: list[list[str]] = []
    for name in TABS:
        if name == "start":
            continue
        try:
            mod = importlib.import_module(f"apps.{name}")
        except Exception as exc:  # noqa: BLE001 - shown, not hidden
            rows.append([name, f"(fails to import: {type(exc).__name__})", "", "", ""])
            continue
        for ref in getattr(mod, "SEEDS", []) or [SeedRef("", "", "")]:
            rows.append([name, getattr(mod, "TITLE", name), ref.seed, ref.section, ref.title])
    return rows


def map_markdown() -> str:
    """Which tab teaches what, with the notes named by their titles (file names in small print)."""
    from apps import TABS

    notes = {seed: notes_outline(seed) for seed in SEED_FILES}
    lines = ["## The notes"]
    for seed, (short, _) in SEED_FILES.items():
        title, chapters = notes[seed]
        lines.append(f"- **{short}: {md_escape(title)}**" + (
            f" — {' · '.join(md_escape(c) for c in chapters[:12])}" if chapters else ""))
    # A list, not a table: it reflows at phone width (a 3-column table was 3,000 px tall at 414 px).
    lines += ["", "## Which tab teaches what", ""]
    by_tab: dict[str, list[list[str]]] = {}
    for row in tab_map():
        by_tab.setdefault(row[0], []).append(row)
    for name in TABS:
        if name not in by_tab:
            continue
        mod = sys.modules.get(f"apps.{name}")
        refs = "; ".join(f"{SEED_FILES.get(r[2], (r[2],))[0].replace('Notes ', '')} §{r[3]} {md_escape(r[4])}"
                         for r in by_tab[name] if r[2])
        lines.append(f"- **{by_tab[name][0][1]}**: {md_escape(_summary(mod))}" + (f" <small>({refs})</small>" if refs else ""))
    files = ", ".join(f"{short} = `{seed}`" for seed, (short, _) in SEED_FILES.items())
    lines.append(f"\n<small>Files: {files} (in `shared/seeds/`).</small>")
    return "\n".join(lines)


def runtime_info() -> str:
    """A Markdown table of versions, device and what works offline (imports torch: call it on open)."""
    import importlib.metadata

    import torch

    from dlcore.offline import offline_assets

    def ver(pkg: str) -> str:
        try:
            return importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    device = f"CUDA ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "CPU"
    lines = ["| component | version |", "|---|---|", f"| Python | {platform.python_version()} |",
             f"| torch | {torch.__version__} |"]
    lines += [f"| {p} | {ver(p)} |" for p in ("torchvision", "gradio", "transformers", "captum")]
    lines += [f"| device | {device}, {torch.get_num_threads()} threads |", "", "**Offline assets on this machine**",
              ""]
    lines += [f"- {md_escape(a.name)}: {'available' if a.available else 'missing'} — {md_escape(a.detail)}"
              for a in offline_assets()]
    return "\n".join(lines)


@guard
def refresh() -> tuple[str, str]:
    """The tab map and the runtime (versions, device, offline assets)."""
    return map_markdown(), runtime_info()


def build() -> None:
    gr.Markdown(INTRO)
    with gr.Row():
        term = gr.Textbox(DEFAULT_TERM, label="term to find in the notes", scale=3)
        find = gr.Button("Find in the notes", variant="primary", elem_id=RUN_BUTTON, scale=1)
    found = gr.Markdown()
    table = gr.Markdown(map_markdown())  # no torch: the tab modules and the notes' headings only
    on_first_open(find_in_notes, term, found, **LIGHT)
    on([find.click, term.submit], find_in_notes, term, found, api_name="start_find", **LIGHT)
    gr.Markdown("Every tab is also an API endpoint: see *Use via API* at the bottom of the page.")
    with gr.Accordion("Runtime and offline assets (versions, device, where the data and models are)", open=False):
        info = gr.Markdown("Reading the runtime…")
        btn = gr.Button("Refresh", elem_id="start-refresh", size="sm")
    on_first_open(runtime_info_guarded, None, info)
    on(btn.click, refresh, None, [table, info], api_name="start_info", **LIGHT)


@guard
def runtime_info_guarded() -> str:
    return runtime_info()


#: The browser test looks up an empty term and reads the message.
ERROR_DEMO = ErrorDemo(fill={"term to find in the notes": " "}, click=RUN_BUTTON, expect="is empty")
ENDPOINTS = [Endpoint("start_find", examples=[[DEFAULT_TERM], ["梯度消失"]], facts=["BatchNorm", "2.2.1"],
                      bad=[([" "], "is empty"), (["x" * 101], "the limit is 100")]),
             Endpoint("start_info", examples=[[]], facts=["| torch |"])]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "start"])
