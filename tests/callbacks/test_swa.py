"""SWA: the average of per-epoch snapshots, BN recomputation, LR schedule.

`recompute_batch_norm` alone is tested in tests/training/test_batch_norm.py.
"""

import functools
import math

import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit.callbacks.swa import swa_learning_rate

to_numpy = keras.ops.convert_to_numpy


class Snapshots(keras.callbacks.Callback):
    """Records the trainable weights and the learning rate of each epoch."""

    def __init__(self):
        super().__init__()
        self.weights, self.rates = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.rates.append(float(to_numpy(self.model.optimizer.learning_rate)))

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([to_numpy(w) for w in self.model.trainable_weights])


def data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 2))).astype("float32")
    return x, y


def dense_model(lr=0.05):
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(4, activation="tanh"),
            keras.layers.Dense(2),
        ]
    )
    model.compile(keras.optimizers.SGD(lr), "mse")
    return model


def bn_model():
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(3, name="pre"),
            keras.layers.BatchNormalization(momentum=0.9, name="bn"),
            keras.layers.Dense(2),
        ]
    )
    model.compile(keras.optimizers.SGD(0.05), "mse")
    return model


def current(model):
    return [to_numpy(w) for w in model.trainable_weights]


def assert_weights_close(actual, expected, rtol=1e-6, atol=1e-7):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


@pytest.mark.compat("SWA", "TensorFlow")
@pytest.mark.compat("SWA", "JAX")
@pytest.mark.compat("SWA", "PyTorch")
def test_average_is_the_mean_of_the_per_epoch_snapshots():
    model = dense_model()
    x, y = data()
    recorder = Snapshots()
    swa = rk.callbacks.SWA(start=2)
    model.fit(
        x, y, epochs=5, batch_size=8, verbose=0, callbacks=[swa, recorder]
    )
    assert (swa.start_epoch, swa.n_averaged, swa.swapped) == (2, 3, True)
    expected = [
        np.mean([snapshot[i] for snapshot in recorder.weights[2:]], axis=0)
        for i in range(len(recorder.weights[0]))
    ]
    assert_weights_close(current(model), expected)
    assert_weights_close(swa.average_weights, expected)
    # The average differs from the last weights, which swap() brings back.
    assert not np.allclose(current(model)[0], recorder.weights[-1][0])
    swa.swap()
    assert not swa.swapped
    assert_weights_close(current(model), recorder.weights[-1], rtol=0, atol=0)


def test_averaged_context_swaps_in_and_back():
    model = dense_model()
    x, y = data()
    swa = rk.callbacks.SWA(start=1, swap_at_end=False)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[swa])
    last = current(model)
    with swa.averaged():
        assert swa.swapped
        assert_weights_close(current(model), swa.average_weights)
    assert not swa.swapped
    assert_weights_close(current(model), last, rtol=0, atol=0)


@pytest.mark.parametrize(
    "start, epochs, expected",
    [(0.75, 8, 6), (0.5, 5, 2), (1.0, 4, 3), (0.01, 4, 0), (3, 4, 3)],
)
def test_start_fraction_or_epoch(start, epochs, expected):
    swa = rk.callbacks.SWA(start=start)
    swa.set_model(dense_model())
    swa.set_params({"epochs": epochs})
    swa.on_train_begin()
    assert swa.start_epoch == expected


def test_start_beyond_training_raises_at_train_begin():
    swa = rk.callbacks.SWA(start=3)
    swa.set_model(dense_model())
    swa.set_params({"epochs": 3})
    with pytest.raises(ValueError, match=r"argument `start`.*epochs 0 to 2"):
        swa.on_train_begin()


@pytest.mark.parametrize("strategy", ["linear", "cos"])
def test_learning_rate_schedule_values_during_fit(strategy):
    model = dense_model(lr=0.1)
    x, y = data()
    recorder = Snapshots()
    swa = rk.callbacks.SWA(
        start=1, swa_lr=0.01, anneal_epochs=3, anneal_strategy=strategy
    )
    model.fit(
        x, y, epochs=6, batch_size=8, verbose=0, callbacks=[swa, recorder]
    )

    def shape(t):
        return t if strategy == "linear" else (1 - math.cos(math.pi * t)) / 2

    expected = [0.1] + [
        0.1 + (0.01 - 0.1) * shape(min(1.0, k / 3)) for k in (1, 2, 3, 4, 5)
    ]
    np.testing.assert_allclose(recorder.rates, expected, rtol=1e-6)
    assert swa_learning_rate(2, 1, 0.1, 0.01, 3, strategy) == pytest.approx(
        expected[2]
    )


