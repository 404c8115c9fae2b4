"""Generative models: GANs on 2-D data and images, JS vs Wasserstein, DDPM/DDIM diffusion.

Seed 000 §8.5.1 (GAN, JS divergence, WGAN), §8.5.3 and seed 003 §dl_8 (DDPM). One module per
family; every option list is a registry a UI dropdown reads:

=================  ==========================================================================
module             what
=================  ==========================================================================
``toys``           2-D toys (ring, grid, moons, spiral, swiss roll) and the seed's N(3, 2²);
                   :data:`TOYS`, :func:`mode_coverage`
``gan``            objectives (:data:`OBJECTIVES`: minimax, non-saturating, WGAN, WGAN-GP),
                   the gradient penalty, :class:`GANTrainer` (the one GAN loop)
``gan_live``       :func:`train_gan_2d`: frames of a live 2-D GAN (samples, decision surface,
                   gradient arrows, losses, modes covered)
``divergence``     JS vs W1 for a shift: :func:`divergence_at`, :func:`divergence_sweep`
``schedules``      beta schedules (:data:`BETA_SCHEDULES`: linear, cosine), alpha_bar, SNR
``ddpm``           ``q(x_t | x_0)``, the DDPM loss / Trainer objective, the reverse step
``ddim``           DDIM step and timestep spacings (:data:`SPACINGS`)
``samplers``       :func:`sample`: the reverse chain (DDPM or DDIM) with kept x_t / x0_hat frames
``toy_diffusion``  the seed's 1-D DDPM (and 2-D toys) trained live with the one Trainer
``image_models``   the shipped Fashion-MNIST DCGAN and DDPM: samples, interpolation, forward
``scores``         "is it any good?": classifier confidence, IS analogue, nearest training image
=================  ==========================================================================

Nothing heavy happens at import; models load from the zoo on first use.
"""

from dlcore.generative.ddim import SPACINGS, DDIMStepOutput, ddim_step, inference_timesteps
from dlcore.generative.ddpm import (VARIANCE_TYPES, DDPMStepOutput, ForwardTrajectory, ddpm_loss, ddpm_objective,
                                    ddpm_step, forward_trajectory, predict_x0, q_sample)
from dlcore.generative.divergence import (LOG2, PAIRS, DivergencePoint, DivergenceSweep, divergence_at,
                                          divergence_sweep, js_divergence, js_exact, js_histogram, w1_exact,
                                          wasserstein_1d)
from dlcore.generative.gan import (MAX_GAN_STEPS, OBJECTIVES, GANConfig, GANObjective, GANStepLog, GANTrainer,
                                   discriminator_loss, generator_loss, gradient_penalty)
from dlcore.generative.gan_live import GANCurves, GANFrame, GANLiveConfig, train_gan_2d
from dlcore.generative.image_models import (DCGAN_NAME, DDPM_NAME, IMAGE_MODELS, IMAGE_SAMPLER, INTERPOLATIONS,
                                            GeneratedImages, Interpolation, dcgan_interpolation, dcgan_samples,
                                            ddpm_image_samples, generate_images, image_forward, interpolate_latents,
                                            load_dcgan, load_ddpm, recorded_score, sampler_sweep, schedule_of,
                                            score_generator, StepsPoint, to_model_space, to_pixels)
from dlcore.generative.samplers import MAX_IMAGES, MAX_POINTS, SAMPLERS, SampleResult, SamplerConfig, sample
from dlcore.generative.schedules import (BETA_SCHEDULES, MAX_TIMESTEPS, NoiseSchedule, NoiseScheduleConfig,
                                         make_schedule, schedule_curves, schedule_from_betas)
from dlcore.generative.scores import (Neighbours, SampleScore, classifier_score, inception_score,
                                      nearest_training_images, reference_score)
from dlcore.generative.toy_diffusion import (ToyDiffusionConfig, ToyDiffusionFrame, ToySamples, fit_toy_diffusion,
                                             sample_toy_diffusion, toy_forward, train_toy_diffusion)
from dlcore.generative.toys import (DIFFUSION_TOYS, GAN_TOYS, TOYS, ModeCoverage, Toy, gauss_1d_density, get_toy,
                                    mode_coverage, sample_toy)

__all__ = [
    # registries (dropdowns)
    "TOYS", "GAN_TOYS", "DIFFUSION_TOYS", "OBJECTIVES", "PAIRS", "BETA_SCHEDULES", "VARIANCE_TYPES", "SAMPLERS",
    "SPACINGS", "IMAGE_MODELS", "INTERPOLATIONS",
    # caps and constants
    "MAX_GAN_STEPS", "MAX_TIMESTEPS", "MAX_POINTS", "MAX_IMAGES", "LOG2", "DCGAN_NAME", "DDPM_NAME", "IMAGE_SAMPLER",
    # toys
    "Toy", "get_toy", "sample_toy", "ModeCoverage", "mode_coverage", "gauss_1d_density",
    # GAN
    "GANObjective", "GANConfig", "GANStepLog", "GANTrainer", "discriminator_loss", "generator_loss",
    "gradient_penalty", "GANLiveConfig", "GANFrame", "GANCurves", "train_gan_2d",
    # JS vs W1
    "js_divergence", "js_histogram", "wasserstein_1d", "js_exact", "w1_exact", "DivergencePoint",
    "DivergenceSweep", "divergence_at", "divergence_sweep",
    # diffusion
    "NoiseScheduleConfig", "NoiseSchedule", "make_schedule", "schedule_from_betas", "schedule_curves",
    "q_sample", "ForwardTrajectory", "forward_trajectory", "ddpm_loss", "ddpm_objective", "DDPMStepOutput",
    "ddpm_step", "predict_x0", "DDIMStepOutput", "ddim_step", "inference_timesteps", "SamplerConfig",
    "SampleResult", "sample", "ToyDiffusionConfig", "ToyDiffusionFrame", "ToySamples", "train_toy_diffusion",
    "fit_toy_diffusion", "sample_toy_diffusion", "toy_forward",
    # image models and scores
    "load_dcgan", "load_ddpm", "schedule_of", "to_model_space", "to_pixels", "GeneratedImages", "dcgan_samples",
    "interpolate_latents", "Interpolation", "dcgan_interpolation", "ddpm_image_samples", "image_forward",
    "generate_images", "score_generator", "recorded_score", "StepsPoint", "sampler_sweep", "SampleScore", "classifier_score", "inception_score",
    "reference_score", "Neighbours", "nearest_training_images",
]
