"""Weight regularization on a small CNN: textbook L2, a warm-up, `apply`.

Trains the same CNN on a small slice of scikit-learn's bundled digits
(1,797 real 8x8 handwritten digits, no download) four ways and prints
train and test accuracy and the generalization gap:

1. no regularization;
2. L2 in the textbook form, cost = loss + λ/(2m)·Σ‖w‖²;
3. the same λ warmed up linearly from 0 over the first epochs (a
   schedule updated by `ScheduleCallback`, no retracing);
4. L2 added with `rk.regularizers.apply` to a model that was already built
   (and trained for a few epochs) without it.

Run:
    pip install -e ".[demo]"
    python examples/regularizers_cnn.py

Set ``REGKIT_EXAMPLE_EPOCHS`` to change the epoch budget (the test suite
runs every example with a tiny one).
"""

import os
import time

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import keras_regkit as rk

EPOCHS = int(os.environ.get("REGKIT_EXAMPLE_EPOCHS", "80"))
TRAIN_SIZE = 200
LAMBDA = 2.0
SEED = 0


def load_data():
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target.astype("int32")
    return train_test_split(
        x, y, train_size=TRAIN_SIZE, random_state=SEED, stratify=y
    )


def build_cnn(regularizer=None):
    keras.utils.set_random_seed(SEED)
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(
                32, 3, activation="relu", kernel_regularizer=regularizer
            ),
            keras.layers.Conv2D(
                32, 3, activation="relu", kernel_regularizer=regularizer
            ),
            keras.layers.Flatten(),
            keras.layers.Dense(
                128, activation="relu", kernel_regularizer=regularizer
            ),
            keras.layers.Dense(10, kernel_regularizer=regularizer),
        ]
    )


def train(model, data, epochs, callbacks=()):
    x_train, x_test, y_train, y_test = data
    if getattr(model, "optimizer", None) is None:
        model.compile(
            keras.optimizers.Adam(1e-3),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    model.fit(
        x_train,
        y_train,
        batch_size=32,
        epochs=epochs,
        verbose=0,
        callbacks=list(callbacks),
    )
    train_acc = model.evaluate(x_train, y_train, verbose=0)[1]
    test_acc = model.evaluate(x_test, y_test, verbose=0)[1]
    return train_acc, test_acc


def main():
    data = load_data()
    m = len(data[0])
    textbook = rk.regularizers.L2(lam=LAMBDA, num_examples=m)
    warmup = rk.regularizers.L2(
        lam=rk.schedules.Linear(0.0, LAMBDA, duration=max(EPOCHS // 4, 1)),
        num_examples=m,
    )
    print(f"digits: {m} training images, {len(data[1])} test images")
    print(f"textbook L2: lambda={LAMBDA}, m={m} -> Keras l2={textbook.l2:.2e}")
    runs = {}
    start = time.perf_counter()
    runs["none"] = train(build_cnn(), data, EPOCHS)
    runs["L2 textbook"] = train(build_cnn(textbook), data, EPOCHS)
    runs["L2 warm-up"] = train(
        build_cnn(warmup),
        data,
        EPOCHS,
        callbacks=[rk.callbacks.ScheduleCallback()],
    )
    late = build_cnn()
    train(late, data, max(EPOCHS // 4, 1))
    rk.regularizers.apply(late, rk.regularizers.L2(lam=LAMBDA, num_examples=m))
    runs["L2 via apply"] = train(late, data, EPOCHS - max(EPOCHS // 4, 1))
    print(f"{'variant':<14}{'train acc':>10}{'test acc':>10}{'gap':>8}")
    for name, (train_acc, test_acc) in runs.items():
        gap = train_acc - test_acc
        print(f"{name:<14}{train_acc:>10.3f}{test_acc:>10.3f}{gap:>8.3f}")
    print(f"total time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
