"""Adversarial attacks: PGD against torchattacks' PGD (the peer, same run), an accuracy-vs-ε
curve, one FGSM on one image, and the adversarially trained zoo model.

    PYTHONPATH=. .venv/bin/python bench/bench_attacks.py [--quick] [--build]

Prints JSON lines. Targets (issue 11):

* PGD-40 (ε 0.1, α 0.01) on 256 Fashion-MNIST test images: ≤ 1.0× torchattacks' time;
* accuracy vs ε, 8 ε × 500 images, PGD-20: ≤ 30 s (with the curve's two exact shortcuts; the
  plain per-ε run is measured too, as the peer);
* one FGSM on one image through the library (the HTTP figure is measured with the tab);
* ``fmnist_cnn_adv``: build time and clean / PGD-20 accuracy (from the manifest; ``--build``
  rebuilds it and reports wall and CPU time).

Threads: ``BENCH_THREADS`` (default 2, the machine's cores; use 1 on a busy machine, where two
threads per process thrash). The CPU is shared, so every figure carries the load average.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as launch.py: idle OpenMP threads sleep (set before torch)

from bench.common import emit, load_avg  # noqa: E402


def _best_of(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def pgd_vs_torchattacks(model, x, y, repeats: int) -> None:
    """Same job both sides: adversarial images only (``perturb``); the full ``AttackResult`` call
    (which adds the predictions before/after and the loss of the last iterate) is reported too."""
    import torch
    import torchattacks

    from dlcore.attacks import PGD

    def ours_images():
        return PGD(model, eps=0.1, alpha=0.01, steps=40, random_start=True, batch_size=256).perturb(x, y)

    def ours_result():
        return PGD(model, eps=0.1, alpha=0.01, steps=40, random_start=True, batch_size=256)(x, y)

    def theirs_images():
        return torchattacks.PGD(model, eps=0.1, alpha=0.01, steps=40, random_start=True)(x, y)

    times: dict[str, list[float]] = {"ours": [], "result": [], "theirs": []}
    for _ in range(repeats):  # interleaved, so changes in load hit all three alike
        for key, fn in (("ours", ours_images), ("theirs", theirs_images), ("result", ours_result)):
            torch.manual_seed(0)
            times[key] += _best_of(fn, 1)
    o, t, r = (statistics.median(times[k]) for k in ("ours", "theirs", "result"))
    emit("pgd40_256_images", round(o, 3), "s", peer="torchattacks.PGD", peer_value=round(t, 3),
         ratio=round(o / t, 3), target_ratio=1.0, full_result_s=round(r, 3), full_result_ratio=round(r / t, 3),
         runs={k: [round(v, 2) for v in vs] for k, vs in times.items()}, load_avg=load_avg())


def curve(name: str, model, x, y, peer: bool) -> None:
    from dlcore.attacks.curves import DEFAULT_EPS, accuracy_vs_eps

    points = []
    t0 = time.perf_counter()
    c = accuracy_vs_eps({name: model}, x, y, DEFAULT_EPS, ("pgd",), steps=20,
                        callback=lambda s, m: points.append(round(time.perf_counter() - t0, 2)))
    emit("accuracy_vs_eps_8x500_pgd20", round(c.seconds, 2), "s", target=30, model=name, eps=list(DEFAULT_EPS),
         accuracy=[round(v, 3) for v in c.accuracy[name]["pgd"]], point_times_s=points, load_avg=load_avg())
    if peer:
        t0 = time.perf_counter()
        plain = accuracy_vs_eps({name: model}, x, y, DEFAULT_EPS, ("pgd",), steps=20, nested=False, early_stop=False)
        emit("accuracy_vs_eps_8x500_pgd20_plain", round(time.perf_counter() - t0, 2), "s",
             note="peer: textbook PGD-20 at every ε on every image (no nesting, no early stop), same model",
             model=name, accuracy=[round(v, 3) for v in plain.accuracy[name]["pgd"]], load_avg=load_avg())


def one_fgsm(model, x, y, classes) -> None:
    from dlcore.attacks import FGSM
    from dlcore.plotting import figure_to_png
    from dlcore.plotting.attacks import attack_arrays, attack_images, topk_bars

    FGSM(model, eps=0.1)(x[:1], y[:1])  # warm-up
    times = _best_of(lambda: FGSM(model, eps=0.1)(x[:1], y[:1]), 50)
    emit("fgsm_one_image", round(1000 * statistics.median(times), 2), "ms", p90=round(1000 * sorted(times)[44], 2),
         load_avg=load_avg())
    res = FGSM(model, eps=0.1)(x[:1], y[:1])
    t = _best_of(lambda: (figure_to_png(attack_images(res, 0, classes)), figure_to_png(topk_bars(res, 0, 5, classes))),
                 5)
    emit("fgsm_figures_png", round(1000 * statistics.median(t), 1), "ms", note="attack_images + topk_bars to PNG",
         load_avg=load_avg())
    t = _best_of(lambda: attack_arrays(res, 0), 20)
    emit("fgsm_arrays", round(1000 * statistics.median(t), 2), "ms",
         note="attack_arrays: the three pictures as RGB arrays for an image widget", load_avg=load_avg())


def zoo_model(build: bool) -> None:
    from dlcore import zoo

    if build:
        t0, c0 = time.perf_counter(), time.process_time()
        zoo.build("fmnist_cnn_adv", progress=False)
        emit("fmnist_cnn_adv_build", round(time.perf_counter() - t0, 1), "s",
             cpu_s=round(time.process_time() - c0, 1), load_avg=load_avg())
    e = zoo.info("fmnist_cnn_adv")
    emit("fmnist_cnn_adv_manifest", e.get("train_seconds"), "s", clean=e.get("test_accuracy"),
         pgd20=e.get("metrics", {}).get("pgd20_accuracy"), n_pgd=zoo.RECIPES["fmnist_cnn_adv"].options["eval_n"],
         built=e.get("built"), note="train_seconds is wall time on a shared CPU (see the report for CPU time)")


def main(argv: list[str]) -> int:
    import torch

    from dlcore import zoo

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    quick = "--quick" in argv
    try:
        split = zoo.load_data("fmnist_cnn")
        natural, robust = zoo.get("fmnist_cnn"), zoo.get("fmnist_cnn_adv")
    except zoo.ZooDataUnavailable:
        emit("attacks_skipped", 0, "", reason="Fashion-MNIST is not available on this machine")
        return 0
    x, y = split.x_test, split.y_test
    emit("threads", torch.get_num_threads(), "", load_avg=load_avg())
    pgd_vs_torchattacks(natural, x[:256], y[:256], 1 if quick else 3)
    curve("fmnist_cnn", natural, x[:500], y[:500], peer=not quick)
    curve("fmnist_cnn_adv", robust, x[:500], y[:500], peer=False)
    one_fgsm(natural, x, y, split.classes)
    zoo_model("--build" in argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
