"""The demo's command line: a real (tiny) run, `run` composed of the
diagnostics steps, flags, exit status."""

import importlib.metadata
import io
import re
import subprocess
import sys

import numpy as np
import pytest
from demo import demo_helpers as _h

from keras_regkit import demo
from keras_regkit import diagnostics
from keras_regkit.demo import cli
from keras_regkit.demo import data
from keras_regkit.demo import report
from keras_regkit.demo import steps
from keras_regkit.demo import variants


@pytest.mark.slow
def test_tiny_real_run_prints_three_steps_and_writes_pictures(
    tmp_path, capsys, monkeypatch
):
    # --quick with 1 epoch, two variants and one training size: 8 trials.
    monkeypatch.setattr(steps, "QUICK_TRAIN_SIZES", (1.0,))
    argv = ["--quick", "--epochs", "1", "--variants", "none,dropout"]
    assert demo.main([*argv, "--out", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "20% of the training and validation labels replaced" in output
    # Progress: which size, variant or value, which seed, the time left.
    for pattern in (
        r"\[1/1\] size=300 seed=0: train \S+ validation \S+ test \S+ "
        r"\(ETA \d+ s\)",
        r"\[4/4\] variant=dropout seed=1: .* \(ETA \d+ s\)",
        r"\[3/3\] dropout_rate=0.8 seed=0: .* \(ETA \d+ s\)",
    ):
        assert re.search(pattern, output), pattern
    for heading in (
        "LearningCurveResult: error (1 - accuracy)",
        "ComparisonResult: paired t, 95% CI over 2 seeds",
        "[3/3] validation curve of 'dropout'",
        "ValidationCurveResult: error (1 - accuracy)",
        "one-standard-error choice dropout_rate=",
    ):
        assert heading in output
    for name in (report.LEARNING_CURVE, report.COMPARISON):
        assert f"wrote {tmp_path / name}" in output
        _h.assert_png(tmp_path / name)
    _h.assert_png(tmp_path / report.VALIDATION_CURVE)


def _fake_steps(monkeypatch, calls, swept="dropout"):
    def learning_curve_step(splits, name, epochs, seeds, n_jobs, sizes):
        calls.append(
            ("learning_curve", name, epochs, list(seeds), n_jobs, sizes)
        )
        curve = _h.fake_curve(seeds=seeds)
        return curve, diagnostics.diagnose(curve, target_error=splits.noise)

    def compare_step(splits, names, epochs, seeds, n_jobs):
        calls.append(("compare", list(names), epochs, list(seeds), n_jobs))
        return _h.fake_comparison(names, seeds)

    def validation_curve_step(splits, name, epochs, seeds, n_jobs, values):
        calls.append(("sweep", name, epochs, list(seeds), n_jobs, values))
        param = variants.get(name).strength.name
        return _h.fake_sweep(param, values, seeds)

    def load_data(path, seed, noise):
        calls.append(("data", path, seed, noise))
        images = np.zeros((4, 8, 8, 1), "float32")
        labels = np.zeros(4, "int32")
        return data.Splits(*[images, labels] * 3, 10, "fake", noise)

    monkeypatch.setattr(steps, "learning_curve_step", learning_curve_step)
    monkeypatch.setattr(steps, "compare_step", compare_step)
    monkeypatch.setattr(steps, "validation_curve_step", validation_curve_step)
    monkeypatch.setattr(steps, "most_useful", lambda comparison: swept)
    monkeypatch.setattr(data, "load_data", load_data)


def test_run_composes_the_three_diagnostics_steps(tmp_path, monkeypatch):
    calls = []
    _fake_steps(monkeypatch, calls)
    args = cli.parse_args(
        ["--seed", "7", "--seeds", "4", "--epochs", "3", "--noise", "0.1"]
        + ["--variants", "none,l2,dropout", "--jobs", "2"]
        + ["--out", str(tmp_path)]
    )
    stream = io.StringIO()
    results = cli.run(args, stream)
    strength = variants.get("dropout").strength
    assert calls == [
        ("data", None, 7, 0.1),
        ("learning_curve", "none", 3, [7, 8], 2, steps.TRAIN_SIZES),
        ("compare", ["none", "l2", "dropout"], 3, [7, 8, 9, 10], 2),
        ("sweep", "dropout", 3, [7, 8], 2, list(strength.values)),
    ]
    output = stream.getvalue()
    for result in ("learning_curve", "diagnosis", "comparison"):
        assert str(results[result]) in output
    assert str(results["validation_curve"]) in output
    assert output.index("[1/3]") < output.index("[2/3]") < output.index("[3/3]")
    assert results["swept"] == "dropout"
    assert [p.rsplit("/", 1)[-1] for p in results["pictures"]] == [
        report.LEARNING_CURVE,
        report.COMPARISON,
        report.VALIDATION_CURVE,
    ]
    for path in results["pictures"]:
        assert f"wrote {path}" in output
        _h.assert_png(path)


def test_quick_sweeps_three_values_on_one_seed(tmp_path, monkeypatch):
    calls = []
    _fake_steps(monkeypatch, calls)
    cli.run(cli.parse_args(["--quick", "--out", str(tmp_path)]), io.StringIO())
    values = list(variants.get("dropout").strength.values[::2])
    assert calls[1] == (
        "learning_curve",
        "none",
        cli.QUICK_EPOCHS,
        [0],
        1,
        steps.QUICK_TRAIN_SIZES,
    )
    assert calls[2][1] == list(cli.QUICK_VARIANTS)
    assert calls[3] == ("sweep", "dropout", cli.QUICK_EPOCHS, [0], 1, values)


def test_without_a_strength_to_sweep_two_pictures(tmp_path, monkeypatch):
    calls = []
    _fake_steps(monkeypatch, calls, swept=None)
    args = cli.parse_args(
        ["--variants", "none,early_stopping", "--out", str(tmp_path)]
    )
    stream = io.StringIO()
    results = cli.run(args, stream)
    assert [c[0] for c in calls] == ["data", "learning_curve", "compare"]
    assert results["validation_curve"] is None
    assert len(results["pictures"]) == 2
    assert "no compared variant has a strength" in stream.getvalue()


def test_flag_defaults():
    args = cli.parse_args([])
    assert (args.seeds, args.epochs) == (cli.DEFAULT_SEEDS, cli.DEFAULT_EPOCHS)
    assert args.variants == list(variants.DEFAULT_VARIANTS)
    assert (args.noise, args.jobs) == (cli.DEFAULT_NOISE, cli.default_jobs())
    quick = cli.parse_args(["--quick"])
    assert (quick.seeds, quick.epochs) == (cli.QUICK_SEEDS, cli.QUICK_EPOCHS)
    assert quick.jobs == 1
    assert cli.parse_args(["--quick", "--jobs", "2"]).jobs == 2
    assert quick.variants == list(cli.QUICK_VARIANTS)
    assert cli.parse_args(["--quick", "--seeds", "4"]).seeds == 4
    assert cli.parse_args(["--variants", "l2,none,l2"]).variants == [
        "l2",
        "none",
    ]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--variants", "none,bogus"], "unknown variant(s) bogus"),
        (["--variants", "none"], "--variants needs at least two"),
        (["--epochs", "-3"], "--epochs must be >= 1, got -3"),
        (["--epochs", "many"], "invalid int value: 'many'"),
        (["--seeds", "1"], "--seeds must be >= 2"),
        (["--quick", "--seeds", "-2"], "--seeds must be >= 2"),
        (["--seeds", "2.5"], "invalid int value: '2.5'"),
        (["--seed", "-1"], "--seed must be >= 0, got -1"),
        (["--noise", "1"], "--noise must be in [0, 1), got 1.0"),
        (["--noise", "-0.1"], "--noise must be in [0, 1), got -0.1"),
        (["--jobs", "0"], "--jobs must be >= 1, got 0"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_bad_flags_exit_2_with_one_line(argv, message, capsys):
    assert demo.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("keras-regkit-demo: error:")
    assert message in err


def test_unwritable_out_and_bad_data(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert demo.main(["--out", str(blocker / "sub"), "--epochs", "1"]) == 2
    assert "cannot be written" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    np.savez(bad, pixels=np.zeros(3))
    assert demo.main(["--data", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert (
        "expected an .npz with `images` and `labels`" in capsys.readouterr().err
    )


@pytest.mark.new_process
def test_bad_flag_as_a_process_has_no_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "keras_regkit.demo", "--variants", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    # `import keras_regkit` imports TensorFlow (to register augment's
    # objects), whose C++ logging may print before Python runs: those
    # lines are TensorFlow's, not the demo's.
    tensorflow_log = re.compile(
        r"^(WARNING: All log messages before absl|[IWEF]\d{4} )"
    )
    lines = result.stderr.strip().splitlines()
    assert [line for line in lines if not tensorflow_log.match(line)] == [
        "keras-regkit-demo: error: unknown variant(s) nope; choose from "
        + ", ".join(variants.names())
    ]


def test_console_script_is_declared():
    scripts = importlib.metadata.entry_points(group="console_scripts")
    (entry,) = [e for e in scripts if e.name == "keras-regkit-demo"]
    assert entry.value == "keras_regkit.demo:main"
