"""SWA (and L2SP, GapMonitor) under tf.distribute.MirroredStrategy.

Runs in a process of its own (see this folder's conftest):
``pytest tests/distributed/test_swa_mirrored.py -p no:cacheprovider``.
The average must be the mean of the per-epoch snapshots, held in mirrored
variables with the same value on both replicas, and the recomputed
BatchNormalization statistics must match the numpy reference on both.
L2SP's starting point is a mirrored variable that training leaves alone;
GapMonitor's clean metric equals `evaluate` on its subset. Two logical
CPUs.
"""

import keras
import numpy as np
import pytest

import keras_regkit as rk


def replica_values(variable):
    """The per-replica components of a (Keras) mirrored variable."""
    value = getattr(variable, "value", variable)
    return [np.asarray(v.numpy()) for v in value.values]


def assert_synced(variables):
    for variable in variables:
        values = replica_values(variable)
        assert len(values) == 2, variable.path
        np.testing.assert_array_equal(values[0], values[1], variable.path)


class Snapshots(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(
            [np.asarray(w) for w in self.model.trainable_weights]
        )


def data(n=32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 2))).astype("float32")
    return x, y


@pytest.mark.compat("SWA", "MirroredStrategy")
def test_average_and_batch_norm_under_mirrored_strategy(strategy):
    x, y = data()
    with strategy.scope():
        model = keras.Sequential(
            [
                keras.Input((5,)),
                keras.layers.Dense(3, name="pre"),
                keras.layers.BatchNormalization(name="bn"),
                keras.layers.Dense(2),
            ]
        )
        model.compile(keras.optimizers.SGD(0.05), "mse")
    recorder = Snapshots()
    swa = rk.callbacks.SWA(
        start=1, swa_lr=0.02, anneal_epochs=1, bn_data=x, bn_batch_size=8
    )
    model.fit(
        x, y, epochs=4, batch_size=8, verbose=0, callbacks=[recorder, swa]
    )
    assert swa.n_averaged == 3 and swa.swapped
    # The average lives in mirrored variables, equal on both replicas.
    assert_synced(swa._average.copies)
    assert_synced(model.weights)
    expected = [
        np.mean([s[i] for s in recorder.weights[1:]], axis=0)
        for i in range(len(recorder.weights[0]))
    ]
    for actual, wanted in zip(model.trainable_weights, expected, strict=True):
        for value in replica_values(actual):
            np.testing.assert_allclose(value, wanted, rtol=1e-6, atol=1e-7)
    assert float(np.asarray(model.optimizer.learning_rate)) == np.float32(0.02)

    pre, bn = model.get_layer("pre"), model.get_layer("bn")
    kernel, bias = np.asarray(pre.kernel), np.asarray(pre.bias)
    h = [
        x[i : i + 8].astype("float64") @ kernel + bias for i in range(0, 32, 8)
    ]
    mean = np.mean([a.mean(0) for a in h], 0)
    variance = np.mean([a.var(0) for a in h], 0)
    for value in replica_values(bn.moving_mean):
        np.testing.assert_allclose(value, mean, rtol=1e-5)
    for value in replica_values(bn.moving_variance):
        np.testing.assert_allclose(value, variance, rtol=1e-5)

    # Swapping back restores the last weights on both replicas (the
    # BatchNormalization statistics as fit left them: Keras updates them
    # per replica, unaggregated, so they differ between replicas).
    swa.swap()
    assert_synced(model.trainable_weights)
    for actual, last in zip(
        model.trainable_weights, recorder.weights[-1], strict=True
    ):
        np.testing.assert_array_equal(replica_values(actual)[0], last)


@pytest.mark.compat("L2SP", "MirroredStrategy")
@pytest.mark.compat("GapMonitor", "MirroredStrategy")
def test_l2sp_and_gap_monitor_under_mirrored_strategy(strategy):
    """The starting point is mirrored and fixed; the clean metric exact."""
    x, y = data(n=48)
    with strategy.scope():
        model = keras.Sequential(
            [
                keras.Input((5,)),
                keras.layers.Dense(4, name="base"),
                keras.layers.Dense(2, name="head"),
            ]
        )
        model.compile(keras.optimizers.SGD(0.1), "mse")
    w0 = np.asarray(model.get_layer("base").kernel)
    rk.regularizers.apply_l2sp(model, 0.5, 0.1, new_layers="head")
    regularizer = model.get_layer("base").kernel.regularizer
    gap = rk.callbacks.GapMonitor((x[:32], y[:32]), subset=24)
    history = model.fit(
        x[:32],
        y[:32],
        validation_data=(x[32:], y[32:]),
        epochs=2,
        batch_size=8,
        verbose=0,
        callbacks=[gap],
    )
    for value in replica_values(regularizer.starting_point):
        np.testing.assert_array_equal(value, w0)
    w = np.asarray(model.get_layer("base").kernel)
    np.testing.assert_allclose(
        float(model.losses[0]), 0.25 * np.sum((w - w0) ** 2), rtol=1e-5
    )
    subset_x, subset_y, _ = gap.subset_data
    clean = model.evaluate(subset_x, subset_y, verbose=0, return_dict=True)
    np.testing.assert_allclose(
        history.history["train_clean_loss"][-1], clean["loss"], rtol=1e-6
    )
