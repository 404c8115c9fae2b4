"""Make it small (notes §9.2): pruning, quantization, distillation, low rank, early exits — and one
table that measures every variant's size, latency, accuracy and robustness on this CPU.

Thin glue over :mod:`dlcore.compression` and :mod:`dlcore.plotting.compression`; the panels live
in ``apps/compression_prune.py``, ``compression_quant.py``, ``compression_more.py`` and
``compression_table.py`` (shared wiring: ``compression_run.py``).
"""

from __future__ import annotations

import gradio as gr

from apps import compression_more, compression_prune, compression_quant, compression_table
from apps.common import ErrorDemo, SeedRef

TITLE = "Make it small: pruning, quantization, distillation"
RUN_BUTTON = "compression-prune"
SEED = "000_5114ce2b17ca1821.txt"
SEEDS = [
    SeedRef(SEED, "9.2.1", "网络剪枝 network pruning"),
    SeedRef(SEED, "9.2.2", "知识蒸馏 knowledge distillation"),
    SeedRef(SEED, "9.2.3", "参数量化 parameter quantization"),
    SeedRef(SEED, "9.2.4", "网络架构设计 network architecture design"),
    SeedRef(SEED, "9.2.5", "动态计算 dynamic computation"),
]

INTRO = ("Shrink the zoo's **LeNet-300-100** and **CNN** (Fashion-MNIST) every way the notes list (network "
         "compression, 网络压缩): prune, use fewer bits, distil into a student, factorize, exit early — then compare "
         "every variant on **one table** of measured size, latency, accuracy and accuracy under attack.")

HONEST = """
- **Sizes** are measured: the bytes of `torch.save(state_dict)`. A pruned zero stored densely costs 4 bytes like any
  number; packed 4-bit / 1-bit formats store what they claim.
- **Latency** = median *thread-CPU time* per forward pass at **1 thread**, each variant timed interleaved with its
  fp32 parent (round robin), so load from other users of this 2-core machine hits both alike. The load average is
  printed next to every figure.
- **Unstructured sparsity gives no speed-up** here: without sparse kernels the zeros are multiplied too (the
  *Prune once* panel measures it). Removing whole neurons/filters (*Structured*) does shrink the work.
- **torch.ao.quantization is deprecated** (it warns that it will be removed); its dynamic and static int8 paths are
  labelled so, and still the fastest int8 CPU paths here. **torchao's int8 dynamic path** has no fused kernel in
  eager mode (pytorch/ao#4365): in runs here it was 10–15× *slower* than fp32 at batch 1 and well behind torch.ao at
  batch 1024 — each table prints this run's ratios and says in words what they show. **torchao int4** has no CPU
  kernel here (it needs the `mslk` package or CUDA) and skips layers whose input size is not a multiple of its group
  size: shown as unavailable, with the reason.
- Heavy runs (the pruning loop, the lottery ticket, distillation, the full table, the paper checks) stream their
  progress, can be stopped, and are **kept** once finished: the next press with the same settings answers at once.
"""


def build() -> None:
    gr.Markdown(INTRO)
    with gr.Accordion("How everything here is measured (read once)", open=False):
        gr.Markdown(HONEST)
    with gr.Tab("Pruning"):
        with gr.Tab("Prune once"):
            compression_prune.build_prune()
        with gr.Tab("Prune → fine-tune loop"):
            compression_prune.build_loop()
        with gr.Tab("Structured"):
            compression_prune.build_structured()
        with gr.Tab("Lottery ticket"):
            compression_prune.build_lottery()
    with gr.Tab("Quantization"):
        with gr.Tab("Fewer bits"):
            compression_quant.build_one()
        with gr.Tab("Every path"):
            compression_quant.build_all()
        with gr.Tab("Weight sharing"):
            compression_quant.build_sharing()
        with gr.Tab("Binary weights"):
            compression_quant.build_binary()
    with gr.Tab("Distillation"):
        compression_more.build_distill()
    with gr.Tab("Low rank"):
        compression_more.build_low_rank()
    with gr.Tab("Early exit"):
        compression_more.build_early_exit()
    with gr.Tab("One table"):
        compression_table.build_table_panel()
    with gr.Tab("Paper checks"):
        compression_table.build_checks_panel()


def warmup() -> None:
    """One-off costs of the first presses, paid in the background after start-up: the compression
    package, Torch-Pruning and torchao imports, and each quantization path probed once on a tiny
    model (the FX tracing of static int8 takes seconds the first time). No data, no zoo weights."""
    import torch_pruning  # noqa: F401 - warm-up import

    import dlcore.compression as C
    import dlcore.plotting.compression  # noqa: F401
    from dlcore.compression.quantization import import_torchao
    from dlcore.plotting import figure_to_png, new_figure

    import_torchao()
    for path in C.QUANT_PATHS:
        C.path_available(path)
    fig, ax = new_figure()
    ax.bar([0, 1], [1, 2])
    figure_to_png(fig)


#: The browser test types too few training steps into the lottery panel (a number box: a slider would clamp the typed
#: value in the browser) and reads the message in place of the result. The panel's first-open event only peeks at a
#: kept result, so it cannot finish after the rejected click and paint over the message.
ERROR_DEMO = ErrorDemo(fill={"training steps per run": "5"}, click="compression-lottery-run",
                       expect="training steps per run = 5 is below the minimum 10", subtab="Lottery ticket")
ENDPOINTS = [*compression_prune.ENDPOINTS, *compression_quant.ENDPOINTS, *compression_more.ENDPOINTS,
             *compression_table.ENDPOINTS]

if __name__ == "__main__":
    import launch

    launch.main(["--tabs", "compression"])
