"""Optimizer-lab figures (issue 15): the race on a 2-D surface, and one interaction through the HTTP API.

    PYTHONPATH=. .venv/bin/python bench/bench_optim.py [--repeats 15] [--no-http]

Prints JSON lines. Targets from the issue, on this 2-core CPU:

* ``optim_race_6x500``: :func:`dlcore.optim_viz.run_optimizers` of the notes' six optimizers × 500 steps
  on Rosenbrock (the surface's hand-derived gradient for all six points at once, tested against autograd,
  then each registry ``torch.optim`` optimizer's own ``step`` body, :func:`dlcore.optim_viz.trajectories.step_body`)
  <= 200 ms; the peer, timed alternately in the same run, is the plain loop a learner would write:
  six separate ``torch.optim`` optimizers, each with its own autograd forward and backward per step;
* ``optim_landscape_25x25``: :func:`dlcore.optim_viz.landscape.compute_landscape` of the zoo CNN (``fmnist_cnn``,
  or its digits twin) on 1,000 test images, 625 forward passes, as the tab runs it (2 workers × 1 torch
  thread, the tab's ``precision="auto"``: bfloat16 where this CPU runs it faster, as with Intel AMX, else
  float32) <= 20 s, then the same grid in float32
  (``optim_landscape_25x25_float32``); ``--landscape-only`` runs just these, ``--no-landscape`` skips them.
  Printed beside each: the bfloat16 grid's measured distance from float32 (``check_rel``), the module's
  own float32 forward per point (the peer; 442 s for the grid on 2026-12-02 under load) and the
  arithmetic floor (the passes' FLOPs at the measured GEMM peak of that dtype on both cores) and
  ``conv2_alone_s``, the grid's second convolution alone as oneDNN runs it with both cores busy (on a
  CPU without bfloat16 matrix units, 2026-12-07: 17.8-22.3 s over four runs, about the whole target on its own);
* ``optim_landscape_point_1thread``: one grid point on one torch thread, CNNForward against the module;
* ``optim_http_race``: the tab's default race (6 × 300 steps, the contour picture, the loss picture)
  through ``POST /gradio_api/run/optim_race`` <= 300 ms, with a bare Gradio server's no-op endpoint
  as the round-trip floor.

The machine is shared: ``load_avg`` is reported with every figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import emit_ms, load_avg  # noqa: E402


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--no-http", action="store_true", help="skip serving the app (the HTTP figure)")
    ap.add_argument("--no-landscape", action="store_true", help="skip the 25x25 zoo-CNN landscape (minutes)")
    ap.add_argument("--landscape-only", action="store_true", help="only the 25x25 zoo-CNN landscape")
    args = ap.parse_args(argv)
    if not args.no_landscape:
        landscape_figure()
    if args.landscape_only:
        return 0
    import torch

    from dlcore.optim_viz import TrajectoryConfig, get_surface, run_optimizers
    from dlcore.optim_viz.names import SEED_SIX
    from dlcore.optim_viz.trajectories import RunSpec, build_optimizer

    s = get_surface("rosenbrock")
    cfg = TrajectoryConfig(steps=500)
    specs = [RunSpec(n) for n in SEED_SIX]

    def ours() -> None:
        run_optimizers(s, specs, cfg)

    def peer() -> None:  # six optimizers, six forward/backward passes per step
        torch.set_num_threads(1)
        c = cfg.resolved(s)
        params = [torch.nn.Parameter(torch.tensor(c.start, dtype=torch.float64)) for _ in specs]
        opts = [build_optimizer(sp, p, c, c.steps)[0] for sp, p in zip(specs, params)]
        for t in range(c.steps):
            for p, o in zip(params, opts):
                o.zero_grad()
                s.loss(p[None], t)[0].backward()
                o.step()

    ours()
    peer()
    a, b = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        ours()
        a.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        peer()
        b.append((time.perf_counter() - t0) * 1000)
    emit_ms("optim_race_6x500", a, target="<= 200 ms", load_avg=load_avg(), peer_name="six plain torch.optim loops",
            peer_p50=round(statistics.median(b), 1),
            note="Rosenbrock, the notes' six optimizers, 500 steps each, one torch thread")
    if not args.no_http:
        http_figures(args.repeats)
    return 0


def landscape_figure() -> None:
    """The 25×25 slice as the tab computes it (2 workers × 1 torch thread), the module's own forward
    per point as the peer (timed on 8 points, alternating), and the arithmetic floor: the forward
    passes' multiply-adds at this machine's float32 matrix-multiply peak on both cores."""
    import copy

    import torch

    from bench.common import emit
    from dlcore import zoo
    from dlcore.optim_viz.cnnforward import CNNForward
    from dlcore.optim_viz.directions import model_params
    from dlcore.optim_viz.landscape import LandscapeConfig, compute_landscape, landscape_directions, loss_at

    torch.set_num_threads(1)
    name, model, split = zoo.image_classifier("cnn")
    x, y = split.x_test[:1000], split.y_test[:1000]
    base = model_params(model)
    d1, d2 = landscape_directions(base, 0)
    fast = CNNForward(model.eval(), x)
    net = copy.deepcopy(model).eval()
    ours_ms, peer_ms = [], []
    for k in range(8):                                   # alternating, one point each
        theta = {n: base[n] + 0.1 * k * d1[n] - 0.05 * k * d2[n] for n in base}
        t = time.perf_counter()
        fast(theta)
        ours_ms.append(1000 * (time.perf_counter() - t))
        with torch.no_grad():
            for n, p in net.named_parameters():
                p.copy_(theta[n])
        t = time.perf_counter()
        loss_at(net, x, y)
        peer_ms.append(1000 * (time.perf_counter() - t))
    emit("optim_landscape_point_1thread", round(statistics.median(ours_ms), 1), "ms",
         peer=round(statistics.median(peer_ms), 1), load_avg=load_avg(),
         note="one grid point (1,000 images) on one torch thread: CNNForward vs the module's own forward")

    gflop = _forward_gflop(model, x)
    torch.set_num_threads(2)
    peaks = {}
    for dt in (torch.float32, torch.bfloat16):          # the 2048x2048 matrix-multiply peak on both cores
        a, b = torch.randn(2048, 2048, dtype=dt), torch.randn(2048, 2048, dtype=dt)
        a @ b
        t = time.perf_counter()
        for _ in range(5):
            a @ b
        peaks[dt] = 5 * 2 * 2048 ** 3 / (time.perf_counter() - t) / 1e9
    torch.set_num_threads(1)
    conv2: dict = {}                                      # per dtype, measured once when a grid ran in it
    for precision in ("auto", "float32"):                # the tab's default first, then the exact arithmetic
        before = load_avg()
        t0 = time.perf_counter()
        land = compute_landscape(model, x, y, LandscapeConfig(grid=25, n_images=1000, precision=precision),
                                 name=name, workers=2)
        seconds = time.perf_counter() - t0
        dt = torch.bfloat16 if land.precision == "bfloat16" else torch.float32
        peak = peaks[dt]
        if dt not in conv2:
            conv2[dt] = _conv2_seconds(model, x, dt)
        emit("optim_landscape_25x25" if precision == "auto" else "optim_landscape_25x25_float32", round(seconds, 1),
             "s", target="<= 20 s", precision=land.precision, check_rel=land.check, load_avg_before=before,
             load_avg_after=load_avg(), per_point_ms=round(1000 * seconds / 625, 1),
             peer_module_forward_s=round(625 * statistics.median(peer_ms) / 1000, 1),
             floor_s=round(625 * gflop / peak, 1), forward_gflop=round(gflop, 2), gemm_gflops_2threads=round(peak, 1),
             conv2_alone_s=round(625 * conv2[dt], 1),
             note=f"{name}, 1,000 test images, 625 points, 2 workers x 1 torch thread, CNNForward in "
                  f"{land.precision} (precision={precision!r}); centre loss {land.center_loss:.4f}; check_rel = "
                  "largest relative loss difference from float32 at the centre and 4 corners; peer = the module's "
                  "float32 forward per point (8 timed, x625); floor = 625 forward passes' FLOPs at the measured "
                  "2048x2048 GEMM peak of that dtype on both cores; conv2_alone = 625 points' second "
                  "convolution alone (its oneDNN call on 128-image chunks, both cores busy), the part no rewrite "
                  "here removed")


def _conv2_seconds(model: object, x: object, dtype: object) -> float:
    """Wall seconds per grid point of the second convolution alone, as CNNForward calls it (chunks of
    :data:`~dlcore.optim_viz.cnnforward.CHUNK` images, channels-last, ``dtype``) with two workers of
    one torch thread each running it at once: the share of a point that no rewrite of the rest changes."""
    import threading

    import torch
    from torch.nn import functional as F

    from dlcore.optim_viz.cnnforward import CHUNK

    conv = model.block2[0]
    size = x.shape[-1] // 2
    chunks = x.shape[0] / CHUNK                            # 1,000 images: 7.8 chunks' worth of work
    a = torch.rand(CHUNK, conv.in_channels, size, size).to(dtype).contiguous(memory_format=torch.channels_last)
    w = conv.weight.detach().to(dtype).contiguous(memory_format=torch.channels_last)
    reps = 32

    def work() -> None:
        torch.set_num_threads(1)
        with torch.no_grad():
            for _ in range(reps):
                F.conv2d(a, w, padding=1)
    work()                                                # oneDNN's first call sets up the kernel
    threads = [threading.Thread(target=work) for _ in range(2)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return (time.perf_counter() - t) / (2 * reps) * chunks  # 2·reps chunk convolutions in the interval


def _forward_gflop(model: object, x: object) -> float:
    """Multiply-add FLOPs (×2) of one SmallCNN forward over ``x``: its convolutions and linear layers."""
    from torch import nn

    n, s = x.shape[0], x.shape[-1]
    total, size = 0, s
    for block in (model.block1, model.block2):
        conv = block[0]
        total += 2 * n * size * size * conv.out_channels * conv.in_channels * 9
        size //= 2
    for layer in model.classifier:
        if isinstance(layer, nn.Linear):
            total += 2 * n * layer.in_features * layer.out_features
    return total / 1e9


def http_figures(repeats: int) -> None:
    from apps.optim_panels import D_RACE
    from bench.common import post_run, serve, timeit

    with serve(peer=True) as peer_url:
        post_run(peer_url, "noop", ["x"])
        floor = timeit(lambda: post_run(peer_url, "noop", ["x"]), repeats)
    with serve("--tabs", "optim") as url:
        post_run(url, "optim_race", D_RACE, timeout=120)  # first call: torch.optim's imports, the first figure
        times = []
        for i in range(repeats):
            args = list(D_RACE)
            args[5] = -1.3 - 0.01 * (i % 10)  # a new η each time: nothing cached but the contour grid
            times.append(timeit(lambda a=args: post_run(url, "optim_race", a), 1)[0])
        emit_ms("optim_http_race", times, target="<= 300 ms", load_avg=load_avg(),
                peer_name="no-op endpoint of a bare Gradio server, same POST", peer_p50=round(statistics.median(floor), 1),
                note="POST /gradio_api/run/optim_race: 6 optimizers x 300 steps on the saddle, the contour picture "
                     "and the loss figure")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
