"""keras_regkit: the regularization toolkit for Keras 3.

Importing the package imports its subpackages, which registers every
serializable object of the kit with Keras: a model saved with the kit's
layers, regularizers, schedules or training procedures loads with
``keras.models.load_model(path)`` after ``import keras_regkit`` (or the
import of any subpackage), with no ``custom_objects``.

`augment` (built on `tf.data`) is imported with the rest only where
TensorFlow is installed; elsewhere ``rk.augment`` raises an `ImportError`
saying so, and the other subpackages work with Keras on JAX or PyTorch.

Where TensorFlow is installed, the import first asks TensorFlow for its
pooled CPU allocator (``TF_CPU_ALLOCATOR_USE_BFC=true``, unless already
set), which TensorFlow reads at its first operation. Without oneDNN (as on
AMD processors), TensorFlow otherwise maps and zeroes fresh pages for every
large tensor: tf.data pipelines at 224 px ran 2-4x slower. Set the
variable to ``false`` before the import to keep ``malloc``.

Example:
>>> import keras_regkit as rk
>>> rk.regularizers.L2(1e-4).get_config()
{'l2': 0.0001, 'lam': None, 'num_examples': None}
"""

import importlib
import importlib.util

from keras_regkit import _cpu_memory

_HAS_TENSORFLOW = importlib.util.find_spec("tensorflow") is not None

# Before any subpackage runs TensorFlow: it reads the choice once.
if _HAS_TENSORFLOW:
    _cpu_memory.ask_for_pooled_allocator()

from keras_regkit import callbacks  # noqa: E402
from keras_regkit import diagnostics  # noqa: E402
from keras_regkit import layers  # noqa: E402
from keras_regkit import losses  # noqa: E402
from keras_regkit import regularizers  # noqa: E402
from keras_regkit import schedules  # noqa: E402
from keras_regkit import training  # noqa: E402

__version__ = "0.1.0"

# Built on tf.data: imported here only where TensorFlow is installed.
_NEEDS_TENSORFLOW = "augment"

if _HAS_TENSORFLOW:
    from keras_regkit import augment

__all__ = [
    "__version__",
    "augment",
    "callbacks",
    "diagnostics",
    "layers",
    "losses",
    "regularizers",
    "schedules",
    "training",
]
_SUBPACKAGES = tuple(name for name in __all__ if name != "__version__")


def __getattr__(name):
    if name == _NEEDS_TENSORFLOW:
        # Without TensorFlow, the import raises augment's ImportError.
        return importlib.import_module(f"keras_regkit.{name}")
    raise AttributeError(f"module 'keras_regkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBPACKAGES))
