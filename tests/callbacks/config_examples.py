"""Constructor arguments for every public callback, for the config tests.

Each entry sets every constructor argument, with non-default values where
possible, so that a forgotten `get_config` key shows up.
"""

CONFIG_EXAMPLES = {
    "EarlyStopping": {
        "monitor": ["val_loss", "val_accuracy"],
        "min_delta": 0.01,
        "patience": 3,
        "verbose": 1,
        "mode": ["min", "max"],
        "baseline": 0.9,
        "restore_best_weights": True,
        "start_from_epoch": 2,
        "min_delta_mode": "relative",
        "smoothing": "exponential",
        "smoothing_window": 3,
        "check_finite": True,
        "stopping_threshold": 0.01,
        "divergence_threshold": 10.0,
        "criterion": "PQ",
        "criterion_threshold": 0.5,
        "strip_length": 4,
        "combine": "any",
        "save_best_to": "best.weights.h5",
        "include_optimizer": True,
        "strict": True,
    },
    "ScheduleCallback": {"log": False, "warn_if_unused": False},
}
