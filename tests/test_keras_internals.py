"""Pins every function of keras_regkit._keras_internals on the installed Keras.

Each test checks the Keras behaviour a function relies on, so a Keras
release that changes one private detail fails here, next to the one
function to fix, rather than somewhere in a component's tests.
"""

import keras
import numpy as np
import pytest

from keras_regkit import _keras_internals as internals


class Holder(keras.layers.Layer):
    """A layer with its own weight and a nested Dense."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.layers.Dense(2, name="inner")

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(2,), name="scale")
        self.inner.build(input_shape)

    def call(self, x):
        return self.inner(x) * self.scale


class Subclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.holder = Holder(name="holder")
        self.head = keras.layers.Dense(1, name="head")

    def call(self, x):
        return self.head(self.holder(x))


def _built_subclassed():
    model = Subclassed(name="sub")
    model(np.zeros((1, 3), "float32"))
    return model


def test_checked_keras_version_is_the_installed_one():
    installed = ".".join(keras.version().split(".")[:2])
    assert installed == internals.CHECKED_KERAS_VERSION, (
        f"keras_regkit/_keras_internals.py was checked against Keras "
        f"{internals.CHECKED_KERAS_VERSION}, but Keras {keras.version()} is "
        "installed: re-check every function of that module against this "
        "release (this test file pins each one), then update "
        "CHECKED_KERAS_VERSION and the versions in its docstrings."
    )


def test_flatten_layers_lists_nested_layers_of_subclassed_models():
    model = _built_subclassed()
    names = [layer.name for layer in internals.flatten_layers(model)]
    assert names[0] == "sub"
    assert sorted(names[1:]) == ["head", "holder", "inner"]
    # The public `layers` does not reach the Dense inside the custom layer.
    assert "inner" not in [layer.name for layer in model.layers]


def test_child_layers_are_the_direct_sublayers_in_creation_order():
    model = _built_subclassed()
    assert [c.name for c in internals.child_layers(model)] == ["holder", "head"]
    holder = model.get_layer("holder")
    assert [c.name for c in internals.child_layers(holder)] == ["inner"]
    assert internals.child_layers(holder.inner) == []


def test_config_holds_sublayers_exactly_for_sequential_and_functional():
    dense = keras.layers.Dense(2)
    sequential = keras.Sequential([keras.Input((3,)), dense])
    inputs = keras.Input((3,))
    functional = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    assert internals.config_holds_sublayers(sequential)
    assert internals.config_holds_sublayers(functional)
    assert not internals.config_holds_sublayers(_built_subclassed())
    assert not internals.config_holds_sublayers(Holder())
    # The fact relied on: a Sequential's config holds a sublayer's
    # regularizer attribute, set after construction; a subclassed model's
    # config does not hold its sublayers at all.
    dense.kernel_regularizer = keras.regularizers.L2(0.5)
    config = keras.saving.serialize_keras_object(sequential)
    saved = config["config"]["layers"][-1]["config"]["kernel_regularizer"]
    assert saved["config"] == {"l2": 0.5}
    assert "layers" not in Subclassed().get_config()


def test_own_trainable_variables_exclude_nested_layers():
    holder = _built_subclassed().get_layer("holder")
    own = internals.own_trainable_variables(holder)
    assert [v.name for v in own] == ["scale"]
    assert {v.name for v in holder.trainable_weights} == {
        "scale",
        "kernel",
        "bias",
    }


def test_add_state_variable_adds_state_but_no_weight():
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    assert internals.can_hold_state(layer)
    assert not internals.can_hold_state(object())
    variable = keras.Variable(0.5, trainable=False, name="strength")
    internals.add_state_variable(layer, variable)
    assert any(v is variable for v in layer.variables)
    assert any(v is variable for v in layer.non_trainable_variables)
    assert not any(v is variable for v in layer.weights)
    assert len(layer.get_weights()) == 2


@pytest.mark.parametrize(
    "metric, direction",
    [
        (keras.metrics.BinaryAccuracy(), "max"),
        (keras.metrics.AUC(), "max"),
        (keras.metrics.MeanSquaredError(), "min"),
        (keras.metrics.Mean(), None),
        ("not a metric", None),
    ],
)
def test_metric_direction(metric, direction):
    assert internals.metric_direction(metric) == direction


def test_flat_metrics_and_loss_tracker_of_a_compiled_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    assert internals.loss_tracker(model) is None
    model.compile("sgd", "mse", metrics=[keras.metrics.MeanAbsoluteError()])
    model.fit(np.zeros((4, 3)), np.zeros((4, 1)), epochs=1, verbose=0)
    names = [m.name for m in internals.flat_metrics(model.metrics)]
    assert "mean_absolute_error" in names
    assert all(
        not isinstance(getattr(m, "metrics", None), list)
        for m in internals.flat_metrics(model.metrics)
    )
    tracker = internals.loss_tracker(model)
    assert isinstance(tracker, keras.metrics.Mean)
    assert float(keras.ops.convert_to_numpy(tracker.result())) == 0.0


def test_jax_state_sync_only_on_jax():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    sync = internals.jax_state_sync(model)
    if keras.backend.backend() == "jax":
        assert callable(sync)
    else:
        assert sync is None


def test_compiled_functions_are_cached_dropped_and_remade():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.train_function is not None
    assert model.test_function is None
    trained = model.train_function
    internals.remake_compiled_functions(model)
    assert model.train_function is not trained
    assert model.test_function is None
    model.evaluate(x, y, verbose=0)
    tested = model.test_function
    internals.remake_compiled_functions(model)
    assert model.test_function is not tested
    internals.drop_compiled_functions(model)
    assert model.train_function is None and model.test_function is None
    model.fit(x, y, epochs=1, verbose=0)
    assert model.train_function is not None


def test_config_attribute_names_the_regularizer_argument():
    cases = [
        (keras.layers.Dense(2), "kernel", "kernel_regularizer"),
        (keras.layers.Dense(2), "bias", "bias_regularizer"),
        (keras.layers.DepthwiseConv2D(3), "kernel", "depthwise_regularizer"),
        (
            keras.layers.SeparableConv2D(2, 3),
            "depthwise_kernel",
            "depthwise_regularizer",
        ),
        (
            keras.layers.SeparableConv2D(2, 3),
            "pointwise_kernel",
            "pointwise_regularizer",
        ),
        (
            keras.layers.LSTMCell(2),
            "recurrent_kernel",
            "recurrent_regularizer",
        ),
        (keras.layers.Embedding(5, 2), "embeddings", "embeddings_regularizer"),
        (keras.layers.BatchNormalization(), "gamma", "gamma_regularizer"),
        (keras.layers.Dense(2), "nonexistent", None),
    ]
    for layer, weight, attribute in cases:
        assert internals.config_attribute(layer, weight) == attribute, layer
        if attribute is not None:
            assert attribute in layer.get_config(), (layer, attribute)


def test_weight_names_the_attribute_table_assumes():
    depthwise = keras.layers.DepthwiseConv2D(3)
    depthwise.build((None, 5, 5, 2))
    assert [v.name for v in depthwise.trainable_weights] == ["kernel", "bias"]
    separable = keras.layers.SeparableConv2D(2, 3)
    separable.build((None, 5, 5, 2))
    assert [v.name for v in separable.trainable_weights] == [
        "depthwise_kernel",
        "pointwise_kernel",
        "bias",
    ]


def test_weight_slots_of_built_and_unbuilt_layers():
    unbuilt = keras.layers.Dense(2)
    slots = internals.weight_slots(unbuilt)
    assert [(s.name, s.variable, s.attribute) for s in slots] == [
        ("kernel", None, "kernel_regularizer"),
        ("bias", None, "bias_regularizer"),
    ]
    regularizer = keras.regularizers.L2(0.1)
    slots[0].set_regularizer(regularizer)
    assert unbuilt.kernel_regularizer is regularizer
    unbuilt.build((None, 3))
    built = internals.weight_slots(unbuilt)
    assert [(s.name, s.attribute) for s in built] == [
        ("kernel", "kernel_regularizer"),
        ("bias", "bias_regularizer"),
    ]
    assert built[0].variable is unbuilt.kernel
    assert built[0].regularizer is regularizer
    assert built[1].regularizer is None


def test_keras_reads_the_penalty_from_the_variable():
    """Why slots set ``variable.regularizer``: the attribute alone is dead."""
    layer = keras.layers.Dense(2, kernel_initializer="ones")
    layer.build((None, 3))
    layer.kernel_regularizer = keras.regularizers.L2(1.0)
    assert layer.losses == []
    (slot,) = [s for s in internals.weight_slots(layer) if s.name == "kernel"]
    slot.set_regularizer(keras.regularizers.L2(1.0))
    losses = [float(keras.ops.convert_to_numpy(v)) for v in layer.losses]
    assert losses == [6.0]


def test_walk_visits_each_layer_once_in_a_reproducible_order():
    shared = keras.layers.Dense(3, name="shared")
    inputs = keras.Input((3,))
    outputs = shared(shared(inputs))
    functional = keras.Model(inputs, outputs)
    layers = [layer for layer, _ in internals.walk(functional)]
    assert [type(layer).__name__ for layer in layers] == [
        "Functional",
        "InputLayer",
        "Dense",
    ]

    def visit(model):
        return [
            (type(layer).__name__, [(s.name, s.in_config) for s in slots])
            for layer, slots in internals.walk(model)
        ]

    first = visit(_built_subclassed())
    assert first == visit(_built_subclassed())
    # No sublayer of a subclassed model is saved through configs.
    assert first == [
        ("Subclassed", []),
        ("Holder", [("scale", False)]),
        ("Dense", [("kernel", False), ("bias", False)]),
        ("Dense", [("kernel", False), ("bias", False)]),
    ]
    sequential = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    assert visit(sequential)[-1] == (
        "Dense",
        [("kernel", True), ("bias", True)],
    )


def test_saveable_state_base_is_a_keras_saveable():
    from keras.src.saving.keras_saveable import KerasSaveable

    base = internals.saveable_state_base()
    assert issubclass(base, KerasSaveable)
    assert base()._obj_type() == "Loss"
