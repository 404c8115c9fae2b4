""""Is it any good?": scores of generated images built from what ships (the zoo classifier).

* **Confidence and class histogram**: the zoo's Fashion-MNIST CNN classifies every sample;
  a good generator gives confident verdicts (high mean max-probability) spread over all 10
  classes (a collapsed one piles into a few).
* **Inception-score analogue** (Salimans et al. 2016, https://arxiv.org/abs/1606.03498) with
  that classifier in place of Inception-v3::

      IS = exp( E_x KL( p(y | x) || p(y) ) ),   p(y) = E_x p(y | x)

  1 (worst) .. 10 (every sample confidently one class, classes balanced). Real test images
  score about the same as the classifier's accuracy allows (:func:`reference_score`).
* **Nearest training image** (L2 in pixel space) beside a sample: a memorisation check — a
  sample that is a near copy of a training image has a tiny distance.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import nn

from dlcore.generative._checks import as_int

__all__ = ["SampleScore", "classifier_score", "inception_score", "reference_score", "Neighbours",
           "nearest_training_images", "score_classifier", "MAX_SCORE_IMAGES"]

MAX_SCORE_IMAGES = 10_000


@dataclass
class SampleScore:
    """Classifier verdicts on a batch of images.

    Attributes:
        n: images scored. mean_confidence: mean of ``max_y p(y|x)``. inception_score: see module.
        class_counts: ``(10,)`` samples per predicted class. classes_covered: classes with at
            least 2 % of the samples. predictions, confidences: ``(N,)`` per image. classes: names.
    """

    n: int
    mean_confidence: float
    inception_score: float
    class_counts: torch.Tensor
    classes_covered: int
    predictions: torch.Tensor
    confidences: torch.Tensor
    classes: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        """The numbers a manifest records."""
        return {"mean_confidence": self.mean_confidence, "inception_score": self.inception_score,
                "classes_covered": float(self.classes_covered)}


def inception_score(probs: torch.Tensor) -> float:
    """``exp(mean_i KL(p(y|x_i) || mean_j p(y|x_j)))`` from ``(N, C)`` class probabilities."""
    p = probs.double().clamp_min(1e-12)
    marginal = p.mean(0, keepdim=True)                       # (1, C)
    kl = (p * (p.log() - marginal.log())).sum(1)             # (N,)
    return float(kl.mean().exp())


@functools.lru_cache(maxsize=1)
def score_classifier() -> tuple[nn.Module, tuple[str, ...]]:
    """The zoo's Fashion-MNIST CNN (``fmnist_cnn``) and its class names (loaded once)."""
    from dlcore import zoo
    from dlcore.data import FASHION_CLASSES

    return zoo.get("fmnist_cnn"), FASHION_CLASSES


@torch.no_grad()
def classifier_score(images: torch.Tensor, classifier: nn.Module | None = None,
                     classes: tuple[str, ...] | None = None, batch_size: int = 500) -> SampleScore:
    """Score images with a classifier (default: the zoo's ``fmnist_cnn``).

    Args:
        images: ``(N, 1, 28, 28)`` pixels in [0, 1], N <= :data:`MAX_SCORE_IMAGES`.

    Raises:
        ValueError: for a wrong shape or too many images.
    """
    if images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        raise ValueError(f"images must have shape (N, 1, 28, 28), got {tuple(images.shape)}")
    as_int("number of images", images.shape[0], 1, MAX_SCORE_IMAGES)
    if classifier is None:
        classifier, default_classes = score_classifier()
        classes = classes or default_classes
    classifier.eval()
    dev = next(classifier.parameters()).device
    probs = torch.cat([classifier(images[i:i + batch_size].to(dev).clamp(0, 1)).softmax(1).cpu()
                       for i in range(0, len(images), batch_size)])  # (N, C)
    conf, pred = probs.max(1)
    counts = torch.bincount(pred, minlength=probs.shape[1])
    n = len(images)
    return SampleScore(n, float(conf.mean()), inception_score(probs), counts, int((counts >= 0.02 * n).sum()),
                       pred, conf, tuple(classes or (str(i) for i in range(probs.shape[1]))))


def _fashion():
    """The Fashion-MNIST split, or a clear error where only the digits fallback exists."""
    from dlcore.data import load_fashion_mnist

    split = load_fashion_mnist()
    if split.source not in ("debian", "torchvision"):
        raise ValueError("this check needs the Fashion-MNIST images, which are not available here "
                         f"({split.detail}); the shipped generators still sample without them")
    return split


@functools.lru_cache(maxsize=2)
def reference_score(n: int = 1000) -> SampleScore:
    """The same score for ``n`` real Fashion-MNIST test images (the scale to read a sample score on).

    Raises:
        ValueError: when Fashion-MNIST is not available here.
    """
    return classifier_score(_fashion().x_test[:as_int("n", n, 1, MAX_SCORE_IMAGES)])


@dataclass
class Neighbours:
    """For each sample, its ``k`` nearest training images (L2 over pixels).

    Attributes:
        indices: ``(N, k)`` into the training set. distances: ``(N, k)`` L2 distances.
        images: ``(N, k, 1, 28, 28)`` the neighbours. labels: ``(N, k)`` their classes.
        typical: the median nearest-neighbour distance of real *test* images to the training
            set (a scale: a sample far below it looks copied).
    """

    indices: torch.Tensor
    distances: torch.Tensor
    images: torch.Tensor
    labels: torch.Tensor
    typical: float


@torch.no_grad()
def _nearest(samples: torch.Tensor, train: torch.Tensor, k: int, chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    s = samples.flatten(1).float()                                     # (N, D)
    best_d, best_i = None, None
    for i in range(0, len(train), chunk):
        d = torch.cdist(s, train[i:i + chunk].flatten(1).float())      # (N, chunk)
        d, j = d.topk(min(k, d.shape[1]), dim=1, largest=False)
        j = j + i
        if best_d is not None:
            d, sel = torch.cat([best_d, d], 1).topk(k, dim=1, largest=False)
            j = torch.cat([best_i, j], 1).gather(1, sel)
        best_d, best_i = d, j
    return best_d, best_i  # type: ignore[return-value]


@functools.lru_cache(maxsize=1)
def _typical_distance() -> float:
    split = _fashion()
    d, _ = _nearest(split.x_test[:200], split.x_train, 1)
    return float(d.median())


def nearest_training_images(samples: torch.Tensor, k: int = 1, train: torch.Tensor | None = None,
                            labels: torch.Tensor | None = None) -> Neighbours:
    """The ``k`` nearest training images of each sample (default: the 60,000 Fashion-MNIST ones).

    Raises:
        ValueError: for a wrong shape, more than 64 samples, ``k`` outside [1, 8], or (default
            training set) when Fashion-MNIST is not available here.
    """
    if samples.ndim != 4:
        raise ValueError(f"samples must have shape (N, C, H, W), got {tuple(samples.shape)}")
    as_int("number of samples", samples.shape[0], 1, 64)
    k = as_int("k", k, 1, 8)
    typical = float("nan")
    if train is None:
        split = _fashion()
        train, labels = split.x_train, split.y_train
        typical = _typical_distance()
    if tuple(samples.shape[1:]) != tuple(train.shape[1:]):
        raise ValueError(f"samples of shape {tuple(samples.shape[1:])} cannot be compared with training images "
                         f"of shape {tuple(train.shape[1:])}")
    d, idx = _nearest(samples, train, k)
    lab = labels[idx] if labels is not None else torch.full_like(idx, -1)
    return Neighbours(idx, d, train[idx], lab, typical)
