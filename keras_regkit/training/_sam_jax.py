"""SAM's training step on the JAX backend.

Follows Keras 3.15's ``JAXTrainer.train_step``: a pure function from
``(trainable, non_trainable, optimizer, metrics)`` variables to new ones,
with gradients from ``jax.value_and_grad`` of the public
``compute_loss_and_updates`` (which also scales the loss). The second
pass is the same function at ``w + e`` from the non-trainable values the
first pass started from; its updated values are dropped.
"""

from __future__ import annotations

import jax
import keras

from keras_regkit import _keras_internals
from keras_regkit.training import _sam_common


def train_step(model, state, data):
    """One SAM step of ``model`` (a `SAM`); returns ``(logs, state)``."""
    trainable, non_trainable, optimizer_variables, metrics_variables = state
    x, parts = _sam_common.split_batch(model, data)
    grad_fn = jax.value_and_grad(model.compute_loss_and_updates, has_aux=True)
    total, clean_loss, outputs = None, 0.0, []
    for xi, yi, swi, share in parts:
        before = non_trainable
        (_, aux), gradients = grad_fn(
            trainable,
            non_trainable,
            metrics_variables,
            xi,
            yi,
            swi,
            training=True,
            optimizer_variables=optimizer_variables,
        )
        loss, y_pred, non_trainable, metrics_variables = aux
        clean_loss = clean_loss + loss * share
        outputs.append((yi, y_pred, swi))
        steps = model.perturbation(gradients, trainable)
        perturbed = _sam_common.perturb(trainable, steps)
        _, gradients = grad_fn(
            perturbed,
            before,
            metrics_variables,
            xi,
            yi,
            swi,
            training=True,
            optimizer_variables=optimizer_variables,
        )
        total = _sam_common.weighted_sum(
            total, gradients, model.gradient_weight(share)
        )
    trainable, optimizer_variables = model.optimizer.stateless_apply(
        optimizer_variables, total, trainable
    )
    y, y_pred, sample_weight = _sam_common.collate(outputs)
    logs, metrics_variables = _update_metrics(
        model, metrics_variables, clean_loss, x, y, y_pred, sample_weight
    )
    state = (trainable, non_trainable, optimizer_variables, metrics_variables)
    return logs, state


def _update_metrics(model, values, loss, x, y, y_pred, sample_weight):
    """Updates the loss tracker and compiled metrics, statelessly."""
    mapping = list(zip(model.metrics_variables, values, strict=True))
    with keras.StatelessScope(state_mapping=mapping) as scope:
        _keras_internals.loss_tracker(model).update_state(
            loss, sample_weight=_sam_common.batch_size(x)
        )
        logs = model.compute_metrics(x, y, y_pred, sample_weight)
    new_values = []
    for variable in model.metrics_variables:
        value = scope.get_current_value(variable)
        new_values.append(variable.value if value is None else value)
    return logs, new_values
