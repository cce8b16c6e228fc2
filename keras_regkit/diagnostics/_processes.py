"""Trials in several local processes: the runner behind ``n_jobs``.

`process_runner` hands each trial to a pool of ``n_jobs`` fresh Python
processes (multiprocessing's ``"spawn"`` start method, the same on Linux,
macOS and Windows: a forked TensorFlow or JAX runtime is not safe to use).
A spawned process starts empty, so each trial's work is pickled there:
``build_model`` (and a ``fit_kwargs`` function, and the callbacks in
``fit_kwargs``) must be picklable, that is defined at the top level of an
importable module (or of the script, under ``if __name__ ==
"__main__":``), or a `functools.partial` of such a function, not a
lambda or a function defined inside another one. The trials are checked
before any process starts, and a trial that cannot be pickled raises a
`TypeError` naming ``n_jobs``.

For one seed a trial sets the same global seeds in its process as it
would here, so the records equal those of ``n_jobs=1`` (where the
backend is deterministic on the device).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import pickle
from collections.abc import Iterable
from collections.abc import Iterator

from keras_regkit import _validation

START_METHOD = "spawn"


def check_n_jobs(n_jobs, owner="run_trials") -> int:
    """``n_jobs`` as a positive int."""
    return _validation.check_int("n_jobs", n_jobs, low=1, owner=owner)


def process_runner(n_jobs: int):
    """A runner that runs trials in ``n_jobs`` new processes.

    Args:
        n_jobs: The number of processes, at least 1 (1 still runs the
            trials in another process; `run_trials` runs them here).

    Returns:
        ``runner(trials)``, yielding ``(trial, record)`` pairs as trials
        finish, in any order.

    Raises:
        TypeError: When called, if a trial cannot be pickled (see the
            module docstring).
    """
    n_jobs = check_n_jobs(n_jobs, owner="process_runner")

    def runner(trials: Iterable) -> Iterator[tuple]:
        trials = list(trials)
        if not trials:
            return
        payloads = [_pickled(trial, n_jobs) for trial in trials]
        context = multiprocessing.get_context(START_METHOD)
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=min(n_jobs, len(trials)), mp_context=context
        )
        try:
            futures = {
                pool.submit(_run_pickled, payload): trial
                for trial, payload in zip(trials, payloads, strict=True)
            }
            for future in concurrent.futures.as_completed(futures):
                yield futures[future], future.result()
        finally:
            # On an interruption or an error: drop the queued trials.
            pool.shutdown(wait=True, cancel_futures=True)

    return runner


def _pickled(trial, n_jobs) -> bytes:
    try:
        return pickle.dumps(trial.run)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        raise _validation.invalid(
            "n_jobs",
            "1 for trials that cannot be pickled: with n_jobs > 1 each "
            "trial runs in a new process ('spawn'), so build_model, a "
            "fit_kwargs function and the callbacks must be picklable "
            "(top-level functions of a module, or functools.partial of "
            "them; not lambdas or local functions). Trial "
            f"{trial.id} cannot be pickled ({error})",
            n_jobs,
            owner="diagnostics",
            error=TypeError,
        ) from error


def _run_pickled(payload: bytes) -> dict:
    """In the worker process: unpickle one trial's work and run it."""
    return pickle.loads(payload)()
