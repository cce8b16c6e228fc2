"""Every layer and regularizer under both mixed-precision policies, eagerly
and inside a compiled (`jit_compile=True`) training step.

Each case trains a small model for two epochs and checks what a mixed
precision user relies on: the layer computes in the policy's dtype
(float16 or bfloat16), its variables stay float32, and the training loss
stays finite. (The per-module tests check values; this one checks that no
dtype mix-up hides in any component under either policy.)
"""

import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit import schedules

POLICIES = ["mixed_float16", "mixed_bfloat16"]


def rate():
    """A scheduled rate: a float32 variable read inside the step."""
    return schedules.Linear(0.1, 0.3, duration=2)


LAYERS = {
    "DropBlock1D": (lambda: rk.layers.DropBlock1D(rate(), 3, seed=1), (12, 3)),
    "DropBlock2D": (
        lambda: rk.layers.DropBlock2D(rate(), 3, seed=1),
        (8, 6, 3),
    ),
    "DropBlock3D": (
        lambda: rk.layers.DropBlock3D(rate(), 2, seed=1),
        (4, 6, 5, 2),
    ),
    "DropPath": (lambda: rk.layers.DropPath(rate(), seed=2), (8, 6, 3)),
    "DropConnectDense": (
        lambda: rk.layers.DropConnectDense(5, rate=rate(), seed=3),
        (7,),
    ),
    "DropConnectConv2D": (
        lambda: rk.layers.DropConnectConv2D(4, 3, rate=rate(), seed=4),
        (8, 6, 3),
    ),
    "MCDropout": (lambda: rk.layers.MCDropout(rate(), seed=5), (7,)),
    "ConcreteDropout": (
        lambda: rk.layers.ConcreteDropout(keras.layers.Dense(5), seed=6),
        (7,),
    ),
}

REGULARIZERS = {
    "L1": lambda: rk.regularizers.L1(1e-3),
    "L2 textbook": lambda: rk.regularizers.L2(lam=0.5, num_examples=32),
    "L1L2 scheduled": lambda: rk.regularizers.L1L2(
        1e-3, schedules.Linear(0.0, 1e-3, duration=1)
    ),
    "ElasticNet": lambda: rk.regularizers.ElasticNet(1e-3, 0.5),
    "GroupLasso": lambda: rk.regularizers.GroupLasso(1e-3),
    "Orthogonal": lambda: rk.regularizers.Orthogonal(1e-3),
}


@pytest.fixture(params=POLICIES)
def policy(request):
    keras.config.set_dtype_policy(request.param)
    yield request.param
    keras.config.set_dtype_policy("float32")


def fit_two_epochs(model, input_shape, jit_compile):
    """Trains briefly, schedules moving; returns the loss history."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, *input_shape)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    model.compile(keras.optimizers.SGD(0.01), "mse", jit_compile=jit_compile)
    history = model.fit(
        x,
        y,
        epochs=2,
        batch_size=8,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback(warn_if_unused=False)],
    )
    return history.history["loss"]


def assert_float32_variables(layer):
    for variable in layer.weights:
        dtype = keras.backend.standardize_dtype(variable.dtype)
        if "float" in dtype:
            assert dtype == "float32", (variable.path, dtype)


def assert_computes_in(policy, output):
    dtype = keras.backend.standardize_dtype(output.dtype)
    assert dtype == policy.removeprefix("mixed_"), (policy, dtype)


EAGER_AND_JIT = pytest.mark.parametrize(
    "jit_compile", [False, True], ids=["eager", "jit"]
)


@pytest.mark.compat("DropBlock1D/2D/3D", "mixed precision")
@pytest.mark.compat("DropPath", "mixed precision")
@pytest.mark.compat("DropConnect", "mixed precision")
@pytest.mark.compat("MCDropout", "mixed precision")
@pytest.mark.compat("ConcreteDropout", "mixed precision")
@EAGER_AND_JIT
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_computes_in_policy_dtype(name, jit_compile, policy):
    make, input_shape = LAYERS[name]
    layer = make()
    model = keras.Sequential(
        [
            keras.Input(input_shape),
            layer,
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    assert_computes_in(
        policy, layer(np.ones((4, *input_shape), "float32"), training=True)
    )
    assert_float32_variables(layer)
    losses = fit_two_epochs(model, input_shape, jit_compile)
    assert np.all(np.isfinite(losses)), losses
    assert_float32_variables(layer)


@pytest.mark.compat("L1/L2/L1L2", "mixed precision")
@pytest.mark.compat("ElasticNet", "mixed precision")
@pytest.mark.compat("GroupLasso", "mixed precision")
@pytest.mark.compat("Orthogonal", "mixed precision")
@EAGER_AND_JIT
@pytest.mark.parametrize("name", sorted(REGULARIZERS))
def test_regularizer_penalty_is_float32_and_finite(name, jit_compile, policy):
    regularizer = REGULARIZERS[name]()
    model = keras.Sequential(
        [
            keras.Input((7, 5, 2)),
            keras.layers.Conv2D(3, 3, kernel_regularizer=regularizer),
            keras.layers.Flatten(),
            keras.layers.Dense(1, kernel_regularizer=regularizer),
        ]
    )
    penalties = model.losses
    assert len(penalties) == 2
    for penalty in penalties:
        dtype = keras.backend.standardize_dtype(penalty.dtype)
        assert dtype == "float32", dtype
        assert np.isfinite(float(keras.ops.convert_to_numpy(penalty)))
    losses = fit_two_epochs(model, (7, 5, 2), jit_compile)
    assert np.all(np.isfinite(losses)), losses
    assert_float32_variables(model.layers[0])
    assert_computes_in(
        policy, model.layers[0](np.ones((2, 7, 5, 2), "float32"))
    )
