"""Keras's own test files, shipped in the keras wheel, run against ours.

The drop-in claim ("a `keras.callbacks.EarlyStopping` / `L1` / `L2` /
`L1L2` can be replaced by ours") is checked with the tests Keras itself
ships for those classes, so a Keras release that adds a case checks ours
too. Each file is loaded as a fresh module whose imported Keras module
(``callbacks`` or ``regularizers``) is replaced, in that module only, by a
namespace where the class under test is ours and every other name is
Keras's. Keras's ``TestCase`` classes are then collected as usual.
"""

import importlib.util
import os
import types
import warnings

import keras
import pytest

import keras_regkit as rk

KERAS_SRC = os.path.join(os.path.dirname(keras.__file__), "src")


def _load_shipped(relative_path, module_name, replaced, overrides):
    """Loads a Keras test file with ``replaced`` swapped for ours.

    Args:
        relative_path: The test file, under ``keras/src``.
        module_name: A module name of our own for the loaded copy.
        replaced: The global name, in the test file, of the Keras module
            whose classes are swapped.
        overrides: ``{name: our class}``.

    Returns:
        The loaded module, or None when this Keras does not ship the file.
    """
    path = os.path.join(KERAS_SRC, relative_path)
    if not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        # Keras's own marker (requires_trainable_backend), registered in
        # Keras's conftest, not ours; every backend we run trains.
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        spec.loader.exec_module(module)
    original = getattr(module, replaced)
    namespace = types.SimpleNamespace(**vars(original))
    for name, ours in overrides.items():
        setattr(namespace, name, ours)
    setattr(module, replaced, namespace)
    return module


_early_stopping = _load_shipped(
    "callbacks/early_stopping_test.py",
    "keras_shipped_early_stopping_test",
    "callbacks",
    {"EarlyStopping": rk.callbacks.EarlyStopping},
)
_regularizers = _load_shipped(
    "regularizers/regularizers_test.py",
    "keras_shipped_regularizers_test",
    "regularizers",
    {
        "L1": rk.regularizers.L1,
        "L2": rk.regularizers.L2,
        "L1L2": rk.regularizers.L1L2,
        # get("l1") must give our L1 (Keras's OrthogonalRegularizer, which
        # the file also tests, stays Keras's: ours is `Orthogonal`, with
        # arguments of its own).
        "get": rk.regularizers.get,
    },
)


def test_keras_ships_the_test_files():
    # Without them the classes below are not collected: say so.
    assert _early_stopping is not None, "no keras early_stopping_test.py"
    assert _regularizers is not None, "no keras regularizers_test.py"


def test_the_tests_see_our_classes():
    callbacks = _early_stopping.callbacks
    assert callbacks.EarlyStopping is rk.callbacks.EarlyStopping
    assert _regularizers.regularizers.L2 is rk.regularizers.L2
    # Keras itself is untouched.
    assert keras.callbacks.EarlyStopping is not rk.callbacks.EarlyStopping


if _early_stopping is not None:

    class TestKerasEarlyStoppingOnOurs(_early_stopping.EarlyStoppingTest):
        """Keras 3's `EarlyStoppingTest`, every case, on our class."""


if _regularizers is not None:

    class TestKerasRegularizersOnOurs(_regularizers.RegularizersTest):
        """Keras 3's `RegularizersTest` on our L1, L2, L1L2 and `get`."""
