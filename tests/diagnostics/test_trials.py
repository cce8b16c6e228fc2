import json

import pytest

from keras_regkit.diagnostics import Trial
from keras_regkit.diagnostics import run_trials


def _trials(calls, count=3):
    def work(i):
        calls.append(i)
        return {"train": i / 10, "validation": i / 5, "test": None}

    return [
        Trial({"study": "t", "i": i}, lambda i=i: work(i)) for i in range(count)
    ]


def test_records_in_trial_order_with_a_progress_line_each(capsys):
    calls = []
    records = run_trials(_trials(calls))
    assert [r["validation"] for r in records] == [0.0, 0.2, 0.4]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("[1/3] i=0: train 0 validation 0 (ETA ")
    assert lines[-1].startswith("[3/3] i=2:") and lines[-1].endswith("s)")


def test_results_file_resumes_without_rerunning(tmp_path, capsys):
    path = tmp_path / "results.jsonl"
    first = []
    run_trials(_trials(first, count=2), results_file=path, verbose=0)
    # A line cut short by an interruption is ignored.
    with open(path, "a", encoding="utf-8") as file:
        file.write('{"key": {"study": "t", "i": 2}, "train"')
    again = []
    records = run_trials(_trials(again, count=3), results_file=path)
    assert first == [0, 1] and again == [2]
    assert [r["train"] for r in records] == [0.0, 0.1, 0.2]
    assert "2 of 3 trials found" in capsys.readouterr().out
    entries = [json.loads(line) for line in path.read_text().splitlines()[-1:]]
    assert entries[0]["key"] == {"study": "t", "i": 2}


def test_an_interrupted_study_keeps_finished_trials(tmp_path, capsys):
    path = tmp_path / "results.jsonl"

    def interrupt():
        raise KeyboardInterrupt

    trials = _trials([], count=2) + [Trial({"study": "t", "i": 9}, interrupt)]
    with pytest.raises(KeyboardInterrupt):
        run_trials(trials, results_file=path, verbose=0)
    assert len(path.read_text().splitlines()) == 2
    assert "Interrupted after 2 of 3 trials" in capsys.readouterr().err


def test_a_runner_may_finish_trials_in_any_order():
    def backwards(trials):
        for trial in reversed(list(trials)):
            yield trial, trial.run()

    records = run_trials(_trials([]), runner=backwards, verbose=0)
    assert [r["train"] for r in records] == [0.0, 0.1, 0.2]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(runner="fast"), TypeError, "`runner`"),
        (dict(verbose=2), ValueError, "`verbose`"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        run_trials(_trials([]), **kwargs)


def test_duplicate_keys_are_refused():
    trials = _trials([], count=1) * 2
    with pytest.raises(ValueError, match="distinct keys"):
        run_trials(trials, verbose=0)
