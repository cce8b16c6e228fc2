"""Training procedures that narrow the generalization gap.

`SAM` wraps a model so that ``fit`` trains it with sharpness-aware
minimization (or its adaptive variant, ASAM); `sam_perturbation` is the
ascent step on its own.
"""

from keras_regkit.training.sam import SAM
from keras_regkit.training.sam import sam_perturbation

__all__ = [
    "SAM",
    "sam_perturbation",
]
