"""The demo's one error type: a DemoError ends a run with exit status 2."""

from keras_regkit import demo
from keras_regkit.demo import data
from keras_regkit.demo.errors import DemoError


def test_a_demo_error_is_one_line_and_exit_status_2(
    tmp_path, monkeypatch, capsys
):
    def fail(path, seed, noise):
        raise DemoError("the data is bad")

    monkeypatch.setattr(data, "load_data", fail)
    assert demo.main(["--epochs", "1", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "keras-regkit-demo: error: the data is bad\n"
    )
