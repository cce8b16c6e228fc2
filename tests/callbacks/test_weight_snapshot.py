"""Tests for the on-device weight snapshot behind EarlyStopping."""

import keras
import numpy as np
import pytest

from keras_regkit.callbacks.weight_snapshot import WeightSnapshot


def _trained_model():
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(1),
        ]
    )
    model.compile("adam", "mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    model.fit(x, x[:, :1], epochs=1, batch_size=4, verbose=0)
    return model, x


def _values(variables):
    return [keras.ops.convert_to_numpy(v) for v in variables]


def test_capture_then_training_then_restore_gives_captured_values():
    model, x = _trained_model()
    variables = model.weights + model.optimizer.variables
    snapshot = WeightSnapshot(variables)
    snapshot.capture()
    captured = _values(variables)
    # Training updates the variables in place; the copies must not follow.
    model.fit(x, x[:, :1], epochs=2, batch_size=4, verbose=0)
    after = _values(variables)
    assert any(
        not np.array_equal(a, b) for a, b in zip(after, captured, strict=True)
    )
    for copy, value in zip(snapshot.copies, captured, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(copy), value)
    snapshot.restore()
    for actual, value in zip(_values(variables), captured, strict=True):
        np.testing.assert_array_equal(actual, value)
    # The optimizer's int64 iteration count is restored too.
    assert int(np.asarray(model.optimizer.iterations)) == 2


def test_copies_are_non_trainable_and_outside_the_model():
    model, _ = _trained_model()
    snapshot = WeightSnapshot(model.weights)
    assert all(not copy.trainable for copy in snapshot.copies)
    assert len(model.weights) == len(snapshot.copies)
    assert not any(
        copy is weight for copy in snapshot.copies for weight in model.weights
    )


def test_restore_before_capture_raises():
    model, _ = _trained_model()
    with pytest.raises(RuntimeError, match="before capture"):
        WeightSnapshot(model.weights).restore()


def test_matches_by_identity():
    model, _ = _trained_model()
    snapshot = WeightSnapshot(model.weights)
    assert snapshot.matches(model.weights)
    assert not snapshot.matches(model.weights[:-1])
    assert not snapshot.matches(list(reversed(model.weights)))


def test_nbytes_counts_one_copy():
    model, _ = _trained_model()
    variables = model.weights + [model.optimizer.iterations]
    iterations = keras.backend.standardize_dtype(
        model.optimizer.iterations.dtype
    )
    expected = sum(int(np.prod(v.shape)) * 4 for v in model.weights)
    expected += np.dtype(iterations).itemsize  # int64 on TF, int32 on JAX
    assert WeightSnapshot(variables).nbytes == expected


def test_tensorflow_traces_one_function_for_every_snapshot():
    # A new callback per `fit` makes a new snapshot of the same variables:
    # it must reuse the trace (one trace per snapshot cost 30-90 ms per
    # `fit` and TensorFlow's retracing warning after a few).
    if keras.backend.backend() != "tensorflow":
        pytest.skip("TensorFlow backend only")
    from keras_regkit.callbacks import weight_snapshot

    model, _ = _trained_model()
    first = WeightSnapshot(model.weights)
    first.capture()
    first.restore()
    assign_all = weight_snapshot._tf_assign_all()
    traces = assign_all.experimental_get_tracing_count()
    for _ in range(5):
        snapshot = WeightSnapshot(model.weights)
        snapshot.capture()
        snapshot.restore()
    assert assign_all.experimental_get_tracing_count() == traces


def test_plain_assign_loop_on_other_backends(monkeypatch):
    model, _ = _trained_model()
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    snapshot = WeightSnapshot(model.weights)
    monkeypatch.undo()
    assert not hasattr(snapshot._capture, "get_concrete_function")
    snapshot.capture()
    captured = model.get_weights()
    for weight in model.weights:
        weight.assign(np.zeros(weight.shape, weight.dtype))
    snapshot.restore()
    for actual, value in zip(model.get_weights(), captured, strict=True):
        np.testing.assert_array_equal(actual, value)


# Bytes per element: one helper (`dtype_itemsize`) for both users, the
# snapshot's `nbytes` and the free-space check of `BestWeights`.

_ITEMSIZES = {
    "float16": 2,
    "bfloat16": 2,
    "float32": 4,
    "float64": 8,
    "float8_e4m3fn": 1,
    "float8_e5m2": 1,
    "int8": 1,
    "int16": 2,
    "int32": 4,
    "int64": 8,
    "uint8": 1,
    "uint16": 2,
    "uint32": 4,
    "uint64": 8,
    "bool": 1,
    "complex64": 8,
    "complex128": 16,
}


class _FakeVariable:
    """Shape and dtype only (TensorFlow cannot create float8 zeros)."""

    def __init__(self, shape, dtype):
        self.shape = shape
        self.dtype = dtype


def test_itemsize_table_covers_every_keras_dtype():
    from keras.src.backend.common import dtypes

    sized = set(dtypes.ALLOWED_DTYPES) - {"string"}
    assert sized == set(_ITEMSIZES), sized ^ set(_ITEMSIZES)


@pytest.mark.parametrize("dtype", sorted(_ITEMSIZES))
def test_every_byte_count_uses_the_dtype_itemsize(dtype):
    import ml_dtypes

    from keras_regkit.callbacks import best_weights
    from keras_regkit.callbacks.weight_snapshot import dtype_itemsize
    from keras_regkit.callbacks.weight_snapshot import variables_nbytes

    expected = _ITEMSIZES[dtype]
    numpy_dtype = np.dtype(getattr(ml_dtypes, dtype, dtype))
    assert numpy_dtype.itemsize == expected
    assert dtype_itemsize(dtype) == expected
    assert dtype_itemsize(numpy_dtype) == expected

    variables = [_FakeVariable((5, 7), dtype), _FakeVariable((3,), dtype)]
    assert variables_nbytes(variables) == 38 * expected

    class Model:
        weights = variables

    assert best_weights._weights_nbytes(Model()) == 38 * expected
    snapshot = WeightSnapshot.__new__(WeightSnapshot)
    snapshot.copies = variables
    assert snapshot.nbytes == 38 * expected


def test_a_dtype_without_a_size_raises():
    from keras_regkit.callbacks.weight_snapshot import dtype_itemsize

    with pytest.raises(ValueError, match="'string' has no fixed size"):
        dtype_itemsize("string")
