"""GroupLasso: L2,1 norm over output units / filters."""

import helpers
import keras
import numpy as np
import pytest

from keras_regkit import schedules
from keras_regkit.regularizers import GroupLasso


def _numpy_group_lasso(w, axis, scale):
    moved = np.moveaxis(w, axis, -1).reshape(-1, w.shape[axis])
    norms = np.sqrt(np.square(moved).sum(axis=0))
    size = moved.shape[0]
    return norms.sum() * (np.sqrt(size) if scale else 1.0)


@pytest.mark.parametrize(
    "shape", [(6, 4), (3, 2, 5, 7), (3, 4, 2), (2, 3, 2, 3, 4)]
)
@pytest.mark.parametrize("scale", [True, False])
def test_default_groups_are_last_axis(shape, scale):
    w = np.random.default_rng(0).normal(size=shape).astype("float32")
    reg = GroupLasso(0.1, scale_by_group_size=scale)
    expected = 0.1 * _numpy_group_lasso(w, -1, scale)
    np.testing.assert_allclose(reg(w), expected, rtol=1e-5)


@pytest.mark.parametrize("axis", [0, 1, -2])
def test_axis_override(axis):
    w = np.random.default_rng(1).normal(size=(5, 3, 4)).astype("float32")
    expected = 0.5 * _numpy_group_lasso(w, axis, True)
    np.testing.assert_allclose(
        GroupLasso(0.5, axis=axis)(w), expected, rtol=1e-5
    )


def test_zero_group_has_finite_zero_gradient():
    w = np.array([[3.0, 0.0], [4.0, 0.0]], "float32")
    reg = GroupLasso(1.0, scale_by_group_size=False)
    grad, penalty = helpers.gradient(lambda w: (reg(w), reg(w)), w)
    assert float(penalty) == 5.0
    np.testing.assert_allclose(grad, [[0.6, 0.0], [0.8, 0.0]], rtol=1e-6)


def test_training_zeroes_whole_units():
    """Group lasso switches whole hidden units off; the data needs only one."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1))).astype("float32")
    dense = keras.layers.Dense(
        6, kernel_regularizer=GroupLasso(0.3, scale_by_group_size=False)
    )
    model = keras.Sequential([keras.Input((8,)), dense, keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(x, y, epochs=150, batch_size=64, verbose=0)
    norms = np.sort(np.linalg.norm(np.asarray(dense.kernel), axis=0))
    # Seeded run: four of six columns end below 3% of the largest one.
    assert np.all(norms[:4] < 0.03 * norms[-1]), norms
    assert norms[-1] > 0.5, norms


def test_rank_one_weight_rejected_with_clear_message():
    with pytest.raises(
        ValueError, match=r"GroupLasso needs a kernel of rank >= 2.*\(5,\)"
    ):
        GroupLasso()(np.ones(5, "float32"))


def test_axis_out_of_range():
    with pytest.raises(ValueError, match=r"argument `axis`.*\[-2, 2\).*axis=3"):
        GroupLasso(axis=3)(np.ones((2, 2), "float32"))


def test_bad_arguments():
    with pytest.raises(TypeError, match="argument `axis`.*an integer"):
        GroupLasso(axis=1.5)
    with pytest.raises(TypeError, match="argument `scale_by_group_size`"):
        GroupLasso(scale_by_group_size="yes")
    with pytest.raises(ValueError, match="argument `factor`"):
        GroupLasso(factor=-1)


def test_error_raised_when_model_is_built_not_in_graph():
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(2, bias_regularizer=GroupLasso()),
        ]
    )
    with pytest.raises(ValueError, match="GroupLasso needs a kernel of rank"):
        model.losses  # noqa: B018


@pytest.mark.compat("GroupLasso", "TensorFlow")
@pytest.mark.compat("GroupLasso", "JAX")
@pytest.mark.compat("GroupLasso", "PyTorch")
def test_fit_save_load(tmp_path):
    reg = GroupLasso(1e-3)
    helpers.fit_save_load_dense_and_conv(reg, tmp_path)


def test_scheduled_factor():
    reg = GroupLasso(
        schedules.Linear(0.0, 1.0, duration=1), scale_by_group_size=False
    )
    history, traces = helpers.scheduled_penalty_run(reg, epochs=2)
    # Kernel (3, 1) of ones: one group of norm sqrt(3).
    np.testing.assert_allclose(history["loss"], [0.0, np.sqrt(3)], rtol=1e-6)
    helpers.assert_not_retraced(traces)
