"""Import smoke test: the public surface of `import keras_regkit as rk`."""

import importlib
import inspect

import pytest

import keras_regkit as rk

SUBPACKAGES = [
    "augment",
    "callbacks",
    "layers",
    "regularizers",
    "schedules",
    "training",
]


def test_version_and_all():
    assert isinstance(rk.__version__, str) and rk.__version__.count(".") == 2
    assert sorted(rk.__all__) == sorted(["__version__", *SUBPACKAGES])


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_every_subpackage_has_an_explicit_all(name):
    module = importlib.import_module(f"keras_regkit.{name}")
    assert getattr(rk, name) is module
    assert isinstance(module.__all__, list)
    assert sorted(set(module.__all__)) == sorted(module.__all__)
    for public in module.__all__:
        assert hasattr(module, public), f"{name}.{public} missing"


def test_no_placeholder_classes():
    """Every public class does something: it has its own methods."""
    for name in SUBPACKAGES:
        module = importlib.import_module(f"keras_regkit.{name}")
        for public in module.__all__:
            obj = getattr(module, public)
            if inspect.isclass(obj):
                assert obj.__doc__ and len(obj.__doc__) > 40, public
