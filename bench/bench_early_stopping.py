"""Benchmark: rk.callbacks.EarlyStopping against Keras's, side by side.

Both keep the best weights (``restore_best_weights=True``) on a
10.5-million-parameter MLP trained with Adam, with short epochs (one step)
in which the monitored value improves every epoch, so that every epoch
takes a snapshot. Measured in one process, interleaved, after warm-up;
ratios are ours / Keras:

- snapshot: Keras's ``model.get_weights()`` against our compiled
  variable-to-variable copy, and each callback's ``on_epoch_end`` on an
  improving epoch;
- per-epoch overhead in ``fit``: within one ``fit`` per round, epochs end in
  turn with no early stopping, Keras's, ours or the floor below (a gate
  callback forwards ``on_epoch_end`` to one of them); each is timed from its
  epoch end to the end of the next training step, so the copy-on-write that
  a snapshot pushes into the next optimizer step counts. Overhead is that
  time minus the same without a callback, in wall-clock and in process CPU
  time (the steadier of the two on a shared machine). The final restore,
  done once per ``fit``, is left out.

- the ordinary case: whole `fit` calls with validation data (64 examples,
  14 epochs of one step, the validation loss improving at most epochs),
  one `fit` per variant per round in shuffled order, each from the same
  starting weights and optimizer state: no callback, Keras's callback made
  anew for each `fit`, ours made anew for each `fit`, and one instance of
  ours reused. Overhead per epoch = (fit time - the same round's fit time
  without a callback) / epochs, so it includes everything a user pays:
  setting up, the snapshots, the copy-on-write in the next steps and the
  final restore.

A fourth variant of the interleaved case, the floor, is a reference: at
each epoch end it only copies as many bytes as the weights hold between
two preallocated numpy arrays (one memcpy, no allocation). Any snapshot
that keeps the weights of every improving epoch has to copy that many
bytes somehow, so ``floor / Keras`` shows how low the overhead ratio can
go on this machine.

Targets (issue 4): snapshot at least 10x faster, per-epoch overhead at most
a third of Keras's.

Run: python bench/bench_early_stopping.py [--rounds 7] [--epochs 20]
    [--fit-rounds 7]

It prints the CPU model and whether TensorFlow's oneDNN is on: both change
the numbers (oneDNN's kernels differ from Eigen's).
"""

import argparse
import os
import platform
import random
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _machine  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_regkit as rk  # noqa: E402


