"""Sharpness-aware minimization with an unchanged compile / fit.

Trains the same MLP three times on a small slice of scikit-learn's bundled
digits (no download): with plain Adam, with SAM (``rk.training.SAM``,
``rho=0.05``) and with ASAM (``adaptive=True``, ``rho=0.5``). SAM wraps
the model; ``compile``, ``fit``, ``evaluate`` and ``save`` are the usual
ones, and ``sam.model`` is the trained model itself.

For each run it prints the training and validation accuracy and a
sharpness probe: the mean increase of the training loss when each weight
tensor moves by a random direction of 25% of its norm (flat minima change
little). It
then saves the SAM model to a ``.keras`` file and loads it back without
``custom_objects``.

Run:
    pip install -e ".[demo]"
    python examples/sam.py

``REGKIT_EXAMPLE_EPOCHS`` sets the epoch budget; ``REGKIT_EXAMPLE_OUT`` the
folder for the saved model (default ``./regkit-examples``).
"""

import os

import _digits
import keras
import numpy as np

import keras_regkit as rk

EPOCHS = int(os.environ.get("REGKIT_EXAMPLE_EPOCHS", "60"))
OUT = os.environ.get("REGKIT_EXAMPLE_OUT", "regkit-examples")
SEED = 0


def load_data():
    return _digits.load_data(train_size=300, test_size=600, seed=SEED)


def build_mlp():
    return _digits.build_mlp(256, seed=SEED)


def sharpness(model, x, y, relative=0.25, directions=5):
    """Mean training-loss increase along random directions.

    Each weight tensor ``w`` moves by a random direction of norm
    ``relative · ‖w‖`` (so the probe does not depend on the weights' scale).
    """
    weights = model.get_weights()
    base = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    rng = np.random.default_rng(SEED)
    increases = []
    for _ in range(directions):
        moved = []
        for w in weights:
            n = rng.normal(size=w.shape)
            moved.append(
                w + relative * np.linalg.norm(w) * n / np.linalg.norm(n)
            )
        model.set_weights(moved)
        loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
        increases.append(loss - base)
    model.set_weights(weights)
    return float(np.mean(increases))


def main():
    x_train, y_train, x_val, y_val = load_data()
    runs = {
        "plain": lambda m: m,
        "SAM": lambda m: rk.training.SAM(m, rho=0.05),
        "ASAM": lambda m: rk.training.SAM(m, rho=0.5, adaptive=True),
    }
    print(f"{'run':<6} {'train acc':>9} {'val acc':>8} {'sharpness':>10}")
    trained = {}
    for name, wrap in runs.items():
        model = wrap(build_mlp())
        model.compile(
            keras.optimizers.Adam(1e-3),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0)
        train = model.evaluate(x_train, y_train, verbose=0, return_dict=True)
        val = model.evaluate(x_val, y_val, verbose=0, return_dict=True)
        sharp = sharpness(model, x_train, y_train)
        print(
            f"{name:<6} {train['accuracy']:9.3f} {val['accuracy']:8.3f} "
            f"{sharp:10.4f}"
        )
        trained[name] = model

    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "sam.keras")
    trained["SAM"].save(path)
    loaded = keras.models.load_model(path)
    same = np.allclose(
        loaded.predict(x_val, verbose=0),
        trained["SAM"].predict(x_val, verbose=0),
        atol=1e-6,
    )
    print(f"saved to {path}; reloaded {type(loaded).__name__}, same: {same}")
    assert same


if __name__ == "__main__":
    main()
