"""SAM's training step on the PyTorch backend.

Follows Keras 3.15's ``TorchTrainer.train_step`` (an eager step, loss
scaling, ``optimizer.apply`` under ``torch.no_grad``), with gradients
taken by ``torch.autograd.grad`` (nothing accumulates in ``.grad``) and
the perturbed second pass added.
"""

from __future__ import annotations

import keras
import torch

from keras_regkit import _keras_internals
from keras_regkit.training import _sam_common


def train_step(model, data):
    """One SAM step of ``model`` (a `SAM`) on ``data``; returns the logs."""
    x, parts = _sam_common.split_batch(model, data)
    variables = model.trainable_variables
    state = model.non_trainable_variables
    total, clean_loss, outputs = None, 0.0, []
    for xi, yi, swi, share in parts:
        before = [v.value.detach().clone() for v in state]
        y_pred = model(xi, training=True)
        loss = model.compute_loss(
            x=xi, y=yi, y_pred=y_pred, sample_weight=swi, training=True
        )
        clean_loss = clean_loss + loss.detach() * share
        outputs.append((yi, keras.tree.map_structure(_detach, y_pred), swi))
        if not variables:
            continue
        weights = [v.value for v in variables]
        gradients = _gradients(_sam_common.scale_loss(model, loss), weights)
        with torch.no_grad():
            steps = model.perturbation(gradients, weights)
            perturbed = [
                (w if e is None else w + e).detach().requires_grad_(True)
                for w, e in zip(weights, steps, strict=True)
            ]
        mapping = list(zip(variables, perturbed, strict=True))
        mapping += list(zip(state, before, strict=True))
        with keras.StatelessScope(state_mapping=mapping, collect_losses=True):
            y_perturbed = model(xi, training=True)
            perturbed_loss = model.compute_loss(
                x=xi,
                y=yi,
                y_pred=y_perturbed,
                sample_weight=swi,
                training=True,
            )
        gradients = _gradients(
            _sam_common.scale_loss(model, perturbed_loss), perturbed
        )
        total = _sam_common.weighted_sum(
            total, gradients, model.gradient_weight(share)
        )
    if variables:
        with torch.no_grad():
            model.optimizer.apply(total, variables)

    _keras_internals.loss_tracker(model).update_state(
        clean_loss, sample_weight=_sam_common.batch_size(x)
    )
    y, y_pred, sample_weight = _sam_common.collate(outputs)
    return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def _detach(tensor):
    return None if tensor is None else tensor.detach()


def _gradients(loss, tensors):
    """``∂loss/∂tensors``; None for tensors the loss does not reach."""
    wanted = [i for i, t in enumerate(tensors) if t.requires_grad]
    found = torch.autograd.grad(
        loss, [tensors[i] for i in wanted], allow_unused=True
    )
    result = [None] * len(tensors)
    for i, g in zip(wanted, found, strict=True):
        result[i] = g
    return result
