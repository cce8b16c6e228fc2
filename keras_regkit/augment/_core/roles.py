"""The roles of augmentation ops, as base classes, and their shared helpers.

An op is split in two, as Keras's preprocessing layers are:

* ``sample(seed, batch_size, shape)`` draws the random parameters for a
  whole batch at once (small tensors, one row per example) from a
  stateless seed;
* the transform is a pure function of the inputs and those parameters.

What the transform is depends on the op's role, which its base class
states:

* `ValueOp` changes values where they are (pixels, spectrogram bins,
  time steps, table cells): it implements ``apply(inputs, params)``;
* `GeometricOp` moves pixels: it implements ``matrix(seed, batch_size,
  shape)``, a centred 3x3 matrix per image, which a chain of ops
  multiplies with its neighbours' and resamples once
  (`keras_regkit.augment._core.chain`);
* `BatchOp` mixes examples of the batch and their labels: it implements
  ``mix(images, labels, params)``.

Targets that move with the images (segmentation masks, boxes, keypoints:
`keras_regkit.augment._core.targets`) are declared once per op, as
albumentations' ``_targets``: ``supported_targets`` names those the op
keeps consistent with its images (every kind for value and geometric
ops, none for batch ops unless they say so), ``target_refusal`` says
why it refuses the others, and one method per role does the work: a
geometric op's matrix moves them (the chain does it, nothing to
implement), a value op's ``apply_to_targets`` (unchanged by default;
erasing fills masks), a batch op's ``mix_targets``. The chain reads the
declaration (`Augmentation.check_targets`, which ops do not override;
composites, whose declaration is their children's, ask them).

Images inside a pipeline are float32 in [0, 1], shaped
``(batch, height, width, channels)``.
"""

from __future__ import annotations

from keras_regkit import _validation
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import targets as _targets

# The input shapes an op accepts, by rank (batch included), in words.
IMAGE_SHAPES = {4: "(batch, height, width, channels)"}


