"""keras_regkit: the regularization toolkit for Keras 3.

Example:
>>> import keras_regkit as rk
>>> rk.regularizers.L2(1e-4).get_config()
{'l2': 0.0001, 'lam': None, 'num_examples': None}
"""

from keras_regkit import augment
from keras_regkit import callbacks
from keras_regkit import layers
from keras_regkit import regularizers
from keras_regkit import schedules
from keras_regkit.version import __version__

__all__ = [
    "__version__",
    "augment",
    "callbacks",
    "layers",
    "regularizers",
    "schedules",
]
