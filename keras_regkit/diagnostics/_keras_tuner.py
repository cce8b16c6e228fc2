"""Running a study's trials as a KerasTuner search, here or on a cluster.

The trials of a study are independent, so they are a search in the sense
of KerasTuner (``pip install keras-tuner``): the one hyperparameter
``"trial"`` takes each trial's key (value or size, seed) as JSON, an
oracle hands them out in order, each once, and a tuner runs the one it is
given. A cluster that already runs KerasTuner's distributed mode runs the
curves unchanged: the same script on every machine, the role read from
the ``KERASTUNER_*`` environment variables.

Everything this module needs from KerasTuner is in `_keras_tuner` and the
two classes `_classes` defines.
"""

from __future__ import annotations

import functools
import json
import math
import numbers
import os
import queue
import threading
import time

from keras_regkit import _validation

TRIAL = "trial"
# What a tuner hands back to the oracle with a finished trial. KerasTuner's
# gRPC messages carry metrics as 32-bit floats and have no field for an
# error message; a hyperparameter *value* travels as it is, so the exact
# record (JSON) and a failed trial's traceback ride in two values that the
# oracle takes out again before recording the trial.
_RECORD = "keras_regkit_record"
_ERROR = "keras_regkit_error"
# How long a worker waits before asking again while every trial is out
# and some still run (the oracle answers IDLE until the last one ends).
_IDLE_WAIT_S = 0.2


def keras_tuner_runner(
    directory: str | os.PathLike, project_name: str = "keras_regkit"
):
    """A runner that runs the trials as a KerasTuner search.

    Pass it as ``runner=`` to `learning_curve`, `validation_curve`,
    `compare` or `run_trials`. The trials become a KerasTuner search over
    one hyperparameter, ``"trial"``: each trial's key as JSON (the study,
    the size or value, the seed), every one tried once, in the study's
    order. What happens depends on KerasTuner's environment variables,
    read when the study runs:

    - none set: the search runs in this process (trials one after the
      other, as the default runner, with KerasTuner's bookkeeping in
      ``directory/project_name``);
    - ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT`` and
      ``KERASTUNER_TUNER_ID=chief``: this process is the chief. It serves
      the oracle over gRPC and runs no trial itself; each trial a worker
      finishes is yielded as it arrives (so ``results_file`` grows and
      the progress lines print on the chief), and the study returns on
      the chief, with every record, once the search is over;
    - the same with another ``KERASTUNER_TUNER_ID`` (``tuner0``,
      ``tuner1``...): this process is a worker. It asks the chief for
      trials and runs them until none is left, then exits with status 0
      (`SystemExit`): the lines after the study (plots, prints) run on
      the chief only.

    Every process runs the same script, so builds the same trials: a
    worker finds the trial the chief names by its key. Each process needs
    the data; nothing but keys and records goes over the network. A
    record reaches the chief exactly as the trial returned it (its JSON),
    so the result equals the one the default runner gives, trial for
    trial (the ``seconds`` aside). KerasTuner's own metrics
    (``train``, ``validation``, ``test``, ``seconds``, rounded to 32-bit
    floats by its protocol) and objective (the lowest validation error)
    serve only its summaries.

    KerasTuner's project directory starts afresh with each study on the
    chief (``overwrite=True``; a worker keeps it): resuming is the
    ``results_file``'s job, and on a resumed study only the unfinished
    trials are searched. A trial that raises on a worker is not retried;
    once the search is over, the chief raises a `RuntimeError` naming it
    with the worker's traceback, after the finished trials were yielded
    (a rerun with the same ``results_file`` runs only the failed ones).

    Args:
        directory: KerasTuner's working directory (its oracle's and
            tuners' state).
        project_name: The folder inside ``directory``.

    Returns:
        A runner: ``runner(trials)`` yielding ``(trial, record)`` pairs
        in the order the trials finish.

    Raises:
        ImportError: If keras-tuner is not installed.

    Example:
    >>> import tempfile
    >>> from keras_regkit.diagnostics import Trial
    >>> from keras_regkit.diagnostics import keras_tuner_runner
    >>> from keras_regkit.diagnostics import run_trials
    >>> trials = [Trial({"i": i}, lambda i=i: {"validation": i / 2})
    ...           for i in range(3)]
    >>> runner = keras_tuner_runner(tempfile.mkdtemp())
    >>> run_trials(trials, runner=runner, verbose=0)
    [{'validation': 0.0}, {'validation': 0.5}, {'validation': 1.0}]

    On a cluster, the same script runs on every machine, with
    ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` naming the
    chief's address and ``KERASTUNER_TUNER_ID`` set to ``chief`` on one
    machine and to ``tuner0``, ``tuner1``... on the others.
    """
    owner = "keras_tuner_runner"
    if not isinstance(directory, (str, os.PathLike)) or not os.fspath(
        directory
    ):
        raise _validation.invalid(
            "directory",
            "a path (a non-empty str or os.PathLike)",
            directory,
            owner=owner,
            error=TypeError,
        )
    _validation.check_type(
        "project_name", project_name, str, "a non-empty str", owner=owner
    )
    if not project_name:
        raise _validation.invalid(
            "project_name", "a non-empty str", project_name, owner=owner
        )
    _keras_tuner()  # Says now, not when the study starts, what is missing.
    return functools.partial(_search, os.fspath(directory), project_name)


def role() -> str:
    """``"chief"``, ``"worker"`` or ``"local"``, as KerasTuner decides.

    KerasTuner runs distributed when ``KERASTUNER_ORACLE_IP`` is set; the
    process whose ``KERASTUNER_TUNER_ID`` contains ``"chief"`` serves the
    oracle, every other one is a worker.
    """
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "local"
    if "chief" in os.environ.get("KERASTUNER_TUNER_ID", ""):
        return "chief"
    return "worker"


