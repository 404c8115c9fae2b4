"""Training: one loop with callbacks, an optimizer registry, learning-rate schedules, metrics.

    from dlcore.train import Trainer, TrainConfig, ScheduleConfig, seed_everything
    seed_everything(0)
    model = ...
    history = Trainer(model, (x_train, y_train), (x_val, y_val),
                      TrainConfig(task="multiclass", optimizer="Adam", lr=1e-3, epochs=20,
                                  schedule=ScheduleConfig("warmup_linear", warmup_steps=50))).fit()

The names below are loaded on first access (PEP 562), so ``import dlcore.train.names`` or
``dlcore.train.spec`` (the torch-free registries and the playground's settings, read by the UI
when it builds) does not import torch.
"""

from __future__ import annotations

from dlcore.lazy import lazy_exports

#: public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    **{n: "loop" for n in ("MAX_EPOCHS", "BatchHook", "Callback", "EpochLog", "History", "Objective", "StepLog",
                           "TrainConfig", "Trainer", "default_device", "fit", "make_loss", "predict",
                           "seed_everything")},
    **{n: "metrics" for n in ("accuracy", "confusion_matrix", "decision_grid", "grad_norms", "layer_names",
                              "predict_labels")},
    **{n: "optim" for n in ("MAX_LR", "OPTIMIZERS", "make_optimizer")},
    **{n: "schedules" for n in ("SCHEDULES", "ScheduleConfig", "lr_curve", "make_scheduler", "seed_lr_lambda")},
    **{n: "verdict" for n in ("Verdict", "constant_baseline", "judge")},
    **{n: "views" for n in ("DataView", "data_view", "Confusion", "confusion", "RunCurves", "run_curves", "ema")},
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
