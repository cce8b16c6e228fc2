"""The demo's three steps, each one `keras_regkit.diagnostics` call.

1. `learning_curve_step`: the baseline's learning curve and `diagnose`'s
   verdict (is it overfitting, would more data help?);
2. `compare_step`: every variant on the same seeds, paired differences
   from the baseline with confidence intervals;
3. `validation_curve_step`: the strength of the most useful variant
   (`most_useful`) swept, with the best and the one-standard-error choice.

The error is ``1 - accuracy`` throughout (``metric="accuracy"``).
"""

from __future__ import annotations

from keras_regkit import diagnostics
from keras_regkit.demo import training
from keras_regkit.demo import variants
from keras_regkit.demo.data import Splits

METRIC = "accuracy"
TRAIN_SIZES = (0.125, 0.25, 0.5, 1.0)
QUICK_TRAIN_SIZES = (0.25, 1.0)


def learning_curve_step(
    splits: Splits,
    name: str,
    epochs: int,
    seeds,
    n_jobs: int,
    sizes=TRAIN_SIZES,
):
    """The learning curve of variant ``name`` and its diagnosis.

    The target error given to `diagnostics.diagnose` is the label noise:
    with that share of the validation labels wrong, the best model's
    validation error is that share.

    Returns:
        ``(result, diagnosis)``.
    """
    result = diagnostics.learning_curve(
        training.builder(name, splits, epochs),
        (splits.x_train, splits.y_train),
        list(sizes),
        validation_data=(splits.x_val, splits.y_val),
        test_data=(splits.x_test, splits.y_test),
        seeds=list(seeds),
        fit_kwargs=training.fit_kwargs(name, splits, epochs),
        metric=METRIC,
        n_jobs=n_jobs,
    )
    return result, diagnostics.diagnose(result, target_error=splits.noise)


def compare_step(splits: Splits, names, epochs: int, seeds, n_jobs: int):
    """`diagnostics.compare` of the variants ``names`` (the first is the
    baseline) on ``seeds``."""
    return diagnostics.compare(
        {name: training.builder(name, splits, epochs) for name in names},
        (splits.x_train, splits.y_train),
        validation_data=(splits.x_val, splits.y_val),
        test_data=(splits.x_test, splits.y_test),
        seeds=list(seeds),
        fit_kwargs=lambda name: training.fit_kwargs(name, splits, epochs),
        metric=METRIC,
        n_jobs=n_jobs,
    )


def most_useful(comparison) -> str | None:
    """The variant with a `variants.Strength` whose validation error is
    lowest relative to the baseline (None if no compared variant has a
    strength).

    Chosen on the validation error (what a user would choose on), not on
    the test error, which stays for the final word. It may not beat the
    baseline: its curve then shows whether another strength would.
    """
    candidates = [
        (comparison.difference(name).mean, name)
        for name in comparison.names[1:]
        if variants.get(name).strength is not None
    ]
    return min(candidates)[1] if candidates else None


def validation_curve_step(
    splits: Splits, name: str, epochs: int, seeds, n_jobs: int, values=None
):
    """`diagnostics.validation_curve` over the strength of ``name``."""
    strength = variants.get(name).strength
    return diagnostics.validation_curve(
        training.builder(name, splits, epochs, strength="sweep"),
        strength.name,
        list(values or strength.values),
        (splits.x_train, splits.y_train),
        validation_data=(splits.x_val, splits.y_val),
        test_data=(splits.x_test, splits.y_test),
        seeds=list(seeds),
        fit_kwargs=training.fit_kwargs(name, splits, epochs),
        metric=METRIC,
        simpler="higher",
        n_jobs=n_jobs,
    )
