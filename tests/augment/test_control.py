"""RandomChoice and RandomApply: per-example choices, fresh every batch."""

import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka


def images(batch=48, height=6, width=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((batch, height, width, 3), dtype=np.float32)


def which(out, candidates, atol=1e-6):
    """The index of the candidate each example equals (-1 for none)."""
    found = np.full(len(out), -1)
    for k, candidate in enumerate(candidates):
        close = np.abs(out - candidate).max(axis=(1, 2, 3)) <= atol
        assert not np.any(close & (found >= 0)), "ambiguous candidates"
        found[close] = k
    return found


def choice():
    return rka.RandomChoice(
        [
            rka.RandomFlip(probability=1.0),
            rka.RandomSolarize(0.0),
            rka.RandomBrightness((-1.0, -1.0)),
        ]
    )


@pytest.mark.parametrize("jit_compile", [False, True])
def test_choice_applies_exactly_one_op_per_example(jit_compile):
    x = images()
    out = rka.Pipeline([choice()], jit_compile=jit_compile).augment(x, 3)
    picked = which(out.numpy(), [x[:, :, ::-1], 1.0 - x, np.zeros_like(x)])
    assert np.all(picked >= 0)
    counts = np.bincount(picked, minlength=3)
    # 48 draws of 1/3 each: every count within 16 +- 10 (p > 0.999).
    assert np.all((counts >= 6) & (counts <= 26)), counts


def test_choice_weights():
    x = images(batch=400, height=2, width=3)
    ops = [rka.RandomSolarize(0.0), rka.RandomBrightness((-1.0, -1.0))]
    out = rka.Pipeline([rka.RandomChoice(ops, weights=[3, 1])]).augment(x, 0)
    picked = which(out.numpy(), [1.0 - x, np.zeros_like(x)])
    share = np.mean(picked == 0)
    # Binomial(400, 0.75): standard deviation 0.022; 4 sigma.
    assert abs(share - 0.75) < 0.09, share
    only = rka.RandomChoice(ops, weights=[0, 2])
    out = rka.Pipeline([only]).augment(x, 0).numpy()
    np.testing.assert_array_equal(out, 0.0)


def test_choice_probability_leaves_some_examples_untouched():
    x = images(batch=200, height=2, width=3)
    op = rka.RandomChoice([rka.RandomSolarize(0.0)], probability=0.3)
    picked = which(rka.Pipeline([op]).augment(x, 1).numpy(), [x, 1.0 - x])
    assert np.all(picked >= 0)
    # Binomial(200, 0.3): standard deviation 0.032; 4 sigma.
    assert abs(np.mean(picked == 1) - 0.3) < 0.13


def test_geometric_choice_is_fused_and_exact():
    x = images(batch=32, height=8, width=8)
    quarter = rka.RandomRotation((0.25, 0.25))
    op = rka.RandomChoice([rka.RandomFlip(probability=1.0), quarter])
    pipeline = rka.Pipeline([op, rka.RandomFlip("vertical", 1.0)])
    # One geometric stage: the choice and the flip share one resampling.
    assert len(pipeline.chain.stages) == 1
    out = pipeline.augment(x, 5).numpy()
    # Counter-clockwise quarter turn, then a vertical flip.
    rotated = np.rot90(x, k=1, axes=(1, 2))[:, ::-1]
    picked = which(out, [x[:, ::-1, ::-1], rotated], atol=1e-5)
    assert np.all(picked >= 0) and len(set(picked)) == 2


def test_apply_gates_the_whole_group_per_example():
    x = images(batch=200, height=5, width=7)
    group = rka.RandomApply(
        [rka.RandomFlip(probability=1.0), rka.RandomSolarize(0.0)],
        probability=0.4,
    )
    assert not group.geometric
    out = rka.Pipeline([group]).augment(x, 2).numpy()
    picked = which(out, [x, 1.0 - x[:, :, ::-1]])
    assert np.all(picked >= 0)
    # Binomial(200, 0.4): standard deviation 0.035; 4 sigma.
    assert abs(np.mean(picked == 1) - 0.4) < 0.14


def test_choices_differ_per_example_and_per_batch_in_tf_data():
    # 64 copies of one image: any difference comes from the choices.
    x = np.repeat(images(batch=1, height=4, width=5), 64, axis=0)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(16)
    augmented = rka.Pipeline([choice()], seed=4)(ds)
    epoch = np.stack([b.numpy() for b in augmented])
    candidates = [x[:16, :, ::-1], 1.0 - x[:16], np.zeros_like(x[:16])]
    picks = np.stack([which(batch, candidates) for batch in epoch])
    assert np.all(picks >= 0)
    assert all(len(set(row)) == 3 for row in picks)  # per example
    assert len({row.tobytes() for row in picks}) == 4  # per batch
    again = np.stack([b.numpy() for b in rka.Pipeline([choice()], seed=4)(ds)])
    np.testing.assert_array_equal(epoch, again)
    next_epoch = np.stack([b.numpy() for b in augmented])
    assert not np.array_equal(epoch, next_epoch)


def test_nested_composites_round_trip():
    inner = rka.RandomApply([rka.RandomContrast(0.5), rka.RandomHue(0.1)])
    outer = rka.RandomChoice([inner, rka.RandomRotation(0.1)], weights=[1, 2])
    pipeline = rka.Pipeline([outer], seed=1)
    again = rka.Pipeline.from_config(pipeline.get_config())
    x = images(batch=8)
    np.testing.assert_array_equal(pipeline.augment(x, 7), again.augment(x, 7))


def test_child_validation_names_the_composite():
    op = rka.RandomChoice([rka.RandomSaturation(0.2)])
    gray = np.zeros((2, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match="RandomChoice: RandomSaturation"):
        rka.Pipeline([op]).augment(gray, 0)


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: rka.RandomChoice([]), ValueError, "`ops`.*non-empty"),
        (lambda: rka.RandomChoice(rka.RandomFlip()), TypeError, "`ops`"),
        (
            lambda: rka.RandomChoice([rka.MixUp(num_classes=2)]),
            ValueError,
            "RandomChoice.*`ops`.*label mixing.*MixUp",
        ),
        (
            lambda: rka.RandomApply([rka.RandomResizedCrop(4, 4)]),
            ValueError,
            "RandomApply.*resized crop",
        ),
        (
            lambda: rka.RandomApply([rka.AugMix(jsd=True)]),
            ValueError,
            "consistency views",
        ),
        (
            lambda: rka.RandomChoice([rka.RandomFlip()], weights=[1, 2]),
            ValueError,
            "`weights`.*a list of 1 floats",
        ),
        (
            lambda: rka.RandomChoice([rka.RandomFlip()], weights=[-1]),
            ValueError,
            "`weights`.*>= 0",
        ),
        (
            lambda: rka.RandomChoice([rka.RandomFlip()], weights=[0]),
            ValueError,
            "`weights`.*positive sum",
        ),
        (
            lambda: rka.RandomApply([rka.RandomFlip()], probability=1.5),
            ValueError,
            "RandomApply.*`probability`",
        ),
    ],
)
def test_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()
