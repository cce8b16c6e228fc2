"""n_jobs: trials in new processes ('spawn') equal to n_jobs=1, trial for
trial; trials that cannot be pickled are refused, naming n_jobs."""

import keras
import numpy as np
import pytest
from diagnostics._linear import linear_data
from diagnostics._linear import sgd_linear

from keras_regkit.diagnostics import Trial
from keras_regkit.diagnostics import learning_curve
from keras_regkit.diagnostics import run_trials


def _curve(build, n_jobs):
    x, y = linear_data(60, seed=0)
    return learning_curve(
        build,
        (x[:40], y[:40]),
        [20, 40],
        validation_data=(x[40:], y[40:]),
        seeds=2,
        fit_kwargs={"epochs": 2, "batch_size": 8},
        verbose=0,
        n_jobs=n_jobs,
    )


@pytest.mark.new_process
@pytest.mark.slow
def test_two_processes_equal_one_trial_for_trial():
    sequential = _curve(sgd_linear, n_jobs=1)
    parallel = _curve(sgd_linear, n_jobs=2)
    assert parallel.sizes == sequential.sizes == [20, 40]
    for split in ("train", "validation"):
        np.testing.assert_array_equal(
            getattr(parallel, split), getattr(sequential, split), split
        )
    assert np.all(np.isfinite(sequential.validation))


def test_a_lambda_is_refused_naming_n_jobs():
    def build():  # local: cannot be pickled
        return sgd_linear()

    with pytest.raises(TypeError, match="`n_jobs`.*picklable"):
        _curve(build, n_jobs=2)
    with pytest.raises(TypeError, match="`n_jobs`.*cannot be pickled"):
        _curve(lambda: sgd_linear(), n_jobs=2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(n_jobs=0), ValueError, "`n_jobs`"),
        (dict(n_jobs=1.5), TypeError, "`n_jobs`"),
        (dict(n_jobs=2, runner=lambda trials: iter(())), ValueError, "runner"),
    ],
)
def test_bad_n_jobs(kwargs, error, match):
    trials = [Trial({"i": 0}, dict)]
    with pytest.raises(error, match=match):
        run_trials(trials, verbose=0, **kwargs)


def test_n_jobs_one_runs_here():
    calls = []
    trials = [Trial({"i": 0}, lambda: calls.append(0) or {"validation": 1.0})]
    assert run_trials(trials, verbose=0, n_jobs=1) == [{"validation": 1.0}]
    assert calls == [0] and keras.__version__
