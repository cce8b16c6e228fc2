"""The demo: a real --quick run, its table and pictures; bad flags."""

import importlib.metadata
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

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
    assert demo.main(["--quick", "--out", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    header, rows = _table_rows(output)
    assert header == list(report.TABLE_COLUMNS)
    assert [row[0] for row in rows] == variants.names()
    for row in rows:
        train, val, test, gap = (float(cell) for cell in row[1:5])
        assert 0 <= test <= 1 and 0 <= train <= 1 and 0 <= val <= 1
        assert gap == pytest.approx(train - test, abs=1.5e-3)
        epochs, best = int(row[5]), int(row[6])
        assert 1 <= best <= epochs <= cli.QUICK_EPOCHS
    # Progress: one line per variant and epoch.
    assert len(re.findall(r"\[none\] epoch", output)) == cli.QUICK_EPOCHS
    for name in ("learning_curves.png", "generalization_gap.png"):
        path = tmp_path / name
        assert f"wrote {path}" in output
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.format == "PNG" and min(image.size) > 200
            assert np.asarray(image.convert("L")).std() > 5  # not blank


def test_gap_is_train_minus_test():
    result = training.Result("x", 0.9, 0.8, 0.75, 3, 2, 1.0, {})
    assert result.gap == pytest.approx(0.15)
    table = report.format_table([result])
    assert "+0.150" in table


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
