"""ElasticNet: scikit-learn's parametrisation."""

import math

import helpers
import numpy as np
import pytest

from keras_regkit import schedules
from keras_regkit.regularizers import L1
from keras_regkit.regularizers import L2
from keras_regkit.regularizers import ElasticNet


def _kernel(shape=(5, 3)):
    return np.random.default_rng(3).normal(size=shape).astype("float32")


@pytest.mark.parametrize("alpha, l1_ratio", [(0.1, 0.5), (0.02, 0.9), (1.0, 0)])
def test_value_matches_sklearn_objective(alpha, l1_ratio):
    w = _kernel()
    expected = (
        alpha * l1_ratio * np.abs(w).sum()
        + 0.5 * alpha * (1 - l1_ratio) * np.square(w).sum()
    )
    np.testing.assert_allclose(
        ElasticNet(alpha, l1_ratio)(w), expected, rtol=1e-6
    )


def test_extremes_are_l1_and_l2():
    w = _kernel((2, 3, 4))
    np.testing.assert_allclose(ElasticNet(0.3, 1.0)(w), L1(0.3)(w), rtol=1e-6)
    np.testing.assert_allclose(ElasticNet(0.3, 0.0)(w), L2(0.15)(w), rtol=1e-6)


def test_gradient_matches_numpy():
    w_np = np.asarray(_kernel())
    grad, _ = helpers.gradient(lambda w: (ElasticNet(0.2, 0.25)(w), None), w_np)
    expected = 0.2 * (0.25 * np.sign(w_np) + 0.75 * w_np)
    np.testing.assert_allclose(grad, expected, rtol=1e-5)


@pytest.mark.parametrize("bad", [-0.1, 1.1, math.nan])
def test_bad_l1_ratio(bad):
    with pytest.raises(ValueError, match=r"argument `l1_ratio`.*\[0, 1\]"):
        ElasticNet(0.1, bad)


def test_bad_alpha():
    with pytest.raises(ValueError, match="argument `alpha`.*>= 0"):
        ElasticNet(-1.0)


@pytest.mark.compat("ElasticNet", "TensorFlow")
@pytest.mark.compat("ElasticNet", "JAX")
@pytest.mark.compat("ElasticNet", "PyTorch")
def test_fit_save_load_dense_and_conv(tmp_path):
    reg = ElasticNet(1e-3, 0.3)
    helpers.fit_save_load_dense_and_conv(reg, tmp_path)


def test_scheduled_alpha_without_retracing():
    reg = ElasticNet(schedules.Piecewise([1, 2], [0.0, 1.0, 2.0]), l1_ratio=1.0)
    history, traces = helpers.scheduled_penalty_run(reg, epochs=3)
    np.testing.assert_allclose(history["loss"], [0.0, 3.0, 6.0], rtol=1e-6)
    helpers.assert_not_retraced(traces)
