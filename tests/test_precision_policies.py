"""Every layer and regularizer under both mixed-precision policies, eagerly
and inside a compiled (`jit_compile=True`) training step.

One model holds them all (a branch per layer, each regularizer on a conv
and a dense kernel), so each policy costs one compilation. It checks what
a mixed precision user relies on: every layer computes in the policy's
dtype (float16 or bfloat16), every variable stays float32, every penalty
is float32 and finite, and the training loss stays finite. (The per-module
tests check values; this one checks that no dtype mix-up hides in any
component under either policy.)
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


def all_components_model():
    """A model with every layer (one branch each) and every regularizer.

    Returns:
        (model, {layer name: layer}, input shapes in model input order).
    """
    inputs, features, layers = [], [], {}
    for name, (make, shape) in LAYERS.items():
        layers[name] = make()
        inputs.append(keras.Input(shape, name=name))
        features.append(keras.layers.Flatten()(layers[name](inputs[-1])))
    image = inputs[list(LAYERS).index("DropBlock2D")]
    for make in REGULARIZERS.values():
        conv = keras.layers.Conv2D(2, 3, kernel_regularizer=make())(image)
        features.append(keras.layers.Flatten()(conv))
    merged = keras.layers.Concatenate()(features)
    heads = [
        keras.layers.Dense(1, kernel_regularizer=make())(merged)
        for make in REGULARIZERS.values()
    ]
    model = keras.Model(inputs, keras.layers.Add()(heads))
    return model, layers, [shape for _, shape in LAYERS.values()]


def assert_float32_variables(model):
    for variable in model.weights:
        dtype = keras.backend.standardize_dtype(variable.dtype)
        if "float" in dtype:
            assert dtype == "float32", (variable.path, dtype)


@pytest.mark.compat("DropBlock1D/2D/3D", "mixed precision")
@pytest.mark.compat("DropPath", "mixed precision")
@pytest.mark.compat("DropConnect", "mixed precision")
@pytest.mark.compat("MCDropout", "mixed precision")
@pytest.mark.compat("ConcreteDropout", "mixed precision")
@pytest.mark.compat("L1/L2/L1L2", "mixed precision")
@pytest.mark.compat("ElasticNet", "mixed precision")
@pytest.mark.compat("GroupLasso", "mixed precision")
@pytest.mark.compat("Orthogonal", "mixed precision")
@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "jit"])
def test_every_component_under_policy(policy, jit_compile):
    model, layers, shapes = all_components_model()
    compute_dtype = policy.removeprefix("mixed_")
    for name, layer in layers.items():
        ones = np.ones((4, *shapes[list(layers).index(name)]), "float32")
        output = layer(ones, training=True)
        dtype = keras.backend.standardize_dtype(output.dtype)
        assert dtype == compute_dtype, (name, dtype)
    assert_float32_variables(model)
    # Two penalties per regularizer, plus ConcreteDropout's own.
    penalties = model.losses
    assert len(penalties) == 2 * len(REGULARIZERS) + 1
    for penalty in penalties:
        assert keras.backend.standardize_dtype(penalty.dtype) == "float32"
        assert np.isfinite(keras.ops.convert_to_numpy(penalty))
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(16, *shape)).astype("float32") for shape in shapes]
    y = rng.normal(size=(16, 1)).astype("float32")
    model.compile(keras.optimizers.SGD(0.01), "mse", jit_compile=jit_compile)
    history = model.fit(
        x,
        y,
        epochs=2,
        batch_size=8,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback()],
    )
    assert np.all(np.isfinite(history.history["loss"])), history.history
    # ScheduleCallback moved every scheduled rate and strength.
    logged = history.history
    rates = [logged[k] for k in logged if k.endswith("/rate")]
    assert rates == [[0.1, 0.2]] * 7, logged
    strengths = [logged[k] for k in logged if k.endswith("/l2")]
    assert np.allclose(strengths, [[0.0, 1e-3]] * 2), logged
    assert_float32_variables(model)
