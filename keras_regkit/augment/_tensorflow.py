"""Imported first by `keras_regkit.augment`: TensorFlow must be installed.

The pipelines run in `tf.data`, so `augment` is the one part of the kit
that needs TensorFlow; without it, importing `augment` raises an
`ImportError` that says how to install it, instead of a bare
``No module named 'tensorflow'`` from deep inside.
"""

import importlib.util

if importlib.util.find_spec("tensorflow") is None:
    raise ImportError(
        "keras_regkit.augment needs TensorFlow (its pipelines run in "
        "tf.data), which is not installed: `pip install "
        '"keras-regkit[tensorflow]"` (Keras may keep another backend). The '
        "other subpackages of keras_regkit work without it."
    )
