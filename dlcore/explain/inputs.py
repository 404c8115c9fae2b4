"""The explain tab's warm-up; its images come from :mod:`dlcore.zoo.images` (shared by every
image tab: a zoo test image, or an upload through the one converter).

:func:`warmup` pays the one-off costs (Captum and scikit-learn imports, the default t-SNE) so
the first click of a tab is fast.
"""

from __future__ import annotations

from dlcore.zoo.images import image_from_upload, input_side, test_image

__all__ = ["input_side", "test_image", "image_from_upload", "warmup"]


def warmup(name: str = "fmnist_cnn", embedding: bool = True) -> None:
    """Import Captum and scikit-learn, run every method once and (optionally) the default t-SNE."""
    from dlcore import zoo
    from dlcore.explain.embedding import test_set_embedding
    from dlcore.explain.methods import explain_all

    x, _, _ = test_image(name, 0)
    explain_all(zoo.get(name), x, configs={"lime": {"n_samples": 50}})
    if embedding:
        test_set_embedding(name)
