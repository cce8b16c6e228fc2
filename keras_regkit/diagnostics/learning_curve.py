"""Learning curves: error against the number of training examples.

Would more data help? A fresh model is trained on growing subsets of the
training data, for several seeds, and its training error (measured
cleanly: inference mode, final weights, the whole subset), validation
error and optionally test error are recorded. A large gap that shrinks
as data grows says more data (or augmentation, or regularization) helps;
a training error that is itself high says the model is too weak
(`diagnose` puts this into words).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

from keras_regkit import _validation
from keras_regkit.diagnostics import _data
from keras_regkit.diagnostics import _error
from keras_regkit.diagnostics import _study
from keras_regkit.diagnostics import _trials
from keras_regkit.diagnostics.result import LearningCurveResult

DEFAULT_SIZES = (0.1, 0.325, 0.55, 0.775, 1.0)


def learning_curve(
    build_model: Callable,
    data: tuple,
    train_sizes=DEFAULT_SIZES,
    *,
    validation_data: tuple,
    test_data: tuple | None = None,
    seeds=3,
    fit_kwargs: dict | None = None,
    metric: str | None = None,
    stratify="auto",
    batch_size: int = 1024,
    runner: Callable | None = None,
    results_file: str | os.PathLike | None = None,
    verbose: int = 1,
    n_jobs: int = 1,
) -> LearningCurveResult:
    """Trains a fresh model per training size and seed; returns the errors.

    For each seed ``s`` and size ``n``: the global seeds are set to ``s``
    (`keras.utils.set_random_seed`), ``build_model()`` builds a compiled
    model, ``fit`` trains it on ``n`` examples of ``data`` (the same
    ``n`` examples for every study with the same ``(s, n)``, stratified
    by class where the labels are classes), and the error is measured on
    those ``n`` examples, on ``validation_data`` and on ``test_data``.

    Args:
        build_model: A function of no arguments returning a compiled
            `keras.Model`.
        data: The training data, an ``(x, y)`` tuple of arrays.
        train_sizes: Fractions of ``data`` (floats in (0, 1]) or numbers
            of examples (ints).
        validation_data: ``(x, y)`` arrays the validation error is
            measured on.
        test_data: Optional ``(x, y)`` arrays for a test error.
        seeds: The seeds, a list of ints, or an int ``k`` for
            ``0, ..., k - 1``.
        fit_kwargs: Keyword arguments for ``model.fit`` (``epochs``,
            ``batch_size``, ``callbacks``...; ``verbose`` defaults to 0).
        metric: None: the error is the compiled loss without the
            regularization penalties; a compiled metric's name: the error
            is ``1 - metric`` for a metric where higher is better
            (``"accuracy"``), the metric itself otherwise.
        stratify: ``"auto"`` (stratify when the labels are classes:
            integer labels or one-hot rows), True (they must be) or False.
        batch_size: Examples per forward pass when measuring.
        runner: How the trials run (see `run_trials`); None runs them
            here, one after the other.
        results_file: A JSON-lines file recording finished trials; a
            rerun with the same file skips them (resume after an
            interruption).
        verbose: 1 prints a line per finished trial with the time left.
        n_jobs: 1 runs the trials here, one after the other; ``n > 1``
            in ``n`` new processes, which needs a picklable
            ``build_model`` (see `run_trials`). Only with ``runner=None``.

    Returns:
        A `LearningCurveResult`.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_regkit.diagnostics import learning_curve
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(120, 3)).astype("float32")
    >>> y = x @ np.ones((3, 1), "float32")
    >>> def build():
    ...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    ...     model.compile("sgd", "mse")
    ...     return model
    >>> result = learning_curve(build, (x[:80], y[:80]), [0.5, 1.0],
    ...     validation_data=(x[80:], y[80:]), seeds=1, verbose=0)
    >>> result.sizes
    [40, 80]
    """
    owner = "learning_curve"
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
    total = _data.length(data)
    sizes = _data.check_sizes(train_sizes, total, owner)
    fit_kwargs = _study.check_fit_kwargs(fit_kwargs, owner)
    stratify = _check_stratify(stratify, data[1], owner)
    trials = []
    for size in sizes:
        for seed in seeds:
            indices = _data.subset_indices(data[1], size, seed, stratify)
            key = {
                "study": owner,
                "size": size,
                "seed": seed,
                "error": metric or "loss",
                "examples": total,
            }
            work = functools.partial(
                _fit_subset,
                build_model,
                seed,
                data,
                indices,
                validation_data,
                test_data,
                fit_kwargs,
                metric,
                batch_size,
            )
            trials.append(_trials.Trial(key, work))
    records = _study.run(trials, runner, results_file, verbose, n_jobs)
    errors = _study.grid(records, sizes, seeds)
    return LearningCurveResult(
        points=sizes, seeds=seeds, error=_error.error_name(metric), **errors
    )


def _fit_subset(build, seed, data, indices, *rest):
    return _trials.fit_and_measure(
        build, seed, _data.take(data, indices), *rest
    )


def _check_stratify(stratify, y, owner) -> bool:
    stratify = _validation.check_choice(
        "stratify", stratify, ("auto", True, False), owner=owner
    )
    has_classes = _data.class_labels(y) is not None
    if stratify is True and not has_classes:
        raise _validation.invalid(
            "stratify",
            "'auto' or False for labels that are not classes (integer "
            "labels or one-hot rows)",
            stratify,
            owner=owner,
        )
    return has_classes if stratify == "auto" else stratify
