"""Data sets that work offline: Fashion-MNIST (with a fallback chain), toys, text corpora.

Every classification/regression loader returns a :class:`DataSplit`; text loaders a
:class:`Corpus`. Everything is deterministic and cached in memory; nothing loads at import.

    >>> from dlcore.data import load_fashion_mnist, seed_classification, load_corpus
    >>> split = load_fashion_mnist()          # split.source: "debian" | "torchvision" | "sklearn-digits"
    >>> seed_classification(5).x_train.shape  # seed 003 §dl_2_3
    torch.Size([1600, 10])
"""

from dlcore.data.fashion_mnist import (
    DEBIAN_DIR, DIGITS_CLASSES, FASHION_CLASSES, FASHION_MEAN, FASHION_STD, SOURCES,
    internet_reachable, load_digits, load_fashion_mnist, read_idx,
)
from dlcore.data.split import DataSplit, Task, make_loaders, random_split_tensors
from dlcore.data.text import CORPORA, Corpus, list_plays, load_corpus, shakespeare_dir
from dlcore.data.toys import (
    TOY_2D, TOY_DATASETS, load_toy, make_toy_2d, seed_classification, seed_linear_regression,
    sine_regression, sine_sequence,
)

__all__ = [
    "DataSplit", "Task", "make_loaders", "random_split_tensors",
    "DEBIAN_DIR", "FASHION_CLASSES", "DIGITS_CLASSES", "FASHION_MEAN", "FASHION_STD",
    "SOURCES", "read_idx", "load_fashion_mnist", "load_digits", "internet_reachable",
    "TOY_2D", "TOY_DATASETS", "load_toy", "make_toy_2d", "seed_classification",
    "seed_linear_regression", "sine_regression", "sine_sequence",
    "CORPORA", "Corpus", "list_plays", "load_corpus", "shakespeare_dir",
    "load_dataset", "DATASETS",
]

#: Every data set by name (image sets included), for dropdowns and registry tests.
DATASETS: tuple[str, ...] = (*TOY_DATASETS, "fashion_mnist", "digits")


def load_dataset(name: str) -> DataSplit:
    """Load any data set in :data:`DATASETS` by name.

    Raises:
        ValueError: for an unknown name.
    """
    if name == "fashion_mnist":
        return load_fashion_mnist()
    if name == "digits":
        return load_digits()
    if name in TOY_DATASETS:
        return load_toy(name)
    raise ValueError(f"data set {name!r} is not one of {DATASETS}")
