"""Every registered object of the kit loads in a new process (issue #19 §1).

The README promises that a model with the kit's objects reloads with no
``custom_objects``. This process (pytest's) imports every module of the
package, enumerates every name the kit registers with Keras
(``keras_regkit>...``) and saves one object per name: layers, models and
training procedures with ``model.save``, other objects (regularizers,
schedules, callbacks, augmentation ops) with
`keras.saving.serialize_keras_object` into a JSON file. A fresh process
that only runs ``import keras, keras_regkit`` then loads each and checks
its class, its config and what it computes. A newly registered class
without a save case here fails `test_every_registered_object_has_a_case`.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import pathlib
import pkgutil

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit import schedules

PREFIX = "keras_regkit>"
HERE = pathlib.Path(__file__).parent

# Input shape (without the batch) of a model holding each layer; the
# layers come from tests/*/config_examples.py.
LAYER_INPUTS = {
    "AugmentationLayer": (8, 6, 3),
    "ConcreteDropout": (3,),
    "DropBlock1D": (2, 9),
    "DropBlock2D": (2, 7, 6),
    "DropBlock3D": (2, 4, 5, 3),
    "DropConnectConv2D": (7, 6, 2),
    "DropConnectDense": (4,),
    "DropPath": (5,),
    "MCDropout": (3, 4),
    "StochasticDepth": (5,),
}


def _import_every_module():
    """Every module but those of a backend that is not installed.

    A backend's own step (``training/_sam_jax.py``) imports that backend,
    which need not be installed (it registers nothing).
    """
    for info in pkgutil.walk_packages(rk.__path__, "keras_regkit."):
        if info.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as error:
            if error.name not in ("jax", "torch"):
                raise


def registered_names() -> list[str]:
    """Every name registered by a module of the package."""
    _import_every_module()
    return sorted(
        name
        for name in keras.saving.get_custom_objects()
        if name.startswith(PREFIX)
    )


def _examples():
    examples = {}
    for path in sorted(HERE.rglob("config_examples.py")):
        spec = importlib.util.spec_from_file_location(
            f"load_examples_{path.parent.name}", path
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        examples.update(module.CONFIG_EXAMPLES)
    return examples


def _names_in(config) -> set[str]:
    """The kit's registered names anywhere in a serialized config."""
    if isinstance(config, dict):
        found = set()
        name = config.get("registered_name")
        if isinstance(name, str) and name.startswith(PREFIX):
            found.add(name)
        for value in config.values():
            found |= _names_in(value)
        return found
    if isinstance(config, (list, tuple)):
        return set().union(*(_names_in(v) for v in config)) if config else set()
    return set()


def _plain(config):
    return json.loads(json.dumps(config))


def _registered(obj):
    return None if obj is None else keras.saving.get_registered_name(type(obj))


def _penalties(model):
    """Each regularized weight's penalty (ConcreteDropout's loss aside)."""
    return [
        float(keras.ops.convert_to_numpy(v.regularizer(v)))
        for v in model.weights
        if getattr(v, "regularizer", None) is not None
    ]


def _model_record(model, x, path):
    """Saves ``model``; records what the new process must find."""
    model.save(path)
    np.save(f"{path}.x.npy", x)
    np.save(f"{path}.y.npy", model.predict(x, verbose=0))
    return {
        "path": str(path),
        "class": _registered(model),
        "layers": [_registered(layer) for layer in model.layers],
        "regularizers": [
            _registered(getattr(layer, "kernel_regularizer", None))
            for layer in model.layers
        ],
        "penalties": _penalties(model),
        "config": _plain(keras.saving.serialize_keras_object(model)),
    }


def _layer_models(examples, directory):
    records = []
    for name, shape in LAYER_INPUTS.items():
        cls = getattr(rk.layers, name, None) or getattr(rk.augment, name)
        layer = cls(**examples[name])
        model = keras.Sequential([keras.Input(shape), layer])
        x = np.random.default_rng(0).random((2, *shape), "float32")
        records.append(_model_record(model, x, directory / f"{name}.keras"))
    return records


def _regularized_model(directory):
    """Each regularizer on a Dense kernel; one strength scheduled."""
    scheduled = rk.regularizers.L2(schedules.Linear(0.0, 0.3, 4))
    scheduled._l2.update(2)  # as ScheduleCallback would at epoch 2
    regularizers = [
        rk.regularizers.L1(0.1),
        scheduled,
        rk.regularizers.L1L2(0.1, 0.2),
        rk.regularizers.ElasticNet(0.3, 0.2),
        rk.regularizers.GroupLasso(0.2),
        rk.regularizers.Orthogonal(0.1),
    ]
    model = keras.Sequential(
        [keras.Input((3,))]
        + [keras.layers.Dense(3, kernel_regularizer=r) for r in regularizers]
    )
    x = np.random.default_rng(1).random((4, 3), "float32")
    return _model_record(model, x, directory / "regularized.keras")


def _l2sp_model(directory):
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)]
    )
    rk.regularizers.apply_l2sp(model, alpha=0.1, beta=0.01)
    x, y = helpers.regression_data((3,), n=8)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(x, y, epochs=1, verbose=0)  # w moves away from w0
    return _model_record(model, x, directory / "l2sp.keras")


def _sam_model(directory):
    inner = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(2), rk.layers.DropPath(0.1)]
    )
    model = rk.training.SAM(inner, rho=0.1, adaptive=True)
    x, y = helpers.regression_data((3,), n=8)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(x, y[:, :1].repeat(2, 1), epochs=1, verbose=0)
    return _model_record(model, x, directory / "sam.keras")


