"""Orthogonal: soft orthogonality ||G - I||_F^2 on any kernel rank."""

import helpers
import keras
import numpy as np
import pytest

from keras_regkit import schedules
from keras_regkit.regularizers import Orthogonal


def _numpy_orthogonal(w, mode):
    matrix = w.reshape(-1, w.shape[-1])
    if mode == "auto":
        mode = "columns" if matrix.shape[0] >= matrix.shape[1] else "rows"
    gram = matrix.T @ matrix if mode == "columns" else matrix @ matrix.T
    return np.square(gram - np.eye(len(gram))).sum()


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 3, 2, 5), (3, 2, 8)])
@pytest.mark.parametrize("mode", ["auto", "rows", "columns"])
def test_value_matches_numpy(shape, mode):
    w = np.random.default_rng(0).normal(size=shape).astype("float32")
    expected = 0.1 * _numpy_orthogonal(w, mode)
    np.testing.assert_allclose(Orthogonal(0.1, mode)(w), expected, rtol=1e-4)


@pytest.mark.parametrize("shape", [(8, 3), (3, 8), (2, 2, 4, 4)])
def test_zero_on_orthonormal_kernels(shape):
    matrix = np.random.default_rng(1).normal(
        size=(np.prod(shape[:-1]), shape[-1])
    )
    q, _ = np.linalg.qr(
        matrix if matrix.shape[0] >= matrix.shape[1] else matrix.T
    )
    w = (q if matrix.shape[0] >= matrix.shape[1] else q.T).reshape(shape)
    assert float(Orthogonal(1.0)(w.astype("float32"))) == pytest.approx(
        0, abs=1e-5
    )


def test_gradient_matches_closed_form():
    w_np = np.random.default_rng(2).normal(size=(5, 3)).astype("float32")
    reg = Orthogonal(1.0, "columns")
    grad, _ = helpers.gradient(lambda w: (reg(w), None), w_np)
    # d/dW ||WᵀW − I||² = 4 W (WᵀW − I)
    expected = 4 * w_np @ (w_np.T @ w_np - np.eye(3))
    np.testing.assert_allclose(grad, expected, rtol=1e-4)


def test_training_makes_kernel_orthonormal():
    dense = keras.layers.Dense(4, kernel_regularizer=Orthogonal(1.0))
    model = keras.Sequential([keras.Input((8,)), dense])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    before = _numpy_orthogonal(np.asarray(dense.kernel), "auto")
    x = np.zeros((32, 8), "float32")
    model.fit(
        x, np.zeros((32, 4), "float32"), epochs=100, batch_size=32, verbose=0
    )
    after = _numpy_orthogonal(np.asarray(dense.kernel), "auto")
    assert after < 1e-3 * before, (before, after)


def test_bad_mode():
    with pytest.raises(
        ValueError,
        match=r"argument `mode`.*'auto', 'rows', 'columns'.*mode='diag'",
    ):
        Orthogonal(mode="diag")


def test_rank_one_rejected():
    with pytest.raises(
        ValueError, match="Orthogonal needs a kernel of rank >= 2"
    ):
        Orthogonal()(np.ones(3, "float32"))


@pytest.mark.compat("Orthogonal", "TensorFlow")
@pytest.mark.compat("Orthogonal", "JAX")
@pytest.mark.compat("Orthogonal", "PyTorch")
def test_fit_save_load(tmp_path):
    reg = Orthogonal(1e-3)
    helpers.fit_save_load_dense_and_conv(reg, tmp_path)


def test_scheduled_factor():
    reg = Orthogonal(schedules.Linear(0.0, 1.0, duration=1))
    history, traces = helpers.scheduled_penalty_run(reg, epochs=2)
    # Kernel (3, 1) of ones, rows mode would be 3x3; auto picks columns:
    # WᵀW = 3 -> (3 - 1)^2 = 4.
    np.testing.assert_allclose(history["loss"], [0.0, 4.0], rtol=1e-6)
    helpers.assert_not_retraced(traces)
