"""What the network's features look like: PCA and t-SNE of the penultimate layer.

Seed 000 §9.4.1 ("可视化"): the network's internal vectors are high-dimensional; project them
to 2-D with PCA or t-SNE and colour the points by class. If the classes form separate
clusters, the layer has made them (linearly) separable; the raw pixels, embedded the same
way, show how much work the network did.

* **PCA**: the two directions of largest variance (a linear projection; the axes mean something,
  the explained-variance ratio says how much is shown).
* **t-SNE** (van der Maaten & Hinton 2008, https://jmlr.org/papers/v9/vandermaaten08a.html):
  keeps neighbours close (perplexity ≈ the number of neighbours, 5-50; default 30); distances
  between clusters and cluster sizes mean little. scikit-learn's ``TSNE`` (PCA init,
  ``learning_rate="auto"``). It takes seconds, so :func:`test_set_embedding` caches results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import torch
from torch import nn

from dlcore.explain.base import check_config, check_model, hook_safe, make_config, option
from dlcore.explain.names import EMBEDDING_METHODS, FEATURE_LAYERS
from dlcore.lazy import LazyCache

__all__ = ["EmbeddingConfig", "EmbeddingResult", "features", "embed", "test_set_embedding", "nearest_point",
           "EMBEDDING_METHODS", "FEATURE_LAYERS", "MAX_POINTS", "EMBEDDING_CACHE"]


MAX_POINTS = 5000


@dataclass(frozen=True)
class EmbeddingConfig:
    """Options of the feature embedding.

    Args:
        method: ``"tsne"`` (default) or ``"pca"``.
        layer: ``"penultimate"`` (default: the input of the last linear layer), ``"logits"`` or
            ``"pixels"`` (the raw images: the reference).
        n_points: test images embedded (default 1000, a seeded random subset).
        perplexity: t-SNE perplexity (default 30, van der Maaten & Hinton's 5-50).
        seed: subset and t-SNE seed.
    """

    method: Literal["pca", "tsne"] = option("tsne", "projection")
    layer: Literal["penultimate", "logits", "pixels"] = option("penultimate", "features of")
    n_points: int = option(1000, "points", lo=10, hi=MAX_POINTS, step=10)
    perplexity: float = option(30.0, "t-SNE perplexity", lo=2.0, hi=100.0, step=1.0)
    seed: int = option(0, "seed", lo=0, hi=2**31 - 1, step=1)

    def __post_init__(self) -> None:
        check_config(self)


@torch.no_grad()
def features(model: nn.Module, images: torch.Tensor, layer: str = "penultimate", batch_size: int = 500
             ) -> torch.Tensor:
    """Feature vectors of a batch: ``(N, C, H, W)`` -> ``(N, D)``.

    ``"penultimate"`` is the input of the last ``nn.Linear`` (captured by a hook on a private
    copy), ``"logits"`` the output, ``"pixels"`` the flattened images.

    Raises:
        ValueError: an unknown layer, or no linear layer for ``"penultimate"``.
    """
    if layer not in FEATURE_LAYERS:
        raise ValueError(f"layer {layer!r} is not one of {FEATURE_LAYERS}")
    if layer == "pixels":
        return images.flatten(1).float()
    if layer == "logits":
        return torch.cat([model(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]).float()
    m = hook_safe(model)
    linears = [mod for mod in m.modules() if isinstance(mod, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no linear layer, so no penultimate features")
    got: list[torch.Tensor] = []
    linears[-1].register_forward_pre_hook(lambda mod, inp: got.append(inp[0].flatten(1).detach()))
    for i in range(0, len(images), batch_size):
        m(images[i:i + batch_size])
    return torch.cat(got).float()


@dataclass
class EmbeddingResult:
    """2-D positions of embedded images.

    Attributes:
        coords: ``(N, 2)``. labels: ``(N,)`` true classes. predicted: ``(N,)`` the model's answers.
        indices: ``(N,)`` positions in the test set. images: ``(N, C, H, W)`` (to show a chosen point).
        classes: class names (may be empty). method, layer: as configured. feature_dim: D.
        explained_variance: PCA's ratio for the two axes (None for t-SNE).
        kl_divergence: t-SNE's final KL divergence (None for PCA).
    """

    coords: torch.Tensor
    labels: torch.Tensor
    predicted: torch.Tensor
    indices: torch.Tensor
    images: torch.Tensor
    classes: tuple[str, ...]
    method: str
    layer: str
    feature_dim: int
    explained_variance: list[float] | None = None
    kl_divergence: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def embed(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, config: EmbeddingConfig | dict | None = None,
          classes: tuple[str, ...] = (), indices: torch.Tensor | None = None,
          callback: Callable[[int, dict[str, Any]], None] | None = None) -> EmbeddingResult:
    """Embed ``images`` ``(N, C, H, W)`` (all of them; ``config.n_points`` is not used here).

    ``callback(stage, {"stage": name})`` at stages 0 (features), 1 (projection), 2 (done).

    Raises:
        ValueError: mismatched images/labels, too few or too many points, bad config.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    t0 = time.perf_counter()
    cfg = make_config(EmbeddingConfig, config)
    check_model(model)
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not 10 <= len(images) <= MAX_POINTS:
        raise ValueError(f"images must be a (N, C, H, W) tensor with 10 <= N <= {MAX_POINTS}")
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),):
        raise ValueError(f"labels must be a ({len(images)},) tensor")
    if cfg.method == "tsne" and cfg.perplexity >= len(images):
        raise ValueError(f"perplexity {cfg.perplexity:g} must be smaller than the number of points {len(images)}")
    if callback:
        callback(0, {"stage": "features"})
    feats = features(model, images, cfg.layer)  # (N, D)
    with torch.no_grad():
        pred = torch.cat([model(images[i:i + 500]).argmax(1) for i in range(0, len(images), 500)])
    if callback:
        callback(1, {"stage": cfg.method})
    f = feats.double().numpy()
    ev = kl = None
    if cfg.method == "pca":
        p = PCA(n_components=2, random_state=cfg.seed)
        xy = p.fit_transform(f)
        ev = [float(v) for v in p.explained_variance_ratio_]
    else:
        ts = TSNE(n_components=2, perplexity=cfg.perplexity, init="pca", learning_rate="auto",
                  random_state=cfg.seed)
        xy = ts.fit_transform(f)
        kl = float(ts.kl_divergence_)
    if callback:
        callback(2, {"stage": "done"})
    idx = indices if indices is not None else torch.arange(len(images))
    return EmbeddingResult(torch.from_numpy(xy).float(), labels.clone(), pred, idx, images, tuple(classes),
                           cfg.method, cfg.layer, feats.shape[1], ev, kl, dict(cfg.__dict__),
                           time.perf_counter() - t0)