def test_constant_swa_lr_without_annealing():
    assert [swa_learning_rate(e, 2, 0.1, 0.03) for e in range(4)] == [
        0.1,
        0.1,
        0.03,
        0.03,
    ]


def test_learning_rate_schedule_optimizer_is_refused_naming_swa_lr():
    model = dense_model()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    model.compile(keras.optimizers.SGD(schedule), "mse")
    x, y = data()
    swa = rk.callbacks.SWA(start=1, swa_lr=0.01)
    with pytest.raises(ValueError, match="argument `swa_lr`.*Schedule"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[swa])
    # Without swa_lr the schedule is left alone and averaging works.
    swa = rk.callbacks.SWA(start=1)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[swa])
    assert swa.n_averaged == 1


def bn_reference(x, kernel, bias, batch_size):
    """Mean of batch means and of biased batch variances of x @ k + b."""
    means, variances = [], []
    for begin in range(0, len(x), batch_size):
        h = x[begin : begin + batch_size].astype("float64") @ kernel + bias
        means.append(h.mean(axis=0))
        variances.append(h.var(axis=0))
    return np.mean(means, axis=0), np.mean(variances, axis=0)


def test_batch_norm_statistics_are_recomputed_for_the_average():
    model = bn_model()
    x, y = data(n=20)  # batches of 8, 8 and 4
    swa = rk.callbacks.SWA(start=1, bn_data=(x, y), bn_batch_size=8)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[swa])
    pre, bn = model.get_layer("pre"), model.get_layer("bn")
    mean, variance = bn_reference(
        x, to_numpy(pre.kernel), to_numpy(pre.bias), batch_size=8
    )
    np.testing.assert_allclose(
        to_numpy(bn.moving_mean), mean, rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        to_numpy(bn.moving_variance), variance, rtol=1e-5, atol=1e-6
    )
    assert bn.momentum == 0.9
    # Swapping back restores the statistics of the last weights as well.
    swa.swap()
    assert not np.allclose(to_numpy(bn.moving_mean), mean, rtol=1e-3)


def test_batch_norm_without_bn_data_warns():
    model = bn_model()
    x, y = data()
    swa = rk.callbacks.SWA(start=1)
    with pytest.warns(UserWarning, match="bn_data"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[swa])


class ScriptedLoss(keras.callbacks.Callback):
    """Overwrites the epoch's ``loss`` log (listed before EarlyStopping)."""

    def __init__(self, losses):
        super().__init__()
        self.losses = losses

    def on_epoch_end(self, epoch, logs=None):
        logs["loss"] = self.losses[epoch]


@pytest.mark.parametrize("swa_last", [True, False])
@pytest.mark.parametrize("keras_own", [False, True])
def test_with_early_stopping_the_last_listed_wins_and_swapped_is_true(
    swa_last, keras_own
):
    model = dense_model(lr=0.2)
    x, y = data()
    recorder = Snapshots()
    swa = rk.callbacks.SWA(start=2)
    early_stopping = (
        keras.callbacks.EarlyStopping
        if keras_own
        else rk.callbacks.EarlyStopping
    )
    stopper = early_stopping(
        monitor="loss", patience=10, restore_best_weights=True
    )
    callbacks = [stopper, swa] if swa_last else [swa, stopper]
    fit = functools.partial(
        model.fit,
        x,
        y,
        epochs=5,
        batch_size=8,
        verbose=0,
        callbacks=[recorder, ScriptedLoss([0.5, 0.2, 0.4, 0.45, 0.5])]
        + callbacks,
    )
    if swa_last:
        fit()
    else:
        name = type(stopper).__name__
        with pytest.warns(
            UserWarning,
            match=rf"SWA is listed before {name}\(restore_best_weights=True"
            rf"\).*will end with {name}'s best weights.*List SWA after",
        ):
            fit()
    best, last = recorder.weights[1], recorder.weights[-1]
    average = swa.average_weights
    assert not np.allclose(best[0], average[0])
    assert not np.allclose(best[0], last[0])
    # The callback listed last decides the final weights; `swapped` says
    # whether they are the average.
    assert_weights_close(current(model), average if swa_last else best)
    assert swa.swapped == swa_last
    with swa.averaged():
        assert swa.swapped
        assert_weights_close(current(model), average)
    assert swa.swapped == swa_last
    assert_weights_close(current(model), average if swa_last else best)
    # swap() toggles between the average and EarlyStopping's best weights
    # (never the last weights, which EarlyStopping replaced).
    swa.swap()
    assert swa.swapped != swa_last
    assert_weights_close(current(model), best if swa_last else average)
    swa.swap()
    assert_weights_close(current(model), average if swa_last else best)


