"""The demo: a real --quick run, its table and pictures; bad flags."""

import importlib.metadata
import io
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import keras_regkit as rk
from keras_regkit import demo
from keras_regkit.demo import cli
from keras_regkit.demo import data
from keras_regkit.demo import report
from keras_regkit.demo import training
from keras_regkit.demo import variants


def _table_rows(output):
    lines = [line for line in output.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in lines[1:]
    ]
    return header, rows


@pytest.mark.slow
def test_quick_run_prints_every_variant_and_writes_pictures(tmp_path, capsys):
    # A tiny budget (2 epochs, 1 seed); the demo's own --quick is longer.
    argv = ["--quick", "--epochs", "2", "--seeds", "1", "--out", str(tmp_path)]
    assert demo.main(argv) == 0
    output = capsys.readouterr().out
    header, rows = _table_rows(output)
    assert header == list(report.TABLE_COLUMNS)
    assert [row[0] for row in rows] == variants.names()
    for row in rows:
        means, stds = zip(*(_mean_std(cell) for cell in row[1:]), strict=True)
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
        _assert_png(path)


def _mean_std(cell):
    mean, std = cell.split(" ± ")
    return float(mean), float(std)


def _assert_png(path):
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and min(image.size) > 200
        assert np.asarray(image.convert("L")).std() > 5  # not blank


def _fake_results(seeds=(3, 4, 5), names=("none", "sam")):
    """Per-seed results with random numbers, variants interleaved."""
    rng = np.random.default_rng(1)
    results = []
    for seed in seeds:
        for name in names:
            epochs = int(rng.integers(2, 6))
            results.append(
                training.Result(
                    name,
                    train_acc=float(rng.uniform(0.9, 1.0)),
                    val_acc=float(rng.uniform(0.8, 0.95)),
                    test_acc=float(rng.uniform(0.8, 0.95)),
                    epochs_run=epochs,
                    best_epoch=1,
                    seconds=float(rng.uniform(1, 9)),
                    history={
                        "xent": list(rng.uniform(0.1, 1, epochs)),
                        "val_xent": list(rng.uniform(0.1, 1, epochs)),
                    },
                    seed=seed,
                )
            )
    return results


def test_summary_is_mean_and_sample_std_over_seeds():
    results = _fake_results()
    summaries = report.summarize(results[::-1])  # order does not matter
    assert [s.name for s in summaries] == ["sam", "none"]
    for summary in summaries:
        mine = [r for r in results if r.name == summary.name]
        assert [r.seed for r in summary.results] == [3, 4, 5]
        assert summary.seeds == 3
        columns = {
            "train_acc": [r.train_acc for r in mine],
            "val_acc": [r.val_acc for r in mine],
            "test_acc": [r.test_acc for r in mine],
            "gap": [r.train_acc - r.test_acc for r in mine],
            "epochs_run": [r.epochs_run for r in mine],
            "seconds": [r.seconds for r in mine],
        }
        assert sorted(summary.mean) == sorted(columns)
        for quantity, values in columns.items():
            assert summary.mean[quantity] == pytest.approx(np.mean(values))
            assert summary.std[quantity] == pytest.approx(
                np.std(values, ddof=1)
            )
            assert summary.std[quantity] > 0
    table = report.format_table(summaries)
    header, rows = _table_rows(table)
    assert header == list(report.TABLE_COLUMNS)
    for row, summary in zip(rows, summaries, strict=True):
        for cell, (quantity, _) in zip(row[1:], report.QUANTITIES, strict=True):
            mean, std = _mean_std(cell)
            digits = 1 if quantity in ("epochs_run", "seconds") else 3
            assert mean == round(summary.mean[quantity], digits)
            assert std == round(summary.std[quantity], digits)


def test_one_seed_has_zero_std():
    (summary,) = report.summarize(_fake_results(seeds=(0,), names=("x",)))
    assert set(summary.std.values()) == {0.0}
    assert summary.mean["gap"] == pytest.approx(
        summary.results[0].train_acc - summary.results[0].test_acc
    )


def test_run_trains_every_variant_with_every_seed(tmp_path, monkeypatch):
    """`run` without training: fake data and results, real report."""
    calls = []
    fakes = iter(_fake_results(seeds=(7, 8, 9), names=("none", "swa")))

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
        _assert_png(tmp_path / name)


def test_seeds_flag_defaults():
    assert cli.parse_args([]).seeds == cli.DEFAULT_SEEDS
    assert cli.parse_args(["--quick"]).seeds == cli.QUICK_SEEDS
    assert cli.parse_args(["--quick", "--seeds", "4"]).seeds == 4
    assert cli.QUICK_SEEDS <= cli.DEFAULT_SEEDS


