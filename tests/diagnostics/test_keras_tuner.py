"""keras_tuner_runner: the trials as a KerasTuner search, in this process
and in KerasTuner's distributed mode (a chief and two workers on
localhost), each giving the default runner's records trial for trial."""

import json
import os
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

pytest.importorskip(
    "keras_tuner",
    reason="keras-tuner is not installed: the test extra must install it "
    "(keras_tuner_runner is untested without it)",
)

from keras_regkit.diagnostics import Trial  # noqa: E402
from keras_regkit.diagnostics import keras_tuner_runner  # noqa: E402
from keras_regkit.diagnostics import learning_curve  # noqa: E402
from keras_regkit.diagnostics import run_trials  # noqa: E402

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)
TIMEOUT_S = 240


def build():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    return model


def study(runner=None, results_file=None, before_fit=None):
    """2 sizes x 2 seeds of a small SGD-trained linear model."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype("float32")
    y += 0.1 * rng.normal(size=y.shape).astype("float32")

    def build_model():
        if before_fit is not None:
            before_fit()
        return build()

    return learning_curve(
        build_model,
        (x[:40], y[:40]),
        [20, 40],
        validation_data=(x[40:], y[40:]),
        seeds=2,
        fit_kwargs={"epochs": 2, "batch_size": 8},
        runner=runner,
        results_file=results_file,
        verbose=0,
    )


def records(path):
    """The results file's records by key, without the (varying) seconds."""
    out = {}
    with open(path, encoding="utf-8") as file:
        for line in file:
            entry = json.loads(line)
            entry.pop("seconds")
            out[json.dumps(entry.pop("key"), sort_keys=True)] = entry
    return out


def assert_same_result(result, expected):
    assert result.sizes == expected.sizes and result.seeds == expected.seeds
    for split in ("train", "validation"):
        np.testing.assert_array_equal(
            getattr(result, split), getattr(expected, split), err_msg=split
        )


def test_in_process_search_equals_the_sequential_runner(tmp_path):
    expected = study(results_file=tmp_path / "sequential.jsonl")
    runner = keras_tuner_runner(tmp_path / "kt", project_name="curve")
    result = study(runner, results_file=tmp_path / "kt.jsonl")
    assert_same_result(result, expected)
    assert records(tmp_path / "kt.jsonl") == records(
        tmp_path / "sequential.jsonl"
    )
    assert os.path.isdir(tmp_path / "kt" / "curve")


def test_a_failed_trial_is_named_after_the_others_finish(tmp_path):
    def work(i):
        if i == 1:
            raise ValueError("trial one is broken")
        return {"validation": float(i)}

    trials = [Trial({"i": i}, lambda i=i: work(i)) for i in range(3)]
    path = tmp_path / "results.jsonl"
    runner = keras_tuner_runner(str(tmp_path / "kt"))
    with pytest.raises(RuntimeError, match=r"1 of 3 trials failed") as info:
        run_trials(trials, runner=runner, results_file=path, verbose=0)
    assert "trial one is broken" in str(info.value)
    assert '{"i": 1}' in str(info.value)
    # The finished trials are kept: a rerun runs only the failed one.
    lines = path.read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["key"]["i"] for line in lines) == [0, 2]


