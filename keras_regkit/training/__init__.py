"""Training procedures that narrow the generalization gap.

`SAM` wraps a model so that ``fit`` trains it with sharpness-aware
minimization (or its adaptive variant, ASAM); `sam_perturbation` is the
ascent step on its own. `recompute_batch_norm` sets BatchNormalization
statistics for the weights a model holds (after SWA's averaging, or any
weights training did not visit), as PyTorch's ``update_bn``.
"""

from keras_regkit.training.batch_norm import recompute_batch_norm
from keras_regkit.training.sam import SAM
from keras_regkit.training.sam import sam_perturbation

__all__ = [
    "SAM",
    "recompute_batch_norm",
    "sam_perturbation",
]
