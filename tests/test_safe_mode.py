"""``load_model(safe_mode=True)`` runs nothing a file names (issue #19 §2).

A crafted ``.keras`` file whose schedule named ``keras.config.set_epsilon``
was refused only after the kit had evaluated the schedule at step 0 while
rebuilding it: epsilon was 0 in the loading process. In safe mode a
schedule is rebuilt only if it is a schedule type or a function this
process registered; any other function named in a config is refused before
it is imported or called.
"""

from __future__ import annotations

import json
import zipfile

import helpers
import keras
import numpy as np
import pytest

from keras_regkit import _keras_internals
from keras_regkit import layers
from keras_regkit import regularizers
from keras_regkit import schedules

CALLS = []
# The kit raises ValueError; Keras re-raises an error in a layer's
# constructor (`Operation.from_config`) as a TypeError quoting it.
REFUSED = (ValueError, TypeError)


@keras.saving.register_keras_serializable(package="keras_regkit_tests")
def recorded_decay(index):
    """A legitimate schedule function that records its calls."""
    CALLS.append(index)
    return 0.1 * 0.5**index


DECAY = keras.saving.serialize_keras_object(recorded_decay)


def unregistered_decay(index):
    """A schedule function nobody registered: safe mode never runs it."""
    CALLS.append(index)
    return 0.1


@keras.saving.register_keras_serializable(package="keras_regkit_tests")
class SafeModeProbe:
    """Records `_keras_internals.in_safe_mode()` when deserialized."""

    seen = []

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        cls.seen.append(_keras_internals.in_safe_mode())
        return cls()


def _model():
    """A schedule function in a regularizer (via Custom) and a layer rate."""
    return keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(
                2,
                kernel_regularizer=regularizers.L2(
                    schedules.Custom(recorded_decay)
                ),
            ),
            layers.DropPath(recorded_decay),
        ]
    )


def _replace(config, old, new):
    """``config`` with each function config like ``old`` replaced by ``new``.

    (Keras adds a ``shared_object_id`` to a function saved twice.)
    """
    if isinstance(config, dict):
        if {k: config.get(k) for k in old} == old:
            return new
        return {k: _replace(v, old, new) for k, v in config.items()}
    if isinstance(config, list):
        return [_replace(v, old, new) for v in config]
    return config


def _craft(path, source, function, layer):
    """Copies the .keras file ``source``, naming ``function`` in ``layer``.

    Args:
        path: The crafted file.
        source: A file saved from `_model`.
        function: The serialized function to put in place of ours.
        layer: The class or registered name of the layer to change.
    """
    with zipfile.ZipFile(source) as original:
        members = {name: original.read(name) for name in original.namelist()}
    config = json.loads(members["config.json"])
    saved = config["config"]["layers"]
    index = next(
        i
        for i, saved_layer in enumerate(saved)
        if layer in (saved_layer["class_name"], saved_layer["registered_name"])
    )
    crafted = _replace(saved[index], DECAY, function)
    assert crafted != saved[index]
    saved[index] = crafted
    members["config.json"] = json.dumps(config)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _keras_function(name):
    """How Keras serializes one of its public functions, e.g. set_epsilon."""
    module, _, short = name.rpartition(".")
    return {
        "module": module,
        "class_name": "function",
        "config": short,
        "registered_name": short,
    }


LOAD_CRAFTED = """
import json

import keras
import numpy as np

import keras_regkit.layers
import keras_regkit.regularizers
import keras_regkit.schedules

results = []
for path in PATHS:
    keras.config.set_epsilon(1e-7)
    np.random.seed(123)
    try:
        keras.models.load_model(path, safe_mode=True)
        outcome = "loaded"
    except Exception as error:
        outcome = f"{type(error).__name__}: {error}"
    results.append(
        {
            "path": path,
            "outcome": outcome,
            "epsilon": keras.config.epsilon(),
            "draw": float(np.random.rand()),
        }
    )
print(json.dumps(results))
"""


