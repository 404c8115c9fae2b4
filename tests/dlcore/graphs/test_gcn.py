"""The GCN layer against PyG's GCNConv (test-only oracle) and the dense formula, the notes' §dl_7_3
example, aggregation, the receptive field by autograd, parsing and its messages."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from dlcore.graphs.calculator import graph_report, parse_widths
from dlcore.graphs.gcn import GCN, aggregations, receptive_field, seed_example
from dlcore.graphs.graph import adjacency, hop_distances, karate_club, normalized_adjacency, parse_graph
from dlcore.graphs.names import RING_EDGES, SEED_EDGE_INDEX


def _pyg():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip("torch_geometric.nn", reason="torch_geometric (requirements-dev-nodeps.txt) "
                                   "is not installed: the dense-formula tests below still run")


def test_seed_ring_reproduces_the_notes_pyg_code_exactly() -> None:
    """§dl_7_3 verbatim with torch.manual_seed: the same x, weights and GCN(3 → 4 → 2) output."""
    nn_ = _pyg()
    g = parse_graph(SEED_EDGE_INDEX)
    for seed in (0, 1, 123):
        ex = seed_example(g, seed=seed)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            x = torch.randn((5, 3))
            conv1, conv2 = nn_.GCNConv(3, 4), nn_.GCNConv(4, 2)
            out = conv2(torch.relu(conv1(x, g.edge_index)), g.edge_index)
        torch.testing.assert_close(ex.x, x, rtol=0, atol=0)
        torch.testing.assert_close(ex.model.layers[0].weight, conv1.lin.weight, rtol=0, atol=0)
        torch.testing.assert_close(ex.outputs[-1], out.detach())
        assert ex.outputs[0].shape == (5, 4) and ex.outputs[-1].shape == (5, 2)
        assert torch.equal(ex.pred, out.argmax(1))


def test_gcn_layer_equals_pyg_on_the_karate_club_and_random_graphs() -> None:
    nn_ = _pyg()
    gen = torch.Generator().manual_seed(3)
    for g in (karate_club(), parse_graph("0-1, 1-2, 2-0, 2-3, 5-6"), parse_graph(RING_EDGES)):
        x = torch.randn(g.n, 5, generator=gen)
        conv = nn_.GCNConv(5, 3)
        with torch.no_grad():
            conv.bias.uniform_(-1, 1)
        model = GCN((5, 3))
        with torch.no_grad():
            model.layers[0].weight.copy_(conv.lin.weight)
            model.layers[0].bias.copy_(conv.bias)
        a_hat, _ = normalized_adjacency(g, torch.float32)
        torch.testing.assert_close(model(x, a_hat), conv(x, g.edge_index).detach())


def test_normalized_adjacency_is_the_dense_formula() -> None:
    g = parse_graph("0-1, 0-2, 0-3")  # a star: d̃ = (4, 2, 2, 2)
    a_hat, deg = normalized_adjacency(g)
    assert deg.tolist() == [4, 2, 2, 2]
    assert a_hat[0, 1].item() == pytest.approx(1 / math.sqrt(8)) and a_hat[0, 0].item() == pytest.approx(0.25)
    assert a_hat[1, 2].item() == 0 and torch.equal(a_hat, a_hat.T)
    a = adjacency(g)
    d = torch.diag((a + torch.eye(4)).sum(1) ** -0.5)
    torch.testing.assert_close(a_hat, d @ (a + torch.eye(4)) @ d)


def test_three_aggregations_written_out() -> None:
    g = parse_graph("0-1, 0-2")
    x = torch.tensor([[0.0, 0.0], [1.0, -2.0], [3.0, 4.0]])
    agg = aggregations(x, g)
    assert agg["sum"][0].tolist() == [4.0, 2.0] and agg["mean"][0].tolist() == [2.0, 1.0]
    assert agg["max"][0].tolist() == [3.0, 4.0] and agg["max"][1].tolist() == [0.0, 0.0]


def test_node_update_written_out_sums_to_the_layer_output() -> None:
    r = graph_report(RING_EDGES, "[[1, 0], [0, 1], [1, 1], [0, 0], [2, 1]]", "4, 2", 0, 2)
    total = sum(t.weight * t.xw for t in r.terms) + r.run.model.layers[0].bias
    torch.testing.assert_close(total, r.pre)
    torch.testing.assert_close(torch.relu(r.pre), r.run.outputs[0][2])
    assert [t.u for t in r.terms] == [1, 2, 3] and r.neighbours == [1, 3]


@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("node", [0, 16, 33])
def test_receptive_field_by_autograd_is_exactly_the_k_hop_neighbourhood(node: int, k: int) -> None:
    g = karate_club()
    r = receptive_field(g, node, k)
    hops = hop_distances(g, node)
    assert sorted(r.nonzero) == sorted(u for u, d in enumerate(hops) if d is not None and d <= k)
    assert len(r.within) < g.n or k >= max(d for d in hops if d is not None)


def test_receptive_field_on_a_path_grows_one_hop_per_layer() -> None:
    g = parse_graph(", ".join(f"{i}-{i + 1}" for i in range(9)))
    assert [len(receptive_field(g, 0, k).nonzero) for k in (1, 2, 3, 4)] == [2, 3, 4, 5]


def test_karate_club_is_zacharys() -> None:
    g = karate_club()
    assert g.n == 34 and len(g.undirected_edges) == 78 and g.labels is not None
    assert g.labels[0] == 0 and g.labels[33] == 1 and int(g.labels.sum()) == 17


@pytest.mark.parametrize("text,n,fragment", [
    ("0-1, 1-7", 5, "node 7 in the edges list is outside 0 … 4"),
    ("0-1, 2-2", None, "self-loop 2-2"),
    ("[[0, 1], [1, 2]]", None, "the edge 0→1 has no reverse 1→0"),
    ("[[0, 1, 2]]", None, "needs two rows of equal length"),
    ("0 to 1", None, "is not an edge"),
    ("", None, "edges is empty"),
    ("0-99", None, "a graph of 100 nodes is outside 1 … 64"),
])
def test_bad_graphs_name_the_value_and_the_rule(text: str, n: int | None, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_graph(text, n)


def test_coo_and_edge_list_give_the_same_graph() -> None:
    a, b = parse_graph(SEED_EDGE_INDEX), parse_graph(RING_EDGES)
    assert torch.equal(adjacency(a), adjacency(b)) and a.edge_index.shape == (2, 10)
    assert parse_widths("4, 2") == (4, 2) and parse_widths("[3]") == (3,)
    with pytest.raises(ValueError, match="layer width = 0 is below the minimum 1"):
        parse_widths("4, 0")
