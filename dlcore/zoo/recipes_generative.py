"""Zoo recipes of the generative family: a DCGAN and a DDPM denoiser for Fashion-MNIST.

* ``fmnist_dcgan`` (kind ``"gan"``): :class:`~dlcore.models.generative.DCGAN` trained by the one GAN
  loop, :class:`dlcore.generative.gan.GANTrainer` (two alternating optimizers do not fit the
  supervised Trainer), non-saturating loss with Radford et al. 2016's Adam 2e-4, beta (0.5, 0.999).
* ``fmnist_ddpm`` (kind ``"ddpm"``): :class:`~dlcore.models.denoisers.SmallUNet` trained by the one
  :class:`dlcore.train.Trainer` with the DDPM objective (``objective=ddpm_objective(schedule)``),
  T = 1000 linear 1e-4..0.02 (Ho et al. 2020), plus an exponential moving average of the weights
  (Ho et al. sample from the EMA; kept by a Trainer callback). The stored weights are the EMA's.

Both record a *sample score* in the manifest (``metrics``): the zoo classifier's mean
confidence, Inception-score analogue and classes covered over ``score_n`` seeded samples
(:func:`dlcore.generative.image_models.score_generator`); ``*_64`` are the same on 64 samples,
cheap enough for the tests to re-measure on every run.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import torch
from torch import nn

from dlcore.zoo.recipes import Recipe, RecipeKind, TrainedModel, load_recipe_data, register_kind, register_recipe

__all__ = ["GENERATIVE_RECIPES", "EMA", "sample_scores"]

GENERATIVE_RECIPES: dict[str, Recipe] = {
    "fmnist_dcgan": Recipe(
        "dcgan", "fashion_mnist", epochs=8, lr=2e-4, batch_size=64, optimizer="Adam", schedule="constant",
        warmup_steps=0, arch_kwargs=dict(latent_dim=64, g_base=32, d_base=32), kind="gan",
        options=dict(objective="non_saturating", betas=[0.5, 0.999], score_n=1000, score_seed=1234),
        description="Fashion-MNIST DCGAN (z 64 -> 7x7 -> 14x14 -> 28x28), non-saturating loss"),
    "fmnist_ddpm": Recipe(
        "small_unet", "fashion_mnist", epochs=6, lr=1e-3, batch_size=64, optimizer="Adam", schedule="cosine",
        warmup_steps=200, arch_kwargs=dict(channels=[16, 32, 64], t_dim=64), kind="ddpm",
        options=dict(beta_schedule="linear", n_timesteps=1000, beta_start=1e-4, beta_end=0.02, ema_decay=0.999,
                     score_n=1000, score_seed=1234, score_sampler="ddim", score_steps=50, score_eta=0.0,
                     score_clip=None),
        description="Fashion-MNIST DDPM eps-predictor: 3-level U-Net (16, 32, 64), T = 1000, EMA"),
}


def _progress(name: str, total: int, progress: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"building {name}", unit="step", disable=not progress, mininterval=1.0)


def sample_scores(model: nn.Module, recipe: Recipe, sizes: tuple[int, ...] = (0, 64)) -> dict[str, float]:
    """The manifest's sample scores of ``model``: for each size, the classifier score of that many
    seeded samples (``0`` = ``score_n`` samples, keys plain; else keys suffixed ``_<n>``)."""
    from dlcore.generative.image_models import ddpm_image_samples, dcgan_samples
    from dlcore.generative.samplers import SamplerConfig
    from dlcore.generative.scores import classifier_score

    o = recipe.options
    out: dict[str, float] = {}
    for size in sizes:
        n = size or int(o["score_n"])
        imgs = []
        for i, start in enumerate(range(0, n, 256)):
            m, seed = min(256, n - start), int(o["score_seed"]) + i
            if recipe.kind == "gan":
                imgs.append(dcgan_samples(m, seed, model).images)
            else:
                cfg = SamplerConfig(o["score_sampler"], o["score_steps"], o["score_eta"], clip_sample=o["score_clip"])
                imgs.append(ddpm_image_samples(m, seed, cfg, keep=1, model=(model, _schedule(recipe))).samples)
        s = classifier_score(torch.cat(imgs)).metrics()
        out.update({(k if not size else f"{k}_{size}"): v for k, v in s.items()})
    return out


def _schedule(recipe: Recipe) -> Any:
    from dlcore.generative.schedules import NoiseScheduleConfig, make_schedule

    o = recipe.options
    return make_schedule(NoiseScheduleConfig(o["beta_schedule"], o["n_timesteps"], o["beta_start"], o["beta_end"]))


# -- GAN ---------------------------------------------------------------------------------------
def _build_gan(recipe: Recipe, shape: tuple[int, ...]) -> nn.Module:
    from dlcore.models.generative import DCGAN

    return DCGAN(**recipe.arch_kwargs)


def _train_gan(name: str, recipe: Recipe, progress: bool) -> TrainedModel:
    from dlcore.generative.gan import GANConfig, GANTrainer
    from dlcore.train import seed_everything
    from dlcore.train.runtime import torch_threads

    split = load_recipe_data(recipe)
    x = split.x_train                                              # (60000, 1, 28, 28) in [0, 1]
    with torch_threads(recipe.threads):
        seed_everything(recipe.seed)
        model = _build_gan(recipe, tuple(split.feature_shape))
        steps = recipe.epochs * (len(x) // recipe.batch_size)
        cfg = GANConfig(recipe.options["objective"], recipe.lr, tuple(recipe.options["betas"]),  # type: ignore[arg-type]
                        batch_size=recipe.batch_size, steps=steps, seed=recipe.seed)
        trainer = GANTrainer(model.generator, model.discriminator,
                             lambda n, g: x[torch.randint(0, len(x), (n,), generator=g)], cfg)
        bar = _progress(name, steps, progress)
        t0 = time.perf_counter()
        try:
            for log in trainer.steps():
                bar.update(1)
                bar.set_postfix(d=f"{log.d_loss:.3f}", g=f"{log.g_loss:.3f}", refresh=False)
        finally:
            bar.close()
        if trainer.status != "finished":
            raise RuntimeError(f"building {name} did not finish: {trainer.status} at step {trainer.step}")
        seconds = time.perf_counter() - t0
        model = model.cpu().eval()
        metrics = sample_scores(model, recipe)
    return TrainedModel(model, None, int(recipe.options["score_n"]), split.source, seconds, recipe.threads, metrics)


# -- DDPM --------------------------------------------------------------------------------------
class EMA:
    """Trainer callback keeping ``shadow = d * shadow + (1 - d) * weights`` after every step.

    ``d = min(decay, (1 + step) / (10 + step))`` (the warm-up of TensorFlow's
    ExponentialMovingAverage with ``num_updates``), so early steps are not averaged with noise.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.model, self.decay = model, decay
        self.shadow = copy.deepcopy(model).requires_grad_(False)

    @torch.no_grad()
    def on_step(self, trainer: Any, log: Any) -> None:
        d = min(self.decay, (1 + log.step) / (10 + log.step))
        for s, p in zip(self.shadow.parameters(), self.model.parameters()):
            s.mul_(d).add_(p.detach(), alpha=1 - d)
        for s, b in zip(self.shadow.buffers(), self.model.buffers()):
            s.copy_(b)

    def on_epoch_end(self, trainer: Any, log: Any) -> None:
        return None


