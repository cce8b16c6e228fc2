"""Every public component under tf.distribute.MirroredStrategy (2 CPUs).

The two logical CPU devices come from this folder's conftest. Each test
compares against the same computation on one device, or against the other
replica, with the tolerance stated next to the assertion.
"""

import contextlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_regkit as rk
from tests.distributed.multi_worker_train import mc_predict_grouping_error

rkl = rk.layers
rkr = rk.regularizers


def replica_values(variable):
    """The per-replica components of a (Keras) mirrored variable."""
    value = getattr(variable, "value", variable)
    return [np.asarray(v.numpy()) for v in value.values]


def assert_synced(model):
    """Every variable holds the same value on both replicas."""
    for variable in model.weights:
        values = replica_values(variable)
        assert len(values) == 2, variable.path
        np.testing.assert_array_equal(values[0], values[1], variable.path)


def per_replica(strategy, fn):
    """Runs ``fn`` on each replica (identical inputs); numpy per replica."""
    outputs = tf.function(lambda: strategy.run(fn))()
    return [v.numpy() for v in strategy.experimental_local_results(outputs)]


# --- Regularizers: the penalty is scaled correctly per replica -------------


def regularized_model():
    """Deterministic layers, every regularizer family on some kernel."""
    model = keras.Sequential(
        [
            keras.Input((7, 5, 2)),
            keras.layers.Conv2D(
                3, (3, 2), kernel_regularizer=rkr.GroupLasso(0.05)
            ),
            keras.layers.Conv2D(4, 2, kernel_regularizer=rkr.Orthogonal(0.05)),
            keras.layers.Flatten(),
            keras.layers.Dense(
                8, activation="tanh", kernel_regularizer=rkr.L1L2(0.01, 0.05)
            ),
            keras.layers.Dense(
                6, kernel_regularizer=rkr.ElasticNet(0.05, l1_ratio=0.3)
            ),
            keras.layers.Dense(5, kernel_regularizer=rkr.L1(0.01)),
            keras.layers.Dense(4, name="plain"),
            keras.layers.Dense(
                1, kernel_regularizer=rkr.L2(lam=2.0, num_examples=32)
            ),
        ]
    )
    # A built model gets a regularizer afterwards.
    (path,) = rkr.apply(model, rkr.L2(0.05), layers="plain")
    assert path.endswith("plain/kernel"), path
    return model


def fit_regularized(scope, weights, x, y):
    with scope:
        model = regularized_model()
        model.set_weights(weights)
        model.compile(keras.optimizers.SGD(0.05), "mse")
    history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    return model, history.history["loss"]


@pytest.mark.compat("L1/L2/L1L2", "MirroredStrategy")
@pytest.mark.compat("ElasticNet", "MirroredStrategy")
@pytest.mark.compat("GroupLasso", "MirroredStrategy")
@pytest.mark.compat("Orthogonal", "MirroredStrategy")
@pytest.mark.compat("regularizers.apply", "MirroredStrategy")
def test_penalties_scaled_per_replica_match_one_device(strategy):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 7, 5, 2)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    weights = regularized_model().get_weights()

    single, single_loss = fit_regularized(
        contextlib.nullcontext(), weights, x, y
    )
    mirrored, mirrored_loss = fit_regularized(strategy.scope(), weights, x, y)

    # The penalties are a large part of the loss, so a penalty counted once
    # per replica (or not scaled by 1 / replicas) would be far off.
    penalty = float(sum(single.losses))
    assert penalty > 0.2 * single_loss[-1], (penalty, single_loss)
    # Float32 sums in another order: rtol 1e-5 on losses, 1e-4 on weights.
    np.testing.assert_allclose(mirrored_loss, single_loss, rtol=1e-5)
    for a, b in zip(mirrored.weights, single.weights, strict=True):
        for value in replica_values(a):
            np.testing.assert_allclose(
                value, b.numpy(), rtol=1e-4, atol=1e-6, err_msg=b.path
            )
    np.testing.assert_allclose(
        float(sum(mirrored.losses)), float(sum(single.losses)), rtol=1e-5
    )


