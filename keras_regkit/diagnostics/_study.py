"""What the studies share: argument checks and running a grid of trials."""

from __future__ import annotations

import functools

import numpy as np

from keras_regkit import _validation
from keras_regkit.diagnostics import _data
from keras_regkit.diagnostics import _trials


def check_common(
    owner,
    build_model,
    data,
    validation_data,
    test_data,
    seeds,
    metric,
    batch_size,
):
    """Validates the arguments every study takes; returns them cleaned."""
    if not callable(build_model):
        raise _validation.invalid(
            "build_model",
            "a function returning a compiled keras.Model",
            build_model,
            owner=owner,
            error=TypeError,
        )
    data = _data.check_data("data", data, owner)
    validation_data = _data.check_data(
        "validation_data", validation_data, owner
    )
    test_data = _data.check_data("test_data", test_data, owner, required=False)
    seeds = check_seeds(seeds, owner)
    if metric is not None:
        _validation.check_type(
            "metric",
            metric,
            str,
            "None or a compiled metric's name",
            owner=owner,
        )
    batch_size = _validation.check_int(
        "batch_size", batch_size, low=1, owner=owner
    )
    return data, validation_data, test_data, seeds, metric, batch_size


def check_seeds(seeds, owner) -> list[int]:
    """A non-empty list of distinct seeds in [0, 2**32 - 1] (what
    `keras.utils.set_random_seed` takes); an int ``k`` means
    ``range(k)``."""
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = list(
            range(_validation.check_int("seeds", seeds, low=1, owner=owner))
        )
    expected = (
        "a positive int k (seeds 0..k-1) or a list of distinct ints in "
        "[0, 2**32 - 1]"
    )
    if not isinstance(seeds, (list, tuple)) or not seeds:
        raise _validation.invalid(
            "seeds", expected, seeds, owner=owner, error=TypeError
        )
    seeds = [
        _validation.check_int("seeds", s, low=0, high=2**32 - 1, owner=owner)
        for s in seeds
    ]
    if len(set(seeds)) != len(seeds):
        raise _validation.invalid("seeds", expected, seeds, owner=owner)
    return seeds


def check_fit_kwargs(fit_kwargs, owner, allow_callable=False):
    """``fit_kwargs`` as a dict (or a callable, where allowed)."""
    if fit_kwargs is None:
        return {}
    if isinstance(fit_kwargs, dict) or (
        allow_callable and callable(fit_kwargs)
    ):
        if isinstance(fit_kwargs, dict) and {"x", "y"} & set(fit_kwargs):
            raise _validation.invalid(
                "fit_kwargs",
                "keyword arguments of fit other than x and y",
                fit_kwargs,
                owner=owner,
            )
        return fit_kwargs
    expected = "None or a dict of keyword arguments for fit" + (
        ", or a function of the value returning one" if allow_callable else ""
    )
    raise _validation.invalid(
        "fit_kwargs", expected, fit_kwargs, owner=owner, error=TypeError
    )


def trials_per_level(
    owner,
    levels,
    seeds,
    *,
    build_of,
    key_of,
    fit_kwargs,
    data,
    validation_data,
    test_data,
    metric,
    batch_size,
):
    """One trial per (level, seed), each a fresh model fit on all of data.

    Args:
        owner: The study's name, for the keys and messages.
        levels: The variants or values, in order.
        seeds: The checked seeds.
        build_of: ``level -> build_model`` (a function of no argument).
        key_of: ``level -> dict`` of what names the level in a trial key.
        fit_kwargs: A dict, or ``level -> dict`` (checked per level).
        data, validation_data, test_data: The checked data.
        metric, batch_size: As the study received them.

    Returns:
        The list of `_trials.Trial`, level-major.
    """
    trials = []
    for level in levels:
        kwargs = check_fit_kwargs(
            fit_kwargs(level) if callable(fit_kwargs) else fit_kwargs, owner
        )
        for seed in seeds:
            key = {
                "study": owner,
                **key_of(level),
                "seed": seed,
                "error": metric or "loss",
            }
            work = functools.partial(
                _trials.fit_and_measure,
                build_of(level),
                seed,
                data,
                validation_data,
                test_data,
                kwargs,
                metric,
                batch_size,
            )
            trials.append(_trials.Trial(key, work))
    return trials


def key_value(value):
    """A hyperparameter value as it goes into a trial's key (JSON)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def grid(records, points, seeds):
    """``{split: array (points, seeds)}`` from records in trial order."""
    out = {}
    for split in ("train", "validation", "test"):
        values = [record[split] for record in records]
        if any(v is None for v in values):
            out[split] = None
            continue
        out[split] = np.asarray(values, dtype="float64").reshape(
            len(points), len(seeds)
        )
    return out


def run(trials, runner, results_file, verbose, n_jobs=1):
    """`_trials.run_trials` with the studies' argument names."""
    return _trials.run_trials(
        trials,
        runner=runner,
        results_file=results_file,
        verbose=verbose,
        n_jobs=n_jobs,
    )
