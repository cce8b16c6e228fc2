"""The demo's steps: which variant's strength the validation curve sweeps."""

from demo import demo_helpers as _h

from keras_regkit.demo import steps


def test_most_useful_is_the_lowest_validation_error_with_a_strength():
    # Each later variant is 0.05 better on validation than the one before.
    names = ("none", "l2", "dropout", "early_stopping")
    assert steps.most_useful(_h.fake_comparison(names)) == "dropout"
    names = ("none", "dropout", "l2")
    assert steps.most_useful(_h.fake_comparison(names)) == "l2"
    # It may be worse than the baseline: its curve shows the other values.
    names = ("early_stopping", "none", "augment")
    assert steps.most_useful(_h.fake_comparison(names)) == "augment"
    names = ("none", "early_stopping", "combined")
    assert steps.most_useful(_h.fake_comparison(names)) is None
