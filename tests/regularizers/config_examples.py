"""Constructor examples setting every argument, for tests/test_public_api.py."""

from keras_regkit import schedules

CONFIG_EXAMPLES = {
    "L1": {"l1": None, "lam": 0.3, "num_examples": 50},
    "L2": {
        "l2": None,
        "lam": schedules.Linear(0.0, 0.3, 4),
        "num_examples": 50,
    },
    "L1L2": {"l1": 0.2, "l2": schedules.Cosine(0.1, 0.0, 3, unit="step")},
    "ElasticNet": {"alpha": 0.3, "l1_ratio": 0.2},
    "GroupLasso": {"factor": 0.2, "axis": 0, "scale_by_group_size": False},
    "Orthogonal": {
        "factor": schedules.Piecewise([1], [0.0, 0.1]),
        "mode": "rows",
    },
    "L2SP": {
        "alpha": 0.3,
        "starting_point": {"shape": [2, 3], "dtype": "float32"},
    },
}
