"""The demo's command line: a real --quick run, `run`, flags, exit status."""

import importlib.metadata
import importlib.util
import io
import re
import subprocess
import sys

import numpy as np
import pytest
from demo import demo_helpers as _h

from keras_regkit import demo
from keras_regkit.demo import cli
from keras_regkit.demo import data
from keras_regkit.demo import report
from keras_regkit.demo import training
from keras_regkit.demo import variants


@pytest.mark.slow
def test_quick_run_prints_every_variant_and_writes_pictures(tmp_path, capsys):
    # A tiny budget (2 epochs, 1 seed); the demo's own --quick is longer.
    argv = ["--quick", "--epochs", "2", "--seeds", "1", "--out", str(tmp_path)]
    assert demo.main(argv) == 0
    output = capsys.readouterr().out
    header, rows = _h.table_rows(output)
    assert header == list(report.TABLE_COLUMNS)
    assert [row[0] for row in rows] == variants.names()
    for row in rows:
        means, stds = zip(*(_h.mean_std(cell) for cell in row[1:]), strict=True)
        train, val, test, gap, epochs, seconds = means
        assert 0 <= test <= 1 and 0 <= train <= 1 and 0 <= val <= 1
        assert gap == pytest.approx(train - test, abs=1.5e-3)
        assert epochs == 2 and seconds > 0
        assert stds == (0,) * 6  # one seed
    assert "mean ± std over 1 seed(s) (0):" in output
    # Progress: one line per variant, seed and epoch.
    assert len(re.findall(r"\[none seed 0\] epoch", output)) == 2
    assert len(re.findall(r"\[sam seed 0\] epoch", output)) == 2
    for name in ("learning_curves.png", "generalization_gap.png"):
        path = tmp_path / name
        assert f"wrote {path}" in output
        _h.assert_png(path)


def test_run_trains_every_variant_with_every_seed(tmp_path, monkeypatch):
    """`run` without training: fake data and results, real report."""
    calls = []
    fakes = iter(_h.fake_results(seeds=(7, 8, 9), names=("none", "swa")))

    def fake_train(variant, splits, epochs, seed, stream):
        calls.append((variant.name, splits.source, epochs, seed))
        result = next(fakes)
        assert (result.name, result.seed) == (variant.name, seed)
        return result

    def fake_load(path, seed):
        images = np.zeros((4, 8, 8, 1), "float32")
        labels = np.zeros(4, "int32")
        return data.Splits(*[images, labels] * 3, 1, f"split {seed}")

    monkeypatch.setattr(training, "train_variant", fake_train)
    monkeypatch.setattr(data, "load_data", fake_load)
    args = cli.parse_args(
        ["--seed", "7", "--seeds", "3", "--epochs", "4"]
        + ["--variants", "none,swa", "--out", str(tmp_path)]
    )
    stream = io.StringIO()
    summaries = cli.run(args, stream)
    assert calls == [
        (name, f"split {seed}", 4, seed)
        for seed in (7, 8, 9)
        for name in ("none", "swa")
    ]
    assert [s.seeds for s in summaries] == [3, 3]
    output = stream.getvalue()
    assert "mean ± std over 3 seed(s) (7, 8, 9):" in output
    assert report.format_table(summaries) in output
    for name in ("learning_curves.png", "generalization_gap.png"):
        _h.assert_png(tmp_path / name)


def test_seeds_flag_defaults():
    assert cli.parse_args([]).seeds == cli.DEFAULT_SEEDS
    assert cli.parse_args(["--quick"]).seeds == cli.QUICK_SEEDS
    assert cli.parse_args(["--quick", "--seeds", "4"]).seeds == 4
    assert cli.QUICK_SEEDS <= cli.DEFAULT_SEEDS


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--variants", "none,bogus"], "unknown variant(s) bogus"),
        (["--epochs", "-3"], "--epochs must be >= 1, got -3"),
        (["--epochs", "many"], "invalid int value: 'many'"),
        (["--seeds", "0"], "--seeds must be >= 1, got 0"),
        (["--quick", "--seeds", "-2"], "--seeds must be >= 1, got -2"),
        (["--seeds", "2.5"], "invalid int value: '2.5'"),
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