@pytest.mark.new_process
def test_crafted_files_run_nothing_in_a_new_process(tmp_path):
    source = tmp_path / "legit.keras"
    _model().save(source)
    paths = []
    for name in ("keras.config.set_epsilon", "keras.utils.set_random_seed"):
        # In the regularizer's Custom schedule, then in the layer's rate.
        for layer in ("Dense", "keras_regkit>DropPath"):
            path = tmp_path / f"{name}-{layer[-5:]}.keras"
            _craft(path, source, _keras_function(name), layer)
            paths.append(str(path))
    code = LOAD_CRAFTED.replace("PATHS", repr(paths))
    results = json.loads(
        helpers.run_python(code).stdout.strip().splitlines()[-1]
    )
    draw = np.random.RandomState(123).rand()
    assert len(results) == 4
    for result in results:
        assert result["epsilon"] == 1e-7, result  # set_epsilon not called
        assert result["draw"] == draw, result  # set_random_seed not called
        assert result["outcome"].startswith(("ValueError", "TypeError"))
        assert "Expected a schedule type" in result["outcome"], result
        assert "safe_mode=False" in result["outcome"], result


@pytest.mark.parametrize(
    "function", [recorded_decay, unregistered_decay], ids=["registered", "not"]
)
@pytest.mark.parametrize(
    "wrap",
    [
        schedules.Custom,
        lambda f: regularizers.L2(schedules.Custom(f)),
        regularizers.L1,
        layers.DropPath,
    ],
    ids=["Custom", "L2(Custom)", "L1(function)", "DropPath(function)"],
)
def test_only_registered_functions_load_in_safe_mode(wrap, function):
    obj = wrap(function)
    config = keras.saving.serialize_keras_object(obj)
    CALLS.clear()
    if function is recorded_decay:
        # Registered in this process: trusted, as Keras trusts registered
        # objects, and looked up in the registry (never imported).
        again = keras.saving.deserialize_keras_object(config, safe_mode=True)
        assert again.get_config() == obj.get_config()
        return
    with pytest.raises(REFUSED, match=r"safe_mode=False") as error:
        keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert "unregistered_decay" in str(error.value)
    # Outside load_model, Keras's default is safe mode too.
    with pytest.raises(REFUSED, match=r"schedule type"):
        keras.saving.deserialize_keras_object(config)
    assert CALLS == []


def test_a_callable_that_is_no_schedule_type_is_refused():
    # A Keras class is rebuilt by Keras's safe mode, but is no schedule.
    config = keras.saving.serialize_keras_object(
        layers.DropPath(schedules.Linear(0.0, 0.1, 3))
    )
    config["config"]["rate"] = keras.saving.serialize_keras_object(
        keras.initializers.Constant(0.1)
    )
    with pytest.raises(REFUSED, match=r"Received: rate=.*Constant"):
        keras.saving.deserialize_keras_object(config, safe_mode=True)


def test_schedule_types_load_in_safe_mode():
    decay = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    for schedule in (
        schedules.Linear(0.0, 0.1, 3),
        schedules.Custom(decay, unit="step"),
        schedules.Custom(schedules.Piecewise([1], [0.1, 0.2])),
    ):
        layer = layers.DropPath(schedule)
        config = keras.saving.serialize_keras_object(layer)
        again = keras.saving.deserialize_keras_object(config, safe_mode=True)
        assert again.get_config() == layer.get_config()


def test_a_file_with_registered_functions_loads_in_safe_mode(tmp_path):
    model = _model()
    model.layers[0].kernel_regularizer._l2.update(2)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[0].kernel_regularizer.get_config() == (
        model.layers[0].kernel_regularizer.get_config()
    )
    np.testing.assert_allclose(
        helpers.penalties(loaded), helpers.penalties(model), rtol=1e-6
    )
    assert loaded.layers[1].rate == 0.1  # recorded_decay(0)


def test_in_safe_mode_follows_keras():
    SafeModeProbe.seen.clear()
    config = keras.saving.serialize_keras_object(SafeModeProbe())
    keras.saving.deserialize_keras_object(config, safe_mode=True)
    keras.saving.deserialize_keras_object(config, safe_mode=False)
    keras.saving.deserialize_keras_object(config)
    assert SafeModeProbe.seen == [True, False, True]
    assert _keras_internals.in_safe_mode() is True  # Keras's default
