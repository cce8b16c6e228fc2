"""A linear model fitted exactly, and data for it.

`ExactLinear` is a ``Dense(1)`` model whose ``fit`` solves the (ridge)
least-squares problem in closed form and sets the weights: a linear model
"trained to convergence" in microseconds, so the tests check what the
diagnostics measure, not how fast SGD converges.
"""

import keras
import numpy as np

SIGMA = 0.5
WEIGHTS = np.array([[1.0], [-2.0], [0.5], [3.0]])
INTERCEPT = 0.3


class ExactLinear(keras.Sequential):
    def __init__(self, features, ridge=0.0, l2=0.0):
        regularizer = keras.regularizers.L2(l2) if l2 else None
        super().__init__(
            [
                keras.Input((features,)),
                keras.layers.Dense(1, kernel_regularizer=regularizer),
            ]
        )
        self.ridge = ridge
        self.fit_calls = []

    def fit(self, x, y, **kwargs):
        self.fit_calls.append(kwargs)
        design = np.c_[x, np.ones(len(x))].astype("float64")
        penalty = self.ridge * np.eye(design.shape[1])
        penalty[-1, -1] = 0.0  # the intercept is not penalized
        w = np.linalg.lstsq(
            design.T @ design + penalty, design.T @ y, rcond=None
        )[0]
        self.layers[0].set_weights([w[:-1], w[-1]])


def linear_data(n, seed):
    """``y = x w + b + noise``, ``noise ~ N(0, SIGMA^2)``, x ~ N(0, I)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(WEIGHTS)))
    y = x @ WEIGHTS + INTERCEPT + SIGMA * rng.normal(size=(n, 1))
    return x.astype("float32"), y.astype("float32")


def sgd_linear():
    """A ``Dense(1)`` trained by SGD: a real fit, picklable (top level),
    for the tests that run trials in other processes."""
    model = keras.Sequential(
        [keras.Input((len(WEIGHTS),)), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.SGD(0.05), "mse")
    return model
