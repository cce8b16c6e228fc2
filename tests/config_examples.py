"""Constructor examples for the top-level modules (schedules)."""

import keras

CONFIG_EXAMPLES = {
    "Linear": {
        "start": 0.1,
        "end": 0.5,
        "duration": 3,
        "delay": 1,
        "unit": "step",
    },
    "Cosine": {
        "start": 0.5,
        "end": 0.0,
        "duration": 2,
        "delay": 2,
        "unit": "step",
    },
    "Piecewise": {
        "boundaries": [2, 5],
        "values": [1.0, 0.5, 0.1],
        "unit": "step",
    },
    "Custom": {
        "function": keras.optimizers.schedules.ExponentialDecay(1.0, 10, 0.5),
        "unit": "step",
    },
}