def _search(directory, project_name, trials):
    trials = list(trials)
    if not trials:
        return
    oracle_class, tuner_class = _classes()
    by_id = {trial.id: trial for trial in trials}
    where = role()
    oracle = oracle_class(list(by_id))
    tuner = tuner_class(
        by_id,
        oracle=oracle,
        directory=directory,
        project_name=project_name,
        overwrite=where != "worker",
    )
    if where == "worker":
        tuner.search(verbose=0)
        print(
            f"KerasTuner worker {tuner.tuner_id}: ran {tuner.ran} trials; "
            "the chief has the results.",
            flush=True,
        )
        raise SystemExit(0)
    yield from _stream(tuner, oracle, by_id)


def _stream(tuner, oracle, by_id):
    """Runs the search in a thread (the chief's blocks serving the oracle)
    and yields each trial as the oracle records it."""
    done, outcome = object(), {}

    def search():
        try:
            tuner.search(verbose=0)
        except BaseException as error:  # Raised again below, in the caller.
            outcome["error"] = error
        finally:
            oracle.finished.put(done)

    thread = threading.Thread(
        target=search, name="keras_regkit-keras-tuner-search", daemon=True
    )
    thread.start()
    failed = []
    while (item := oracle.finished.get()) is not done:
        trial_id, record, error = item
        if record is None:
            failed.append((trial_id, error))
            continue
        yield by_id[trial_id], json.loads(record)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    if failed:
        details = "\n".join(
            f"{trial_id}:\n{error or '(no message)'}"
            for trial_id, error in failed
        )
        raise RuntimeError(
            f"{len(failed)} of {len(by_id)} trials failed in the KerasTuner "
            f"search (the others are done):\n{details}"
        )


def _metrics(record) -> dict:
    """KerasTuner's view of a record: its numbers, with the objective."""
    metrics = {
        name: float(value)
        for name, value in record.items()
        if isinstance(value, numbers.Real) and not isinstance(value, bool)
    }
    metrics.setdefault("validation", math.nan)
    return metrics


def _keras_tuner():
    try:
        import keras_tuner
    except ImportError:
        raise ImportError(
            "keras_tuner_runner() needs keras-tuner, which is not "
            "installed: `pip install keras-regkit[keras-tuner]` (or "
            "`pip install keras-tuner`)."
        ) from None
    return keras_tuner


@functools.cache
def _classes():
    """The oracle and tuner classes, defined once keras_tuner is imported
    (it imports TensorFlow, which the kit does not need otherwise)."""
    kt = _keras_tuner()
    status = kt.engine.trial.TrialStatus

    class GridOracle(kt.Oracle):
        """Hands out each trial id once, in order; records what returns."""

        def __init__(self, trial_ids):
            space = kt.HyperParameters()
            space.Choice(TRIAL, trial_ids)
            super().__init__(
                objective=kt.Objective("validation", "min"),
                hyperparameters=space,
                allow_new_entries=False,
                tune_new_entries=False,
                seed=1,  # Not drawn from Python's global generator.
                max_retries_per_trial=0,
                # Failures are reported once the search is over.
                max_consecutive_failed_trials=len(trial_ids) + 1,
            )
            self.trial_ids = trial_ids
            self.finished = queue.Queue()

        def populate_space(self, trial_id):
            started = {
                trial.hyperparameters.values.get(TRIAL)
                for trial in self.trials.values()
            }
            for candidate in self.trial_ids:
                if candidate not in started:
                    return {
                        "status": status.RUNNING,
                        "values": {TRIAL: candidate},
                    }
            # Every trial is out: the asking worker waits while others
            # run (rather than end, so that the chief stops as soon as
            # the last trial ends: KerasTuner's chief checks every 20 s
            # once a worker was told to stop with trials still running).
            if self.ongoing_trials:
                return {"status": status.IDLE}
            return {"status": status.STOPPED}

        def end_trial(self, trial):
            values = trial.hyperparameters.values
            record = values.pop(_RECORD, None)
            error = values.pop(_ERROR, None)
            try:
                super().end_trial(trial)
            finally:
                # A record is the trial's result whatever KerasTuner
                # thinks of it (a NaN validation error is INVALID there).
                self.finished.put((values[TRIAL], record, error))

    class TrialTuner(kt.engine.base_tuner.BaseTuner):
        """Runs the trial the oracle names and hands its record back."""

        def __init__(self, trials_by_id, **kwargs):
            super().__init__(**kwargs)
            self.trials_by_id = trials_by_id
            self.ran = 0
            self._asked_in_vain = False

        def pre_create_trial(self):
            # The last request got no trial (IDLE): wait before asking.
            if self._asked_in_vain:
                time.sleep(_IDLE_WAIT_S)
            self._asked_in_vain = True

        def on_trial_begin(self, trial):
            self._asked_in_vain = False

        def run_trial(self, trial, *args, **kwargs):
            trial_id = trial.hyperparameters.values[TRIAL]
            if trial_id not in self.trials_by_id:
                raise kt.errors.FailedTrialError(
                    f"The chief named the trial {trial_id}, which this "
                    f"process ({self.tuner_id}) does not have. Every "
                    "process must run the same study, with the same "
                    "results_file (or none)."
                )
            record = self.trials_by_id[trial_id].run()
            trial.hyperparameters.values[_RECORD] = json.dumps(record)
            self.ran += 1
            return _metrics(record)

        def on_trial_end(self, trial):
            if trial.status != status.COMPLETED and trial.message:
                trial.hyperparameters.values[_ERROR] = trial.message
            super().on_trial_end(trial)

    return GridOracle, TrialTuner
