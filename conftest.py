"""Collection rules for the doctest modules under keras_regkit/.

pytest imports every module of the package to collect its docstring
examples. A module written for one Keras backend imports that backend's
library at the top, and ``keras_regkit.augment`` (tf.data) imports
TensorFlow; in an environment without that library (the JAX and PyTorch
suites run without TensorFlow, as users install the kit) those modules
are not collected. Everything else is collected everywhere.
"""

import importlib.util
import inspect


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


def pytest_collection_modifyitems(config, items):
    """A public docstring's examples run once, as a user pastes them.

    tests/test_docstring_examples.py runs every public docstring's
    examples in a fresh namespace and compares their output as doctest
    does; where that module is collected too, ``--doctest-modules`` keeps
    only the other docstrings (private modules' and helpers'), instead of
    running the public ones a second time (about a minute of the run).
    """
    from _pytest.doctest import DoctestItem

    pasted = next(
        (
            i.module
            for i in items
            if i.path.name == "test_docstring_examples.py"
        ),
        None,
    )
    if pasted is None:
        return
    covered = {inspect.cleandoc(doc) for _, doc in pasted.DOCSTRINGS}
    kept, dropped = [], []
    for item in items:
        twice = isinstance(item, DoctestItem) and (
            inspect.cleandoc(item.dtest.docstring or "") in covered
        )
        (dropped if twice else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
