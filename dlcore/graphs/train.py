"""Semi-supervised node classification on Zachary's karate club (Kipf & Welling 2017, §5 / their
karate-club demo, https://arxiv.org/abs/1609.02907; seed 003 §dl_7_3 trains nothing, this does).

The model: GCN layers (tanh) down to a 2-D embedding, then a linear classifier::

    H¹ = tanh(Â X W₁ᵀ),  Z = tanh(Â H¹ W₂ᵀ) ∈ ℝ^{n×2},  logits = Z Wcᵀ + b

trained with cross-entropy on a few labelled nodes only (default: one per faction, the club's two
leaders 0 and 33), Adam η = 0.01, weight decay 5e-4 (the paper's values). Accuracy is measured on
the unlabelled nodes. The **MLP** baseline is the same network with Â replaced by I: the same
features, labels and weights, but no edges, so the difference is what the edges add.

Training runs through the lab's one :class:`~dlcore.train.Trainer` (its data are the labelled node
ids; its ``objective`` runs the whole graph and scores those ids).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from dlcore.graphs.gcn import GCN
from dlcore.graphs.graph import Graph, karate_club, normalized_adjacency
from dlcore.graphs.names import FEATURES, MAX_EPOCHS, MAX_HIDDEN, MAX_LABELLED
from dlcore.textinput import parse_choice, parse_int, parse_number

__all__ = ["KarateConfig", "karate_config", "NodeClassifier", "Frame", "KarateRun", "labelled_nodes",
           "node_features", "train_karate"]


@dataclass(frozen=True)
class KarateConfig:
    """Settings of one run (defaults: Kipf & Welling's karate demo; one labelled node per faction)."""

    features: str = "identity"
    labelled: int = 1          # labelled nodes per faction
    hidden: int = 4
    epochs: int = 200
    lr: float = 0.01
    weight_decay: float = 5e-4
    seed: int = 0
    edges: bool = True         # False = the MLP baseline (Â = I)


def karate_config(features: object = "identity", labelled: object = 1, hidden: object = 4, epochs: object = 200,
                  lr: object = 0.01, seed: object = 0) -> KarateConfig:
    """Validate what a user typed into a :class:`KarateConfig` (each message names the field)."""
    return KarateConfig(features=parse_choice(features, "features", FEATURES),
                        labelled=parse_int(labelled, "labelled nodes per faction", lo=1, hi=MAX_LABELLED),
                        hidden=parse_int(hidden, "hidden width", lo=2, hi=MAX_HIDDEN),
                        epochs=parse_int(epochs, "epochs", lo=1, hi=MAX_EPOCHS),
                        lr=parse_number(lr, "learning rate η", lo=1e-5, hi=1.0),
                        seed=parse_int(seed, "seed", lo=0, hi=2 ** 31 - 1))


def labelled_nodes(graph: Graph, per_class: int) -> torch.Tensor:
    """The first ``per_class`` members of each faction, leaders first (0 = Mr. Hi, 33 = the officer),
    then by node id. Shape (2·per_class,)."""
    assert graph.labels is not None
    out: list[int] = []
    for c, leader in ((0, 0), (1, graph.n - 1)):
        members = [leader] + [i for i in range(graph.n) if int(graph.labels[i]) == c and i != leader]
        out += members[:per_class]
    return torch.tensor(out)


def node_features(graph: Graph, kind: str, seed: int) -> torch.Tensor:
    """X: identity (n, n) one-hot ids, or seeded N(0, 1) noise (n, 8)."""
    if kind == "identity":
        return torch.eye(graph.n)
    return torch.randn(graph.n, 8, generator=torch.Generator().manual_seed(seed + 1))


class NodeClassifier(nn.Module):
    """GCN (tanh) to a 2-D embedding, then a linear classifier; ``forward()`` scores every node.

    Shape: forward() → (logits (n, 2), embedding (n, 2)).
    """

    def __init__(self, x: torch.Tensor, a_hat: torch.Tensor, hidden: int, generator: torch.Generator) -> None:
        super().__init__()
        self.register_buffer("x", x)          # (n, d)
        self.register_buffer("a_hat", a_hat)  # (n, n)
        self.gcn = GCN((x.shape[1], hidden, 2), "tanh", generator)
        with torch.random.fork_rng():      # nn.Linear's own init draws from the global RNG: keep it untouched
            self.classify = nn.Linear(2, 2)
        with torch.no_grad():
            self.classify.weight.uniform_(-0.7, 0.7, generator=generator)
            self.classify.bias.zero_()

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.tanh(self.gcn(self.x, self.a_hat))   # (n, 2) the embedding
        return self.classify(z), z                     # (n, 2) logits


def _objective(model: nn.Module, idx: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    logits, _ = model()                              # the whole graph, (n, 2)
    return F.cross_entropy(logits[idx], y), logits[idx]


@dataclass(frozen=True)
class Frame:
    """One epoch: loss on the labelled nodes, accuracy on the others, the embedding and predictions."""

    epoch: int
    loss: float
    accuracy: float
    embedding: torch.Tensor   # (n, 2)
    pred: torch.Tensor        # (n,)


@dataclass
class KarateRun:
    config: KarateConfig
    graph: Graph
    labelled: torch.Tensor    # (m,)
    frames: list[Frame] = field(default_factory=list)
    status: str = "finished"
    message: str = ""

    @property
    def accuracy(self) -> float:
        return self.frames[-1].accuracy if self.frames else float("nan")


def train_karate(config: KarateConfig | None = None, stop_event: threading.Event | None = None,
                 callback: Callable[[Frame], object] | None = None) -> Iterator[Frame | KarateRun]:
    """Train on the karate club, yielding a :class:`Frame` per epoch, then the :class:`KarateRun`."""
    from dlcore.train import TrainConfig, Trainer

    cfg = config or KarateConfig()
    graph = karate_club()
    assert graph.labels is not None
    idx = labelled_nodes(graph, cfg.labelled)                         # (m,)
    rest = torch.tensor([i for i in range(graph.n) if i not in set(idx.tolist())])
    a_hat = normalized_adjacency(graph, torch.float32)[0] if cfg.edges else torch.eye(graph.n)
    g = torch.Generator().manual_seed(cfg.seed)
    model = NodeClassifier(node_features(graph, cfg.features, cfg.seed), a_hat, cfg.hidden, g)
    tcfg = TrainConfig(task="multiclass", optimizer="Adam", lr=cfg.lr, weight_decay=cfg.weight_decay,
                       batch_size=len(idx), epochs=cfg.epochs, device="cpu", num_threads=1)
    trainer = Trainer(model, (idx, graph.labels[idx]), None, tcfg, stop_event=stop_event, objective=_objective,
                      rng=torch.Generator().manual_seed(cfg.seed))
    run = KarateRun(cfg, graph, idx)
    for log in trainer.steps():
        if log.epoch_log is None and trainer.history.status != "stopped":
            continue
        with torch.no_grad():
            logits, z = model()
        pred = logits.argmax(1)                                        # (n,)
        acc = float((pred[rest] == graph.labels[rest]).float().mean())
        frame = Frame(log.epoch, log.loss, acc, z.clone(), pred)
        run.frames.append(frame)
        if callback is not None:
            callback(frame)
        yield frame
    run.status, run.message = trainer.history.status, trainer.history.message
    yield run