def test_resumed_study_searches_only_the_unfinished_trials(tmp_path):
    calls = []

    def trials():
        return [
            Trial({"i": i}, lambda i=i: calls.append(i) or {"validation": i})
            for i in range(3)
        ]

    path = tmp_path / "results.jsonl"
    run_trials(trials()[:2], results_file=path, verbose=0)
    runner = keras_tuner_runner(tmp_path / "kt")
    out = run_trials(trials(), runner=runner, results_file=path, verbose=0)
    assert calls == [0, 1, 2] and out[2] == {"validation": 2}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"directory": 3}, TypeError, "argument `directory`"),
        ({"directory": ""}, TypeError, "argument `directory`"),
        ({"directory": "d", "project_name": ""}, ValueError, "project_name"),
        ({"directory": "d", "project_name": 1}, TypeError, "project_name"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        keras_tuner_runner(**kwargs)


# The user script: the same on the chief and on every worker. The workers
# wait for each other (a file each) and build_model sleeps a little, so
# that both workers take trials.
SCRIPT = """
import json
import os
import pathlib
import sys
import time

sys.path[:0] = os.environ["REGKIT_TEST_PATHS"].split(os.pathsep)
from diagnostics.test_keras_tuner import study
from keras_regkit.diagnostics import keras_tuner_runner

here = pathlib.Path.cwd()
me = os.environ.get("KERASTUNER_TUNER_ID")
before_fit = None
if me != "chief":
    (here / f"ready-{me}").touch()
    deadline = time.time() + 120
    while len(list(here.glob("ready-*"))) < 2 and time.time() < deadline:
        time.sleep(0.1)
    before_fit = lambda: time.sleep(0.5)
result = study(
    keras_tuner_runner(here / "kt", project_name="curve"),
    results_file=here / "results.jsonl",
    before_fit=before_fit,
)
# Only the chief gets here: a worker exits when the search is over.
assert me == "chief", me
splits = ("train", "validation")
errors = {split: getattr(result, split).tolist() for split in splits}
(here / "chief.json").write_text(json.dumps(errors))
print("chief done", result.sizes, result.seeds)
"""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.new_process
@pytest.mark.slow  # Three processes importing TensorFlow: about 30 s.
def test_chief_and_two_workers_on_localhost_equal_the_sequential_runner(
    tmp_path,
):
    script = tmp_path / "study.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.lower().endswith("_proxy")
        and not key.startswith("KERASTUNER_")
    }
    env.update(
        TF_CPP_MIN_LOG_LEVEL="3",
        REGKIT_TEST_PATHS=os.pathsep.join([TESTS, ROOT]),
        KERASTUNER_ORACLE_IP="127.0.0.1",
        KERASTUNER_ORACLE_PORT=str(free_port()),
        no_proxy="127.0.0.1,localhost",
    )
    processes = {}
    try:
        for tuner_id in ("chief", "tuner0", "tuner1"):
            processes[tuner_id] = subprocess.Popen(
                [sys.executable, str(script)],
                cwd=tmp_path,
                env={**env, "KERASTUNER_TUNER_ID": tuner_id},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        # Meanwhile, here: the same study with the default runner.
        expected = study(results_file=tmp_path / "sequential.jsonl")
        deadline = time.monotonic() + TIMEOUT_S
        outputs = {}
        for tuner_id, process in processes.items():
            left = max(1.0, deadline - time.monotonic())
            try:
                outputs[tuner_id] = process.communicate(timeout=left)
            except subprocess.TimeoutExpired:
                pytest.fail(f"{tuner_id} still running after {TIMEOUT_S} s")
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.communicate()
    for tuner_id, process in processes.items():
        out, err = outputs[tuner_id]
        assert process.returncode == 0, f"{tuner_id}:\n{out}\n{err[-6000:]}"
    assert "chief done [20, 40] [0, 1]" in outputs["chief"][0]
    ran = {}
    for tuner_id in ("tuner0", "tuner1"):
        out = outputs[tuner_id][0]
        prefix = f"KerasTuner worker {tuner_id}: ran "
        line = next(ln for ln in out.splitlines() if ln.startswith(prefix))
        ran[tuner_id] = int(line[len(prefix) :].split()[0])
    assert sum(ran.values()) == 4 and min(ran.values()) >= 1, ran
    # The chief's records (written as each arrived) equal the default
    # runner's, trial for trial.
    assert records(tmp_path / "results.jsonl") == records(
        tmp_path / "sequential.jsonl"
    )
    assert len(records(tmp_path / "results.jsonl")) == 4
    chief = json.loads((tmp_path / "chief.json").read_text())
    for split in ("train", "validation"):
        np.testing.assert_array_equal(
            chief[split], getattr(expected, split), err_msg=split
        )
