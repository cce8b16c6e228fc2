"""Bad and unusual inputs at call time, for every layer and augmentation.

The companion of ``test_bad_arguments.py`` (issue 12) for what a model or
a pipeline is called with: every public layer of `keras_regkit.layers`
and every op of `keras_regkit.augment` (walked from ``__all__``) gets its
usual input and then variants of it — batch size 1 and 0, non-square and
odd sizes, 1 and 4 channels, other dtypes, one rank less and one more.
Every regularizer of `keras_regkit.regularizers` gets weights of every
rank, zero-size, other dtypes, and `tf.Variable` / `keras.Variable`.
Each must work (finite output, the batch kept) or raise `ValueError` /
`TypeError` naming the input (its name, shape, rank, dtype or channels);
never another exception type from deep inside a graph.

Known defects are strict xfails listed in `KNOWN` (see the project notes).
"""

from __future__ import annotations

import copy
import inspect
import os
import re
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_public_api import EXAMPLES

import keras_regkit as rk

# The usual input of each layer: constructor arguments and input shape
# (batch first, channels last).
LAYERS = {
    "DropBlock1D": ({"rate": 0.3, "block_size": 3}, (2, 9, 3)),
    "DropBlock2D": ({"rate": 0.3, "block_size": 3}, (2, 9, 7, 3)),
    "DropBlock3D": ({"rate": 0.3, "block_size": 2}, (2, 5, 7, 3, 2)),
    "DropPath": ({"rate": 0.3}, (2, 9, 7, 3)),
    "StochasticDepth": ({"rate": 0.3}, (2, 9, 7, 3)),
    "MCDropout": ({"rate": 0.3}, (2, 6)),
    "DropConnectDense": ({"units": 3, "rate": 0.3}, (2, 6)),
    "DropConnectConv2D": (
        {"filters": 2, "kernel_size": 3, "rate": 0.3},
        (2, 9, 7, 3),
    ),
    "ConcreteDropout": ({}, (2, 6)),  # wraps a fresh Dense(4)
}
# Augmentation ops whose input is not a batch of images.
INPUT_KINDS = {
    "TimeMasking": "spectrogram",
    "FrequencyMasking": "spectrogram",
    "RandomJitter": "series",
    "RandomScaling": "series",
    "RandomMagnitudeWarp": "series",
    "FeatureNoise": "tabular",
    "FeatureDropout": "tabular",
    "CutMix": "labelled",
    "MixUp": "labelled",
    "MixUpCutMix": "labelled",
}
BASE_SHAPES = {
    "images": (2, 9, 7, 3),
    "labelled": (2, 9, 7, 3),
    "spectrogram": (2, 12, 10),
    "series": (2, 12, 3),
    "tabular": (2, 6),
}
# Not called on inputs here: a loss (its inputs are predictions).
NOT_CALLED = {"JensenShannonCrossEntropy"}

# How an input may be named in a message about it.
NAMES_INPUT = re.compile(
    r"input|images|image|\bx\b|rank|ndim|shape|dtype|channel|batch|"
    r"spectrogram|series|features|labels|weight|kernel",
    re.IGNORECASE,
)

KNOWN_REASON = "known defect, see notes"
# BEGIN KNOWN (generated from a run: kind.name -> failing input labels)
KNOWN = {}
# END KNOWN
if os.environ.get("REGKIT_IGNORE_KNOWN"):  # to list every failure again
    KNOWN = {}


def variants(shape):
    """Input variants of ``shape``: label -> (shape, dtype)."""
    batch, *inner = shape
    spatial, channels = inner[:-1], inner[-1]
    odd = [7, 5, 3][: len(spatial)] if len(spatial) > 1 else [5]
    out = {
        "usual": (shape, "float32"),
        "batch1": ((1, *inner), "float32"),
        "batch0": ((0, *inner), "float32"),
        "odd_non_square": ((batch, *odd, channels), "float32")
        if spatial
        else ((batch, 5), "float32"),
        "channels1": ((batch, *spatial, 1), "float32"),
        "channels4": ((batch, *spatial, 4), "float32"),
        "rank_minus_1": (shape[1:], "float32"),
        "rank_plus_1": ((batch, 2, *inner), "float32"),
        "float64": (shape, "float64"),
        "uint8": (shape, "uint8"),
        "int32": (shape, "int32"),
        "bool": (shape, "bool"),
    }
    return out


def make_input(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.random(shape)
    if dtype == "uint8":
        return (values * 255).astype("uint8")
    if dtype == "int32":
        return (values * 4).astype("int32")
    if dtype == "bool":
        return values > 0.5
    return values.astype(dtype)


def _public(area):
    module = getattr(rk, area)
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) and not inspect.isabstract(obj):
            yield name, obj


def _param(kind, name, label):
    case_id = f"{kind}.{name}-{label}"
    marks = []
    if label in KNOWN.get(f"{kind}.{name}", ()):
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_REASON)]
    return pytest.param(name, label, id=case_id, marks=marks)


