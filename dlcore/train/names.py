"""The option registries of training, torch-free: what a UI dropdown and the code both read.

Importing this module imports neither torch nor scikit-learn, so the "Train a network" tab can
build its widgets (and the API its declarations) before anything heavy is loaded. The torch
modules import their names from here and check them (``OPTIMIZERS`` in :mod:`dlcore.train.optim`
has exactly the keys of :data:`OPTIMIZER_RULES`; ``SCHEDULES`` those of :data:`SCHEDULE_NAMES`),
and the tests check :data:`ActivationName` against :data:`dlcore.models.ACTIVATIONS`.

Update rules (seed 003 §dl_1_4_1, 优化器), in torch's form:

* SGD:       θ ← θ − η·g
* Momentum:  v ← βv + g,   θ ← θ − η·v   (the notes' (1−β)g form only rescales η by 1/(1−β))
* Nesterov:  momentum evaluated at the look-ahead point θ − ηβv
* Adagrad:   G ← G + g²,   θ ← θ − η·g/(√G+ε)
* RMSprop:   E ← βE + (1−β)g²,   θ ← θ − η·g/(√E+ε)
* Adam:      bias-corrected moments, θ ← θ − η·m̂/(√v̂+ε)   (Kingma & Ba 2015, https://arxiv.org/abs/1412.6980)
* AdamW:     Adam with decoupled weight decay  (Loshchilov & Hutter 2019, https://arxiv.org/abs/1711.05101)
* RAdam:     Adam with a variance-rectified adaptive term  (Liu et al. 2020, https://arxiv.org/abs/1908.03265)
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["OptimizerName", "OPTIMIZER_RULES", "OPTIMIZER_NAMES", "ScheduleName", "SCHEDULE_NAMES", "TaskName",
           "TASKS", "ActivationName", "ACTIVATION_NAMES", "PlaygroundData", "PLAYGROUND_DATA", "ArchitectureName",
           "ARCHITECTURES", "MAX_LR", "MAX_EPOCHS", "MAX_LAYERS", "MAX_TRAIN_STEPS"]

OptimizerName = Literal["SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam", "AdamW", "RAdam"]
#: optimizer -> (update rule in one line, a learning rate that works for the lab's small nets)
OPTIMIZER_RULES: dict[str, tuple[str, float]] = {
    "SGD": ("θ ← θ − η·g", 0.05),
    "Momentum": ("v ← 0.9·v + g;  θ ← θ − η·v", 0.05),
    "Nesterov": ("v ← 0.9·v + g;  θ ← θ − η·(g + 0.9·v)", 0.05),
    "Adagrad": ("G ← G + g²;  θ ← θ − η·g/(√G+ε)", 0.05),
    "RMSprop": ("E ← 0.99·E + 0.01·g²;  θ ← θ − η·g/(√E+ε)", 0.001),
    "Adam": ("m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η·m̂/(√v̂+ε)", 0.001),
    "AdamW": ("Adam step, then decoupled decay θ ← (1−ηλ)θ", 0.001),
    "RAdam": ("Adam with the adaptive term rectified while its variance is unreliable", 0.001),
}
OPTIMIZER_NAMES: tuple[str, ...] = get_args(OptimizerName)

#: Learning-rate schedules (formulas in :mod:`dlcore.train.schedules`).
ScheduleName = Literal["constant", "warmup_linear", "cosine", "step"]
SCHEDULE_NAMES: tuple[str, ...] = get_args(ScheduleName)

#: ``multiclass`` → CrossEntropyLoss, ``binary`` → BCEWithLogitsLoss, ``regression`` → MSELoss.
TaskName = Literal["multiclass", "binary", "regression"]
TASKS: tuple[str, ...] = get_args(TaskName)

#: The activations of :data:`dlcore.models.ACTIVATIONS` (same names, same order; tested).
ActivationName = Literal["relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid"]
ACTIVATION_NAMES: tuple[str, ...] = get_args(ActivationName)

PlaygroundData = Literal["moons", "circles", "spirals", "blobs", "seed_binary", "seed_multiclass", "sine",
                         "seed_linear", "fashion_mnist"]
#: playground data set -> label shown in the dropdown.
PLAYGROUND_DATA: dict[str, str] = {
    "moons": "2-D moons (decision boundary)",
    "circles": "2-D circles (decision boundary)",
    "spirals": "2-D spirals (decision boundary)",
    "blobs": "2-D blobs, 3 classes (decision boundary)",
    "seed_binary": "Seed §dl_2_2: make_classification, binary (2,000 × 10)",
    "seed_multiclass": "Seed §dl_2_3: make_classification, 5 classes (2,000 × 10)",
    "sine": "1-D regression: y = sin(x) + noise",
    "seed_linear": "Seed §dl_2_1: linear regression (100 × 2)",
    "fashion_mnist": "Fashion-MNIST subset (6,000 train / 1,000 val images)",
}

ArchitectureName = Literal["mlp", "lenet5", "small_cnn"]
#: architecture -> label shown in the dropdown (CNNs need image data).
ARCHITECTURES: dict[str, str] = {
    "mlp": "MLP (hidden widths, activation, BatchNorm, Dropout, residual)",
    "lenet5": "LeNet-5 CNN (images only; uses the activation)",
    "small_cnn": "Small CNN, 2 conv blocks + BatchNorm (images only; uses Dropout)",
}

#: Learning rates above this are refused: nothing in this lab trains with them.
MAX_LR = 10.0
#: Hard cap on epochs for one run (the playground is for seconds-to-minutes runs).
MAX_EPOCHS = 500
#: Most hidden layers an MLP may have.
MAX_LAYERS = 30
#: A playground run may take at most this many optimizer steps (epochs × batches).
MAX_TRAIN_STEPS = 30_000

assert tuple(PLAYGROUND_DATA) == get_args(PlaygroundData)
assert tuple(ARCHITECTURES) == get_args(ArchitectureName)
assert tuple(OPTIMIZER_RULES) == OPTIMIZER_NAMES
