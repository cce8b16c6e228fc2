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
from keras_regkit.training import sam as sam_lib


def train_step(model, data):
    """One SAM step of ``model`` (a `SAM`) on ``data``; returns the logs."""
    x, parts = sam_lib.split_batch(data, model.micro_batches)
    variables = model.trainable_variables
    state = model.non_trainable_variables
    total, clean_loss, outputs = None, 0.0, []
    for xi, yi, swi, share in parts:
        before = [tf.identity(v.value) for v in state]
        with tf.GradientTape() as tape:
            y_pred = model(xi, training=True)
            loss = model.compute_loss(
                x=xi, y=yi, y_pred=y_pred, sample_weight=swi, training=True
            )
            scaled = sam_lib.scale_loss(model, loss)
        clean_loss = clean_loss + loss * share
        outputs.append((yi, y_pred, swi))
        if not variables:
            continue
        gradients = _sum_over_replicas(tape.gradient(scaled, variables))
        weights = [tf.identity(v.value) for v in variables]
        steps = model.perturbation(gradients, weights)
        perturbed = sam_lib.perturb(weights, steps)
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
            scaled = sam_lib.scale_loss(model, perturbed_loss)
        gradients = tape.gradient(scaled, perturbed)
        total = sam_lib.weighted_sum(total, gradients, share)
    if variables:
        total = _agree_on_finiteness(model, total)
        model.optimizer.apply_gradients(zip(total, variables, strict=True))

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    tracker = _keras_internals.loss_tracker(model)
    tracker.update_state(
        clean_loss * replicas if replicas > 1 else clean_loss,
        sample_weight=sam_lib.batch_size(x),
    )
    y, y_pred, sample_weight = sam_lib.collate(outputs)
    return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


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