def build_model():
    """1024 -> 2048 -> 2048 -> 2048 -> 10: 10,512,394 parameters."""
    model = keras.Sequential(
        [
            keras.Input((1024,)),
            keras.layers.Dense(2048, activation="relu"),
            keras.layers.Dense(2048, activation="relu"),
            keras.layers.Dense(2048, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


class ImprovingScore(keras.callbacks.Callback):
    """Logs a `score` that improves every epoch (run in every variant)."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def on_epoch_end(self, epoch, logs=None):
        self.calls += 1
        logs["score"] = 1.0 / self.calls


class MemcpyFloor(keras.callbacks.Callback):
    """Copies the weights' byte count between preallocated host arrays."""

    def __init__(self, nbytes):
        super().__init__()
        self.source = np.ones(nbytes // 4, "float32")
        self.target = np.zeros_like(self.source)

    def on_epoch_end(self, epoch, logs=None):
        np.copyto(self.target, self.source)


def bench_snapshots(model, rounds, repeats=10):
    """Median seconds per snapshot, per round, for both ways."""
    ours = rk.callbacks.EarlyStopping(
        monitor="score", mode="min", restore_best_weights=True
    )
    theirs = keras.callbacks.EarlyStopping(
        monitor="score", mode="min", restore_best_weights=True
    )
    for callback in (ours, theirs):
        callback.set_model(model)
        callback.on_train_begin()
    epoch = [0]

    def epoch_end(callback):
        def run():
            epoch[0] += 1
            callback.on_epoch_end(epoch[0], {"score": 1.0 / epoch[0]})

        return run

    epoch_end(ours)()  # builds and traces the snapshot
    results = {
        "get_weights": [],
        "capture": [],
        "keras_end": [],
        "ours_end": [],
    }
    for _ in range(rounds):
        results["get_weights"].append(
            _machine.time_call(model.get_weights, repeats)
        )
        results["capture"].append(
            _machine.time_call(ours.keeper.snapshot.capture, repeats)
        )
        results["keras_end"].append(
            _machine.time_call(epoch_end(theirs), repeats)
        )
        results["ours_end"].append(_machine.time_call(epoch_end(ours), repeats))
    return results, ours.keeper.snapshot.nbytes


class Interleaved(keras.callbacks.Callback):
    """Runs one of several callbacks per epoch, in turn, and times it.

    Epoch e ends with the variant ``e % n`` (none, Keras's, ours, floor)
    seeing an improved value. Its cost is timed from the start of that
    epoch end to the end of the next training step, so that it includes the
    copy-on-write a snapshot pushes into the next optimizer step. Variants
    alternate every epoch, so a slow spell of the shared machine hits all
    of them alike.
    """

    def __init__(self, variants):
        super().__init__()
        self.variants = variants
        self.names = list(variants)
        self.samples = {name: [] for name in variants}
        self.pending = None

    def on_train_begin(self, logs=None):
        for callback in self.variants.values():
            if callback is not None:
                callback.set_model(self.model)
                callback.on_train_begin()

    def on_epoch_end(self, epoch, logs=None):
        start = (time.perf_counter(), time.process_time())
        name = self.names[epoch % len(self.names)]
        callback = self.variants[name]
        if callback is not None:
            callback.on_epoch_end(epoch, {"score": 1.0 / (epoch + 1)})
        self.pending = name, start

    def on_train_batch_end(self, batch, logs=None):
        if self.pending is not None:
            name, (wall, cpu) = self.pending
            self.samples[name].append(
                (time.perf_counter() - wall, time.process_time() - cpu)
            )
            self.pending = None


def bench_fit(model, rounds, epochs, nbytes):
    """Per round: median (wall, CPU) seconds per epoch end + next step."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 1024)).astype("float32")
    y = rng.normal(size=(8, 10)).astype("float32")
    variants = {
        "none": None,
        "keras": keras.callbacks.EarlyStopping(
            monitor="score", mode="min", restore_best_weights=True
        ),
        "ours": rk.callbacks.EarlyStopping(
            monitor="score", mode="min", restore_best_weights=True
        ),
        "floor": MemcpyFloor(nbytes),
    }
    per_round = {name: [] for name in variants}
    for index in range(rounds + 1):
        gate = Interleaved(variants)
        model.fit(
            x,
            y,
            batch_size=8,
            epochs=len(variants) * epochs,
            verbose=0,
            callbacks=[gate],
        )
        if index == 0:
            continue  # warm-up: tracing, the snapshot's variables
        for name, samples in gate.samples.items():
            per_round[name].append(np.median(np.array(samples), axis=0))
    return per_round


def improving_epochs(values):
    """How many epochs set a new minimum."""
    best, count = float("inf"), 0
    for value in values:
        if value < best:
            best, count = value, count + 1
    return count


class Timed(keras.callbacks.Callback):
    """Forwards the hooks to a callback and adds up the time spent in them."""

    def __init__(self, callback):
        super().__init__()
        self.callback = callback
        self.seconds = 0.0

    def set_model(self, model):
        super().set_model(model)
        self.callback.set_model(model)

    def _timed(self, hook, *args):
        start = time.perf_counter()
        getattr(self.callback, hook)(*args)
        self.seconds += time.perf_counter() - start

    def on_train_begin(self, logs=None):
        self._timed("on_train_begin", logs)

    def on_epoch_end(self, epoch, logs=None):
        self._timed("on_epoch_end", epoch, logs)

    def on_train_end(self, logs=None):
        self._timed("on_train_end", logs)


def bench_ordinary_fit(model, rounds, epochs=14):
    """Whole fits with validation data; per round, seconds per epoch."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 1024)).astype("float32")
    y = rng.normal(size=(64, 10)).astype("float32")
    # A small step, so that (nearly) every epoch improves.
    model.optimizer.learning_rate.assign(2e-5)
    start_weights = model.get_weights()
    start_optimizer = [np.asarray(v) for v in model.optimizer.variables]

    def keras_new():
        return keras.callbacks.EarlyStopping(
            patience=epochs, restore_best_weights=True
        )

    def ours_new():
        return rk.callbacks.EarlyStopping(
            patience=epochs, restore_best_weights=True
        )

    reused = ours_new()
    variants = {
        "none": lambda: [],
        "keras, new per fit": lambda: [Timed(keras_new())],
        "ours, new per fit": lambda: [Timed(ours_new())],
        "ours, reused": lambda: [Timed(reused)],
    }
    per_round = {name: [] for name in variants}
    in_hooks = {name: [] for name in variants}
    improving = []
    order = list(variants)
    for index in range(rounds + 1):
        random.Random(index).shuffle(order)
        for name in order:
            model.set_weights(start_weights)
            for variable, value in zip(
                model.optimizer.variables, start_optimizer, strict=True
            ):
                variable.assign(value)
            callbacks = variants[name]()
            wall, cpu = time.perf_counter(), time.process_time()
            history = model.fit(
                x,
                y,
                validation_data=(x, y),
                batch_size=64,
                epochs=epochs,
                verbose=0,
                callbacks=callbacks,
            )
            wall = time.perf_counter() - wall
            cpu = time.process_time() - cpu
            if index == 0:
                continue  # warm-up: tracing, first allocations
            per_round[name].append((wall / epochs, cpu / epochs))
            in_hooks[name].append(
                sum(c.seconds for c in callbacks) / epochs if callbacks else 0
            )
            if name == "none":
                improving.append(improving_epochs(history.history["val_loss"]))
    return per_round, in_hooks, statistics.median(improving)


def report_interleaved(model, args):
    """The snapshot and interleaved one-step-epoch sections."""
    snaps, nbytes = bench_snapshots(model, args.rounds)
    ms = {k: statistics.median(v) * 1e3 for k, v in snaps.items()}
    snap_ratio = _machine.median_ratio(snaps["capture"], snaps["get_weights"])
    end_ratio = _machine.median_ratio(snaps["ours_end"], snaps["keras_end"])
    print(f"snapshot memory (one extra copy): {nbytes / 2**20:.1f} MiB")
    print("snapshot, per improvement (median ms):")
    print(
        f"  Keras model.get_weights()      {ms['get_weights']:8.3f}\n"
        f"  ours, compiled copy            {ms['capture']:8.3f}"
        f"   ours/Keras {snap_ratio:.3f} ({1 / snap_ratio:.1f}x faster)"
    )
    print(
        f"  Keras on_epoch_end (improving) {ms['keras_end']:8.3f}\n"
        f"  ours on_epoch_end (improving)  {ms['ours_end']:8.3f}"
        f"   ours/Keras {end_ratio:.3f} ({1 / end_ratio:.1f}x faster)"
    )

    per_epoch = bench_fit(model, args.rounds, args.epochs, nbytes)
    print(
        f"in fit, {args.epochs} epochs per variant per round, interleaved, "
        "metric improving every epoch; ms from an epoch's end to the end of "
        "the next (one-step, batch 8) epoch; overhead = median over rounds "
        "of (time - time without a callback):"
    )
    ratios = {}
    for column, clock in enumerate(("wall clock", "process CPU time")):
        base = [times[column] for times in per_epoch["none"]]
        print(f"  {clock}: no callback {statistics.median(base) * 1e3:8.3f}")
        overhead = {}
        for name in ("keras", "ours", "floor"):
            times = [t[column] for t in per_epoch[name]]
            overhead[name] = statistics.median(
                t - b for t, b in zip(times, base, strict=True)
            )
            print(
                f"    {name:<5} epoch {statistics.median(times) * 1e3:8.3f}"
                f"   overhead {overhead[name] * 1e3:7.3f}"
            )
        ratios[clock] = overhead["ours"] / overhead["keras"]
        print(
            f"    overhead ours/Keras {ratios[clock]:.3f}; floor/Keras "
            f"{overhead['floor'] / overhead['keras']:.3f}; ours/floor "
            f"{overhead['ours'] / overhead['floor']:.2f}"
        )
    print(
        "targets: snapshot >= 10x faster: "
        f"{'met' if snap_ratio <= 0.1 else 'NOT met'}; per-epoch overhead "
        "<= 1/3 of Keras's: "
        + ", ".join(
            f"{'met' if 0 <= ratio <= 1 / 3 else 'NOT met'} ({clock})"
            for clock, ratio in ratios.items()
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--fit-rounds", type=int, default=7)
    parser.add_argument(
        "--fit-only", action="store_true", help="only the ordinary case"
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    model = build_model()
    model.fit(
        np.zeros((8, 1024), "float32"),
        np.zeros((8, 10), "float32"),
        epochs=1,
        verbose=0,
    )
    print(
        f"CPU: {_machine.cpu_model(platform.machine())}, "
        f"{os.cpu_count()} logical cores"
    )
    print(f"oneDNN: {_machine.onednn_state()}")
    print(
        f"keras {keras.__version__}, backend {keras.backend.backend()}, "
        f"MLP with {model.count_params():,} parameters, "
        f"{args.rounds} rounds"
    )

    if not args.fit_only:
        report_interleaved(model, args)

    epochs = 14
    per_fit, in_hooks, improving = bench_ordinary_fit(
        model, args.fit_rounds, epochs
    )
    print(
        f"ordinary fit: {epochs} one-step epochs with validation data (64 "
        f"examples), val_loss improving in {improving:g} of {epochs} "
        f"epochs, {args.fit_rounds} rounds, shuffled; ms per epoch, "
        "overhead = median over rounds of (time - time without a callback):"
    )
    for column, clock in enumerate(("wall clock", "process CPU time")):
        base = [times[column] for times in per_fit["none"]]
        print(f"  {clock}: no callback {statistics.median(base) * 1e3:8.2f}")
        overhead = {}
        for name in list(per_fit)[1:]:
            times = [t[column] for t in per_fit[name]]
            overhead[name] = statistics.median(
                t - b for t, b in zip(times, base, strict=True)
            )
            spread = statistics.pstdev(times) * 1e3
            print(
                f"    {name:<20} epoch {statistics.median(times) * 1e3:8.2f}"
                f" (sd {spread:5.2f})   overhead {overhead[name] * 1e3:7.2f}"
            )
        keras_overhead = overhead["keras, new per fit"]
        print(
            "    overhead ours/Keras: new per fit "
            f"{overhead['ours, new per fit'] / keras_overhead:.2f}, reused "
            f"{overhead['ours, reused'] / keras_overhead:.2f}"
        )
    print("  wall time inside the callback's hooks, ms per epoch (median):")
    for name in list(in_hooks)[1:]:
        print(f"    {name:<20} {statistics.median(in_hooks[name]) * 1e3:8.3f}")


if __name__ == "__main__":
    main()
