"""The demo's one error type: a DemoError ends a run with exit status 2."""

import pytest

from keras_regkit import demo
from keras_regkit.demo import data
from keras_regkit.demo.errors import DemoError


def test_a_demo_error_is_one_line_and_exit_status_2(
    tmp_path, monkeypatch, capsys
):
    def fail(path, seed):
        raise DemoError("the data is bad")

    monkeypatch.setattr(data, "load_data", fail)
    assert demo.main(["--epochs", "1", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "keras-regkit-demo: error: the data is bad\n"
    )


def test_other_errors_are_not_demo_errors(tmp_path, monkeypatch):
    def fail(path, seed):
        raise RuntimeError("a bug")

    monkeypatch.setattr(data, "load_data", fail)
    assert not issubclass(RuntimeError, DemoError)
    with pytest.raises(RuntimeError, match="a bug"):
        demo.main(["--epochs", "1", "--out", str(tmp_path)])
