"""Label mixing: MixUp and CutMix, as in timm, with exact CutMix weights.

Each example is mixed with its partner in the reversed batch (so any batch
size works; with an odd size the middle example is paired with itself).
λ is drawn from Beta(α, α) outside the compiled function (the Beta
sampler has no XLA kernel). CutMix pastes a box of the partner whose
area is about ``1 - λ`` of the image, clipped at the borders, and weights
the labels by the fraction of pixels actually pasted, so the label weight
equals the pasted pixel fraction exactly. Sparse integer labels become
one-hot given ``num_classes``; label smoothing applies before mixing.

CutMix carries segmentation masks and boxes (a dict batch, see
`Pipeline`): the pasted region of the masks comes from the partner too;
the example keeps its own boxes that stay visible enough outside the
pasted region (``bounding_box_min_visibility`` of the pipeline) and gains
the partner's boxes clipped to it, so a dense batch of ``n`` boxes per
image returns ``2 n`` (removed ones labelled -1). With masks or boxes,
image labels are optional. MixUp blends whole images: it refuses masks,
boxes and keypoints, naming itself and the target (so does
`MixUpCutMix` when MixUp is enabled); CutMix refuses keypoints.

References:
    Zhang et al., "mixup: Beyond Empirical Risk Minimization", 2018.
    Yun et al., "CutMix: Regularization Strategy to Train Strong
    Classifiers with Localizable Features", 2019.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import boxes as box_ops
from keras_regkit.augment._core import regions
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import targets as _targets
from keras_regkit.augment._core.labels import check_label_values
from keras_regkit.augment._core.labels import check_labels
from keras_regkit.augment._core.labels import soft_labels

MODES = ("batch", "elem")


def mix(images, labels, lam, boxes):
    """Mixes each example with its partner in the reversed batch.

    Args:
        images: float32 ``(batch, h, w, c)``.
        labels: float32 ``(batch, classes)`` soft labels, or None.
        lam: ``(batch,)`` MixUp weights of each example itself (1 for no
            blending).
        boxes: ``(batch, 1, 4)`` CutMix boxes (empty for none) whose
            pixels come from the partner, or None for MixUp alone.

    Returns:
        ``(images, labels)``; the partner's label weight is ``(1 - lam) +
        lam * pasted_fraction``.

    Example:
    >>> import tensorflow as tf
    >>> x = tf.reshape(tf.constant([0.0, 1.0]), [2, 1, 1, 1])
    >>> y = tf.constant([[1.0, 0.0], [0.0, 1.0]])
    >>> no_box = tf.zeros([2, 1, 4])
    >>> images, labels = mix(x, y, tf.constant([0.75, 0.75]), no_box)
    >>> images.numpy().ravel(), labels.numpy()[0]
    (array([0.25, 0.75], dtype=float32), array([0.75, 0.25], dtype=float32))
    """
    partner = tf.reverse(images, axis=[0])
    pasted, pasted_fraction = images, 0.0
    if boxes is not None:
        shape = tf.shape(images)
        mask = regions.box_mask(boxes, shape[1], shape[2])
        pasted_fraction = tf.reduce_mean(mask, axis=[1, 2])
        pasted = images + mask[..., None] * (partner - images)
    lam_images = tf.reshape(lam, [-1, 1, 1, 1])
    images = partner + lam_images * (pasted - partner)
    if labels is None:
        return images, None
    weight = (lam * (1.0 - pasted_fraction))[:, None]
    labels = weight * labels + (1.0 - weight) * tf.reverse(labels, axis=[0])
    return images, labels


def cutmix_targets(targets, boxes, min_visibility):
    """Masks and boxes of a CutMix with the reversed batch as partner.

    Args:
        targets: The internal targets dict (masks and boxes, optional).
        boxes: ``(batch, 1, 4)`` pasted regions (top, bottom, left,
            right in pixels; empty for none), as for `mix`.
        min_visibility: Boxes with less than this fraction of their area
            visible are removed (label -1).

    Returns:
        The targets: masks pasted like the images; boxes ``(batch, 2 n,
        4)``, the example's own (minus those the paste hides) then the
        partner's clipped to the paste.

    Example:
    >>> import tensorflow as tf
    >>> own = tf.constant([[[0.0, 0, 4, 4]], [[4.0, 0, 8, 4]]])
    >>> targets = {"boxes": own, "box_labels": tf.constant([[1], [2]])}
    >>> paste = tf.constant([[[0.0, 4, 4, 8]], [[0.0, 0, 0, 0]]])
    >>> out = cutmix_targets(targets, paste, 0.5)
    >>> out["box_labels"].numpy().tolist()
    [[1, 2], [2, -1]]
    >>> out["boxes"][0, 1].numpy().tolist()
    [4.0, 0.0, 8.0, 4.0]
    """
    out = dict(targets)
    if "masks" in targets:
        masks = targets["masks"]
        shape = tf.shape(masks)
        region = regions.box_mask(boxes, shape[1], shape[2])[..., None]
        partner = tf.reverse(masks, axis=[0])
        out["masks"] = masks + region * (partner - masks)
    if "boxes" in targets:
        own, labels = targets["boxes"], targets["box_labels"]
        top, bottom, left, right = tf.unstack(boxes[:, 0], 4, axis=-1)
        window = tf.stack([left, top, right, bottom], axis=-1)
        hidden = box_ops.area(box_ops.intersect(own, window))
        full = box_ops.area(own)
        own_labels = box_ops.keep_visible(
            labels, full - hidden, full, min_visibility
        )
        partner = tf.reverse(own, axis=[0])
        clipped = box_ops.intersect(partner, window)
        partner_labels = box_ops.keep_visible(
            tf.reverse(labels, axis=[0]),
            box_ops.area(clipped),
            box_ops.area(partner),
            min_visibility,
        )
        out["boxes"] = tf.concat([own, clipped], axis=1)
        out["box_labels"] = tf.concat([own_labels, partner_labels], axis=1)
    return out


@keras.saving.register_keras_serializable(package="keras_regkit")
class MixUpCutMix(roles.BatchOp):
    """MixUp or CutMix, switching between them, as timm's ``Mixup``.

    Args:
        mixup_alpha: α of MixUp's Beta(α, α); 0 disables MixUp.
        cutmix_alpha: α of CutMix's Beta(α, α); 0 disables CutMix.
        switch_probability: Chance of CutMix rather than MixUp when both
            are enabled.
        mode: ``"batch"`` (one λ, box and choice for the batch) or
            ``"elem"`` (per example).
        num_classes: Number of classes, required for sparse integer
            labels; checked against one-hot labels.
        label_smoothing: ε in [0, 1): labels become ``y (1 - ε) + ε / K``
            before mixing.
        probability: Chance (per batch or per example, following
            ``mode``) of mixing.

    Example:
    >>> import numpy as np
    >>> from keras_regkit.augment import MixUpCutMix, Pipeline
    >>> x = np.zeros((4, 8, 6, 3), "uint8")
    >>> y = np.array([0, 1, 2, 1])
    >>> _, soft = Pipeline([MixUpCutMix(num_classes=3)]).augment((x, y), 0)
    >>> soft.shape, np.allclose(soft.numpy().sum(axis=1), 1.0)
    (TensorShape([4, 3]), True)
    """

    def __init__(
        self,
        mixup_alpha=0.8,
        cutmix_alpha=1.0,
        switch_probability=0.5,
        mode="batch",
        num_classes=None,
        label_smoothing=0.0,
        probability=1.0,
    ):
        super().__init__(probability)
        self.mixup_alpha = _validation.check_float(
            "mixup_alpha", mixup_alpha, low=0, owner=self
        )
        self.cutmix_alpha = _validation.check_float(
            "cutmix_alpha", cutmix_alpha, low=0, owner=self
        )
        if self.mixup_alpha == 0 and self.cutmix_alpha == 0:
            raise _validation.invalid(
                "mixup_alpha",
                "mixup_alpha > 0 or cutmix_alpha > 0",
                mixup_alpha,
                owner=self,
            )
        self.switch_probability = _validation.check_float(
            "switch_probability",
            switch_probability,
            low=0.0,
            high=1.0,
            owner=self,
        )
        self.mode = _validation.check_choice(
            "mode", mode, choices=MODES, owner=self
        )
        self.num_classes = num_classes
        if num_classes is not None:
            self.num_classes = _validation.check_int(
                "num_classes", num_classes, low=1, owner=self
            )
        self.label_smoothing = _validation.check_float(
            "label_smoothing",
            label_smoothing,
            low=0.0,
            high=1.0,
            high_inclusive=False,
            owner=self,
        )

    # Labels to mix, unless the data carries masks or boxes.
    needs_labels = True

    @property
    def supported_targets(self):
        # MixUp blends whole images; CutMix pastes masks and boxes too.
        if self.mixup_alpha > 0:
            return ()
        return (_targets.MASKS, _targets.BOXES)

    def target_refusal(self, target):
        if self.mixup_alpha > 0:
            return (
                f"MixUp blends two whole images: their {target} cannot be "
                "blended; use CutMix or Mosaic"
            )
        return "CutMix carries masks and boxes only"

    def validate(self, image_shape, has_labels=False, labels_spec=None):
        # Labels are optional with masks or boxes (`needs_labels`).
        check_labels(self, labels_spec, self.num_classes)

    def _sample(self, seed, batch_size, image_shape):
        seeds = sampling.split_seed(seed, 6)
        n = 1 if self.mode == "batch" else batch_size
        ones = tf.ones([n])
        apply = ones
        if self.probability < 1.0:
            apply = sampling.bernoulli(seeds[0], [n], self.probability)
        if self.mixup_alpha > 0 and self.cutmix_alpha > 0:
            use_cutmix = sampling.bernoulli(
                seeds[1], [n], self.switch_probability
            )
        elif self.cutmix_alpha > 0:
            use_cutmix = ones
        else:
            use_cutmix = tf.zeros([n])
        lam_mix = ones
        if self.mixup_alpha > 0:
            lam_mix = sampling.sample_beta(seeds[2], [n], self.mixup_alpha)
        lam_cut = ones
        if self.cutmix_alpha > 0:
            lam_cut = sampling.sample_beta(seeds[3], [n], self.cutmix_alpha)
        # MixUp only where applied and not CutMix; else 1 (no blending).
        lam = 1.0 - apply * (1.0 - use_cutmix) * (1.0 - lam_mix)
        height = tf.cast(image_shape[0], tf.float32)
        width = tf.cast(image_shape[1], tf.float32)
        cut = tf.sqrt(1.0 - lam_cut)
        half_h = tf.floor(tf.floor(height * cut) / 2.0)
        half_w = tf.floor(tf.floor(width * cut) / 2.0)
        cy = tf.floor(sampling.uniform(seeds[4], [n]) * height)
        cx = tf.floor(sampling.uniform(seeds[5], [n]) * width)
        top = tf.clip_by_value(cy - half_h, 0.0, height)
        bottom = tf.clip_by_value(cy + half_h, 0.0, height)
        left = tf.clip_by_value(cx - half_w, 0.0, width)
        right = tf.clip_by_value(cx + half_w, 0.0, width)
        # An empty box unless CutMix is applied.
        bottom = top + apply * use_cutmix * (bottom - top)
        boxes = tf.stack([top, bottom, left, right], axis=-1)[:, None, :]
        params = {"lam": tf.broadcast_to(lam, [batch_size])}
        if self.cutmix_alpha > 0:
            params["boxes"] = tf.broadcast_to(boxes, [batch_size, 1, 4])
        return params

    def checked_labels(self, labels):
        """The labels, bad values refused (`check_label_values`)."""
        return check_label_values(self, labels, self.num_classes)

    def soft_labels(self, labels):
        """Float32 one-hot (smoothed) labels from sparse or dense labels."""
        return soft_labels(labels, self.num_classes, self.label_smoothing)

    def mix(self, images, labels, params):
        """Mixes a batch with drawn parameters; returns images and labels."""
        boxes = params.get("boxes")
        return mix(images, self.soft_labels(labels), params["lam"], boxes)

    def mix_targets(self, targets, params, target_settings):
        """CutMix's masks and boxes (`cutmix_targets`)."""
        return cutmix_targets(
            targets, params["boxes"], target_settings["min_visibility"]
        )

    def get_config(self):
        return {
            **super().get_config(),
            "mixup_alpha": self.mixup_alpha,
            "cutmix_alpha": self.cutmix_alpha,
            "switch_probability": self.switch_probability,
            "mode": self.mode,
            "num_classes": self.num_classes,
            "label_smoothing": self.label_smoothing,
        }