class Augmentation:
    """What every op shares: probability, validation, config.

    Ops derive from one of the roles below (`ValueOp`, `GeometricOp`,
    `BatchOp`), implement ``_sample`` and the role's method, and extend
    ``get_config``.

    Args:
        probability: Chance, per example, that the op is applied.
    """

    supports_xla = True
    # Whether the op fuses with the geometric ops around it.
    geometric = False
    # Whether `probability` gates the op in the base class (False where the
    # op uses the probability itself, as a flip does).
    _gated = True
    # Channel counts the op accepts (None: any).
    _channels = None
    # Input ranks the op accepts (batch included), each described in words.
    shapes = IMAGE_SHAPES
    # How many times the op multiplies the batch (AugMix's consistency
    # views: the clean batch, then ``views - 1`` augmented copies); such
    # an op must come last in a pipeline.
    views = 1

    def __init__(self, probability=1.0):
        self.probability = _validation.check_float(
            "probability", probability, low=0.0, high=1.0, owner=self
        )

    def validate(self, shape, has_labels=False, labels_spec=None):
        """Raises ValueError if the op cannot handle these inputs.

        Args:
            shape: The batch's shape, static entries as ints and unknown
                ones as None.
            has_labels: Whether the data carries labels.
            labels_spec: The labels' `tf.TensorSpec`, or None.
        """
        channels = shape[-1]
        if self._channels is not None and channels not in self._channels:
            allowed = " or ".join(str(c) for c in self._channels)
            expected = (
                f"images with {allowed} channels, shaped (batch, height, "
                "width, channels)"
            )
            raise _validation.invalid(
                "images", expected, tuple(shape), owner=self
            )

    # The targets (`targets.KINDS`) the op keeps consistent with its
    # images; the others are refused, with `target_refusal`'s reason.
    supported_targets = _targets.KINDS
    # Whether data without targets needs image labels (label mixing).
    needs_labels = False

    def target_refusal(self, target):
        """Why the op refuses ``target`` (not in ``supported_targets``)."""
        return "it cannot keep it consistent with its images"

    def check_targets(self, targets, has_labels=False):
        """Raises ValueError for data the op's declaration refuses.

        A target outside ``supported_targets`` raises, naming the op,
        the target and `target_refusal`; with ``needs_labels``, data
        with neither labels nor targets raises.

        Args:
            targets: The names of the targets the data carries (some of
                `keras_regkit.augment._core.targets.KINDS`).
            has_labels: Whether the data carries image labels.
        """
        for target in targets:
            if target not in self.supported_targets:
                reason = self.target_refusal(target)
                raise checks.refuse_target(self, target, reason)
        if self.needs_labels and not has_labels and not targets:
            raise _validation.invalid(
                "labels",
                "(images, labels) or a dict with a 'labels' key: "
                "mixing needs labels",
                None,
                owner=self,
            )

    def output_size(self, height, width):
        """The image size after this op (geometric ops may change it)."""
        return height, width

    def _own_gate(self, seed, batch_size, gate):
        """Folds the op's own probability into ``gate``; returns both."""
        if not self._gated or self.probability == 1.0:
            return seed, gate
        gate_seed, seed = sampling.split_seed(seed, 2)
        own = sampling.bernoulli(gate_seed, [batch_size], self.probability)
        return seed, own if gate is None else own * gate

    def sample(self, seed, batch_size, shape, gate=None):
        """Draws the random parameters of a batch.

        Args:
            seed: A shape-(2,) stateless seed.
            batch_size: The number of examples (an int or scalar tensor).
            shape: The shape of one example: ``(height, width, channels)``
                for images.
            gate: None, or float32 ``(batch,)`` 0/1: where the op applies
                (a composite's choice), on top of its own probability.

        Returns:
            A dict of tensors, one row per example.
        """
        seed, gate = self._own_gate(seed, batch_size, gate)
        params = self._sample(seed, batch_size, shape)
        if gate is None:
            return params
        return self._gate(params, gate)

    def _sample(self, seed, batch_size, shape):
        return {}

    def _gate(self, params, gate):
        raise _validation.invalid(
            "ops", "ops that can be gated per example", self, owner=self
        )

    def get_config(self):
        """Returns the constructor arguments as plain Python values."""
        return {"probability": self.probability}

    @classmethod
    def from_config(cls, config):
        """Rebuilds the op from ``get_config``'s output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class ValueOp(Augmentation):
    """An op that changes values in place; implements ``apply``.

    ``apply(inputs, params)`` is a pure function of a float32 batch and
    ``sample``'s parameters, returning a batch of the same shape;
    ``apply_to_targets(targets, params)`` changes the targets (unchanged
    by default). The chain calls `transform`, which keeps the input
    where the op is gated off for an example (its probability, a
    composite's choice).
    """

    def apply(self, inputs, params):
        """Applies the op with the given parameters (to the whole batch)."""
        raise NotImplementedError(f"{type(self).__name__}.apply")

    def apply_to_targets(self, targets, params):
        """The targets after the op: unchanged (a photometric op)."""
        return targets

    def transform(
        self, inputs, params, settings=None, targets=None, target_settings=None
    ):
        """The chain's one call: `apply` where gated on, and the targets.

        Ops that resample inside (composites, AugMix) override it to use
        the pipeline's settings.

        Args:
            inputs: The float32 batch.
            params: The output of ``sample``.
            settings: The pipeline's resampling settings (a dict of
                `keras_regkit.augment._core.resample.resample`
                arguments), for ops that resample inside; None for the
                defaults.
            targets: The targets' internal dict, or None.
            target_settings: `targets.settings`, or None.

        Returns:
            ``(outputs, targets)``: the transformed batch, same shape, and
            the targets after `apply_to_targets`.
        """
        out = self.apply(inputs, params)
        if "gate" in params:
            out = sampling.blend_images(inputs, out, params["gate"])
        if targets:
            targets = self.apply_to_targets(targets, params)
        return out, targets

    def _gate(self, params, gate):
        return {**params, "gate": gate}


class GeometricOp(Augmentation):
    """An op that moves pixels; implements ``matrix``.

    ``matrix(seed, batch_size, shape)`` draws one centred 3x3
    output-to-input matrix per image (`keras_regkit.augment._core.resample`);
    where the op is gated off the matrix is the identity. A chain of ops
    multiplies consecutive matrices and resamples once.
    """

    geometric = True

    def matrix(self, seed, batch_size, shape):
        """Draws the batch's centred matrices, float32 ``(batch, 3, 3)``."""
        raise NotImplementedError(f"{type(self).__name__}.matrix")

    def _sample(self, seed, batch_size, shape):
        return {"matrix": self.matrix(seed, batch_size, shape)}

    def _gate(self, params, gate):
        return {
            **params,
            "matrix": sampling.blend_matrix(params["matrix"], gate),
        }


class BatchOp(Augmentation):
    """An op that mixes examples and their labels; implements ``mix``.

    ``mix(images, labels, params)`` returns ``(images, labels)``; such an
    op needs labels and cannot be gated per example by a composite.
    """

    _gated = False
    # The targets `mix_targets` mixes consistently with the images.
    supported_targets = ()

    def target_refusal(self, target):
        return "it mixes images and cannot mix them"

    def mix(self, images, labels, params):
        """Mixes a batch with drawn parameters; returns images and labels."""
        raise NotImplementedError(f"{type(self).__name__}.mix")

    def checked_labels(self, labels):
        """The labels, values the op cannot mix refused (outside XLA)."""
        return labels

    def mix_targets(self, targets, params, target_settings):
        """Mixes the targets as ``mix`` mixes the images."""
        raise NotImplementedError(f"{type(self).__name__}.mix_targets")
