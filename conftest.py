"""Collection rules for the doctest modules under keras_regkit/.

pytest imports every module of the package to collect its docstring
examples. A module written for one Keras backend imports that backend's
library at the top, and ``keras_regkit.augment`` (tf.data) imports
TensorFlow; in an environment without that library (the JAX and PyTorch
suites run without TensorFlow, as users install the kit) those modules
are not collected. Everything else is collected everywhere.
"""

import importlib.util


def _missing(module: str) -> bool:
    return importlib.util.find_spec(module) is None


_BACKEND_MODULES = {
    "keras_regkit/training/_sam_tensorflow.py": "tensorflow",
    "keras_regkit/training/_sam_jax.py": "jax",
    "keras_regkit/training/_sam_torch.py": "torch",
    "keras_regkit/augment": "tensorflow",
    "keras_regkit/demo": "tensorflow",
}

collect_ignore = [
    path for path, module in _BACKEND_MODULES.items() if _missing(module)
]
