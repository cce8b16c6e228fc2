"""Monte Carlo dropout: predictive uncertainty with `mc_predict`.

Trains an MLP with `rk.layers.MCDropout` (dropout that stays on at
inference) on part of scikit-learn's bundled digits (1,797 real 8x8
handwritten digits, no download), then calls `rk.layers.mc_predict` to
draw many stochastic predictions of each image and summarise them by
their mean and standard deviation. It compares the predictive
uncertainty of four groups of inputs:

1. test digits the model classifies correctly;
2. test digits it gets wrong;
3. out-of-distribution inputs: uniform noise images;
4. out-of-distribution inputs: test digits with their pixels shuffled
   (the same intensities, no digit shape).

and prints, for each group, the mean standard deviation of the predicted
class's probability, the mean confidence (that probability itself) and
the fraction of inputs more uncertain than the median correctly
classified digit. Uncertainty should be lowest on the correct digits.

Run:
    pip install -e ".[demo]"
    python examples/mc_dropout_uncertainty.py

Set ``REGKIT_EXAMPLE_EPOCHS`` to change the epoch budget (the test suite
runs every example with a tiny one).
"""

import os
import time

import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import keras_regkit as rk

EPOCHS = int(os.environ.get("REGKIT_EXAMPLE_EPOCHS", "40"))
TRAIN_SIZE = 500
RATE = 0.3
SAMPLES = 100
NUM_OOD = 500
SEED = 0


def load_data():
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32").reshape(-1, 64)
    y = digits.target.astype("int32")
    return train_test_split(
        x, y, train_size=TRAIN_SIZE, random_state=SEED, stratify=y
    )


def build_mlp():
    keras.utils.set_random_seed(SEED)
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(256, activation="relu"),
            rk.layers.MCDropout(RATE, seed=SEED),
            keras.layers.Dense(256, activation="relu"),
            rk.layers.MCDropout(RATE, seed=SEED + 1),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def summarise(mean, std):
    """Predicted class, its mean probability and that probability's std."""
    predicted = mean.argmax(-1)
    rows = np.arange(len(mean))
    return predicted, mean[rows, predicted], std[rows, predicted]


def main():
    x_train, x_test, y_train, y_test = load_data()
    print(f"digits: {len(x_train)} training images, {len(x_test)} test images")
    start = time.perf_counter()
    model = build_mlp()
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, batch_size=32, epochs=EPOCHS, verbose=0)

    rng = np.random.default_rng(SEED)
    noise = rng.uniform(0.0, 1.0, (NUM_OOD, 64)).astype("float32")
    shuffled = rng.permuted(x_test[:NUM_OOD], axis=1)

    mean, std, info = rk.layers.mc_predict(
        model, x_test, samples=SAMPLES, return_info=True
    )
    predicted, confidence, spread = summarise(mean, std)
    correct = predicted == y_test
    print(
        f"MC dropout (rate {RATE}, {SAMPLES} samples): test accuracy of the "
        f"mean prediction {correct.mean():.3f}"
    )
    # Every layer draws per example: all samples of a chunk in one pass.
    print(f"mc_predict sampling: {info.sampling} ({info.reason})")
    groups = {
        "correct digits": (confidence[correct], spread[correct]),
        "misclassified digits": (confidence[~correct], spread[~correct]),
    }
    for name, images in (
        ("uniform noise", noise),
        ("shuffled pixels", shuffled),
    ):
        _, ood_confidence, ood_spread = summarise(
            *rk.layers.mc_predict(model, images, samples=SAMPLES)
        )
        groups[name] = (ood_confidence, ood_spread)

    reference = np.median(spread[correct]) if correct.any() else np.nan
    print(
        f"{'inputs':<22}{'count':>6}{'mean std':>10}{'confidence':>12}"
        f"{'std > median correct':>22}"
    )
    for name, (group_confidence, group_spread) in groups.items():
        if len(group_spread) == 0:
            print(f"{name:<22}{0:>6}{'-':>10}{'-':>12}{'-':>22}")
            continue
        above = (group_spread > reference).mean()
        print(
            f"{name:<22}{len(group_spread):>6}{group_spread.mean():>10.3f}"
            f"{group_confidence.mean():>12.3f}{above:>22.1%}"
        )
    print(
        "std: standard deviation over the samples of the predicted class's "
        "probability; confidence: its mean."
    )
    print(f"total time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
