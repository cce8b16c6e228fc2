"""Bad arguments and unknown targets fail early, naming what is wrong.

Regression tests for issue 12 §4 (booleans and pairs through
`keras_regkit._validation`) and issue 13 (a dict key the pipeline cannot
transform raises instead of passing through misaligned).
"""

import numpy as np
import pytest
import tensorflow as tf

from keras_regkit import augment as rka
from keras_regkit.augment._core import roles
from keras_regkit.augment.compose import policy_ops


@pytest.mark.parametrize("value", [1, 0, 0.0, 1.0, np.True_, "yes", None])
def test_pipeline_jit_compile_must_be_auto_or_a_bool(value):
    error = ValueError if isinstance(value, str) else TypeError
    with pytest.raises(error, match="Pipeline: .*`jit_compile`"):
        rka.Pipeline([], jit_compile=value)


@pytest.mark.parametrize("value", [True, False, "auto"])
def test_pipeline_jit_compile_valid_values(value):
    assert rka.Pipeline([], jit_compile=value).jit_compile is value


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda v: rka.AugMix(jsd=v), "jsd"),
        (lambda v: rka.JensenShannonCrossEntropy(from_logits=v), "from_logits"),
    ],
)
@pytest.mark.parametrize("value", [0, 1, 0.0, np.False_])
def test_boolean_arguments_reject_numbers(build, name, value):
    with pytest.raises(TypeError, match=f"`{name}`.*True or False"):
        build(value)


@pytest.mark.parametrize(
    "build, owner, name",
    [
        (lambda: rka.RandomResizedCrop(8, 8, scale=0.5), "Crop", "scale"),
        (lambda: rka.RandomResizedCrop(8, 8, ratio=1.0), "Crop", "ratio"),
        (lambda: rka.RandomErasing(scale=0.5), "Erasing", "scale"),
        (lambda: rka.RandomErasing(ratio=2), "Erasing", "ratio"),
    ],
)
def test_pair_arguments_reject_a_single_number(build, owner, name):
    # Was: TypeError: 'float' object is not iterable.
    with pytest.raises(
        TypeError,
        match=f"Random(Resized)?{owner}: Invalid value received for "
        f"argument `{name}`.*a pair",
    ):
        build()


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: rka.RandomResizedCrop(8, 8, scale=(0.0, 1.0)), "scale"),
        (lambda: rka.RandomResizedCrop(8, 8, scale=(0.5, 1.5)), "scale"),
        (lambda: rka.RandomResizedCrop(8, 8, ratio=(2.0, 1.0)), "ratio"),
        (lambda: rka.RandomErasing(scale=(0.3, 0.1)), "scale"),
        (lambda: rka.AugMix(depth=1.0), "depth"),
    ],
)
def test_pairs_and_integers_out_of_range(build, name):
    with pytest.raises((ValueError, TypeError), match=f"`{name}`"):
        build()


def test_segmentation_masks_move_and_unknown_keys_are_refused():
    # Issue 13: the masks used to come back untouched while the images
    # were flipped; now they are flipped with them.
    x = np.arange(2 * 4 * 6 * 3, dtype="uint8").reshape(2, 4, 6, 3)
    masks = np.arange(2 * 4 * 6, dtype="int32").reshape(2, 4, 6, 1)
    pipeline = rka.Pipeline([rka.RandomFlip(probability=1.0)])
    data = {"images": x, "segmentation_masks": masks}
    out = pipeline.augment(data, seed=7)
    np.testing.assert_array_equal(out["segmentation_masks"], masks[:, :, ::-1])
    # Boxes need a format, given once on the pipeline.
    boxes = {"boxes": np.zeros((2, 1, 4)), "labels": np.zeros((2, 1))}
    with pytest.raises(ValueError, match="`bounding_box_format`.*'xyxy'"):
        pipeline.augment({"images": x, "bounding_boxes": boxes}, seed=7)
    # A key the pipeline does not know still raises, naming it.
    with pytest.raises(
        ValueError, match="Pipeline: .*cannot transform 'masks'"
    ):
        pipeline.augment({"images": x, "masks": masks}, seed=7)
    # Early: when the dataset is mapped, before any element is produced.
    mixup = rka.Pipeline([rka.MixUp(num_classes=3)])
    ds = tf.data.Dataset.from_tensor_slices(data).batch(2)
    with pytest.raises(ValueError, match="MixUp: .*`segmentation_masks`"):
        mixup(ds)
    ds = tf.data.Dataset.from_tensor_slices({"images": x, "masks": masks})
    with pytest.raises(ValueError, match="'masks'"):
        pipeline(ds.batch(2))


def test_documented_keys_pass_through():
    x = np.zeros((3, 4, 6, 3), "uint8")
    y = np.array([0, 1, 2])
    w = np.array([0.5, 1.0, 2.0], "float32")
    pipeline = rka.Pipeline([rka.AugMix(jsd=True, ops=["rotate"])])
    out = pipeline.augment({"images": x, "labels": y, "sample_weights": w}, 1)
    assert sorted(out) == ["images", "labels", "sample_weights"]
    np.testing.assert_array_equal(out["labels"], np.tile(y, 3))
    np.testing.assert_array_equal(out["sample_weights"], np.tile(w, 3))
    with pytest.raises(ValueError, match="'images' key"):
        pipeline.augment({"labels": y}, 1)


def test_policy_multiply_op_and_its_brightness_alias():
    x = np.random.default_rng(0).random((8, 6, 5, 3)).astype("float32")
    old = rka.Pipeline([rka.RandAugment(1, 9, ops=["brightness"])])
    new = rka.Pipeline([rka.RandAugment(1, 9, ops=["multiply"])])
    np.testing.assert_array_equal(old.augment(x, 3), new.augment(x, 3))
    # The config keeps the name as given; "multiply" multiplies.
    assert old.ops[0].get_config()["ops"] == ["brightness"]
    value = np.array([0.5, -0.5], "float32")
    images = tf.fill([2, 1, 1, 1], 0.4)
    out = policy_ops.POLICY_OPS["multiply"].function(images, value).numpy()
    np.testing.assert_allclose(out.ravel(), [0.6, 0.2], rtol=1e-6)


def test_roles_are_read_from_the_class():
    assert issubclass(rka.RandomFlip, roles.GeometricOp)
    assert issubclass(rka.RandomResizedCrop, roles.GeometricOp)
    assert issubclass(rka.RandomContrast, roles.ValueOp)
    assert issubclass(rka.TimeMasking, roles.ValueOp)
    assert issubclass(rka.FeatureDropout, roles.ValueOp)
    assert issubclass(rka.CutMix, roles.BatchOp)
    # AugMix stays a value op with or without its consistency views.
    assert isinstance(rka.AugMix(jsd=True), roles.ValueOp)
    # A composite of geometric ops fuses; nothing is reassigned on it.
    choice = rka.RandomChoice([rka.RandomFlip(), rka.RandomRotation(0.1)])
    assert choice.geometric and "geometric" not in vars(choice)
    assert not rka.RandomApply([rka.RandomContrast(0.1)]).geometric
