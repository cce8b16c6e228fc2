"""SAM's training step on the TensorFlow backend.

Follows Keras 3.15's ``TensorFlowTrainer.train_step`` (loss scaling, the
loss tracker's per-replica unscaling, ``apply_gradients`` in replica
context), with the perturbed second pass added. Under a ``tf.distribute``
strategy the first gradient is summed over the replicas before the
perturbation is computed, so each replica perturbs by the same ``e``.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_regkit import _keras_internals
from keras_regkit.training import _sam_common


def train_step(model, data):
    """One SAM step of ``model`` (a `SAM`) on ``data``; returns the logs."""
    x, parts = _sam_common.split_batch(model, data)
    variables = model.trainable_variables
    state = model.non_trainable_variables
    total, clean_loss, outputs = None, 0.0, []
    for xi, yi, swi, share in parts:
        # None where the micro-batch's size is known; else whether it has
        # an example (see `_drop_if_empty`).
        filled = _filled(xi)
        before = [tf.identity(v.value) for v in state]
        with tf.GradientTape() as tape:
            y_pred = model(xi, training=True)
            loss = model.compute_loss(
                x=xi, y=yi, y_pred=y_pred, sample_weight=swi, training=True
            )
            scaled = _sam_common.scale_loss(model, loss)
        clean_loss = clean_loss + _drop_if_empty(filled, loss) * share
        outputs.append((yi, y_pred, swi))
        _restore_if_empty(filled, state, before)
        if not variables:
            continue
        gradients = tape.gradient(scaled, variables)
        gradients = _sum_over_replicas(_drop_if_empty(filled, gradients))
        weights = [tf.identity(v.value) for v in variables]
        steps = model.perturbation(gradients, weights)
        perturbed = _sam_common.perturb(weights, steps)
        mapping = list(zip(variables, perturbed, strict=True)) + list(
            zip(state, before, strict=True)
        )
        with tf.GradientTape() as tape:
            tape.watch(perturbed)
            with keras.StatelessScope(
                state_mapping=mapping, collect_losses=True
            ):
                y_perturbed = model(xi, training=True)
                perturbed_loss = model.compute_loss(
                    x=xi,
                    y=yi,
                    y_pred=y_perturbed,
                    sample_weight=swi,
                    training=True,
                )
            scaled = _sam_common.scale_loss(model, perturbed_loss)
        gradients = _drop_if_empty(filled, tape.gradient(scaled, perturbed))
        total = _sam_common.weighted_sum(
            total, gradients, model.gradient_weight(share)
        )
    if variables:
        total = _agree_on_finiteness(model, total)
        model.optimizer.apply_gradients(zip(total, variables, strict=True))

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    tracker = _keras_internals.loss_tracker(model)
    tracker.update_state(
        clean_loss * replicas if replicas > 1 else clean_loss,
        sample_weight=_sam_common.batch_size(x),
    )
    y, y_pred, sample_weight = _sam_common.collate(outputs)
    return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def _filled(x):
    """None if ``x``'s batch size is static, else a tensor ``size > 0``.

    In graph mode the batch size is unknown when tracing, so
    `micro_batches` returns ``micro_batches`` parts and those past the
    batch's last example are empty: their losses and gradients (0, or
    NaN from an ``add_loss`` mean) are dropped, and the state their
    forward pass changed (BatchNorm's statistics of no example: NaN) is
    put back. So a batch of ``n < micro_batches`` examples takes the step
    of ``n`` one-example micro-batches, as on JAX and PyTorch.
    """
    size = _sam_common.batch_size(x)
    return None if isinstance(size, int) else size > 0


def _drop_if_empty(filled, values):
    """``values`` (a tensor or list of them), or zeros where not filled."""
    if filled is None:
        return values
    if isinstance(values, list):
        return [_drop_if_empty(filled, v) for v in values]
    if values is None:
        return None
    return tf.where(filled, values, tf.zeros_like(values))


def _restore_if_empty(filled, variables, values):
    """Assigns ``values`` back to ``variables`` where not filled."""
    if filled is None:
        return
    for variable, value in zip(variables, values, strict=True):
        variable.assign(tf.where(filled, variable.value, value))


def _agree_on_finiteness(model, gradients):
    """Makes every replica's gradients non-finite if any replica's are.

    Keras 3.15's `LossScaleOptimizer`, under a strategy that merges
    (``MirroredStrategy``), decides whether to skip a step from the first
    replica's local gradients only; a step that overflowed on another
    replica would be applied, and put inf/NaN into the weights. One scalar
    all-reduce makes the replicas agree, so the step is skipped on all.
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas == 1 or not isinstance(
        model.optimizer, keras.optimizers.LossScaleOptimizer
    ):
        return gradients
    present = [g for g in gradients if g is not None]
    local = tf.reduce_all(
        [tf.reduce_all(tf.math.is_finite(g)) for g in present]
    )
    finite_replicas = tf.distribute.get_replica_context().all_reduce(
        tf.distribute.ReduceOp.SUM, tf.cast(local, tf.float32)
    )
    poison = tf.where(finite_replicas < replicas, float("nan"), 0.0)
    return [
        None if g is None else g + tf.cast(poison, g.dtype) for g in gradients
    ]


def _sum_over_replicas(gradients):
    """The gradients summed over the replicas (unchanged on one)."""
    if tf.distribute.get_strategy().num_replicas_in_sync == 1:
        return gradients
    present = [i for i, g in enumerate(gradients) if g is not None]
    context = tf.distribute.get_replica_context()
    summed = context.all_reduce(
        tf.distribute.ReduceOp.SUM, [gradients[i] for i in present]
    )
    result = list(gradients)
    for i, g in zip(present, summed, strict=True):
        result[i] = g
    return result