def test_sam_and_swa_are_one_record_each():
    setup = variants.Setup(num_examples=300, epochs=8, seed=0)
    sam, swa = variants.get("sam"), variants.get("swa")
    assert (sam.callbacks, sam.layers, sam.regularizer) == (None,) * 3
    assert (swa.wrap_model, swa.layers, swa.regularizer) == (None,) * 3
    (callback,) = swa.callbacks(setup)
    assert isinstance(callback, rk.callbacks.SWA)
    assert callback.start == variants.SWA_START
    images = np.zeros((10, 8, 8, 1), "float32")
    labels = np.arange(10, dtype="int32") % 3
    splits = data.Splits(*[images, labels] * 3, num_classes=3, source="t")
    model = training.build_model(splits, sam, setup)
    assert isinstance(model, rk.training.SAM)
    assert model.rho == variants.SAM_RHO and not model.adaptive
    assert model.optimizer is not None  # the wrapper is what was compiled
    assert model.predict(images, verbose=0).shape == (10, 3)
    combined = variants.get("combined")
    assert combined.wrap_model is None


def test_gap_is_train_minus_test():
    result = training.Result("x", 0.9, 0.8, 0.75, 3, 2, 1.0, {})
    assert result.gap == pytest.approx(0.15)
    table = report.format_table(report.summarize([result]))
    assert "+0.150 ± 0.000" in table


def test_user_npz_data(tmp_path, capsys):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 700)
    images = rng.random((700, 6, 10)) * 0.2 + labels[:, None, None] / 3
    path = tmp_path / "mine.npz"
    np.savez(path, images=images, labels=labels)
    code = demo.main(
        [
            "--data",
            str(path),
            "--epochs",
            "1",
            "--seeds",
            "1",
            "--variants",
            "none,l2",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    _, rows = _table_rows(capsys.readouterr().out)
    assert [row[0] for row in rows] == ["none", "l2"]


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
    assert result.stderr.strip().splitlines() == [
        "keras-regkit-demo: error: unknown variant(s) nope; choose from "
        + ", ".join(variants.names())
    ]


def test_console_script_is_declared():
    scripts = importlib.metadata.entry_points(group="console_scripts")
    (entry,) = [e for e in scripts if e.name == "keras-regkit-demo"]
    assert entry.value == "keras_regkit.demo:main"


def test_combined_is_the_union_of_its_parts():
    setup = variants.Setup(num_examples=300, epochs=8, seed=5)
    combined = variants.get("combined")
    regularizer = combined.regularizer(setup)
    assert regularizer.get_config()["lam"] == variants.L2_LAMBDA
    assert regularizer.get_config()["num_examples"] == 300
    layers = combined.layers(setup)
    assert sorted(layers) == sorted(variants.SLOTS)
    assert type(layers["features"]).__name__ == "DropBlock2D"
    assert [type(c).__name__ for c in combined.callbacks(setup)] == [
        "ScheduleCallback",
        "EarlyStopping",
    ]
    assert [type(op).__name__ for op in combined.augmentation(setup)] == [
        "RandomTranslation",
        "RandomRotation",
        "RandomZoom",
    ]
    assert combined.wrap_model is None
    assert variants.get("none") == variants.Variant("none", "no regularization")


def test_combine_refuses_two_regularizers_and_a_shared_slot():
    l2 = variants.get("l2")
    with pytest.raises(ValueError, match="more than one part sets the reg"):
        variants.combine("x", "x", l2, l2)
    dropout = variants.get("dropout")
    twice = variants.combine("y", "y", dropout, dropout)
    with pytest.raises(ValueError, match="two parts fill the same slot"):
        twice.layers(variants.Setup(300, 8, 0))


def test_a_new_variant_is_one_record(monkeypatch):
    seen = []
    extra = variants.Variant(
        "marked",
        "a test record",
        wrap_model=lambda model, setup: seen.append(setup) or model,
    )
    monkeypatch.setattr(variants, "VARIANTS", [*variants.VARIANTS, extra])
    assert cli.parse_args(["--variants", "marked"]).variants == ["marked"]
    images = np.zeros((10, 8, 8, 1), "float32")
    labels = np.arange(10, dtype="int32") % 3
    splits = data.Splits(*[images, labels] * 3, num_classes=3, source="t")
    setup = variants.Setup(num_examples=10, epochs=1, seed=0)
    model = training.build_model(splits, extra, setup)
    assert seen == [setup]
    assert model.output_shape == (None, 3)