class _Bar:
    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def on_step(self, trainer: Any, log: Any) -> None:
        self.bar.update(1)
        self.bar.set_postfix(epoch=log.epoch, loss=f"{log.loss:.4f}", refresh=False)

    def on_epoch_end(self, trainer: Any, log: Any) -> None:
        return None


def _build_ddpm(recipe: Recipe, shape: tuple[int, ...]) -> nn.Module:
    from dlcore.models.denoisers import SmallUNet

    kw = dict(recipe.arch_kwargs)
    return SmallUNet(in_channels=shape[0], channels=tuple(kw["channels"]), t_dim=kw["t_dim"])  # type: ignore[arg-type]


def _train_ddpm(name: str, recipe: Recipe, progress: bool) -> TrainedModel:
    from dlcore.generative.ddpm import ddpm_objective
    from dlcore.train import ScheduleConfig, TrainConfig, Trainer, seed_everything
    from dlcore.train.runtime import torch_threads

    split = load_recipe_data(recipe)
    x = split.x_train * 2 - 1                                      # (60000, 1, 28, 28) in [-1, 1]
    with torch_threads(recipe.threads):
        seed_everything(recipe.seed)
        model = _build_ddpm(recipe, tuple(split.feature_shape))
        ema = EMA(model, float(recipe.options["ema_decay"]))
        cfg = TrainConfig(task="regression", optimizer=recipe.optimizer, lr=recipe.lr,  # type: ignore[arg-type]
                          batch_size=recipe.batch_size, epochs=recipe.epochs, seed=recipe.seed, device="cpu",
                          num_threads=recipe.threads,
                          schedule=ScheduleConfig(recipe.schedule, warmup_steps=recipe.warmup_steps))  # type: ignore[arg-type]
        trainer = Trainer(model, (x, torch.zeros(len(x))), None, cfg, callbacks=[ema],
                          objective=ddpm_objective(_schedule(recipe)))
        bar = _progress(name, trainer.history.total_steps, progress)
        trainer.callbacks.append(_Bar(bar))
        t0 = time.perf_counter()
        try:
            trainer.fit()
        finally:
            bar.close()
        if trainer.history.status != "finished":
            raise RuntimeError(f"building {name} did not finish: {trainer.history.message}")
        seconds = time.perf_counter() - t0
        shadow = ema.shadow.cpu().eval().requires_grad_(True)
        metrics = sample_scores(shadow, recipe)
    return TrainedModel(shadow, None, int(recipe.options["score_n"]), split.source, seconds, recipe.threads, metrics)


def _evaluate(model: nn.Module, recipe: Recipe) -> dict[str, float]:
    return sample_scores(model, recipe)


register_kind("gan", RecipeKind(build=_build_gan, train=_train_gan, evaluate=_evaluate))
register_kind("ddpm", RecipeKind(build=_build_ddpm, train=_train_ddpm, evaluate=_evaluate))
for _name, _recipe in GENERATIVE_RECIPES.items():
    register_recipe(_name, _recipe)
