import keras
import matplotlib
import numpy as np
import pytest
import scipy.stats

from keras_regkit.diagnostics import ComparisonResult
from keras_regkit.diagnostics import compare

NONE = np.array([0.131, 0.129, 0.127, 0.138, 0.126])
AUGMENT = np.array([0.112, 0.118, 0.109, 0.121, 0.115])


def test_paired_differences_against_scipy():
    result = ComparisonResult(
        names=["none", "augment"],
        seeds=list(range(5)),
        errors={"validation": {"none": NONE, "augment": AUGMENT}},
        error="loss",
    )
    d = result.difference("augment")
    reference = scipy.stats.ttest_rel(AUGMENT, NONE)
    low, high = reference.confidence_interval(0.95)
    assert (d.low, d.high) == pytest.approx((low, high), rel=1e-9)
    assert d.p_value == pytest.approx(reference.pvalue, rel=1e-6)
    text = str(result)
    assert "paired t, 95% CI over 5 seeds" in text
    assert f"{d.mean:+.4g} ± {d.half_width:.2g}" in text
    assert result.rows()[1]["difference"] == pytest.approx(
        np.mean(AUGMENT - NONE)
    )


def _model(rate):
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dropout(rate), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.SGD(0.05), "mse", run_eagerly=True)
    return model


def test_same_seed_same_initial_weights_and_data_order():
    # Two identical variants differ by exactly zero on every seed; the
    # seeds themselves give different numbers.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) + rng.normal(size=(64, 1))).astype(
        "float32"
    )
    result = compare(
        {"a": lambda: _model(0.0), "b": lambda: _model(0.0)},
        (x[:48], y[:48]),
        validation_data=(x[48:], y[48:]),
        seeds=[0, 1],
        fit_kwargs={"epochs": 1, "batch_size": 16},
        verbose=0,
    )
    np.testing.assert_array_equal(
        result.errors["validation"]["a"], result.errors["validation"]["b"]
    )
    assert result.difference("b").mean == 0.0
    a = result.errors["validation"]["a"]
    assert a[0] != a[1]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(variants={"a": _model}), TypeError, "`variants`"),
        (dict(seeds=[0]), ValueError, "at least two seeds"),
        (dict(baseline="c"), ValueError, "`baseline`"),
        (dict(confidence=95), ValueError, "`confidence`"),
        (
            dict(variants={"a": _model, "b": "model"}),
            TypeError,
            "`variants`",
        ),
    ],
)
def test_bad_arguments(kwargs, error, match):
    data = (np.zeros((8, 3), "float32"), np.zeros((8, 1), "float32"))
    arguments = dict(
        variants={"a": _model, "b": _model},
        data=data,
        validation_data=data,
        seeds=2,
        verbose=0,
    )
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        compare(**arguments)


def test_plot_shows_each_difference_with_its_interval():
    matplotlib.use("Agg")
    result = ComparisonResult(
        names=["none", "augment"],
        seeds=list(range(5)),
        errors={"validation": {"none": NONE, "augment": AUGMENT}},
        error="loss",
    )
    ax = result.plot()
    d = result.difference("augment")
    bars = ax.containers[0]
    assert bars.lines[0].get_xdata()[0] == pytest.approx(d.mean)
    segment = bars.lines[2][0].get_segments()[0]
    assert segment[:, 0] == pytest.approx([d.low, d.high])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["augment"]
    matplotlib.pyplot.close("all")


def test_the_baseline_comes_first():
    result = ComparisonResult(
        names=["augment", "none"],
        seeds=list(range(5)),
        errors={"validation": {"none": NONE, "augment": AUGMENT}},
        error="loss",
    )
    assert result.baseline == "augment"
    assert result.difference("none").mean == pytest.approx(
        np.mean(NONE - AUGMENT)
    )
