"""Constructor arguments of every public class of `keras_regkit.layers`.

Used by the project-wide config test (tests/test_public_api.py: every
argument in the config, round trip, serialization), which is the layers'
only config test: every argument set, with non-default values where
possible, and a schedule for some rates.
"""

import keras

from keras_regkit import schedules

CONFIG_EXAMPLES = {
    "DropBlock1D": {
        "rate": 0.2,
        "block_size": 5,
        "data_format": "channels_first",
        "per_channel": True,
        "seed": 7,
    },
    "DropBlock2D": {
        "rate": schedules.Linear(0.0, 0.1, duration=5),
        "block_size": (3, 5),
        "data_format": "channels_first",
        "per_channel": True,
        "seed": 7,
    },
    "DropBlock3D": {
        "rate": 0.15,
        "block_size": 2,
        "data_format": "channels_first",
        "per_channel": True,
        "seed": 7,
    },
    "DropPath": {"rate": 0.25, "scale_by_keep": False, "seed": 7},
    "StochasticDepth": {
        "rate": schedules.Piecewise([2], [0.0, 0.1]),
        "scale_by_keep": False,
        "seed": 7,
    },
    "DropConnectDense": {
        "units": 3,
        "rate": 0.3,
        "per_example": True,
        "seed": 7,
    },
    "DropConnectConv2D": {
        "filters": 2,
        "kernel_size": 3,
        "rate": schedules.Cosine(0.0, 0.2, duration=3),
        "seed": 7,
    },
    "MCDropout": {"rate": 0.3, "noise_shape": (None, 1, None), "seed": 7},
    "ConcreteDropout": {
        "layer": keras.layers.Dense(4),
        "weight_regularizer": 1e-4,
        "dropout_regularizer": 1e-3,
        "init_rate": 0.3,
        "temperature": 0.2,
        "seed": 7,
    },
}
