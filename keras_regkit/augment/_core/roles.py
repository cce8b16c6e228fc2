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
`keras_regkit.augment._core.targets`) follow the roles: a geometric op moves
them through its matrix (the chain does it, nothing to implement), a
value op leaves them unchanged unless it implements ``transform_targets``
(erasing fills masks), and a batch op refuses them unless it implements
``mix_targets``. ``check_targets`` raises, naming the op and the target,
for a target the op cannot keep consistent with its images.

Images inside a pipeline are float32 in [0, 1], shaped
``(batch, height, width, channels)``.
"""

from __future__ import annotations

from keras_regkit import _validation
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import sampling

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

    def check_targets(self, targets, has_labels=False):
        """Raises ValueError for a target the op cannot keep consistent.

        Args:
            targets: The names of the targets the data carries (some of
                `keras_regkit.augment._core.targets.KINDS`).
            has_labels: Whether the data carries image labels.
        """
        return None

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
    ``sample``'s parameters, returning a batch of the same shape; where
    the op is gated off for an example (its probability, a composite's
    choice) the input is kept.
    """

    def apply(self, inputs, params):
        """Applies the op with the given parameters (to the whole batch)."""
        raise NotImplementedError(f"{type(self).__name__}.apply")

    def _apply(self, inputs, params, settings):
        # Ops that resample inside (composites) use the pipeline's
        # resampling settings; others ignore them.
        return self.apply(inputs, params)

    def transform(self, inputs, params, settings=None):
        """``apply``, kept only where the op's gate is 1.

        Args:
            inputs: The float32 batch.
            params: The output of ``sample``.
            settings: The pipeline's resampling settings (a dict of
                `keras_regkit.augment._core.resample.resample` arguments), for
                ops that resample inside; None for the defaults.

        Returns:
            The transformed batch, same shape.
        """
        out = self._apply(inputs, params, settings)
        if "gate" in params:
            out = sampling.blend_images(inputs, out, params["gate"])
        return out

    def transform_targets(self, targets, params):
        """The targets after the op: unchanged (a photometric op)."""
        return targets

    def transform_with_targets(
        self, images, targets, params, settings=None, target_settings=None
    ):
        """`transform` of the images and `transform_targets` together.

        Composites override it to run their children on both.

        Returns:
            ``(images, targets)``.
        """
        images = self.transform(images, params, settings)
        if targets:
            targets = self.transform_targets(targets, params)
        return images, targets

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

    def check_targets(self, targets, has_labels=False):
        for target in targets:
            if target not in self.supported_targets:
                raise checks.refuse_target(
                    self, target, "it mixes images and cannot mix them"
                )

    def mix(self, images, labels, params):
        """Mixes a batch with drawn parameters; returns images and labels."""
        raise NotImplementedError(f"{type(self).__name__}.mix")

    def checked_labels(self, labels):
        """The labels, values the op cannot mix refused (outside XLA)."""
        return labels

    def mix_targets(self, targets, params, target_settings):
        """Mixes the targets as ``mix`` mixes the images."""
        raise NotImplementedError(f"{type(self).__name__}.mix_targets")
