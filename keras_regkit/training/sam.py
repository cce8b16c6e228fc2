"""Sharpness-aware minimization (SAM) and adaptive SAM (ASAM) for Keras 3.

References:
    Foret, Kleiner, Mobahi and Neyshabur, "Sharpness-Aware Minimization
    for Efficiently Improving Generalization", ICLR 2021.
    https://arxiv.org/abs/2010.01412

    Kwon, Kim, Park and Choi, "ASAM: Adaptive Sharpness-Aware
    Minimization for Scale-Invariant Learning of Deep Neural Networks",
    ICML 2021. https://arxiv.org/abs/2102.11600

SAM minimizes the loss in the worst case over a ball of radius ``rho``
around the weights. Each step takes two forward-backward passes:

1. ``g = ∇L(w)`` at the current weights;
2. ``e = rho · g / ‖g‖`` (ASAM: ``e = rho · T² g / ‖T g‖`` with
   ``T = |w| + eta`` elementwise on kernels and ``T = 1`` on biases, as
   the ASAM authors' code does, or on every tensor), the norm taken over
   all trainable weights together;
3. ``g' = ∇L(w + e)`` on the same batch;
4. the compiled optimizer applies ``g'`` at ``w``.

The pure function `sam_perturbation` does step 2; `SAM`, a model wrapper,
runs the step inside an unchanged ``compile`` / ``fit``. The training
step itself is backend code (``_sam_tensorflow``, ``_sam_jax``,
``_sam_torch``), because each Keras backend has its own.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_regkit import _validation


def sam_perturbation(
    gradients,
    weights,
    rho,
    adaptive: bool = False,
    eta: float = 0.01,
    eps: float = 1e-12,
    scaled=None,
):
    """The ascent step ``e`` of SAM / ASAM, one tensor per weight.

    SAM: ``e = rho · g / (‖g‖ + eps)``. ASAM: ``e = rho · T² g /
    (‖T g‖ + eps)`` with ``T = |w| + eta`` elementwise on the tensors that
    ``scaled`` marks and ``T = 1`` on the others. The norm runs over
    every gradient together, in float32. ``e`` does not depend on a
    constant factor on the loss (a loss scale), and is zero where the norm
    is not finite (an overflowed, loss-scaled gradient): the step then
    evaluates the gradient at ``w`` itself.

    Args:
        gradients: A list of gradient tensors; None entries (weights the
            loss does not depend on) stay None.
        weights: The weights' current values, a list of tensors in the
            same order (read only when ``adaptive``).
        rho: The radius of the neighbourhood, a float >= 0.
        adaptive: Whether to scale per weight (ASAM).
        eta: ASAM's offset in ``T = |w| + eta``.
        eps: Added to the norm, against a division by zero.
        scaled: None (every tensor is scaled), or a list of booleans, one
            per tensor: which tensors ASAM scales by ``T = |w| + eta``;
            the others (``False``) get ``T = 1``. Read only when
            ``adaptive``. The ASAM authors' code scales only parameters
            named ``weight`` and leaves biases at ``T = 1``; `SAM` marks
            biases by name (``scale_biases``).

    Returns:
        A list of tensors like ``gradients`` (None where they are None),
        each in its weight's dtype.

    Raises:
        TypeError: If ``gradients`` or ``weights`` is not a list of
            tensors, ``scaled`` not None or a list of booleans, or a
            number is not a number.
        ValueError: If the lists differ in length, or a number is
            negative or not finite.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_regkit.training import sam_perturbation
    >>> g = [np.array([3.0, 0.0], "float32"), np.array([4.0], "float32")]
    >>> w = [np.zeros(2, "float32"), np.zeros(1, "float32")]
    >>> e = sam_perturbation(g, w, rho=0.5)
    >>> [keras.ops.convert_to_numpy(t).tolist() for t in e]
    [[0.30000001192092896, 0.0], [0.4000000059604645]]
    """
    rho, adaptive, eta, eps, scaled = _check_perturbation_arguments(
        gradients, weights, rho, adaptive, eta, eps, scaled
    )
    present = [i for i, g in enumerate(gradients) if g is not None]
    if not present:
        return [None] * len(gradients)
    grads = {i: ops.cast(gradients[i], "float32") for i in present}
    scales = {}
    if adaptive:
        scales = {
            i: ops.abs(ops.cast(weights[i], "float32")) + eta
            for i in present
            if scaled is None or scaled[i]
        }
        grads = {i: grads[i] * scales.get(i, 1.0) for i in present}
    norm = ops.sqrt(sum(ops.sum(ops.square(grads[i])) for i in present))
    finite = ops.isfinite(norm)
    factor = ops.where(finite, rho / (norm + eps), 0.0)
    result = [None] * len(gradients)
    for i in present:
        step = grads[i] * factor
        if i in scales:
            step = step * scales[i]
        step = ops.where(finite, step, 0.0)
        result[i] = ops.cast(step, _dtype(weights[i], gradients[i]))
    return result


def _check_perturbation_arguments(
    gradients, weights, rho, adaptive, eta, eps, scaled
):
    """Validates `sam_perturbation`'s arguments; returns the five values.

    Runs at each trace (TensorFlow, JAX) or step (torch): a few
    ``isinstance`` checks, nothing on the tensors' values.
    """
    owner = "sam_perturbation"
    check = _validation
    for name, values in (("gradients", gradients), ("weights", weights)):
        if not isinstance(values, (list, tuple)) or not all(
            _is_tensor(v) or (v is None and name == "gradients") for v in values
        ):
            expected = "a list of tensors" + (
                " or None" if name == "gradients" else ""
            )
            raise check.invalid(
                name, expected, values, owner=owner, error=TypeError
            )
    if len(weights) != len(gradients):
        raise check.invalid(
            "gradients",
            f"one entry per tensor of `weights` ({len(weights)})",
            gradients,
            owner=owner,
        )
    if scaled is not None:
        if not isinstance(scaled, (list, tuple)) or not all(
            isinstance(flag, bool) for flag in scaled
        ):
            raise check.invalid(
                "scaled",
                "None or a list of booleans",
                scaled,
                owner=owner,
                error=TypeError,
            )
        if len(scaled) != len(weights):
            raise check.invalid(
                "scaled",
                f"one boolean per tensor of `weights` ({len(weights)})",
                scaled,
                owner=owner,
            )
    return (
        check.check_float("rho", rho, low=0, owner=owner),
        check.check_bool("adaptive", adaptive, owner=owner),
        check.check_float("eta", eta, low=0, owner=owner),
        check.check_float("eps", eps, low=0, owner=owner),
        None if scaled is None else list(scaled),
    )


def _is_tensor(value):
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _dtype(weight, gradient):
    dtype = getattr(weight, "dtype", None)
    return gradient.dtype if dtype is None else dtype


SPLITS = ("strided", "contiguous")
REDUCTIONS = ("mean", "sum")


def is_bias(variable):
    """Whether ASAM's authors' convention leaves ``variable`` unscaled.

    True for the variables named ``beta`` or ending in ``bias`` (what
    PyTorch names ``bias``: dense, convolution and normalization shifts).
    """
    name = variable.name.rsplit("/", 1)[-1]
    return name == "beta" or name.endswith("bias")


def _backend_step():
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from keras_regkit.training import _sam_tensorflow as module
    elif backend == "jax":
        from keras_regkit.training import _sam_jax as module
    elif backend == "torch":
        from keras_regkit.training import _sam_torch as module
    else:
        raise NotImplementedError(
            f"SAM supports the tensorflow, jax and torch backends, not "
            f"{backend!r}."
        )
    return module.train_step


@keras.saving.register_keras_serializable(package="keras_regkit")
class SAM(keras.Model):
    """Trains a model with sharpness-aware minimization (SAM or ASAM).

    Wrap the model, then ``compile`` and ``fit`` the wrapper as usual: each
    training step evaluates the gradient at ``w``, moves to the worst-case
    neighbour ``w + e`` within radius ``rho`` (see `sam_perturbation`),
    takes the gradient there on the same batch, and lets the compiled
    optimizer apply it at ``w``. Calling the wrapper calls the model; the
    wrapper shares the model's weights, so ``sam.model`` is the trained
    model. ``evaluate`` and ``predict`` are unchanged.

    What the second (perturbed) pass sees and changes:

    - Its loss is the compiled loss plus every penalty in ``model.losses``
      (weight regularizers, read at ``w + e``, and ``add_loss`` terms).
    - It runs statelessly (``keras.StatelessScope``) from the
      non-trainable state the first pass started from: dropout draws the
      same mask in both passes (both gradients are of the same stochastic
      loss), and whatever it would change (BatchNorm's moving statistics,
      seed generators) is discarded. So BatchNorm's moving statistics
      move once per forward pass at ``w`` (once per step, or once per
      micro-batch), as in plain training; the
      reference code of tf.keras 2.x ``SharpnessAwareMinimization``
      updated them in both passes.
    - The training loss and the metrics reported are the first pass's,
      at ``w``, as in plain training.

    With ``micro_batches=k`` (m-sharpness, the paper's section 4), the
    batch is split into ``k`` micro-batches (``split``: strided or
    contiguous; sizes differ by at most one); each gets its own
    perturbation from its own gradient, and the perturbed gradients are
    averaged, weighted by size (``rho=0`` then equals one plain step on
    the whole batch, up to rounding), or summed (``reduction="sum"``).
    Each micro-batch's first pass is an ordinary training-mode forward
    pass, so BatchNorm's statistics move once per micro-batch, as with
    gradient accumulation. A batch of ``n < k`` examples (the last batch
    of an epoch) splits into ``n`` micro-batches of one example, on every
    backend.

    tf.keras 2.x's ``SharpnessAwareMinimization(model, rho,
    num_batch_splits=k)`` is ``SAM(model, rho, micro_batches=k,
    split="contiguous", reduction="sum")``, with the same optimizer: it
    split contiguously (``tf.split``, so ``k`` had to divide every batch)
    and applied the sum of the ``k`` perturbed gradients. Two differences
    remain by design: its loss left out ``model.losses`` (weight
    penalties, ``add_loss``) and sample weights, and its perturbed pass
    updated BatchNorm's statistics a second time.

    Mixed precision: both passes scale the loss with the optimizer's
    ``scale_loss`` (a ``LossScaleOptimizer`` under ``mixed_float16``);
    ``e`` does not depend on the scale, and the optimizer unscales ``g'``
    and skips non-finite steps as usual. Under ``tf.distribute``
    strategies, ``e`` comes from the gradient summed over replicas, so
    the step equals the single-device one; with a loss-scale optimizer, a
    step that overflowed on any replica is skipped on every replica
    (Keras 3.15's own check reads only the first replica's gradients).
    Under JAX's ``keras.distribution``, gradients are global arrays, so
    the same holds without extra work.

    Args:
        model: The `keras.Model` to train.
        rho: Radius of the neighbourhood, a float >= 0 (``0`` gives the
            base optimizer's step). The paper uses 0.05 for SAM; ASAM
            needs a larger one (Kwon et al. use 0.5 to 2).
        adaptive: Whether to use ASAM's per-weight scaling
            ``T = |w| + eta``.
        eta: ASAM's offset, a float >= 0 (ignored unless ``adaptive``).
        micro_batches: None, or the number of micro-batches (an int >= 1)
            that each get their own perturbation (a batch of fewer
            examples: one micro-batch per example).
        eps: Added to the gradient norm, a float >= 0.
        scale_biases: ASAM only: whether biases are scaled by ``T = |w| +
            eta`` too. ``False`` (the default) gives them ``T = 1``, as
            the ASAM authors' code does (SamsungLabs/ASAM scales only the
            parameters PyTorch names ``weight``: kernels, embeddings,
            normalization scales); it is the default because ``rho`` and
            ``eta`` were tuned with it, and a bias, often near 0, would
            otherwise barely move (``T ≈ eta``). Biases are the variables
            named ``beta`` or ending in ``bias`` (PyTorch's ``bias``).
            ``True`` scales every tensor (a config without this argument,
            as files saved by 24336a5 have, loads with ``True``); with
            ``eta=0`` it is davda54/sam's ``adaptive=True``.
        split: How ``micro_batches`` splits a batch: ``"strided"`` (the
            default; micro-batch ``i`` holds examples ``i, i + k, ...``)
            or ``"contiguous"`` (consecutive runs, as tf.keras 2.x).
        reduction: How the micro-batches' perturbed gradients combine:
            ``"mean"`` (the default; weighted by size, so the step is on
            the scale of the batch's mean loss) or ``"sum"`` (each
            micro-batch's mean-loss gradient added, as tf.keras 2.x: ``k``
            times larger for equal sizes).
        **kwargs: Passed to `keras.Model` (``name``).

    Example:
    >>> import keras
    >>> import numpy as np
    >>> import keras_regkit as rk
    >>> inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model = rk.training.SAM(inner, rho=0.05)
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
    >>> history = model.fit(x, y, epochs=1, verbose=0)
    >>> model.predict(x, verbose=0).shape
    (8, 1)
    """

    def __init__(
        self,
        model,
        rho: float = 0.05,
        adaptive: bool = False,
        eta: float = 0.01,
        micro_batches: int | None = None,
        eps: float = 1e-12,
        scale_biases: bool = False,
        split: str = "strided",
        reduction: str = "mean",
        **kwargs,
    ):
        check = _validation
        model = check.check_type(
            "model", model, keras.Model, "a keras.Model", owner=self
        )
        rho = check.check_float("rho", rho, low=0, owner=self)
        adaptive = check.check_bool("adaptive", adaptive, owner=self)
        eta = check.check_float("eta", eta, low=0, owner=self)
        if micro_batches is not None:
            micro_batches = check.check_int(
                "micro_batches", micro_batches, low=1, owner=self
            )
        eps = check.check_float("eps", eps, low=0, owner=self)
        scale_biases = check.check_bool(
            "scale_biases", scale_biases, owner=self
        )
        split = check.check_choice("split", split, SPLITS, owner=self)
        reduction = check.check_choice(
            "reduction", reduction, REDUCTIONS, owner=self
        )
        super().__init__(**kwargs)
        self.model = model
        self.rho = rho
        self.adaptive = adaptive
        self.eta = eta
        self.micro_batches = micro_batches
        self.eps = eps
        self.scale_biases = scale_biases
        self.split = split
        self.reduction = reduction
        self._sam_step = _backend_step()

    def call(self, inputs, training=None):
        return self.model(inputs, training=training)

    def build(self, input_shape=None):
        if not self.model.built and input_shape is not None:
            self.model.build(input_shape)
        self.built = True

    def perturbation(self, gradients, weights):
        """This model's `sam_perturbation` of ``gradients`` at ``weights``.

        ``weights`` are the values of ``trainable_variables``, in order.
        """
        scaled = None
        if self.adaptive and not self.scale_biases:
            scaled = [not is_bias(v) for v in self.trainable_variables]
        return sam_perturbation(
            gradients,
            weights,
            self.rho,
            adaptive=self.adaptive,
            eta=self.eta,
            eps=self.eps,
            scaled=scaled,
        )

    def gradient_weight(self, share):
        """A micro-batch's weight in the applied gradient.

        Its ``share`` of the batch (``reduction="mean"``), or 1.
        """
        return share if self.reduction == "mean" else 1.0

    def train_step(self, *args):
        # TensorFlow and torch pass (data,), JAX (state, data).
        return self._sam_step(self, *args)

    def get_config(self):
        return {
            **super().get_config(),
            "model": keras.saving.serialize_keras_object(self.model),
            "rho": self.rho,
            "adaptive": self.adaptive,
            "eta": self.eta,
            "micro_batches": self.micro_batches,
            "eps": self.eps,
            "scale_biases": self.scale_biases,
            "split": self.split,
            "reduction": self.reduction,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        # Files saved by 24336a5 have no `scale_biases`: every tensor scaled.
        config.setdefault("scale_biases", True)
        config["model"] = keras.saving.deserialize_keras_object(config["model"])
        return cls(**config)
