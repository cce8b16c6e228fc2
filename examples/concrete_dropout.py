"""Concrete dropout: dropout rates learned by gradient descent.

Wraps every Dense layer of an MLP in `rk.layers.ConcreteDropout`, which
drops the layer's inputs with a relaxed (Concrete) Bernoulli mask whose
probability ``p`` is a trainable weight, and regularises weights and
``p`` as in Gal, Hron and Kendall (NeurIPS 2017), with the paper's
factors for N training examples and a prior length-scale l:
``weight_regularizer = l**2 / N`` and ``dropout_regularizer = 2 / N``.

The MLP is trained on scikit-learn's bundled digits (1,797 real 8x8
handwritten digits, no download) twice, on a small and on a larger
training set, every rate starting from the same value. It prints each
layer's rate at a few epochs (from the ``<layer name>_rate`` entries that
`ConcreteDropout` logs during `fit`), the final learned rates and how far
they moved from the initial one, and train and test accuracy. The paper's
prediction: less data, more dropout.

Run:
    pip install -e ".[demo]"
    python examples/concrete_dropout.py

Set ``REGKIT_EXAMPLE_EPOCHS`` to change the epoch budget (the test suite
runs every example with a tiny one).
"""

import os
import time

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import keras_regkit as rk

EPOCHS = int(os.environ.get("REGKIT_EXAMPLE_EPOCHS", "60"))
TRAIN_SIZES = (200, 1200)
INIT_RATE = 0.1
LENGTH_SCALE = 1e-2
SEED = 0


def load_data(train_size):
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32").reshape(-1, 64)
    y = digits.target.astype("int32")
    return train_test_split(
        x, y, train_size=train_size, random_state=SEED, stratify=y
    )


def build_mlp(num_examples):
    keras.utils.set_random_seed(SEED)

    def concrete(units, name, activation=None):
        return rk.layers.ConcreteDropout(
            keras.layers.Dense(units, activation=activation, name=name),
            weight_regularizer=LENGTH_SCALE**2 / num_examples,
            dropout_regularizer=2.0 / num_examples,
            init_rate=INIT_RATE,
            seed=SEED,
            name=f"concrete_{name}",
        )

    return keras.Sequential(
        [
            keras.Input((64,)),
            concrete(256, "dense1", activation="relu"),
            concrete(256, "dense2", activation="relu"),
            concrete(10, "logits"),
        ]
    )


def train(train_size):
    x_train, x_test, y_train, y_test = load_data(train_size)
    model = build_mlp(len(x_train))
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train, y_train, batch_size=32, epochs=EPOCHS, verbose=0
    ).history
    train_acc = model.evaluate(x_train, y_train, verbose=0)[1]
    test_acc = model.evaluate(x_test, y_test, verbose=0)[1]
    return model, history, train_acc, test_acc


def main():
    start = time.perf_counter()
    final = {}
    for train_size in TRAIN_SIZES:
        model, history, train_acc, test_acc = train(train_size)
        layers = [
            layer
            for layer in model.layers
            if isinstance(layer, rk.layers.ConcreteDropout)
        ]
        shown = sorted({0, EPOCHS // 4, EPOCHS // 2, EPOCHS - 1})
        print(
            f"N={train_size} training images: train acc {train_acc:.3f}, "
            f"test acc {test_acc:.3f}"
        )
        print("  mean rate during the epoch:")
        print(
            f"  {'layer':<18}{'input dim':<12}"
            + "".join(f"{f'epoch {e + 1}':>10}" for e in shown)
        )
        for layer in layers:
            rates = history[f"{layer.name}_rate"]
            drops = str(layer.input.shape[-1])
            print(
                f"  {layer.name:<18}{drops:<12}"
                + "".join(f"{rates[e]:>10.3f}" for e in shown)
            )
        final[train_size] = {layer.name: layer.rate for layer in layers}
    print(f"learned rates at the end (all start at {INIT_RATE}):")
    print(
        f"  {'layer':<18}"
        + "".join(f"{f'N={n}':>10}{'moved':>8}" for n in TRAIN_SIZES)
    )
    for name in final[TRAIN_SIZES[0]]:
        row = "".join(
            f"{final[n][name]:>10.3f}{final[n][name] - INIT_RATE:>+8.3f}"
            for n in TRAIN_SIZES
        )
        print(f"  {name:<18}{row}")
    print(f"total time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
