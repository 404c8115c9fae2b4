"""The shipped image generators: registered, small, and their manifest sample scores re-measured."""

from __future__ import annotations

import pytest
import torch

from dlcore import zoo
from dlcore.generative import (DCGAN_NAME, DDPM_NAME, IMAGE_MODELS, dcgan_samples, ddpm_image_samples, load_ddpm,
                               recorded_score, schedule_of)
from dlcore.zoo.recipes_generative import GENERATIVE_RECIPES, sample_scores

NAMES = (DCGAN_NAME, DDPM_NAME)


def test_generators_are_registered_shipped_and_small() -> None:
    assert set(IMAGE_MODELS) == set(NAMES) == set(GENERATIVE_RECIPES)
    for name in NAMES:
        assert name in zoo.NAMES and zoo.verify(name).ok
        entry = zoo.info(name)
        assert entry["bytes"] < 3e6 and entry["threads"] == 1 and entry["data_source"] in ("debian", "torchvision")
        assert {"mean_confidence", "inception_score", "classes_covered", "mean_confidence_64",
                "inception_score_64", "classes_covered_64"} <= set(entry["metrics"])
        assert recorded_score(name) == entry["metrics"]


def test_sample_quality_bars() -> None:
    """Recognisable samples: the classifier is fairly confident and the samples spread over the
    classes (real test images score 0.91 / IS 7.9 with the same classifier; a collapsed generator
    would cover few classes and score an IS near 1)."""
    for name in NAMES:
        m = recorded_score(name)
        assert m["mean_confidence"] >= 0.6, (name, m)
        assert m["classes_covered"] >= 8, (name, m)
        assert m["inception_score"] >= 3.5, (name, m)


def test_dcgan_scores_are_remeasured_from_the_stored_weights() -> None:
    got = sample_scores(zoo.get(DCGAN_NAME), GENERATIVE_RECIPES[DCGAN_NAME], sizes=(0, 64))
    for key, value in recorded_score(DCGAN_NAME).items():
        assert got[key] == pytest.approx(value, abs=2e-3), key


@pytest.mark.slow
def test_ddpm_scores_on_64_samples_are_remeasured() -> None:
    got = sample_scores(zoo.get(DDPM_NAME), GENERATIVE_RECIPES[DDPM_NAME], sizes=(64,))
    rec = recorded_score(DDPM_NAME)
    for key in ("mean_confidence_64", "inception_score_64", "classes_covered_64"):
        assert got[key] == pytest.approx(rec[key], abs=2e-3), key


def test_shipped_models_sample_deterministically() -> None:
    a = dcgan_samples(4, seed=9).images
    torch.testing.assert_close(a, dcgan_samples(4, seed=9).images)
    assert a.shape == (4, 1, 28, 28) and 0 <= float(a.min()) and float(a.max()) <= 1
    net, sched = load_ddpm()
    assert sched.n_timesteps == 1000 and torch.equal(sched.betas, schedule_of(DDPM_NAME).betas)
    from dlcore.generative import SamplerConfig

    cfg = SamplerConfig("ddim", steps=5, clip_sample=1.0)
    r1, r2 = ddpm_image_samples(2, 3, cfg, keep=2), ddpm_image_samples(2, 3, cfg, keep=2)
    torch.testing.assert_close(r1.samples, r2.samples)
    assert r1.trajectory.shape == (2, 2, 1, 28, 28)
