import numpy as np
import pytest

from keras_regkit.diagnostics import _data


def test_sizes_as_fractions_or_counts():
    assert _data.check_sizes([1.0, 0.1, 0.5], 50, "f") == [5, 25, 50]
    assert _data.check_sizes((7, 3, 7), 50, "f") == [3, 7]
    with pytest.raises(TypeError, match="`train_sizes`"):
        _data.check_sizes([0.5, 10], 50, "f")
    with pytest.raises(ValueError, match=r"`train_sizes`.*\[1, 50\]"):
        _data.check_sizes([51], 50, "f")
    with pytest.raises(ValueError, match=r"`train_sizes`.*\(0, 1\]"):
        _data.check_sizes([0.0], 50, "f")


@pytest.mark.parametrize("one_hot", [False, True])
def test_subsets_are_stratified_and_depend_on_seed_and_size(one_hot):
    labels = np.repeat([0, 1, 2], [60, 30, 10])
    y = np.eye(3, dtype="float32")[labels] if one_hot else labels
    indices = _data.subset_indices(y, 20, seed=3, stratify=True)
    assert np.bincount(labels[indices]).tolist() == [12, 6, 2]
    again = _data.subset_indices(y, 20, seed=3, stratify=True)
    other = _data.subset_indices(y, 20, seed=4, stratify=True)
    np.testing.assert_array_equal(indices, again)
    assert not np.array_equal(indices, other)
    assert len(np.unique(indices)) == 20


def test_regression_targets_are_not_classes():
    y = np.linspace(0, 1, 40).astype("float32")
    assert _data.class_labels(y) is None
    indices = _data.subset_indices(y, 10, seed=0, stratify=False)
    assert len(np.unique(indices)) == 10
    assert _data.subset_indices(y, 40, seed=0, stratify=False).tolist() == (
        list(range(40))
    )


def test_data_must_be_pairs_of_equal_length():
    x = np.zeros((5, 2))
    with pytest.raises(TypeError, match="`data`"):
        _data.check_data("data", x, "f")
    with pytest.raises(ValueError, match=r"lengths \[4, 5\]"):
        _data.check_data("data", (x, np.zeros(4)), "f")
