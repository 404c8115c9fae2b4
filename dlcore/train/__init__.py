"""Training: one loop with callbacks, an optimizer registry, learning-rate schedules, metrics.

    from dlcore.train import Trainer, TrainConfig, ScheduleConfig, seed_everything
    seed_everything(0)
    model = ...
    history = Trainer(model, (x_train, y_train), (x_val, y_val),
                      TrainConfig(task="multiclass", optimizer="Adam", lr=1e-3, epochs=20,
                                  schedule=ScheduleConfig("warmup_linear", warmup_steps=50))).fit()
"""

from dlcore.train.loop import (MAX_EPOCHS, BatchHook, Callback, EpochLog, History, Objective, StepLog, TrainConfig, Trainer,
                               default_device, fit, make_loss, predict, seed_everything)
from dlcore.train.metrics import (accuracy, confusion_matrix, decision_grid, grad_norms, layer_names,
                                  predict_labels)
from dlcore.train.optim import MAX_LR, OPTIMIZERS, make_optimizer
from dlcore.train.schedules import SCHEDULES, ScheduleConfig, lr_curve, make_scheduler, seed_lr_lambda

__all__ = ["MAX_EPOCHS", "BatchHook", "Objective", "Callback", "EpochLog", "History", "StepLog", "TrainConfig", "Trainer",
           "default_device", "fit", "make_loss", "predict", "seed_everything", "accuracy",
           "confusion_matrix", "decision_grid", "grad_norms", "layer_names", "predict_labels",
           "MAX_LR", "OPTIMIZERS", "make_optimizer", "SCHEDULES", "ScheduleConfig", "lr_curve",
           "make_scheduler", "seed_lr_lambda"]
