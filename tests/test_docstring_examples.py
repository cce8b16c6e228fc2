"""Every public docstring example runs when pasted (issue #22 §1).

``--doctest-modules`` runs each example with its module's globals, so an
example that uses a name it never imports still passes there. Here each
public docstring's examples run in a fresh namespace (``globs={}``), as a
user pastes them into a new interpreter: the example must import what it
uses and build its own data.

Public: the package's and every subpackage's docstring, every name in a
subpackage's ``__all__``, and every public method or property of those
classes wherever it is defined in the kit (a private base or mixin
included), as the reference pages show them.

TensorFlow's functions run eagerly here, as the gallery draws its
pictures: an example's first `fit` or pipeline call would otherwise spend
seconds tracing and compiling (XLA) for a handful of examples. Compiled
runs are what each component's own tests check.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import inspect
import re
import warnings

import keras
import pytest

import keras_regkit

PACKAGE = "keras_regkit"
# As pytest's --doctest-modules runs them (no whitespace normalizing).
FLAGS = doctest.ELLIPSIS
# What "shows a use" looks like: in a model, in fit, in a pipeline, on
# a tf.data dataset, or as the callback / regularizer of a layer.
USE = re.compile(
    r"\.fit\(|\.predict\(|\.map\(|Pipeline\(|Sequential\(|keras\.Model\("
    r"|EarlyStopping\(|kernel_regularizer=|callbacks="
)


def subpackages() -> list[str]:
    """The exported subpackages; `augment` only where TensorFlow is."""
    names = list(keras_regkit._SUBPACKAGES)
    if importlib.util.find_spec("tensorflow") is None:
        names.remove(keras_regkit._NEEDS_TENSORFLOW)
    return names


def _defined_in_kit(obj) -> bool:
    return (getattr(obj, "__module__", None) or "").startswith(PACKAGE)


def _members(cls):
    """``(name, function)`` of a class's public methods and properties
    that the kit defines (in the class or any of its bases)."""
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or not _defined_in_kit(owner):
            continue
        member = vars(owner)[name]
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if isinstance(member, property):
            member = member.fget
        if callable(member):
            yield name, member


def public_docstrings():
    """``(qualified name, docstring)`` of every public docstring with
    examples, each object once (aliases share their object's)."""
    seen = set()

    def entry(qualname, obj):
        if id(obj) in seen:
            return None
        seen.add(id(obj))
        doc = obj.__doc__ if inspect.ismodule(obj) else inspect.getdoc(obj)
        return (qualname, doc) if doc and ">>>" in doc else None

    found = [entry(PACKAGE, keras_regkit)]
    for sub in subpackages():
        module = importlib.import_module(f"{PACKAGE}.{sub}")
        found.append(entry(f"{sub}", module))
        for name in module.__all__:
            obj = getattr(module, name)
            found.append(entry(f"{sub}.{name}", obj))
            if inspect.isclass(obj):
                for attr, member in _members(obj):
                    found.append(entry(f"{sub}.{name}.{attr}", member))
    return [item for item in found if item is not None]


DOCSTRINGS = public_docstrings()


@pytest.fixture(autouse=True, scope="module")
def eager_tf_functions():
    try:
        import tensorflow as tf
    except ImportError:
        yield
        return
    before = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    try:
        yield
    finally:
        tf.config.run_functions_eagerly(before)


def run_pasted(qualname: str, doc: str) -> str:
    """Runs a docstring's examples in a fresh namespace; the report of
    the failures, or "" when every example passes."""
    test = doctest.DocTestParser().get_doctest(doc, {}, qualname, None, 0)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    out = []
    try:
        with warnings.catch_warnings():
            # tf.data's functions stay compiled; it says so, once.
            warnings.filterwarnings(
                "ignore", message="Even though the `tf.config.experimental"
            )
            runner.run(test, out=out.append, clear_globs=True)
    finally:
        keras.backend.clear_session()
    return "".join(out) if runner.failures else ""


def test_every_subpackage_is_walked():
    walked = {qualname.split(".")[0] for qualname, _ in DOCSTRINGS}
    assert set(subpackages()) <= walked, set(subpackages()) - walked
    assert len(DOCSTRINGS) >= 40, len(DOCSTRINGS)


def test_the_walk_finds_methods_of_private_bases():
    class _Base:
        def shared(self):
            """>>> 1"""

    class Public(_Base):
        def own(self):
            pass

    _Base.__module__ = Public.__module__ = f"{PACKAGE}.fake"
    assert [name for name, _ in _members(Public)] == ["own", "shared"]


def test_a_missing_import_fails():
    report = run_pasted("example", ">>> L2(0.5)\n")
    assert "NameError" in report, report


@pytest.mark.parametrize(
    ("qualname", "doc"), DOCSTRINGS, ids=[q for q, _ in DOCSTRINGS]
)
def test_example_runs_when_pasted(qualname, doc):
    report = run_pasted(qualname, doc)
    assert not report, f"{PACKAGE}.{qualname}:\n{report}"


CLASSES = [
    (qualname, doc)
    for qualname, doc in DOCSTRINGS
    if qualname.count(".") == 1
    and inspect.isclass(
        getattr(
            importlib.import_module(f"{PACKAGE}.{qualname.split('.')[0]}"),
            qualname.split(".")[1],
        )
    )
]


@pytest.mark.parametrize(
    ("qualname", "doc"), CLASSES, ids=[q for q, _ in CLASSES]
)
def test_class_example_shows_a_use(qualname, doc):
    """A class's example puts it to work (a model, fit, a pipeline, a
    dataset, a layer's regularizer), not only reads an attribute."""
    if qualname.startswith("diagnostics."):
        return  # results and records: read, not put in a model
    code = "\n".join(
        example.source for example in doctest.DocTestParser().get_examples(doc)
    )
    assert USE.search(code), f"{qualname}'s example shows no use"
