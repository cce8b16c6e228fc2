"""Constructor arguments for every public callback, for the config tests.

Each entry sets every constructor argument, with non-default values where
possible, so that a forgotten `get_config` key shows up.
"""

from keras_regkit.callbacks import early_stopping as _rules

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
        # `rules` replaces the rule keywords set above, so it cannot be
        # set here too: test_rules_config_round_trip covers it.
        "rules": None,
    },
    "Patience": {"patience": 4, "baseline": 0.5, "monitor": "val_auc"},
    "StoppingThreshold": {"threshold": 0.01, "monitor": "val_loss"},
    "DivergenceThreshold": {"threshold": 10.0, "monitor": "loss"},
    "NonFinite": {"monitor": "loss"},
    "GeneralizationLoss": {"alpha": 2.5, "monitor": "val_error"},
    "ProgressQuotient": {
        "alpha": 0.5,
        "strip_length": 3,
        "training_loss": "train_error",
        "monitor": "val_error",
    },
    "UpStrips": {"strips": 3, "strip_length": 4, "monitor": "val_error"},
    "AnyOf": {"rules": [_rules.Patience(3), _rules.NonFinite()]},
    "AllOf": {"rules": [_rules.Patience(3), _rules.GeneralizationLoss(1.0)]},
    "ScheduleCallback": {"log": False, "warn_if_unused": False},
    # Data arguments are not configuration: their config value is None.
    "SWA": {
        "start": 0.5,
        "swa_lr": 0.01,
        "anneal_epochs": 2,
        "anneal_strategy": "linear",
        "bn_data": None,
        "bn_batch_size": 16,
        "swap_at_end": False,
        "verbose": 1,
    },
    "GapMonitor": {
        "train_data": None,
        "validation_data": None,
        "subset": 64,
        "every": 2,
        "metrics": ["loss"],
        "batch_size": 8,
        "seed": 3,
        "mode": {"f1_score": "max"},
    },
}
