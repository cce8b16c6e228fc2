"""AugMix: a Dirichlet mix of random op chains, blended with the input.

Chains, depths, levels and weights are drawn per example on every batch
(Keras's ``AugMix`` picks its chains once per trace, so every batch of a
``tf.data`` pipeline gets the same chains; this does not). The ops and
their magnitudes: `keras_regkit.augment.compose.policy_ops`; the loss
of its consistency views: `keras_regkit.losses.JensenShannonCrossEntropy`.

Reference:
    Hendrycks et al., "AugMix: A Simple Data Processing Method to Improve
    Robustness and Uncertainty", 2020.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import chain
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import targets as _targets
from keras_regkit.augment.compose import policy_ops


@keras.saving.register_keras_serializable(package="keras_regkit")
class AugMix(roles.ValueOp):
    """AugMix: a Dirichlet mix of random op chains, blended with the input.

    Each example gets ``width`` chains of ``depth`` ops (1 to 3 per chain
    and example when ``depth`` is -1), each op chosen uniformly at a level
    drawn uniformly from ``[0.1, severity / 10]``; the chains are mixed
    with Dirichlet(α) weights and the mix blended with the input by a
    Beta(α, α) weight: ``m x + (1 - m) Σ w_i chain_i(x)``. Chains, depths,
    levels and weights are drawn per example on every batch.

    With ``jsd=True`` the pipeline returns, for a batch of ``n`` images,
    ``3 n`` images: the clean images followed by two independent AugMix
    views, concatenated along the batch; labels, sample weights and other
    entries are repeated three times. Train with
    `JensenShannonCrossEntropy` (cross-entropy on the clean third plus
    the Jensen-Shannon divergence of the three predictions), predict on
    clean images as usual. The op must then be the pipeline's last.

    Args:
        severity: Magnitude level, an integer in [1, 10].
        width: Number of chains, >= 1.
        depth: Ops per chain in [1, 3], or -1 for a random depth.
        alpha: α of the Dirichlet and Beta draws, > 0.
        jsd: Whether to return the clean images plus two views.
        ops: Names of the ops (see ``OP_NAMES``), or None for AugMix's
            own set (``AUGMIX_OPS``: no colour ops, which overlap the
            corruptions AugMix is evaluated on).
        probability: Chance, per example (and view), that AugMix applies.

    Example:
    >>> import numpy as np
    >>> from keras_regkit import augment as rka
    >>> x = np.zeros((4, 16, 12, 3), "uint8")
    >>> y = np.arange(4)
    >>> augmix = rka.AugMix(jsd=True, ops=["rotate", "solarize"])
    >>> views, labels = rka.Pipeline([augmix]).augment(
    ...     (x, y), seed=0
    ... )
    >>> views.shape, labels.numpy().tolist()
    (TensorShape([12, 16, 12, 3]), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
    """

    MAX_DEPTH = 3
    _gated = False

    def __init__(
        self,
        severity=3,
        width=3,
        depth=-1,
        alpha=1.0,
        jsd=False,
        ops=None,
        probability=1.0,
    ):
        super().__init__(probability)
        self.severity = _validation.check_int(
            "severity", severity, low=1, high=10, owner=self
        )
        self.width = _validation.check_int("width", width, low=1, owner=self)
        self.depth = _validation.check_choice(
            "depth",
            _validation.check_int("depth", depth, owner=self),
            (-1, 1, 2, 3),
            owner=self,
        )
        self.alpha = _validation.check_float(
            "alpha", alpha, low=0.0, low_inclusive=False, owner=self
        )
        self.jsd = _validation.check_bool("jsd", jsd, owner=self)
        self.views = 3 if self.jsd else 1
        self.ops, names = policy_ops.check_op_names(
            self, ops, policy_ops.AUGMIX_OPS
        )
        self._steps = policy_ops.steps(
            names, self.MAX_DEPTH, False, 0.1, self.severity / 10.0, 0.0
        )
        self._chain = chain.Chain([op for step in self._steps for op in step])

    def validate(self, shape, has_labels=False, labels_spec=None):
        self._chain.validate(shape, owner=self)

    @property
    def supported_targets(self):
        # Chains that move pixels differently are blended: no mask, box
        # or keypoint matches the result. Colour-only chains keep them.
        return () if self._moving_ops() else _targets.KINDS

    def target_refusal(self, target):
        return (
            f"it blends chains moved by {self._moving_ops()[0]!r}; give it "
            "ops without geometry"
        )

    def _moving_ops(self):
        return [op.name for op in self._chain.ops if op.geometric]

    def _sample(self, seed, batch_size, shape):
        """One view's parameters (a chain runs ``views - 1`` of them)."""
        seeds = sampling.split_seed(seed, 2 * self.width + 4)
        depth_seed, weight_seed, mix_seed, gate_seed = seeds[2 * self.width :]
        if self.depth == -1:
            depths = tf.random.stateless_uniform(
                [batch_size, self.width],
                seed=depth_seed,
                minval=1,
                maxval=self.MAX_DEPTH + 1,
                dtype=tf.int32,
            )
        else:
            depths = tf.fill([batch_size, self.width], self.depth)
        # The step index of every op of the chain.
        step_of_op = tf.constant(
            [j for j, step in enumerate(self._steps) for _ in step]
        )
        chains = []
        for i in range(self.width):
            choice_seed, chain_seed = seeds[2 * i], seeds[2 * i + 1]
            gates = policy_ops.step_gates(choice_seed, batch_size, self._steps)
            active = tf.cast(
                step_of_op[None, :] < depths[:, i : i + 1], tf.float32
            )
            chains.append(
                self._chain.sample(
                    chain_seed, batch_size, shape, gates * active
                )
            )
        gammas = tf.random.stateless_gamma(
            [batch_size, self.width], seed=weight_seed, alpha=self.alpha
        )
        weights = gammas / tf.reduce_sum(gammas, axis=1, keepdims=True)
        params = {
            "chains": chains,
            "weights": weights,
            "mix": sampling.sample_beta(mix_seed, [batch_size], self.alpha),
        }
        if self.probability < 1.0:
            params["gate"] = sampling.bernoulli(
                gate_seed, [batch_size], self.probability
            )
        return params

    def transform(
        self, inputs, params, settings=None, targets=None, target_settings=None
    ):
        out = self._mix(inputs, params, settings)
        if "gate" in params:
            out = sampling.blend_images(inputs, out, params["gate"])
        return out, targets

    def _mix(self, inputs, params, settings):
        """The input blended with the Dirichlet mix of its chains."""
        rank = inputs.shape.rank
        mixed = 0.0
        for i, chain_params in enumerate(params["chains"]):
            out, _ = self._chain.run(inputs, None, chain_params, settings)
            mixed += (
                sampling.expand_per_example(params["weights"][:, i], rank) * out
            )
        m = sampling.expand_per_example(params["mix"], rank)
        return m * inputs + (1.0 - m) * mixed

    def apply(self, inputs, params):
        return self.transform(inputs, params)[0]

    def get_config(self):
        return {
            **super().get_config(),
            "severity": self.severity,
            "width": self.width,
            "depth": self.depth,
            "alpha": self.alpha,
            "jsd": self.jsd,
            "ops": self.ops,
        }
