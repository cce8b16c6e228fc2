"""The demo's pictures: each result's own plot, written as a PNG."""

from demo import demo_helpers as _h

from keras_regkit.demo import report


def test_three_pictures(tmp_path):
    paths = [
        report.plot_curve(_h.fake_curve(), "none", str(tmp_path)),
        report.plot_comparison(_h.fake_comparison(), str(tmp_path)),
        report.plot_curve(_h.fake_sweep(), "dropout", str(tmp_path)),
    ]
    assert paths == [
        str(tmp_path / name)
        for name in (
            report.LEARNING_CURVE,
            report.COMPARISON,
            report.VALIDATION_CURVE,
        )
    ]
    for path in paths:
        _h.assert_png(path)