class _OneMethod(MixUpCutMix):
    """MixUp or CutMix alone: one ``alpha``, the other method disabled.

    Subclasses say which method they are (``_cutmix``); the config holds
    ``alpha`` instead of the three arguments fixed here.
    """

    _cutmix = False
    _fixed = ("mixup_alpha", "cutmix_alpha", "switch_probability")

    def __init__(self, alpha, mode, num_classes, label_smoothing, probability):
        alpha = _validation.check_float(
            "alpha", alpha, low=0.0, low_inclusive=False, owner=self
        )
        cutmix = self._cutmix
        super().__init__(
            mixup_alpha=0.0 if cutmix else alpha,
            cutmix_alpha=alpha if cutmix else 0.0,
            switch_probability=1.0 if cutmix else 0.0,
            mode=mode,
            num_classes=num_classes,
            label_smoothing=label_smoothing,
            probability=probability,
        )
        self.alpha = alpha

    def get_config(self):
        config = super().get_config()
        for key in self._fixed:
            del config[key]
        return {**config, "alpha": self.alpha}


@keras.saving.register_keras_serializable(package="keras_regkit")
class MixUp(_OneMethod):
    """MixUp: blends each example and its label with its partner's.

    Args:
        alpha: α of the Beta(α, α) mixing weight, > 0.
        mode: ``"batch"`` (one λ per batch) or ``"elem"`` (per example).
        num_classes: Number of classes, required for sparse labels.
        label_smoothing: ε in [0, 1), applied before mixing.
        probability: Chance of mixing (per batch or per example).

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> labels = np.array([0, 1, 2, 3])
    >>> mixup = rk.augment.MixUp(0.4, num_classes=4)
    >>> mixed, soft = rk.augment.Pipeline([mixup], seed=0).augment(
    ...     (images, labels), seed=1)
    >>> soft.shape, bool(np.allclose(soft.numpy().sum(axis=1), 1.0))
    (TensorShape([4, 4]), True)
    """

    def __init__(
        self,
        alpha=0.2,
        mode="batch",
        num_classes=None,
        label_smoothing=0.0,
        probability=1.0,
    ):
        super().__init__(alpha, mode, num_classes, label_smoothing, probability)