def test_the_conflict_warning_needs_the_order_and_swap_at_end():
    from keras_regkit import _keras_internals

    model = dense_model()
    stopper = rk.callbacks.EarlyStopping(restore_best_weights=True)

    def begin(*callbacks):
        keras.callbacks.CallbackList(
            list(callbacks), model=model, epochs=3
        ).on_train_begin()

    with pytest.warns(UserWarning, match="SWA is listed before EarlyStop"):
        begin(rk.callbacks.SWA(start=1), stopper)
    begin(stopper, rk.callbacks.SWA(start=1))
    begin(rk.callbacks.SWA(start=1, swap_at_end=False), stopper)
    # Hooks called by hand: no callback list to read, no warning.
    swa = rk.callbacks.SWA(start=1)
    swa.set_model(model)
    swa.set_params({"epochs": 3})
    swa.on_train_begin()
    assert _keras_internals.calling_callbacks(swa) is None


@pytest.mark.parametrize(
    "start, swa_lr", [(2, 0.01), (0.5, None)], ids=["epoch", "fraction"]
)
def test_two_fits_with_initial_epoch_equal_one_fit(start, swa_lr):
    x, y = data()

    def run(*splits):
        keras.utils.set_random_seed(3)
        model = dense_model()
        recorder = Snapshots()
        swa = rk.callbacks.SWA(start=start, swa_lr=swa_lr, anneal_epochs=2)
        for initial_epoch, epochs in splits:
            model.fit(
                x,
                y,
                epochs=epochs,
                initial_epoch=initial_epoch,
                batch_size=8,
                shuffle=False,
                verbose=0,
                callbacks=[swa, recorder],
            )
        return model, swa, recorder

    whole, whole_swa, whole_recorder = run((0, 8))
    split, split_swa, split_recorder = run((0, 4), (4, 8))
    assert (split_swa.start_epoch, split_swa.n_averaged) == (
        whole_swa.start_epoch,
        whole_swa.n_averaged,
    )
    assert split_swa.swapped and whole_swa.swapped
    np.testing.assert_allclose(
        split_recorder.rates, whole_recorder.rates, rtol=1e-6
    )
    for split_weights, whole_weights in zip(
        split_recorder.weights, whole_recorder.weights, strict=True
    ):
        assert_weights_close(split_weights, whole_weights)
    assert_weights_close(split_swa.average_weights, whole_swa.average_weights)
    assert_weights_close(current(split), current(whole))
    split_swa.swap()
    assert_weights_close(current(split), split_recorder.weights[-1])


def test_a_new_fit_from_epoch_zero_restarts_from_the_average():
    model = dense_model()
    x, y = data()
    swa = rk.callbacks.SWA(start=2)
    model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[swa])
    average = swa.average_weights
    seen = []
    first = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(current(model))
    )
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[swa, first])
    assert_weights_close(seen[0], average, rtol=0, atol=0)
    assert (swa.n_averaged, swa.swapped) == (1, True)


def test_stopped_before_start_warns_and_keeps_the_weights():
    model = dense_model()
    x, y = data()

    class StopAtOnce(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    swa = rk.callbacks.SWA(start=2)
    with pytest.warns(UserWarning, match="nothing was averaged"):
        model.fit(x, y, epochs=4, verbose=0, callbacks=[StopAtOnce(), swa])
    assert swa.n_averaged == 0 and not swa.swapped
    with pytest.raises(RuntimeError, match="nothing was averaged"):
        swa.swap()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"start": True}, TypeError, "argument `start`"),
        ({"start": "half"}, TypeError, "argument `start`"),
        ({"start": 1.5}, ValueError, "argument `start`"),
        ({"start": 0.0}, ValueError, "argument `start`"),
        ({"start": -1}, ValueError, "argument `start`"),
        ({"swa_lr": 0.0}, ValueError, "argument `swa_lr`"),
        ({"anneal_epochs": -1}, ValueError, "argument `anneal_epochs`"),
        ({"anneal_strategy": "exp"}, ValueError, "argument `anneal_strategy`"),
        ({"swap_at_end": 1}, TypeError, "argument `swap_at_end`"),
        ({"bn_batch_size": 0}, ValueError, "argument `bn_batch_size`"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=f"SWA: Invalid value.*{match}"):
        rk.callbacks.SWA(**kwargs)