LAYER_CASES = [
    _param("layers", name, label)
    for name, cls in _public("layers")
    if issubclass(cls, keras.layers.Layer)
    for label in variants(LAYERS.get(name, ({}, (2, 6)))[1])
]
AUGMENT_CASES = [
    _param("augment", name, label)
    for name, _ in _public("augment")
    if name not in NOT_CALLED
    for label in variants(BASE_SHAPES[INPUT_KINDS.get(name, "images")])
]


@pytest.fixture(autouse=True)
def _seed_everything():
    """Overrides conftest's per-test session clearing (hundreds of cases)."""
    yield


@pytest.fixture(autouse=True, scope="module")
def _clear_at_end():
    yield
    keras.backend.clear_session()


def _assert_works_or_names_input(run, what):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outputs = run()
    except (ValueError, TypeError) as error:
        assert NAMES_INPUT.search(str(error)), (
            f"{what}: {type(error).__name__} without naming the input: {error}"
        )
        return
    except Exception as error:  # noqa: BLE001 - any other type is the bug
        raise AssertionError(
            f"{what}: {type(error).__name__}, not ValueError/TypeError: "
            f"{str(error)[:300]}"
        ) from error
    for tensor in tf.nest.flatten(outputs):
        array = np.asarray(tensor)
        if array.dtype.kind == "f":
            assert np.isfinite(array).all(), f"{what}: non-finite output"


def test_every_layer_has_an_input_spec():
    layers = [
        n for n, c in _public("layers") if issubclass(c, keras.layers.Layer)
    ]
    assert set(layers) <= set(LAYERS), set(layers) - set(LAYERS)


@pytest.mark.parametrize("name, label", LAYER_CASES)
def test_layer_input(name, label):
    kwargs, shape = LAYERS[name]
    shape, dtype = variants(shape)[label]
    x = make_input(shape, dtype)
    for training in (True, False):
        kwargs = {**kwargs, "seed": 1}
        if name == "ConcreteDropout":
            kwargs["layer"] = keras.layers.Dense(4)
        layer = getattr(rk.layers, name)(**kwargs)

        def run(layer=layer, training=training):
            out = layer(x, training=training)
            assert out.shape[0] == shape[0] or len(shape) < 2
            return out

        _assert_works_or_names_input(
            run, f"{name}(training={training}) on {dtype}{shape}"
        )


def _op(name):
    cls = getattr(rk.augment, name)
    kwargs = copy.deepcopy(EXAMPLES[name])
    if name == "Pipeline":
        kwargs["jit_compile"] = False
        return cls(**kwargs)
    if name == "AugmentationLayer":
        return cls(**kwargs)
    return rk.augment.Pipeline([cls(**kwargs)], seed=3, jit_compile=False)


def _labels(name, shape):
    classes = EXAMPLES[name]["num_classes"]
    batch = shape[0] if len(shape) == 4 else 1
    labels = np.eye(classes, dtype="float32")[np.arange(batch) % classes]
    return labels if len(shape) == 4 else labels[0]


@pytest.mark.parametrize("name, label", AUGMENT_CASES)
def test_augmentation_input(name, label):
    kind = INPUT_KINDS.get(name, "images")
    shape, dtype = variants(BASE_SHAPES[kind])[label]
    x = make_input(shape, dtype)
    op = _op(name)
    if name == "AugmentationLayer":

        def run():
            return op(x, training=True)

    elif kind == "labelled":

        def run():
            return op.augment((x, _labels(name, shape)), seed=(1, 2))

    else:

        def run():
            return op.augment(x, seed=(1, 2))

    _assert_works_or_names_input(run, f"{name} on {dtype}{shape}")


# The usual weight of each regularizer (default: a (3, 2) Dense kernel).
WEIGHT_SHAPES = {"L2SP": (2, 3)}  # its config example's starting point


def weight_variants(shape):
    """Weights to regularize: label -> a function building the weight."""
    rows, cols = shape
    return {
        "usual": lambda: make_input(shape, "float32"),
        "rank0": lambda: np.float32(0.5),
        "rank1": lambda: make_input((rows,), "float32"),
        "rank4_conv": lambda: make_input((3, 3, rows, cols), "float32"),
        "zero_size": lambda: make_input((0, cols), "float32"),
        "float64": lambda: make_input(shape, "float64"),
        "float16": lambda: make_input(shape, "float16"),
        "int32": lambda: make_input(shape, "int32"),
        "tf.Variable": lambda: tf.Variable(make_input(shape, "float32")),
        "keras.Variable": lambda: keras.Variable(make_input(shape, "float32")),
    }


REGULARIZER_CASES = [
    _param("regularizers", name, label)
    for name, cls in _public("regularizers")
    for label in weight_variants(WEIGHT_SHAPES.get(name, (3, 2)))
]


@pytest.mark.parametrize("name, label", REGULARIZER_CASES)
def test_regularizer_input(name, label):
    cls = getattr(rk.regularizers, name)
    regularizer = cls(**copy.deepcopy(EXAMPLES[name]))
    weight = weight_variants(WEIGHT_SHAPES.get(name, (3, 2)))[label]()

    def run():
        penalty = regularizer(weight)
        assert np.shape(penalty) == (), f"penalty of shape {penalty.shape}"
        return penalty

    _assert_works_or_names_input(run, f"{name} on {label}")
