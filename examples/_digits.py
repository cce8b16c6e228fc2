"""Shared by the examples: scikit-learn's bundled digits and an MLP for them.

Not an example itself: the scripts in this folder import it as a sibling
module (``python examples/<name>.py`` puts this folder on ``sys.path``).
"""

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def load_data(train_size, test_size, seed=0):
    """A stratified slice of the digits, pixels scaled to [0, 1].

    Args:
        train_size: The number of training examples.
        test_size: The number of validation examples.
        seed: The split's random state.

    Returns:
        ``(x_train, y_train, x_val, y_val)``: float32 images of 64 pixels
        and int32 labels.
    """
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target.astype("int32")
    x_train, x_val, y_train, y_val = train_test_split(
        x,
        y,
        train_size=train_size,
        test_size=test_size,
        random_state=seed,
        stratify=y,
    )
    return x_train, y_train, x_val, y_val


def build_mlp(width, seed=0):
    """An uncompiled MLP: two ReLU layers of ``width`` units, 10 logits.

    Args:
        width: The units of each hidden layer.
        seed: Set with ``keras.utils.set_random_seed`` before building.

    Returns:
        The ``keras.Sequential`` model.
    """
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
