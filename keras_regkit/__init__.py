"""keras_regkit: the regularization toolkit for Keras 3.

The subpackages are imported on first use (``rk.regularizers`` imports
Keras and TensorFlow then), so ``import keras_regkit`` itself is instant.

Example:
>>> import keras_regkit as rk
>>> rk.regularizers.L2(1e-4).get_config()
{'l2': 0.0001, 'lam': None, 'num_examples': None}
"""

import importlib

__version__ = "0.1.0"

_SUBPACKAGES = (
    "augment",
    "callbacks",
    "layers",
    "regularizers",
    "schedules",
    "training",
)

__all__ = ["__version__", *_SUBPACKAGES]


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"keras_regkit.{name}")
    raise AttributeError(f"module 'keras_regkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBPACKAGES))
