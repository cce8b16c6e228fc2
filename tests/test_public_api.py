"""Walks every public class: registration, config completeness, round trip.

Each area lists constructor examples in ``tests/<area>/config_examples.py``
as ``CONFIG_EXAMPLES = {"ClassName": {kwargs}}``, setting every argument.
A public class without an example fails here, so new modules are covered
as soon as they export something.
"""

import importlib
import importlib.util
import inspect
import pathlib

import keras
import pytest

AREAS = [
    "regularizers",
    "layers",
    "callbacks",
    "schedules",
    "augment",
    "losses",
]
HERE = pathlib.Path(__file__).parent
PLAIN = (type(None), bool, int, float, str)


def _examples():
    examples = {}
    for path in sorted(HERE.rglob("config_examples.py")):
        spec = importlib.util.spec_from_file_location(
            f"config_examples_{path.parent.name}", path
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        examples.update(module.CONFIG_EXAMPLES)
    return examples


EXAMPLES = _examples()


def _public_classes():
    for area in AREAS:
        module = importlib.import_module(f"keras_regkit.{area}")
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and not inspect.isabstract(obj):
                yield pytest.param(obj, id=f"{area}.{name}")


def _init_arguments(cls):
    parameters = inspect.signature(cls.__init__).parameters.values()
    return [
        p.name
        for p in parameters
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]


def _assert_plain(value, where):
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), where
            _assert_plain(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _assert_plain(item, f"{where}[{i}]")
    else:
        assert type(value) in PLAIN, f"{where} is {type(value).__name__}"


@pytest.mark.parametrize("cls", list(_public_classes()))
def test_config_complete_and_round_trips(cls):
    assert cls.__name__ in EXAMPLES, (
        f"add {cls.__name__} to tests/<area>/config_examples.py"
    )
    assert (
        keras.saving.get_registered_name(cls) == f"keras_regkit>{cls.__name__}"
    )
    obj = cls(**EXAMPLES[cls.__name__])
    config = obj.get_config()
    missing = set(_init_arguments(cls)) - set(config)
    assert not missing, f"{cls.__name__}.get_config() lacks {sorted(missing)}"
    _assert_plain(config, cls.__name__)
    assert cls.from_config(config).get_config() == config
    serialized = keras.saving.serialize_keras_object(obj)
    again = keras.saving.deserialize_keras_object(serialized)
    assert type(again) is cls
    assert again.get_config() == config
