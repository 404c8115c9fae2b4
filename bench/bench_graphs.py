"""Graphs tab figures (JSON lines).

* one GCN layer on the notes' 5-node ring and on the karate club (dense Â H Wᵀ, Â precomputed), with
  PyG's ``GCNConv`` on the same graph and weights as the peer when ``torch_geometric`` is installed;
* the calculator handler on the default (parse + Â + the written-out node + the figure);
* karate-club training, 200 epochs (Kipf & Welling's demo) through the Trainer: GCN, then the MLP baseline,
  with PyG's ``GCNConv`` model trained the same way as the peer when installed;
* the receptive field by autograd on the karate club (k = 2) and the over-smoothing sweep (L = 32).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit, emit_ms, timeit  # noqa: E402


def _pyg():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import torch_geometric.nn as pyg_nn
        return pyg_nn
    except ImportError:
        return None


def bench_layer(pyg: object) -> None:
    import torch

    from dlcore.graphs.gcn import GCNLayer
    from dlcore.graphs.graph import karate_club, normalized_adjacency, parse_graph
    from dlcore.graphs.names import SEED_EDGE_INDEX

    for name, g, d in (("ring5", parse_graph(SEED_EDGE_INDEX), 3), ("karate34", karate_club(), 34)):
        x = torch.randn(g.n, d, generator=torch.Generator().manual_seed(0))
        layer = GCNLayer(d, 4)
        a_hat, _ = normalized_adjacency(g, torch.float32)
        peer = float("nan")
        if pyg is not None:
            conv = pyg.GCNConv(d, 4)  # type: ignore[attr-defined]
            with torch.no_grad():
                conv.lin.weight.copy_(layer.weight)
                torch.testing.assert_close(layer(x, a_hat), conv(x, g.edge_index))
                conv(x, g.edge_index)
                peer = sorted(timeit(lambda: conv(x, g.edge_index), 200))[100]
        with torch.no_grad():  # microseconds: a layer on these graphs is far below 0.1 ms
            mine = sorted(timeit(lambda: layer(x, a_hat), 200))[100]
            emit(f"graphs_gcn_layer_{name}_forward_p50", round(mine * 1000, 1), "us",
                 peer="torch_geometric GCNConv (same weights, edge_index)" if pyg else "none (not installed)",
                 peer_value=round(peer * 1000, 1) if pyg else None)
        emit_ms(f"graphs_normalized_adjacency_{name}", timeit(lambda: normalized_adjacency(g, torch.float32), 100))


def bench_handlers() -> None:
    import apps.graphs_calc as calc
    import apps.graphs_more as more

    calc.calculate(*calc.DEFAULTS)
    emit_ms("graphs_calculator_handler_default", timeit(lambda: calc.calculate(*calc.DEFAULTS), 10),
            note="the notes' ring: parse, Â, GCN(3→4→2), the written-out node, the figure as PNG-ready Figure")
    emit_ms("graphs_receptive_handler_karate_k2", timeit(lambda: calc.receptive(*calc.RF_DEFAULTS), 5))
    emit_ms("graphs_oversmoothing_handler_L32", timeit(lambda: more.depth(*more.DEPTH_DEFAULTS), 5))


def bench_training(pyg: object) -> None:
    import torch
    import torch.nn.functional as F

    from dlcore.graphs.graph import karate_club
    from dlcore.graphs.train import KarateConfig, labelled_nodes, train_karate

    def run(cfg: KarateConfig) -> float:
        return list(train_karate(cfg))[-1].accuracy  # type: ignore[union-attr]

    run(KarateConfig(epochs=5))
    acc = run(KarateConfig())
    emit_ms("graphs_karate_gcn_200_epochs", timeit(lambda: run(KarateConfig()), 3), accuracy_unlabelled=round(acc, 4))
    mlp = run(KarateConfig(edges=False))
    emit_ms("graphs_karate_mlp_200_epochs", timeit(lambda: run(KarateConfig(edges=False)), 3),
            accuracy_unlabelled=round(mlp, 4))
    if pyg is None:
        emit("graphs_karate_pyg_peer", None, "ms", note="torch_geometric not installed")
        return
    g = karate_club()
    idx = labelled_nodes(g, 1)
    x = torch.eye(g.n)

    def pyg_run() -> None:  # the same architecture with PyG's GCNConv, a plain loop (no Trainer)
        torch.manual_seed(0)
        c1, c2, lin = pyg.GCNConv(34, 4), pyg.GCNConv(4, 2), torch.nn.Linear(2, 2)  # type: ignore[attr-defined]
        params = [*c1.parameters(), *c2.parameters(), *lin.parameters()]
        opt = torch.optim.Adam(params, lr=0.01, weight_decay=5e-4)
        for _ in range(200):
            z = torch.tanh(c2(torch.tanh(c1(x, g.edge_index)), g.edge_index))
            loss = F.cross_entropy(lin(z)[idx], g.labels[idx])  # type: ignore[index]
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.random.fork_rng():
        pyg_run()
        emit_ms("graphs_karate_pyg_gcnconv_200_epochs_peer", timeit(pyg_run, 3),
                note="PyG GCNConv, same widths/optimiser, plain loop")


def main() -> None:
    pyg = _pyg()
    bench_layer(pyg)
    bench_handlers()
    bench_training(pyg)


if __name__ == "__main__":
    main()
