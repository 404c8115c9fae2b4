"""Karate-club training (reproducible, stoppable, GCN beats the edge-free MLP), over-smoothing, GAT
against PyG's GATConv, and every figure builds without pyplot."""

from __future__ import annotations

import sys
import threading
import warnings

import pytest
import torch

from dlcore.graphs.gat import gat_layer, gat_weights
from dlcore.graphs.graph import karate_club, parse_graph
from dlcore.graphs.names import SEED_EDGE_INDEX
from dlcore.graphs.smoothing import oversmoothing
from dlcore.graphs.train import KarateConfig, KarateRun, karate_config, labelled_nodes, train_karate


def _run(cfg: KarateConfig) -> KarateRun:
    return list(train_karate(cfg))[-1]  # type: ignore[return-value]


def test_gcn_learns_the_split_from_one_label_per_faction_and_the_mlp_cannot() -> None:
    gcn, mlp = _run(KarateConfig()), _run(KarateConfig(edges=False))
    assert gcn.labelled.tolist() == [0, 33]
    assert gcn.accuracy >= 0.9 and mlp.accuracy == 0.5  # one-hot ids: nothing to generalise from
    assert gcn.status == "finished" and len(gcn.frames) == 200
    assert gcn.frames[-1].embedding.shape == (34, 2) and gcn.frames[-1].loss < gcn.frames[0].loss


def test_training_is_reproducible_and_leaves_the_global_rng_alone() -> None:
    state = torch.random.get_rng_state()
    a, b = _run(KarateConfig(epochs=30, seed=4)), _run(KarateConfig(epochs=30, seed=4))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert [f.loss for f in a.frames] == [f.loss for f in b.frames]
    assert torch.equal(a.frames[-1].embedding, b.frames[-1].embedding)


def test_training_stops_when_asked() -> None:
    stop = threading.Event()
    frames = []
    for item in train_karate(KarateConfig(epochs=500), stop_event=stop):
        frames.append(item)
        if len(frames) == 5:
            stop.set()
    run = frames[-1]
    assert isinstance(run, KarateRun) and run.status == "stopped" and len(run.frames) <= 6


def test_config_names_bad_values() -> None:
    assert karate_config().weight_decay == 5e-4 and karate_config(seed=3).seed == 3
    for args, frag in ((("noise",), "features 'noise' is not one of"), (("identity", 9), "above the maximum 8"),
                       (("identity", 1, 4, 0), "epochs = 0 is below the minimum 1")):
        with pytest.raises(ValueError, match=frag):
            karate_config(*args)
    assert labelled_nodes(karate_club(), 2).tolist() == [0, 1, 33, 9]


def test_oversmoothing_shrinks_distances_with_depth() -> None:
    s = oversmoothing(karate_club(), 32)
    assert all(b <= a + 1e-12 for a, b in zip(s.distance[1:], s.distance[2:]))
    assert s.at(32) < s.at(0) / 20
    ring = oversmoothing(parse_graph(SEED_EDGE_INDEX), 16)
    assert ring.at(16) < 1e-3
    with pytest.raises(ValueError, match="depth 0 is outside 1"):
        oversmoothing(karate_club(), 0)


def test_gat_layer_is_a_softmax_over_neighbours_and_equals_pyg() -> None:
    g = parse_graph("0-1, 0-2, 0-3, 1-2, 3-4")
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    w = gat_weights(3, 4, 1)
    r = gat_layer(x, g, w)
    torch.testing.assert_close(r.alpha.sum(1), torch.ones(5))
    assert r.alpha[0, 4] == 0 and r.alpha[4, 4] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nn_ = pytest.importorskip("torch_geometric.nn", reason="torch_geometric is not installed")
    conv = nn_.GATConv(3, 4)
    with torch.no_grad():
        conv.lin.weight.copy_(w.weight)
        conv.att_src.copy_(w.att_src.view(1, 1, 4))
        conv.att_dst.copy_(w.att_dst.view(1, 1, 4))
    out, (ei, alpha) = conv(x, g.edge_index, return_attention_weights=True)
    torch.testing.assert_close(r.out, out.detach())
    torch.testing.assert_close(r.alpha[ei[1], ei[0]], alpha[:, 0].detach())


def test_every_figure_builds_without_pyplot() -> None:
    from matplotlib.figure import Figure

    from dlcore.graphs.gcn import receptive_field
    from dlcore.graphs.graph import normalized_adjacency
    from dlcore.plotting import graphs as P

    g = karate_club()
    run = _run(KarateConfig(epochs=5))
    f = run.frames[-1]
    rf = receptive_field(g, 0, 2)
    a_hat, _ = normalized_adjacency(g, torch.float32)
    figs = [P.calculator_figure(parse_graph(SEED_EDGE_INDEX), normalized_adjacency(parse_graph(SEED_EDGE_INDEX))[0], 0),
            P.receptive_figure(g, 0, 2, rf.hops, rf.influence),
            P.training_figure(g, f.embedding, f.pred, [0, 33], f.epoch, f.accuracy),
            P.curves_figure({"GCN": [(x.epoch, x.accuracy) for x in run.frames]}),
            P.smoothing_figure({"karate": (oversmoothing(g, 4).depths, oversmoothing(g, 4).distance)}),
            P.attention_figure(g, gat_layer(torch.eye(34), g, gat_weights(34, 4)).alpha, a_hat, 0)]
    assert all(isinstance(x, Figure) for x in figs)
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []
    assert P.layout(g).shape == (34, 2) and (P.layout(g) == P.layout(karate_club())).all()
