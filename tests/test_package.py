"""Import smoke test: the public surface of `import keras_regkit as rk`."""

import importlib
import inspect
import pathlib

import pytest

import keras_regkit as rk

SUBPACKAGES = [
    "augment",
    "callbacks",
    "diagnostics",
    "layers",
    "losses",
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


@pytest.mark.new_process
def test_any_subpackage_imported_first_registers_the_whole_kit():
    """No import circle, and every subpackage's import wires them all.

    In a new process each subpackage is imported first (the kit's modules
    are dropped from `sys.modules` between rounds, Keras stays): all
    subpackages must then be imported, and a schedule (which layers' and
    regularizers' configs name) resolvable by its registered name.
    """
    import json

    import helpers

    result = helpers.run_python(
        f"""
        import importlib
        import json
        import sys

        import keras

        found = {{}}
        for name in {SUBPACKAGES!r}:
            for module in [m for m in sys.modules if m == "keras_regkit"
                           or m.startswith("keras_regkit.")]:
                del sys.modules[module]
            importlib.import_module("keras_regkit." + name)
            linear = keras.saving.get_registered_object("keras_regkit>Linear")
            found[name] = [
                sorted(
                    s for s in {SUBPACKAGES!r}
                    if "keras_regkit." + s in sys.modules
                ),
                linear is sys.modules["keras_regkit.schedules"].Linear,
            ]
        print(json.dumps(found))
        """
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {name: [SUBPACKAGES, True] for name in SUBPACKAGES}


def test_no_test_folder_shadows_a_package_keras_imports():
    """tests/ is on sys.path (conftest), and child processes inherit it.

    A folder there named ``jax`` or ``torch`` is a namespace package
    wherever that backend is not installed: Keras, imported in a child
    process, then took the folder for JAX and failed (``module 'jax' has
    no attribute 'monitoring'``), which is how CI broke once.
    """
    tests = pathlib.Path(__file__).parent
    folders = {path.name for path in tests.iterdir() if path.is_dir()}
    shadowing = folders & {
        "jax",
        "jaxlib",
        "torch",
        "tensorflow",
        "keras",
        "numpy",
        "optree",
        "ml_dtypes",
        "h5py",
        "keras_regkit",
        "sklearn",
        "PIL",
        "scipy",
    }
    assert not shadowing, shadowing
