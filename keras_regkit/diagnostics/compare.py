"""Comparisons: is one variant better than another, beyond seed noise?

Every variant is trained on the same seeds: for one seed the global seeds
are set the same way before each variant is built, so variants with the
same layers start from the same initial weights and see the data in the
same order. The per-seed differences from the baseline are then a paired
sample, and their mean gets a paired t confidence interval (see
`paired_interval`): "augment beats none by 0.015 ± 0.006 (95% CI)"
rather than "within seed noise".
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from keras_regkit import _validation
from keras_regkit.diagnostics import _error
from keras_regkit.diagnostics import _study
from keras_regkit.diagnostics.comparison import ComparisonResult


def compare(
    variants: dict,
    data: tuple,
    *,
    validation_data: tuple,
    test_data: tuple | None = None,
    seeds=5,
    baseline: str | None = None,
    fit_kwargs=None,
    metric: str | None = None,
    confidence: float = 0.95,
    batch_size: int = 1024,
    runner: Callable | None = None,
    results_file: str | os.PathLike | None = None,
    verbose: int = 1,
    n_jobs: int = 1,
) -> ComparisonResult:
    """Trains each variant on the same seeds; reports paired differences.

    Args:
        variants: ``{name: build_model}``, each a function of no arguments
            returning a compiled `keras.Model`; at least two.
        data: The training data, an ``(x, y)`` tuple of arrays.
        validation_data: ``(x, y)`` arrays for the validation error.
        test_data: Optional ``(x, y)`` arrays for a test error.
        seeds: A list of at least two ints, or an int ``k >= 2`` for
            ``0, ..., k - 1``.
        baseline: The name of the variant the others are compared with;
            None for the first.
        fit_kwargs: Keyword arguments for ``fit``: a dict, or a function
            of the variant's name returning one.
        metric: None for the loss without penalties, or a compiled
            metric's name (see `learning_curve`).
        confidence: The level of the paired t intervals, in (0, 1).
        batch_size: Examples per forward pass when measuring.
        runner: How the trials run (see `run_trials`).
        results_file: A JSON-lines file of finished trials (resume).
        verbose: 1 prints a line per finished trial with the time left.
        n_jobs: 1 runs the trials here, one after the other; ``n > 1``
            in ``n`` new processes, which needs a picklable
            ``build_model`` (see `run_trials`). Only with ``runner=None``.

    Returns:
        A `ComparisonResult`: ``print(result)`` shows each variant's
        error and its difference from the baseline with the interval.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_regkit.diagnostics import compare
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(120, 3)).astype("float32")
    >>> y = x @ np.ones((3, 1), "float32")
    >>> def build(rate):
    ...     model = keras.Sequential([keras.Input((3,)),
    ...         keras.layers.Dropout(rate), keras.layers.Dense(1)])
    ...     model.compile("sgd", "mse")
    ...     return model
    >>> result = compare({"none": lambda: build(0.0),
    ...                   "dropout": lambda: build(0.5)},
    ...     (x[:80], y[:80]), validation_data=(x[80:], y[80:]), seeds=2,
    ...     verbose=0)
    >>> result.difference("dropout").method
    'paired t'
    """
    owner = "compare"
    if not isinstance(variants, dict) or len(variants) < 2:
        raise _validation.invalid(
            "variants",
            "a dict {name: build_model} of at least two variants",
            variants,
            owner=owner,
            error=TypeError,
        )
    names = list(variants)
    for name, build in variants.items():
        if not isinstance(name, str) or not callable(build):
            raise _validation.invalid(
                "variants",
                "a dict {name: build_model} with string names and "
                "functions returning a compiled keras.Model",
                variants,
                owner=owner,
                error=TypeError,
            )
    data, validation_data, test_data, seeds, metric, batch_size = (
        _study.check_common(
            owner,
            variants[names[0]],
            data,
            validation_data,
            test_data,
            seeds,
            metric,
            batch_size,
        )
    )
    if len(seeds) < 2:
        raise _validation.invalid(
            "seeds", "at least two seeds", seeds, owner=owner
        )
    if baseline is not None:
        _validation.check_choice("baseline", baseline, names, owner=owner)
        names.remove(baseline)
        names.insert(0, baseline)
    confidence = _validation.check_float(
        "confidence",
        confidence,
        low=0,
        high=1,
        low_inclusive=False,
        high_inclusive=False,
        owner=owner,
    )
    fit_kwargs = _study.check_fit_kwargs(fit_kwargs, owner, allow_callable=True)
    trials = _study.trials_per_level(
        owner,
        names,
        seeds,
        build_of=variants.__getitem__,
        key_of=lambda name: {"variant": name},
        fit_kwargs=fit_kwargs,
        data=data,
        validation_data=validation_data,
        test_data=test_data,
        metric=metric,
        batch_size=batch_size,
    )
    records = _study.run(trials, runner, results_file, verbose, n_jobs)
    errors = {}
    for split, grid in _study.grid(records, names, seeds).items():
        if grid is not None:
            errors[split] = {
                n: np.asarray(g) for n, g in zip(names, grid, strict=True)
            }
    return ComparisonResult(
        names=names,
        seeds=seeds,
        errors=errors,
        error=_error.error_name(metric),
        confidence=confidence,
    )
