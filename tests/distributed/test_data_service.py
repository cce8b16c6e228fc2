"""An augmentation pipeline run by the tf.data service (in-process, local).

A dispatcher and one worker are started in this process on localhost; the
pipeline's dataset is sent to them with
`tf.data.experimental.service.distribute`.

Processing mode: ``"parallel_epochs"`` (``ShardingPolicy.OFF``). Each
worker runs the whole dataset graph, seeds included, so with one worker
the batches come back in the local order, bit for bit the local
pipeline's. In ``"distributed_epoch"`` mode (``DYNAMIC``) the dispatcher
splits the source among workers and the order of the batches (and so the
pairing of batches with per-batch seeds) depends on timing: there only the
set of examples is the same, not the augmented values.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_regkit as rk


@pytest.fixture(scope="module")
def service():
    dispatcher = tf.data.experimental.service.DispatchServer()
    address = dispatcher.target.split("://")[1]
    worker = tf.data.experimental.service.WorkerServer(
        tf.data.experimental.service.WorkerConfig(dispatcher_address=address)
    )
    yield dispatcher.target
    worker.stop()
    dispatcher.stop()


def augmented(x, y):
    pipeline = rk.augment.Pipeline(
        [
            rk.augment.RandomFlip(),
            rk.augment.RandomTranslation(0.2, 0.2),
            rk.augment.RandomContrast(0.3),
            rk.augment.RandomErasing(),
        ],
        seed=5,
    )
    return pipeline(tf.data.Dataset.from_tensor_slices((x, y)).batch(8))


def through_service(dataset, target):
    return dataset.apply(
        tf.data.experimental.service.distribute(
            processing_mode=tf.data.experimental.service.ShardingPolicy.OFF,
            service=target,
            job_name=None,
        )
    )


def data(n=32):
    rng = np.random.default_rng(4)
    x = rng.uniform(size=(n, 12, 10, 3)).astype("float32")
    return x, (np.arange(n) % 3).astype("int32")


def epoch(dataset):
    return [(a.numpy(), b.numpy()) for a, b in dataset]


@pytest.mark.compat("augment.Pipeline", "tf.data service")
def test_service_matches_the_local_pipeline_bit_for_bit(service):
    x, y = data()
    local = epoch(augmented(x, y))
    remote = epoch(through_service(augmented(x, y), service))
    assert len(remote) == len(local) == 4
    for (a, la), (b, lb) in zip(remote, local, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    # It really augmented: the batches are not the inputs.
    assert not np.allclose(remote[0][0], x[:8])


@pytest.mark.compat("augment.Pipeline", "tf.data service")
@pytest.mark.compat("DropBlock1D/2D/3D", "tf.data service")
@pytest.mark.compat("EarlyStopping", "tf.data service")
@pytest.mark.compat("DropPath", "tf.data service")
@pytest.mark.compat("DropConnect", "tf.data service")
@pytest.mark.compat("MCDropout", "tf.data service")
@pytest.mark.compat("ConcreteDropout", "tf.data service")
@pytest.mark.compat("L1/L2/L1L2", "tf.data service")
@pytest.mark.compat("ElasticNet", "tf.data service")
@pytest.mark.compat("GroupLasso", "tf.data service")
@pytest.mark.compat("Orthogonal", "tf.data service")
@pytest.mark.compat("regularizers.apply", "tf.data service")
@pytest.mark.compat("ScheduleCallback", "tf.data service")
def test_service_feeds_fit(service):
    """Every component of the kit in one model fed by the service."""
    x, y = data()
    inputs = keras.Input((12, 10, 3))
    h = keras.layers.Conv2D(
        4,
        3,
        padding="same",
        activation="relu",
        kernel_regularizer=rk.regularizers.GroupLasso(1e-4),
    )(inputs)
    branch = keras.layers.Conv2D(
        4,
        3,
        padding="same",
        kernel_regularizer=rk.regularizers.Orthogonal(1e-4),
    )(h)
    h = h + rk.layers.DropPath(0.1, seed=1)(branch)
    h = rk.layers.DropBlock2D(0.1, 3, seed=0)(h)
    h = rk.layers.DropConnectConv2D(
        4,
        3,
        rate=0.1,
        seed=2,
        kernel_regularizer=rk.regularizers.ElasticNet(1e-4),
    )(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = rk.layers.MCDropout(0.1, seed=3)(h)
    warmup = rk.schedules.Linear(0.0, 1e-4, duration=2)
    h = rk.layers.ConcreteDropout(
        keras.layers.Dense(8, kernel_regularizer=rk.regularizers.L2(warmup)),
        seed=4,
    )(h)
    model = keras.Model(inputs, keras.layers.Dense(3)(h))
    rk.regularizers.apply(
        model, rk.regularizers.L1(1e-5), layers=[model.layers[-1]]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(True))
    stopper = rk.callbacks.EarlyStopping(
        monitor="loss", patience=2, restore_best_weights=True
    )
    # One service job for the whole run: repeat before distributing (each
    # repetition draws fresh augmentation), 4 batches per epoch.
    history = model.fit(
        through_service(augmented(x, y).repeat(), service),
        epochs=3,
        steps_per_epoch=4,
        shuffle=False,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback(), stopper],
    )
    assert history.history["l2"] == [0.0, 5e-05, 1e-04]
    losses = history.history["loss"]
    assert len(losses) == 3 and np.all(np.isfinite(losses)), losses
    assert stopper.best_epoch == int(np.argmin(losses))