#: Embeddings of the zoo's test sets, by (zoo name, config); the defaults are pinned.
EMBEDDING_CACHE: LazyCache = LazyCache(
    "explain embeddings", max_extra=6,
    pinned=[(n, EmbeddingConfig()) for n in ("fmnist_cnn", "fmnist_lenet300", "digits_cnn", "digits_mlp")])


def test_set_embedding(name: str, config: EmbeddingConfig | dict | None = None,
                       callback: Callable[[int, dict[str, Any]], None] | None = None) -> EmbeddingResult:
    """Embed a seeded random subset of zoo model ``name``'s test set (cached per name and config).

    Raises:
        ValueError: unknown zoo name or bad config.
    """
    from dlcore import zoo

    cfg = make_config(EmbeddingConfig, config)
    if not isinstance(name, str) or name not in zoo.NAMES:
        raise ValueError(f"zoo model {name!r} is not one of {list(zoo.NAMES)}")

    def build() -> EmbeddingResult:
        split = zoo.load_data(name)
        n = min(cfg.n_points, len(split.x_test))
        idx = torch.randperm(len(split.x_test), generator=torch.Generator().manual_seed(cfg.seed))[:n]
        return embed(zoo.get(name), split.x_test[idx], split.y_test[idx], cfg, tuple(split.classes), idx, callback)

    return EMBEDDING_CACHE.get((name, cfg), build)


def nearest_point(result: EmbeddingResult, x: float, y: float) -> int:
    """Row of ``result`` closest to the clicked position ``(x, y)`` (for "show this point's image").

    Raises:
        ValueError: non-finite coordinates.
    """
    for v in (x, y):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or abs(v) == float("inf"):
            raise ValueError(f"coordinate {v!r} must be a finite number")
    d = (result.coords - torch.tensor([float(x), float(y)])).pow(2).sum(1)
    return int(d.argmin())
