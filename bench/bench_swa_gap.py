"""Benchmark: per-epoch overhead of rk.callbacks.SWA and GapMonitor.

A realistic small model: a CNN with BatchNormalization (about 0.1 M
parameters) on 32x32x3 images, trained with SGD, 4096 training and 1024
validation examples, batch size 64 (64 steps per epoch). Each callback is
wrapped so that the time spent in its own hooks (``on_epoch_begin`` and
``on_epoch_end``) is measured, and reported as a fraction of the median
epoch of a plain `fit` (no callback) in the same process:

- SWA: the on-device running-average update at each epoch end (one
  compiled call over every trainable weight) and the SWA learning-rate
  assignment at each epoch begin; and, once per `fit`, the swap of the
  average into the model plus the BatchNormalization pass over the
  training inputs (``bn_data``), as a fraction of one epoch;
- GapMonitor: one `model.evaluate` on the fixed training subset (256 and
  1024 examples), validation metrics taken from fit's logs.

The fraction for the hooks is the honest overhead: everything a callback
adds to an epoch happens inside its hooks (SWA's update is a device-side
copy that ends before the next step starts). End-to-end epoch times (with
the callback) are printed as a cross-check; on a shared machine they are
noisier than the hook timings.

Run: python bench/bench_swa_gap.py [--rounds 3] [--epochs 6]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _machine  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_regkit as rk  # noqa: E402


def build_model():
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(32, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        keras.optimizers.SGD(0.05, momentum=0.9),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


class Timed(keras.callbacks.Callback):
    """Forwards to ``inner`` and times its epoch hooks."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.per_epoch = []
        self.train_end = 0.0
        self._epoch = 0.0

    def set_model(self, model):
        super().set_model(model)
        self.inner.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        self.inner.set_params(params)

    def on_train_begin(self, logs=None):
        self.inner.on_train_begin(logs)

    def on_epoch_begin(self, epoch, logs=None):
        start = time.perf_counter()
        self.inner.on_epoch_begin(epoch, logs)
        self._epoch = time.perf_counter() - start

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        self.inner.on_epoch_end(epoch, logs)
        self.per_epoch.append(self._epoch + time.perf_counter() - start)

    def on_train_end(self, logs=None):
        start = time.perf_counter()
        self.inner.on_train_end(logs)
        self.train_end = time.perf_counter() - start


class EpochClock(keras.callbacks.Callback):
    """Wall time from each epoch begin to the next (callbacks included)."""

    def __init__(self):
        super().__init__()
        self.times = []
        self._last = None

    def on_epoch_begin(self, epoch, logs=None):
        now = time.perf_counter()
        if self._last is not None:
            self.times.append(now - self._last)
        self._last = now

    def on_train_end(self, logs=None):
        # The last epoch, up to the end of its epoch-end callbacks (the
        # clock is listed last, after the callback measured).
        self.times.append(time.perf_counter() - self._last)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.normal(size=(5120, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, size=5120)
    x_train, y_train, x_val, y_val = x[:4096], y[:4096], x[4096:], y[4096:]

    _machine.print_header()
    model = build_model()
    print(
        f"Model: {model.count_params():,} parameters; 4096 training, 1024 "
        "validation examples, batch 64"
    )

    def variants():
        return {
            "plain": None,
            "SWA(start=1, swa_lr=0.01)": rk.callbacks.SWA(
                start=1, swa_lr=0.01, bn_data=x_train, bn_batch_size=64
            ),
            "GapMonitor(subset=256)": rk.callbacks.GapMonitor(
                (x_train, y_train), subset=256, batch_size=64
            ),
            "GapMonitor(subset=1024)": rk.callbacks.GapMonitor(
                (x_train, y_train), subset=1024, batch_size=64
            ),
        }

    hooks = {name: [] for name in variants()}
    epochs = {name: [] for name in variants()}
    train_end = []
    initial = model.get_weights()
    # Warm-up: trace the train and test functions before measuring.
    model.fit(
        x_train[:640],
        y_train[:640],
        validation_data=(x_val[:64], y_val[:64]),
        epochs=1,
        batch_size=64,
        verbose=0,
    )
    for round_index in range(args.rounds):
        for name, callback in variants().items():
            model.set_weights(initial)
            model.optimizer.learning_rate = 0.05
            clock = EpochClock()
            callbacks = [clock]
            timed = None
            if callback is not None:
                timed = Timed(callback)
                callbacks.insert(0, timed)
            model.fit(
                x_train,
                y_train,
                validation_data=(x_val, y_val),
                epochs=args.epochs,
                batch_size=64,
                verbose=0,
                callbacks=callbacks,
            )
            # The first epoch of each fit builds its data iterators.
            skip = 1
            epochs[name] += clock.times[skip:]
            if timed is not None:
                hooks[name] += timed.per_epoch[skip:]
                if name.startswith("SWA"):
                    train_end.append(timed.train_end)
        print(f"round {round_index + 1}/{args.rounds} done")

    plain = statistics.median(epochs["plain"])
    print(f"\nplain epoch (median): {plain * 1000:.0f} ms")
    print(
        f"{'variant':28s} {'hooks/epoch':>12s} {'of epoch':>9s} "
        f"{'epoch (e2e)':>12s}"
    )
    for name in variants():
        if name == "plain":
            continue
        hook = statistics.median(hooks[name])
        e2e = statistics.median(epochs[name])
        print(
            f"{name:28s} {hook * 1000:10.1f}ms {hook / plain:9.1%} "
            f"{e2e * 1000:10.0f}ms"
        )
    end = statistics.median(train_end)
    print(
        f"SWA swap + BatchNorm pass at train end (once per fit): "
        f"{end * 1000:.0f} ms = {end / plain:.2f} epochs"
    )


if __name__ == "__main__":
    main()
