"""One worker of a MultiWorkerMirroredStrategy run (started by the tests).

Each worker process is started with its own ``TF_CONFIG`` (the cluster's
``host:port`` list and this worker's index) and runs::

    python tests/distributed/multi_worker_train.py RESULT.json

It trains a small model with keras_regkit layers, a regularizer and
`keras_regkit.callbacks.EarlyStopping`, and writes the early-stopping
decision, the loss curves and a checksum of the final weights to
``RESULT.json``; the test compares the workers' files. The same script
runs across machines: give every machine the same cluster list, each its
own index.
"""

import json
import os
import sys


def patch_reduce_for_keras_fit(strategy, tf):
    """Works around two Keras bugs in ``fit`` under multi-worker training.

    With two or more workers, Keras 3's TensorFlow trainer (checked with
    Keras 3.15) calls ``strategy.reduce`` in two ways that TensorFlow's
    collective reduce rejects, and ``fit`` fails:

    - ``_maybe_symbolic_build`` averages the first batch as one nested
      structure, ``reduce("MEAN", (x, y), axis=None)`` ("Attempt to
      convert a value (PerReplica...)");
    - ``reduce_per_replica`` averages the scalar logs with ``axis=0``
      ("Invalid reduction dimension 0 for input with 0 dimensions").

    This reduces element by element, and scalars without an axis, which is
    what Keras means in both places.
    """
    reduce = strategy.reduce

    def reduce_each(reduce_op, value, axis=None):
        def one(v):
            local = strategy.experimental_local_results(v)[0]
            scalar = tf.convert_to_tensor(local).shape.rank == 0
            return reduce(reduce_op, v, axis=None if scalar else axis)

        return tf.nest.map_structure(one, value)

    strategy.reduce = reduce_each


def weights_checksum(model):
    """Sum of the absolute values of all the model's weights."""
    return float(sum(abs(w).sum() for w in model.get_weights()))


def mc_predict_grouping_error(strategy, samples=16):
    """How far `mc_predict` under ``strategy`` is from grouping exactly.

    The probe model is only ``MCDropout(0.5)``: example ``v`` comes out as
    ``0`` or ``2v`` in each sample. If ``mc_predict`` groups every
    example's samples together, then with ``k`` the kept fraction,
    ``mean = 2vk`` and ``std = 2v sqrt(k (1 - k))`` exactly; samples mixed
    across examples break that identity.

    Returns:
        (largest deviation from the identity, whether every example had
        dropped and kept samples).
    """
    import keras
    import numpy as np

    import keras_regkit as rk

    with strategy.scope():
        probe = keras.Sequential(
            [keras.Input((1,)), rk.layers.MCDropout(0.5, seed=7)]
        )
    values = np.arange(1, 9, dtype="float32")[:, None]
    mean, std = rk.layers.mc_predict(probe, values, samples=samples)
    kept = mean / (2 * values)
    error = np.abs(std - 2 * values * np.sqrt(kept * (1 - kept))).max()
    return float(error), bool(((kept > 0) & (kept < 1)).all())


def main(result_path):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    import tensorflow as tf

    import keras_regkit as rk

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    patch_reduce_for_keras_fit(strategy, tf)
    keras.utils.set_random_seed(0)

    # Noise to fit: the validation loss falls briefly, then rises as the
    # model memorizes the training noise, so early stopping triggers.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = (x[:, :1] + rng.normal(scale=1.0, size=(64, 1))).astype("float32")
    x_val = rng.normal(size=(32, 8)).astype("float32")
    y_val = x_val[:, :1]

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )

    # Tabular augmentation on the workers' input: every component of the
    # kit takes part in this run.
    noise = rk.augment.Pipeline([rk.augment.FeatureNoise(0.01)], seed=0)

    def dataset(a, b, augment=False):
        data = tf.data.Dataset.from_tensor_slices((a, b)).batch(16)
        if augment:
            data = noise(data)
        return data.with_options(options)

    with strategy.scope():
        warmup = rk.schedules.Linear(0.0, 1e-5, duration=3)
        inputs = keras.Input((8,))
        h = keras.layers.Dense(
            64,
            activation="relu",
            kernel_regularizer=rk.regularizers.L2(warmup),
        )(inputs)
        branch = keras.layers.Dense(
            64,
            kernel_regularizer=rk.regularizers.ElasticNet(1e-5, 0.5),
        )(h)
        h = h + rk.layers.DropPath(0.05, seed=1)(branch)
        h = rk.layers.DropConnectDense(
            64,
            rate=0.05,
            activation="relu",
            seed=2,
            kernel_regularizer=rk.regularizers.GroupLasso(1e-5),
        )(h)
        h = keras.layers.Reshape((8, 8))(h)
        h = rk.layers.DropBlock1D(0.05, block_size=2, seed=3)(h)
        h = keras.layers.Flatten()(h)
        # Active at inference too: validation losses are Monte Carlo
        # estimates, all-reduced, so both workers still see the same ones.
        h = rk.layers.MCDropout(0.05, seed=6)(h)
        h = rk.layers.ConcreteDropout(
            keras.layers.Dense(
                32,
                activation="relu",
                kernel_regularizer=rk.regularizers.Orthogonal(1e-5),
            ),
            seed=5,
        )(h)
        outputs = keras.layers.Dense(1)(h)
        model = keras.Model(inputs, outputs)
        rk.regularizers.apply(
            model, rk.regularizers.L1(1e-6), layers=[model.layers[-1]]
        )
        model.compile(keras.optimizers.Adam(0.01), "mse")

    stopper = rk.callbacks.EarlyStopping(
        monitor="val_loss", patience=3, restore_best_weights=True
    )
    epoch_checksums = []
    record_checksums = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: epoch_checksums.append(
            weights_checksum(model)
        )
    )
    history = model.fit(
        dataset(x, y, augment=True),
        validation_data=dataset(x_val, y_val),
        epochs=60,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback(), record_checksums, stopper],
    )
    mc_mean, mc_std = rk.layers.mc_predict(model, x_val[:8], samples=16)
    result = {
        "task": json.loads(os.environ["TF_CONFIG"])["task"]["index"],
        "replicas": strategy.num_replicas_in_sync,
        "stopped_epoch": stopper.stopped_epoch,
        "best_epoch": stopper.best_epoch,
        "best_value": float(stopper.best_value),
        "stop_reason": stopper.stop_reason,
        "epochs_run": len(history.history["loss"]),
        "loss": [float(v) for v in history.history["loss"]],
        "val_loss": [float(v) for v in history.history["val_loss"]],
        "epoch_checksums": epoch_checksums,
        "weights_sum": weights_checksum(model),
        "mc_shapes": [list(mc_mean.shape), list(mc_std.shape)],
        "mc_min_std": float(mc_std.min()),
        "mc_grouping": mc_predict_grouping_error(strategy),
    }
    with open(result_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1])
