import inspect

import pytest

import keras_regkit.diagnostics as diagnostics

FUNCTIONS = [
    "compare",
    "diagnose",
    "keras_tuner_runner",
    "learning_curve",
    "paired_interval",
    "run_trials",
    "sequential_runner",
    "t_cdf",
    "t_ppf",
    "validation_curve",
]


def test_every_public_name_is_exported():
    assert sorted(diagnostics.__all__) == sorted(
        FUNCTIONS
        + [
            "ComparisonResult",
            "Diagnosis",
            "LearningCurveResult",
            "PairedInterval",
            "Trial",
            "ValidationCurveResult",
        ]
    )
    for name in diagnostics.__all__:
        assert getattr(diagnostics, name).__module__.startswith(
            "keras_regkit.diagnostics"
        )


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_document_args_returns_and_an_example(name):
    doc = inspect.getdoc(getattr(diagnostics, name))
    for section in ("Args:", "Returns:", "Example:"):
        assert section in doc, (name, section)


def test_no_tensorflow_import():
    # Backend-neutral: the package's source never imports TensorFlow.
    import pathlib

    folder = pathlib.Path(diagnostics.__file__).parent
    for path in folder.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "import tensorflow" not in source, path.name