def _in_config_model(directory):
    """A model `apply` wraps: TimeDistributed rebuilds its layer."""
    model = keras.Sequential(
        [
            keras.Input((2, 3)),
            keras.layers.TimeDistributed(keras.layers.Dense(2)),
        ]
    )
    rk.regularizers.apply(model, rk.regularizers.L1(0.1))
    x = np.random.default_rng(2).random((2, 2, 3), "float32")
    return _model_record(model, x, directory / "in_config.keras")


def _objects(examples, names):
    """Serialized non-layer objects, with values of schedules."""
    records = []
    for name in names:
        cls = keras.saving.get_registered_object(name)
        short = name[len(PREFIX) :]
        if issubclass(cls, keras.layers.Layer) or short not in examples:
            continue
        obj = cls(**examples[short])
        record = {"config": _plain(keras.saving.serialize_keras_object(obj))}
        if isinstance(obj, schedules.Schedule):
            record["values"] = [obj(i) for i in range(6)]
        records.append(record)
    return records


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Everything saved, and the names each record covers."""
    directory = tmp_path_factory.mktemp("saved")
    names = registered_names()
    examples = _examples()
    models = [
        *_layer_models(examples, directory),
        _regularized_model(directory),
        _l2sp_model(directory),
        _sam_model(directory),
        _in_config_model(directory),
    ]
    objects = _objects(examples, names)
    manifest = directory / "manifest.json"
    manifest.write_text(json.dumps({"models": models, "objects": objects}))
    covered = set()
    for record in [*models, *objects]:
        covered |= _names_in(record["config"])
    return names, covered, manifest


def test_every_registered_object_has_a_case(saved):
    names, covered, _ = saved
    assert len(names) > 50, names  # the enumeration found the package
    missing = sorted(set(names) - covered)
    assert not missing, (
        f"no save case for {missing}: add a constructor example to "
        "tests/<area>/config_examples.py (and a layer's input shape to "
        "LAYER_INPUTS here)"
    )


LOAD = """
import json
import sys

import numpy as np

import keras
import keras_regkit

manifest = json.load(open(sys.argv[1]))
problems = []


def plain(config):
    return json.loads(json.dumps(config))


def registered(obj):
    return None if obj is None else keras.saving.get_registered_name(type(obj))


for record in manifest["objects"]:
    config = record["config"]
    name = config["registered_name"]
    try:
        obj = keras.saving.deserialize_keras_object(config)
    except Exception as error:
        problems.append(f"{name}: {type(error).__name__}: {error}")
        continue
    if registered(obj) != name:
        problems.append(f"{name}: loaded as {type(obj)}")
    elif plain(keras.saving.serialize_keras_object(obj)) != config:
        problems.append(f"{name}: the config changed")
    elif "values" in record and [obj(i) for i in range(6)] != record["values"]:
        problems.append(f"{name}: other values")

for record in manifest["models"]:
    path = record["path"]
    try:
        model = keras.models.load_model(path)
    except Exception as error:
        problems.append(f"{path}: {type(error).__name__}: {error}")
        continue
    found = {
        "class": registered(model),
        "layers": [registered(layer) for layer in model.layers],
        "regularizers": [
            registered(getattr(layer, "kernel_regularizer", None))
            for layer in model.layers
        ],
        "config": plain(keras.saving.serialize_keras_object(model)),
    }
    for key, value in found.items():
        if value != record[key]:
            problems.append(f"{path}: {key} {value} != {record[key]}")
    penalties = [
        float(keras.ops.convert_to_numpy(v.regularizer(v)))
        for v in model.weights
        if getattr(v, "regularizer", None) is not None
    ]
    if len(penalties) != len(record["penalties"]):
        problems.append(f"{path}: {len(penalties)} penalties")
    if not np.allclose(penalties, record["penalties"], rtol=1e-6):
        problems.append(f"{path}: penalties {penalties}")
    x = np.load(path + ".x.npy")
    if not np.allclose(
        model.predict(x, verbose=0), np.load(path + ".y.npy"), rtol=1e-6
    ):
        problems.append(f"{path}: other predictions")

print(json.dumps(problems))
"""


@pytest.mark.new_process
def test_every_registered_object_loads_after_a_bare_import(saved):
    _, _, manifest = saved
    code = LOAD.replace("sys.argv[1]", repr(str(manifest)))
    result = helpers.run_python(code)
    problems = json.loads(result.stdout.strip().splitlines()[-1])
    assert not problems, "\n".join(problems)


@pytest.mark.new_process
def test_a_scheduled_rate_loads_after_importing_only_layers(tmp_path):
    # The layer's config names a schedule: importing `layers` alone must
    # make `keras_regkit.schedules` resolvable too.
    ramp = schedules.Cosine(0.0, 0.2, duration=4)
    layer = rk.layers.DropBlock2D(ramp, block_size=3, seed=1)
    layer._rate.update(2)  # as ScheduleCallback would at epoch 2
    model = keras.Sequential([keras.Input((7, 6, 2)), layer])
    model.save(tmp_path / "m.keras")
    result = helpers.run_python(
        f"""
        import keras
        import keras_regkit.layers

        model = keras.models.load_model({str(tmp_path / "m.keras")!r})
        layer = model.layers[0]
        print(keras.saving.get_registered_name(type(layer)))
        print(keras.saving.get_registered_name(type(layer._rate.schedule)))
        print(layer.rate)
        """
    )
    lines = result.stdout.strip().splitlines()
    assert lines[-3:] == [
        "keras_regkit>DropBlock2D",
        "keras_regkit>Cosine",
        repr(ramp(2)),
    ]
