"""Start here: what the suite is, which tab teaches which part of the notes, the runtime."""

from __future__ import annotations

import importlib
import importlib.metadata
import platform

import gradio as gr

from apps.common import LIGHT, Endpoint, SeedRef, guard

TITLE = "Start here"
SEEDS: list[SeedRef] = []
RUN_BUTTON = "start-run"

SEED_FILES = {
    "000_5114ce2b17ca1821.txt": "Notes A (hands-on computations, pitfalls, models)",
    "003_1dbce9a3816ea850.txt": "Notes B (PyTorch practice: data, optimizers, RNN, BERT/GPT)",
}

INTRO = """
# Hands-On DL Lab

Interactive lessons that turn two study notes on deep learning into things you can poke at:
type numbers and watch a convolution being computed, pick a loss and see every intermediate,
train a network and watch its gradients. Everything runs **offline on a CPU**; models and
data load lazily the first time a tab needs them.

Every tab is also an API endpoint: see *Use via API* at the bottom of the page, or the README
for a `gradio_client` example.
"""


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
        refs = getattr(mod, "SEEDS", []) or [SeedRef("", "", "")]
        for ref in refs:
            rows.append([name, getattr(mod, "TITLE", name), ref.seed, ref.section, ref.title])
    return rows


def runtime_info() -> str:
    """A Markdown table of versions, device and what works offline."""
    import torch

    def ver(pkg: str) -> str:
        # Read the installed version without importing the package (keeps start-up fast).
        try:
            return importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    device = f"CUDA ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "CPU"
    lines = [
        "| component | version |", "|---|---|",
        f"| Python | {platform.python_version()} |",
        f"| torch | {torch.__version__} |",
        f"| torchvision | {ver('torchvision')} |",
        f"| gradio | {gr.__version__} |",
        f"| transformers | {ver('transformers')} |",
        f"| captum | {ver('captum')} |",
        f"| device | {device}, {torch.get_num_threads()} threads |",
    ]
    try:
        from dlcore.offline import offline_assets
        lines.append("")
        lines.append("**Offline assets found on this machine**")
        lines.append("")
        lines += [f"- {a.name}: {'available' if a.available else 'missing'} — {a.detail}"
                  for a in offline_assets()]
    except ImportError:
        pass
    return "\n".join(lines)


@guard
def refresh() -> tuple[list[list[str]], str]:
    return tab_map(), runtime_info()


def build() -> None:
    gr.Markdown(INTRO)
    gr.Markdown("## Which tab teaches which part of the notes\n" + "  \n".join(
        f"- `{k}`: {v}" for k, v in SEED_FILES.items()))
    table = gr.Dataframe(headers=["tab", "title", "seed file", "section", "section title (from the notes)"],
                         value=tab_map(), interactive=False, wrap=True)
    gr.Markdown("## Runtime")
    info = gr.Markdown(runtime_info())
    btn = gr.Button("Refresh", elem_id=RUN_BUTTON, variant="primary", size="sm")
    btn.click(refresh, None, [table, info], api_name="start_info", **LIGHT)


ENDPOINTS = [Endpoint("start_info", examples=[[]])]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "start"])