@keras.saving.register_keras_serializable(package="keras_regkit")
class CutMix(_OneMethod):
    """CutMix: pastes a box of the partner, labels weighted by its area.

    The partner's label weight is the fraction of pixels pasted, after
    clipping the box at the image borders.

    Args:
        alpha: α of the Beta(α, α) draw of the box area, > 0.
        mode: ``"batch"`` (one box per batch) or ``"elem"`` (per example).
        num_classes: Number of classes, required for sparse labels.
        label_smoothing: ε in [0, 1), applied before mixing.
        probability: Chance of mixing (per batch or per example).

    Example:
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (4, 32, 32, 3), "uint8")
    >>> labels = np.array([0, 1, 2, 3])
    >>> cutmix = rk.augment.CutMix(num_classes=4, mode="elem")
    >>> mixed, soft = rk.augment.Pipeline([cutmix], seed=0).augment(
    ...     (images, labels), seed=1)
    >>> mixed.shape, soft.shape  # labels weighted by the pasted area
    (TensorShape([4, 32, 32, 3]), TensorShape([4, 4]))
    """

    _cutmix = True

    def __init__(
        self,
        alpha=1.0,
        mode="batch",
        num_classes=None,
        label_smoothing=0.0,
        probability=1.0,
    ):
        super().__init__(alpha, mode, num_classes, label_smoothing, probability)
