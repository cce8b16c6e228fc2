"""Validation curves: error against one hyperparameter.

Which regularizer strength, dropout rate, augmentation strength or number
of epochs? ``build_model(value)`` builds the variant for each value (and
``fit_kwargs`` may be a function of the value, for ``epochs`` or
``batch_size``); each is trained on the whole training data for several
seeds. The result names the value with the lowest mean validation error
and the one-standard-error choice: the simplest value whose error is
within one standard error of the best (Hastie, Tibshirani and Friedman,
The Elements of Statistical Learning, 2009, section 7.10).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import numpy as np

from keras_regkit import _validation
from keras_regkit.diagnostics import _error
from keras_regkit.diagnostics import _study
from keras_regkit.diagnostics.result import ValidationCurveResult


def validation_curve(
    build_model: Callable,
    param: str,
    values,
    data: tuple,
    *,
    validation_data: tuple,
    test_data: tuple | None = None,
    seeds=3,
    fit_kwargs=None,
    metric: str | None = None,
    simpler: str = "higher",
    batch_size: int = 1024,
    runner: Callable | None = None,
    results_file: str | os.PathLike | None = None,
    verbose: int = 1,
    n_jobs: int = 1,
) -> ValidationCurveResult:
    """Trains ``build_model(value)`` for each value and seed.

    Args:
        build_model: A function of one argument, the value, returning a
            compiled `keras.Model`.
        param: The hyperparameter's name (for tables, plots and the
            results file).
        values: The values to try, a non-empty list without repeats.
        data: The training data, an ``(x, y)`` tuple of arrays.
        validation_data: ``(x, y)`` arrays for the validation error.
        test_data: Optional ``(x, y)`` arrays for a test error.
        seeds: A list of ints, or an int ``k`` for ``0, ..., k - 1``.
        fit_kwargs: Keyword arguments for ``fit``: a dict, or a function
            of the value returning one (``lambda e: {"epochs": e}``).
        metric: None for the loss without penalties, or a compiled
            metric's name (see `learning_curve`).
        simpler: ``"higher"`` if a higher value gives a simpler model (a
            regularizer strength, a dropout rate, an augmentation
            strength) or ``"lower"`` (epochs, units): which way the
            one-standard-error rule leans.
        batch_size: Examples per forward pass when measuring.
        runner: How the trials run (see `run_trials`).
        results_file: A JSON-lines file of finished trials (resume).
        verbose: 1 prints a line per finished trial with the time left.
        n_jobs: 1 runs the trials here, one after the other; ``n > 1``
            in ``n`` new processes, which needs a picklable
            ``build_model`` (see `run_trials`). Only with ``runner=None``.

    Returns:
        A `ValidationCurveResult`.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_regkit.diagnostics import validation_curve
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(120, 3)).astype("float32")
    >>> y = x @ np.ones((3, 1), "float32")
    >>> def build(l2):
    ...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
    ...         1, kernel_regularizer=keras.regularizers.L2(l2))])
    ...     model.compile("sgd", "mse")
    ...     return model
    >>> result = validation_curve(build, "l2", [1e-4, 1e-1], (x[:80], y[:80]),
    ...     validation_data=(x[80:], y[80:]), seeds=1, verbose=0)
    >>> result.log_scale()
    True
    """
    owner = "validation_curve"
    data, validation_data, test_data, seeds, metric, batch_size = (
        _study.check_common(
            owner,
            build_model,
            data,
            validation_data,
            test_data,
            seeds,
            metric,
            batch_size,
        )
    )
    _validation.check_type("param", param, str, "a string", owner=owner)
    values = _check_values(values, owner)
    simpler = _validation.check_choice(
        "simpler", simpler, ("higher", "lower"), owner=owner
    )
    fit_kwargs = _study.check_fit_kwargs(fit_kwargs, owner, allow_callable=True)
    trials = _study.trials_per_level(
        owner,
        values,
        seeds,
        build_of=lambda value: functools.partial(build_model, value),
        key_of=lambda value: {"param": param, "value": _study.key_value(value)},
        fit_kwargs=fit_kwargs,
        data=data,
        validation_data=validation_data,
        test_data=test_data,
        metric=metric,
        batch_size=batch_size,
    )
    records = _study.run(trials, runner, results_file, verbose, n_jobs)
    errors = _study.grid(records, values, seeds)
    return ValidationCurveResult(
        points=values,
        seeds=seeds,
        error=_error.error_name(metric),
        param=param,
        simpler=simpler,
        **errors,
    )


def _check_values(values, owner) -> list:
    expected = "a non-empty list of distinct values"
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise _validation.invalid(
            "values", expected, values, owner=owner, error=TypeError
        )
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    keys = [repr(_study.key_value(v)) for v in values]
    if not values or len(set(keys)) != len(keys):
        raise _validation.invalid("values", expected, values, owner=owner)
    return values