@pytest.mark.compat("ConcreteDropout", "MirroredStrategy")
def test_concrete_dropout_add_loss_scaled_per_replica(strategy):
    # Zero inputs: the wrapped bias-free Dense outputs zero whatever the
    # mask, so the loss is exactly ConcreteDropout's regularization terms.
    x = np.zeros((16, 4), "float32")
    y = np.zeros((16, 1), "float32")

    def run(scope):
        with scope:
            model = keras.Sequential(
                [
                    keras.Input((4,)),
                    rkl.ConcreteDropout(
                        keras.layers.Dense(
                            1, use_bias=False, kernel_initializer="ones"
                        ),
                        weight_regularizer=0.1,
                        dropout_regularizer=0.1,
                        seed=3,
                    ),
                ]
            )
            model.compile(keras.optimizers.SGD(0.5), "mse")
        loss = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
        return model, loss.history["loss"]

    single, single_loss = run(contextlib.nullcontext())
    mirrored, mirrored_loss = run(strategy.scope())
    assert single_loss[0] > 0.1, single_loss
    np.testing.assert_allclose(mirrored_loss, single_loss, rtol=1e-5)
    assert_synced(mirrored)
    for a, b in zip(mirrored.weights, single.weights, strict=True):
        np.testing.assert_allclose(
            replica_values(a)[0], b.numpy(), rtol=1e-5, err_msg=b.path
        )


# --- Layers -----------------------------------------------------------------


def every_layer_model():
    inputs = keras.Input((8, 6, 2))
    x = rkl.DropConnectConv2D(4, 3, rate=0.2, padding="same", seed=1)(inputs)
    x = rkl.DropBlock2D(0.2, 3, seed=2)(x)
    x = keras.layers.Reshape((48, 4))(x)
    x = rkl.DropBlock1D(0.2, 3, seed=3)(x)
    x = keras.layers.Reshape((4, 2, 6, 4))(x)
    x = rkl.DropBlock3D(0.2, 2, seed=4)(x)
    x = keras.layers.Flatten()(x)
    h = keras.layers.Dense(16, activation="relu")(x)
    h = h + rkl.DropPath(0.2, seed=5)(keras.layers.Dense(16)(h))
    h = rkl.MCDropout(0.2, seed=6)(h)
    h = rkl.DropConnectDense(8, rate=0.2, activation="relu", seed=7)(h)
    outputs = rkl.ConcreteDropout(
        keras.layers.Dense(1), name="concrete", seed=8
    )(h)
    return keras.Model(inputs, outputs)


@pytest.mark.compat("DropBlock1D/2D/3D", "MirroredStrategy")
@pytest.mark.compat("DropPath", "MirroredStrategy")
@pytest.mark.compat("DropConnect", "MirroredStrategy")
@pytest.mark.compat("MCDropout", "MirroredStrategy")
@pytest.mark.compat("ConcreteDropout", "MirroredStrategy")
def test_every_layer_trains_in_one_model(strategy):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 8, 6, 2)).astype("float32")
    y = x.mean(axis=(1, 2, 3))[:, None]
    with strategy.scope():
        model = every_layer_model()
        model.compile(keras.optimizers.Adam(0.01), "mse")
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], losses
    # The learned rate moved, and every variable agrees across replicas.
    assert abs(model.get_layer("concrete").rate - 0.1) > 1e-4
    assert "concrete_rate" in history.history
    assert_synced(model)
    prediction = model.predict(x[:8], verbose=0)
    assert prediction.shape == (8, 1) and np.all(np.isfinite(prediction))


MASKED = {
    "DropBlock1D": (lambda: rkl.DropBlock1D(0.3, 3, seed=11), (16, 40, 3)),
    "DropBlock2D": (lambda: rkl.DropBlock2D(0.3, 3, seed=11), (8, 12, 10, 3)),
    "DropBlock3D": (
        lambda: rkl.DropBlock3D(0.3, 2, seed=11),
        (4, 6, 8, 5, 2),
    ),
    "DropPath": (lambda: rkl.DropPath(0.5, seed=11), (64, 4)),
    "MCDropout": (lambda: rkl.MCDropout(0.3, seed=11), (64, 32)),
    "DropConnectDense": (
        lambda: rkl.DropConnectDense(
            8, rate=0.5, kernel_initializer="ones", seed=11
        ),
        (4, 16),
    ),
    "ConcreteDropout": (
        lambda: rkl.ConcreteDropout(
            keras.layers.Dense(8, kernel_initializer="ones"),
            init_rate=0.3,
            seed=11,
        ),
        (4, 16),
    ),
}


