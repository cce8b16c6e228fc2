"""Trials: one model built, trained and measured, and how a list runs.

A study (a learning curve, a validation curve, a comparison) is a list of
`Trial` objects: an identity (a small JSON-able dict such as ``{"study":
"learning_curve", "size": 120, "seed": 0}``) and a function that trains
and measures, returning ``{"train": ..., "validation": ..., "test": ...}``.
`run_trials` runs the trials that are not finished yet with a *runner*,
prints one line per finished trial with an estimate of the time left,
and appends each record to a JSON-lines results file as soon as it
exists, so an interrupted study resumes where it stopped.

A runner is any callable ``runner(trials)`` that yields ``(trial,
record)`` pairs as trials finish, in any order: `sequential_runner` (the
default) runs them one after the other here, ``n_jobs=n`` runs them in
``n`` local processes (`_processes.process_runner`); a runner that hands
them to other machines plugs in without changing the studies.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator

import keras

from keras_regkit import _validation
from keras_regkit.diagnostics import _error
from keras_regkit.diagnostics import _processes


@dataclasses.dataclass(frozen=True)
class Trial:
    """One unit of work: an identity and the function that does it.

    Attributes:
        key: What identifies the trial in a results file, a dict of JSON
            values (``{"study": ..., "size": ..., "seed": ...}``).
        run: A function of no arguments returning the trial's record, a
            dict of floats (``train``, ``validation``, ``test``).
    """

    key: dict
    run: Callable[[], dict]

    @property
    def id(self) -> str:
        """The key as one canonical JSON string."""
        return json.dumps(self.key, sort_keys=True)


def sequential_runner(trials: Iterable[Trial]) -> Iterator[tuple]:
    """Runs trials one after the other, in this process.

    Args:
        trials: The trials to run.

    Returns:
        An iterator of ``(trial, record)`` pairs, as each finishes.

    Example:
    >>> from keras_regkit.diagnostics import Trial, sequential_runner
    >>> trial = Trial({"n": 1}, lambda: {"validation": 0.5})
    >>> [record for _, record in sequential_runner([trial])]
    [{'validation': 0.5}]
    """
    for trial in trials:
        yield trial, trial.run()


def load_records(path) -> dict:
    """Finished records of a JSON-lines results file, by trial id.

    A last line cut short by an interruption is ignored.
    """
    records = {}
    if path is None or not os.path.exists(path):
        return records
    with open(path, encoding="utf-8") as file:
        for line in file:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            key = json.dumps(entry.pop("key"), sort_keys=True)
            records[key] = entry
    return records


def run_trials(
    trials: list[Trial],
    runner: Callable | None = None,
    results_file: str | os.PathLike | None = None,
    verbose: int = 1,
    n_jobs: int = 1,
) -> list[dict]:
    """Runs the unfinished trials and returns every trial's record.

    Args:
        trials: The trials, each with a distinct key.
        runner: ``runner(trials)`` yielding ``(trial, record)`` pairs;
            None for `sequential_runner`.
        results_file: A JSON-lines file of finished trials: those found
            there are not run again, and each new record is appended (and
            flushed) when its trial finishes. None keeps nothing. Trials
            are recognized by their key alone (study, size or value,
            seed, error), not by the model or the data: use one file per
            study.
        verbose: 1 prints one line per finished trial with the time
            left; 0 prints nothing.
        n_jobs: 1 runs the trials here, one after the other; ``n > 1``
            runs them in ``n`` new processes ('spawn'), which needs
            picklable trials: ``build_model`` and any function or callback
            in ``fit_kwargs`` defined at the top level of a module (or a
            `functools.partial` of one), not a lambda or a local function
            (a `TypeError` naming ``n_jobs`` says which trial fails).
            Only with ``runner=None``.

    Returns:
        The records, in the order of ``trials``.

    Example:
    >>> from keras_regkit.diagnostics import Trial, run_trials
    >>> trials = [Trial({"i": i}, lambda i=i: {"validation": i / 2})
    ...           for i in range(3)]
    >>> run_trials(trials, verbose=0)
    [{'validation': 0.0}, {'validation': 0.5}, {'validation': 1.0}]
    """
    owner = "run_trials"
    verbose = _validation.check_int(
        "verbose", verbose, low=0, high=1, owner=owner
    )
    n_jobs = _processes.check_n_jobs(n_jobs, owner=owner)
    if runner is not None and n_jobs != 1:
        raise _validation.invalid(
            "n_jobs",
            "1 when a runner is given (n_jobs chooses the local runner)",
            n_jobs,
            owner=owner,
        )
    if runner is None:
        runner = (
            sequential_runner
            if n_jobs == 1
            else _processes.process_runner(n_jobs)
        )
    if not callable(runner):
        raise _validation.invalid(
            "runner",
            "None or a callable runner(trials)",
            runner,
            owner=owner,
            error=TypeError,
        )
    ids = [trial.id for trial in trials]
    if len(set(ids)) != len(ids):
        raise _validation.invalid(
            "trials", "trials with distinct keys", ids, owner=owner
        )
    records = load_records(results_file)
    pending = [trial for trial in trials if trial.id not in records]
    done, total, start = len(trials) - len(pending), len(trials), time.time()
    if verbose and done:
        print(f"{done} of {total} trials found in {results_file}", flush=True)
    finished = 0
    try:
        for trial, record in runner(pending):
            records[trial.id] = record
            if results_file is not None:
                _append(results_file, trial.key, record)
            finished += 1
            if verbose:
                elapsed = time.time() - start
                left = elapsed / finished * (len(pending) - finished)
                print(
                    _progress_line(done + finished, total, trial, record, left),
                    flush=True,
                )
    except KeyboardInterrupt:
        where = (
            f"kept in {results_file}: run again to resume"
            if results_file is not None
            else "lost: pass results_file= to keep them"
        )
        print(
            f"Interrupted after {done + finished} of {total} trials; "
            f"finished trials are {where}.",
            file=sys.stderr,
            flush=True,
        )
        raise
    return [records[trial_id] for trial_id in ids]


def _append(path, key, record):
    with open(path, "a+b") as file:
        # After a line cut short by an interruption, start a new one.
        size = file.seek(0, os.SEEK_END)
        if size:
            file.seek(size - 1)
            if file.read(1) != b"\n":
                file.write(b"\n")
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps({"key": key, **record}) + "\n")
        file.flush()


def _progress_line(index, total, trial, record, left) -> str:
    key = dict(trial.key)
    if "param" in key and "value" in key:
        key = {key.pop("param"): key.pop("value"), **key}
    what = " ".join(
        f"{k}={v}"
        for k, v in key.items()
        if k not in ("study", "error", "examples")
    )
    numbers = " ".join(
        f"{k} {v:.4g}"
        for k, v in record.items()
        if k in ("train", "validation", "test") and v is not None
    )
    return f"[{index}/{total}] {what}: {numbers} (ETA {left:.0f} s)"


def fit_and_measure(
    build, seed, train, validation, test, fit_kwargs, metric, batch_size=1024
) -> dict:
    """One trial's work: seed, build, fit, then measure the errors.

    The global seeds are set (``keras.utils.set_random_seed(seed)``) right
    before ``build()``, so for one seed every variant starts from the same
    initial weights and sees the data in the same order where its layers
    allow. The training error is measured on the whole training subset,
    in inference mode, after training (see `_error.measure`).

    Returns:
        ``{"train", "validation", "test" (None without test data),
        "seconds"}``.
    """
    start = time.time()
    keras.utils.set_random_seed(seed)
    model = build()
    if not isinstance(model, keras.Model) or not getattr(
        model, "compiled", False
    ):
        raise _validation.invalid(
            "build_model",
            "a function returning a compiled keras.Model",
            model,
            owner="diagnostics",
            error=TypeError,
        )
    kwargs = {"verbose": 0, **fit_kwargs}
    model.fit(*train, **kwargs)
    errors = {
        name: None
        if data is None
        else _error.measure(model, data, metric, batch_size)
        for name, data in (
            ("train", train),
            ("validation", validation),
            ("test", test),
        )
    }
    return {**errors, "seconds": round(time.time() - start, 3)}
