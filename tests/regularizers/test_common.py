"""What every regularizer shares: inputs it takes, arguments it refuses."""

import keras
import numpy as np
import pytest

from keras_regkit import regularizers

W = np.array([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]], "float32")

ALL = [
    regularizers.L1(0.1),
    regularizers.L2(0.1),
    regularizers.L1L2(0.1, 0.2),
    regularizers.ElasticNet(0.1, 0.3),
    regularizers.GroupLasso(0.1),
    regularizers.Orthogonal(0.1),
]

STRENGTHS = [
    (regularizers.L1, "l1"),
    (regularizers.L2, "l2"),
    (regularizers.L1L2, "l1"),
    (regularizers.L1L2, "l2"),
    (regularizers.ElasticNet, "alpha"),
    (regularizers.GroupLasso, "factor"),
    (regularizers.Orthogonal, "factor"),
]


def _value(tensor):
    return float(keras.ops.convert_to_numpy(tensor))


def test_variables_give_the_same_penalty_as_arrays():
    for reg in ALL:
        expected = _value(reg(W))
        assert _value(reg(keras.Variable(W))) == pytest.approx(expected)
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            # Issue 12 §4: GroupLasso raised AttributeError on a tf.Variable
            # (it has no `ndim`); Keras's own L2 takes one.
            assert _value(reg(tf.Variable(W))) == pytest.approx(expected), reg


def test_group_lasso_on_a_tf_variable_matches_numpy():
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("a tf.Variable is a TensorFlow-backend input")
    value = regularizers.GroupLasso(0.1)(
        tf.Variable(np.ones((3, 2), "float32"))
    )
    # Two groups of three ones: norm sqrt(3) each, times sqrt(3).
    assert _value(value) == pytest.approx(0.1 * 2 * np.sqrt(3) * np.sqrt(3))


def test_strengths_refuse_booleans_and_non_numbers():
    """Issue 12 §4: ``L2(np.bool_(True))`` was taken as strength 1.0."""
    for cls, name in STRENGTHS:
        bads = [True, np.bool_(True), np.bool_(False), "0.1", [0.1]]
        if cls not in (regularizers.L1, regularizers.L2, regularizers.L1L2):
            bads.append(None)  # None means the default for Keras's three
        for bad in bads:
            match = f"{cls.__name__}: Invalid value received for argument "
            with pytest.raises(TypeError, match=f"{match}`{name}`"):
                cls(**{name: bad})


def test_strengths_accept_numpy_and_python_numbers():
    for cls, name in STRENGTHS:
        for value in (0.25, np.float32(0.25), np.float64(0.25), 1, np.int64(1)):
            reg = cls(**{name: value})
            assert getattr(reg, name) == pytest.approx(float(value))
            assert type(reg.get_config()[name]) is float


def test_other_arguments_name_their_owner():
    with pytest.raises(TypeError, match="GroupLasso: .*`scale_by_group_size`"):
        regularizers.GroupLasso(scale_by_group_size=np.bool_(True))
    with pytest.raises(TypeError, match="GroupLasso: .*`axis`"):
        regularizers.GroupLasso(axis=np.bool_(True))
    with pytest.raises(ValueError, match="Orthogonal: .*`mode`"):
        regularizers.Orthogonal(mode="diagonal")
    with pytest.raises(TypeError, match="ElasticNet: .*`l1_ratio`"):
        regularizers.ElasticNet(l1_ratio=np.bool_(True))
    with pytest.raises(ValueError, match="regularizers.get: .*`identifier`"):
        regularizers.get(3)
    with pytest.raises(TypeError, match="apply: .*`overwrite`"):
        regularizers.apply(
            keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
            "l2",
            overwrite=1,
        )