@pytest.mark.compat("DropBlock1D/2D/3D", "MirroredStrategy")
@pytest.mark.compat("DropPath", "MirroredStrategy")
@pytest.mark.compat("DropConnect", "MirroredStrategy")
@pytest.mark.compat("MCDropout", "MirroredStrategy")
@pytest.mark.compat("ConcreteDropout", "MirroredStrategy")
def test_masks_differ_between_replicas_and_repeat_with_the_seed(strategy):
    runs = []
    for _ in range(2):
        outputs = {}
        for name, (make, shape) in MASKED.items():
            with strategy.scope():
                layer = make()
                layer.build(shape)
            x = tf.ones(shape)
            outputs[name] = per_replica(
                strategy, lambda layer=layer, x=x: layer(x, training=True)
            )
        runs.append(outputs)
    for name, (first, second) in runs[0].items():
        # Identical inputs on both replicas, yet different masks.
        assert not np.array_equal(first, second), name
        # The same seed gives the same mask on each replica.
        np.testing.assert_array_equal(first, runs[1][name][0], name)
        np.testing.assert_array_equal(second, runs[1][name][1], name)
    # Activation dropout drops about `rate` on each replica (tolerance
    # 0.1: at least 64 independent draws per replica).
    for name, rate in [("DropPath", 0.5), ("MCDropout", 0.3)]:
        for out in runs[0][name]:
            assert abs((out == 0).mean() - rate) < 0.1, (name, out)


@pytest.mark.compat("MCDropout", "MirroredStrategy")
@pytest.mark.compat("DropPath", "MirroredStrategy")
def test_keras_20611_dropout_under_mirrored_strategy_not_affected(strategy):
    # keras#20611: Keras 3.7 could not even build a model with Dropout in a
    # MirroredStrategy scope (its SeedGenerator variable). Ours: built
    # lazily in the scope as in the report, trained, and really dropping.
    with strategy.scope():
        model = keras.Sequential(
            [
                keras.layers.Dense(32, activation="gelu"),
                rkl.MCDropout(0.25, seed=0),
                keras.layers.Dense(32),
                rkl.DropPath(0.25, seed=1),
                keras.layers.Dense(1),
            ]
        )
        model.compile("adam", "mse")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 8)).astype("float32")
    history = model.fit(x, x[:, :1], epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert_synced(model)
    mc, path = model.layers[1], model.layers[3]
    inputs = tf.ones((64, 32))
    for layer, rate in [(mc, 0.25), (path, 0.25)]:
        for out in per_replica(
            strategy, lambda la=layer: la(inputs, training=True)
        ):
            dropped = (out == 0).mean()
            assert abs(dropped - rate) < 0.12, (layer.name, dropped)
            np.testing.assert_allclose(out[out != 0], 1 / (1 - rate), rtol=1e-6)


@pytest.mark.compat("MCDropout", "MirroredStrategy")
def test_mc_predict_groups_each_examples_samples(strategy):
    # Keras's predict_on_batch under MirroredStrategy hands each replica the
    # whole batch (twice the rows back); mc_predict must not be fooled.
    error, mixed = mc_predict_grouping_error(strategy)
    assert error < 1e-5 and mixed


# --- Callbacks --------------------------------------------------------------


class ScriptedValLoss(keras.callbacks.Callback):
    """Replaces val_loss with a script; records the weights of each epoch."""

    def __init__(self, script):
        super().__init__()
        self.script = script
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.script[epoch]
        self.weights.append(self.model.get_weights())


@pytest.mark.compat("EarlyStopping", "MirroredStrategy")
def test_early_stopping_restores_best_weights_on_every_replica(strategy):
    with strategy.scope():
        model = keras.Sequential(
            [
                keras.Input((6,)),
                keras.layers.Dense(8, activation="relu"),
                rkl.DropPath(0.2, seed=0),
                keras.layers.Dense(2),
            ]
        )
        model.compile("adam", "mse")
    x = np.random.default_rng(3).normal(size=(32, 6)).astype("float32")
    script = ScriptedValLoss([0.5, 0.3, 0.4, 0.45, 0.2])
    stopper = rk.callbacks.EarlyStopping(
        patience=2, restore_best_weights=True, include_optimizer=True
    )
    model.fit(
        x,
        x[:, :2],
        epochs=5,
        batch_size=8,
        verbose=0,
        callbacks=[script, stopper],
    )
    assert (stopper.stopped_epoch, stopper.best_epoch) == (3, 1)
    # The last epoch's weights differ from the best ones, so a missed
    # restore shows; every replica's component holds the best weights.
    assert not np.array_equal(script.weights[3][0], script.weights[1][0])
    for variable, best in zip(model.weights, script.weights[1], strict=True):
        for value in replica_values(variable):
            np.testing.assert_array_equal(value, best, variable.path)


@pytest.mark.compat("ScheduleCallback", "MirroredStrategy")
@pytest.mark.compat("L1/L2/L1L2", "MirroredStrategy")
@pytest.mark.compat("DropPath", "MirroredStrategy")
def test_scheduled_strength_and_rate_move_under_strategy(strategy):
    # Zero data and a frozen kernel of ones (3 inputs): the loss of each
    # epoch is exactly the penalty 3 * l2, l2 following its epoch schedule;
    # the DropPath rate follows a per-step schedule.
    with strategy.scope():
        path = rkl.DropPath(
            rk.schedules.Linear(0.0, 0.3, duration=6, unit="step")
        )
        model = keras.Sequential(
            [
                keras.Input((3,)),
                path,
                keras.layers.Dense(
                    1,
                    use_bias=False,
                    kernel_initializer="ones",
                    kernel_regularizer=rkr.L2(
                        rk.schedules.Linear(0.0, 0.3, duration=3)
                    ),
                ),
            ]
        )
        model.compile(keras.optimizers.SGD(0.0), "mse")
    history = model.fit(
        np.zeros((16, 3), "float32"),
        np.zeros((16, 1), "float32"),
        epochs=5,
        batch_size=8,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback()],
    ).history
    expected = [0.0, 0.1, 0.2, 0.3, 0.3]
    np.testing.assert_allclose(history["l2"], expected, atol=1e-7)
    # The rate moves before each batch (2 per epoch): its value at the
    # last batch of epoch e is 0.3 * min((2e + 1) / 6, 1).
    np.testing.assert_allclose(
        history["rate"], [0.05, 0.15, 0.25, 0.3, 0.3], atol=1e-7
    )
    np.testing.assert_allclose(
        history["loss"], 3 * np.array(expected), rtol=1e-6, atol=1e-7
    )
    assert path.rate == pytest.approx(0.3)
    for value in replica_values(path._rate.variable):
        np.testing.assert_allclose(value, 0.3, rtol=1e-6)


