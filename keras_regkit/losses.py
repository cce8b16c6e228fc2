"""Losses that go with the kit's regularizers and augmentations.

`JensenShannonCrossEntropy` is AugMix's loss
(`keras_regkit.augment.AugMix` with ``jsd=True``): cross-entropy on the
clean views plus the Jensen-Shannon divergence of every view's
prediction. Written with `keras.ops`, it runs on every backend.

Reference:
    Hendrycks et al., "AugMix: A Simple Data Processing Method to Improve
    Robustness and Uncertainty", 2020.

Example:
>>> import keras_regkit as rk
>>> rk.losses.JensenShannonCrossEntropy(weight=6.0).get_config()["weight"]
6.0
"""

from __future__ import annotations

import keras
from keras import ops

from keras_regkit import _validation

__all__ = ["JensenShannonCrossEntropy"]


@keras.saving.register_keras_serializable(package="keras_regkit")
class JensenShannonCrossEntropy(keras.losses.Loss):
    """AugMix's loss: cross-entropy plus Jensen-Shannon consistency.

    For predictions on ``num_views * n`` examples (the clean batch, then
    the augmented views, as ``AugMix(jsd=True)`` produces them), the loss
    of example ``b`` is the cross-entropy of its clean prediction ``p_0``
    plus ``weight`` times the Jensen-Shannon divergence of its
    predictions: ``mean_i KL(p_i || M)``, ``M = mean_i p_i``. Labels may
    be sparse or one-hot (only the first ``n`` are used). The loss returns
    one value per row: ``num_views`` times the example's loss on its clean
    row and 0 on the views, so the default mean reduction gives the mean
    over examples, and sample weights (which the pipeline repeats) apply
    to each example once.

    Args:
        num_views: Views per example, clean one included, >= 2.
        weight: Weight of the consistency term (12 in the paper), >= 0.
        from_logits: Whether predictions are logits (else probabilities).
        **kwargs: Base loss arguments (``name``, ``reduction``).

    Example:
    >>> import numpy as np
    >>> from keras_regkit.losses import JensenShannonCrossEntropy
    >>> loss = JensenShannonCrossEntropy(weight=12.0)
    >>> same = np.tile([[0.7, 0.3]], (9, 1)).astype("float32")
    >>> # Identical views: no divergence, the mean of -log 0.7, -log 0.3,
    >>> # -log 0.7.
    >>> round(float(loss(np.array([0, 1, 0] * 3), same)), 4)
    0.6391

    In `fit`, each batch holds its clean examples then their views (what
    ``keras_regkit.augment.AugMix(jsd=True)`` makes of a batch):

    >>> import keras
    >>> model = keras.Sequential([keras.Input((4,)),
    ...     keras.layers.Dense(2, activation="softmax")])
    >>> model.compile("sgd", loss=loss)
    >>> x = np.random.default_rng(0).random((9, 4))  # 3 examples, 2 views
    >>> _ = model.fit(x, np.array([0, 1, 0] * 3), batch_size=9, epochs=1,
    ...     verbose=0)
    """

    def __init__(
        self,
        num_views=3,
        weight=12.0,
        from_logits=False,
        **kwargs,
    ):
        kwargs.setdefault("name", "jensen_shannon_cross_entropy")
        super().__init__(**kwargs)
        self.num_views = _validation.check_int(
            "num_views", num_views, low=2, owner=self
        )
        self.weight = _validation.check_float(
            "weight", weight, low=0.0, owner=self
        )
        self.from_logits = _validation.check_bool(
            "from_logits", from_logits, owner=self
        )

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        classes = ops.shape(y_pred)[-1]
        if self.from_logits:
            log_probs = ops.log_softmax(y_pred, axis=-1)
        else:
            probs = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
            log_probs = ops.log(ops.clip(probs, 1e-7, 1.0))
        log_probs = ops.reshape(log_probs, (self.num_views, -1, classes))
        n = ops.shape(log_probs)[1]
        y_true = ops.convert_to_tensor(y_true)
        if len(y_true.shape) == len(y_pred.shape) and (
            y_true.shape[-1] == y_pred.shape[-1] and y_pred.shape[-1] != 1
        ):
            target = ops.cast(y_true[:n], "float32")
        else:
            sparse = ops.cast(ops.reshape(y_true, (-1,))[:n], "int32")
            target = ops.one_hot(sparse, classes)
        cross_entropy = -ops.sum(target * log_probs[0], axis=-1)
        probs = ops.exp(log_probs)
        log_mixture = ops.log(ops.clip(ops.mean(probs, axis=0), 1e-7, 1.0))
        divergence = ops.mean(
            ops.sum(probs * (log_probs - log_mixture), axis=-1), axis=0
        )
        values = cross_entropy + self.weight * divergence
        # One value per row of the input, so that weights repeated by the
        # pipeline line up: the clean rows carry num_views x the loss,
        # the views 0, and the mean over rows is the mean over examples.
        padding = ops.zeros(((self.num_views - 1) * n,), dtype=values.dtype)
        return ops.concatenate(
            [values * float(self.num_views), padding], axis=0
        )

    def get_config(self):
        return {
            **super().get_config(),
            "num_views": self.num_views,
            "weight": self.weight,
            "from_logits": self.from_logits,
        }