# --- Augmentation through experimental_distribute_dataset -------------------


def ramp_images(n=16, height=12, width=10):
    """n copies of one asymmetric image, so flips and shifts show."""
    ramp = np.arange(height * width * 3, dtype="float32").reshape(
        height, width, 3
    )
    return np.repeat(ramp[None] / ramp.max(), n, axis=0)


def augmentation():
    return rk.augment.Pipeline(
        [
            rk.augment.RandomFlip(),
            rk.augment.RandomTranslation(0.2, 0.2),
            rk.augment.RandomContrast(0.3),
        ],
        seed=7,
    )


def distributed_batches(strategy, x, y):
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    distributed = strategy.experimental_distribute_dataset(
        augmentation()(dataset)
    )
    batches = []
    for epoch in range(2):
        for images, _ in distributed:
            local = strategy.experimental_local_results(images)
            batches.append([v.numpy() for v in local])
        assert len(batches) == 2 * (epoch + 1)
    return batches


@pytest.mark.compat("augment.Pipeline", "MirroredStrategy")
def test_pipeline_through_experimental_distribute_dataset(strategy):
    x = ramp_images()
    y = np.arange(16) % 2
    first = distributed_batches(strategy, x, y)
    again = distributed_batches(strategy, x, y)
    for (r0, r1), (s0, s1) in zip(first, again, strict=True):
        assert r0.shape == r1.shape == (4, 12, 10, 3)
        # Same image everywhere, yet each replica augments differently...
        assert not np.array_equal(r0, r1)
        # ...and the same seed repeats bit for bit.
        np.testing.assert_array_equal(r0, s0)
        np.testing.assert_array_equal(r1, s1)
    # Fresh augmentation in the second epoch.
    assert not np.array_equal(first[0][0], first[2][0])
    # Distribution only splits the global batch the local pipeline makes.
    local = [
        images.numpy()
        for images, _ in augmentation()(
            tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
        )
    ]
    for (r0, r1), expected in zip(first[:2], local, strict=True):
        np.testing.assert_array_equal(np.concatenate([r0, r1]), expected)

    # And it feeds fit under the strategy.
    with strategy.scope():
        model = keras.Sequential(
            [
                keras.Input((12, 10, 3)),
                keras.layers.Conv2D(4, 3, activation="relu"),
                rkl.DropBlock2D(0.1, 3, seed=0),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(2),
            ]
        )
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(True))
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    history = model.fit(
        augmentation()(dataset), epochs=2, shuffle=False, verbose=0
    )
    assert np.all(np.isfinite(history.history["loss"]))
