"""A chain of ops: plan, sample and run a sequence of ops, fused.

The one place where a sequence of ops is put together, for a `Pipeline`
and for every composite op (`RandomChoice`, `RandomApply`, the
policies, AugMix's chains):

* **plan**: consecutive geometric ops (`GeometricOp`, and composites
  whose children are all geometric) form one stage; every other op is a
  stage of its own;
* **sample**: each op gets its own seed (op ``i`` of ``n`` gets
  ``split_seed(seed, n)[i]``) and, inside a composite, a per-example 0/1
  gate; a geometric stage multiplies its ops' centred matrices (gated
  ones are the identity) and converts the product to pixel coordinates;
* **run**: a geometric stage resamples once with the chain's resampling
  settings, a value stage applies its op (blended with the input where
  gated off), a batch stage mixes examples and labels.

Targets (segmentation masks, boxes, keypoints; `keras_regkit.augment._core
.targets`) go through the same stages: a geometric stage moves them with
the same pixel matrix as the images, a value stage leaves them to its op
(`ValueOp.transform`), a batch stage mixes them with its
op's ``mix_targets``. Without targets nothing of this runs.
"""

from __future__ import annotations

import contextlib
import copy

import keras
import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import checks
from keras_regkit.augment._core import resample
from keras_regkit.augment._core import roles
from keras_regkit.augment._core import sampling
from keras_regkit.augment._core import structure
from keras_regkit.augment._core import targets as _targets

_OPS_EXPECTED = "a list of keras_regkit.augment ops"


def deserialize_ops(ops, owner, name="ops"):
    """Turns a list of ops or of their serialized configs into ops."""
    if not isinstance(ops, (list, tuple)):
        raise _validation.invalid(
            name, _OPS_EXPECTED, ops, owner=owner, error=TypeError
        )
    out = []
    for op in ops:
        if isinstance(op, dict):
            op = keras.saving.deserialize_keras_object(copy.deepcopy(op))
        out.append(
            _validation.check_type(
                name, op, roles.Augmentation, _OPS_EXPECTED, owner=owner
            )
        )
    return out


def serialize_ops(ops):
    """The ops' serialized configs (plain Python values)."""
    return [keras.saving.serialize_keras_object(op) for op in ops]


def _size(images):
    """``(height, width)`` of a batch: static where known, else dynamic."""
    height, width = images.shape[1], images.shape[2]
    if height is None or width is None:
        shape = tf.shape(images)
        height = shape[1] if height is None else height
        width = shape[2] if width is None else width
    return height, width


class _GeometryStage:
    """Consecutive geometric ops: one matrix product, one resampling."""

    geometric = True

    def __init__(self, ops):
        self.ops = ops

    def output_size(self, height, width):
        for op in self.ops:
            height, width = op.output_size(height, width)
        return height, width

    def centred_matrix(self, seeds, batch_size, shape, gates):
        """The product of the ops' centred matrices, the first on the left."""
        matrix = None
        for op, seed, gate in zip(self.ops, seeds, gates, strict=True):
            m = op.sample(seed, batch_size, shape, gate)["matrix"]
            matrix = m if matrix is None else tf.linalg.matmul(matrix, m)
        return matrix

    def sample(self, seeds, batch_size, shape, gates):
        matrix = self.centred_matrix(seeds, batch_size, shape, gates)
        size = self.output_size(shape[0], shape[1])
        return {"matrix": resample.to_pixels(matrix, shape[:2], size)}

    @property
    def axis_aligned(self):
        """Whether every op's matrix is known to have no rotation or shear.

        Such a stage is resampled separably (`resample.resample`'s
        ``axis_aligned``): flips, shifts, zooms and crops only.
        """
        return all(getattr(op, "axis_aligned", False) for op in self.ops)

    @property
    def mirror_only(self):
        """Whether every op only mirrors (flips): run as `resample.mirror`."""
        return all(getattr(op, "mirror_only", False) for op in self.ops)

    def run(
        self,
        images,
        labels,
        params,
        settings,
        targets=None,
        target_settings=None,
    ):
        size = self.output_size(*_size(images))
        if self.mirror_only:
            images = resample.mirror(images, params["matrix"])
        else:
            images = resample.resample(
                images,
                params["matrix"],
                size,
                axis_aligned=self.axis_aligned,
                **settings,
            )
        if targets:
            targets = _targets.transform(
                targets,
                params["matrix"],
                size,
                settings,
                target_settings,
                axis_aligned=self.axis_aligned,
            )
        return images, labels, targets


class _ValueStage:
    """One value op (or composite), for ``op.views`` views of the batch."""

    geometric = False

    def __init__(self, op):
        self.ops = [op]

    def output_size(self, height, width):
        return height, width

    def sample(self, seeds, batch_size, shape, gates):
        op = self.ops[0]
        if op.views == 1:
            return op.sample(seeds[0], batch_size, shape, gates[0])
        views = sampling.split_seed(seeds[0], op.views - 1)
        return {
            "views": [op.sample(s, batch_size, shape, gates[0]) for s in views]
        }

    def run(
        self,
        images,
        labels,
        params,
        settings,
        targets=None,
        target_settings=None,
    ):
        op = self.ops[0]
        if op.views == 1:
            images, targets = op.transform(
                images, params, settings, targets, target_settings
            )
            return images, labels, targets
        # Ops with views accept only targets they leave unchanged.
        views = [op.transform(images, p, settings)[0] for p in params["views"]]
        images = tf.concat([images, *views], axis=0)
        labels = structure.repeat_batch(labels, op.views)
        return images, labels, _targets.repeat(targets, op.views)


class _BatchStage(_ValueStage):
    """One batch op: examples and labels mixed."""

    def sample(self, seeds, batch_size, shape, gates):
        return self.ops[0].sample(seeds[0], batch_size, shape)

    def run(
        self,
        images,
        labels,
        params,
        settings,
        targets=None,
        target_settings=None,
    ):
        op = self.ops[0]
        images, labels = op.mix(images, labels, params)
        if targets:
            targets = op.mix_targets(targets, params, target_settings)
        return images, labels, targets


def _stage(op):
    if isinstance(op, roles.BatchOp):
        return _BatchStage(op)
    return _ValueStage(op)


@contextlib.contextmanager
def _owned_errors(owner):
    """Prefixes a child's ValueError with its composite's name."""
    try:
        yield
    except ValueError as error:
        if owner is None:
            raise
        name = _validation.owner_name(owner)
        raise ValueError(f"{name}: {error}") from None


class Chain:
    """Ops applied in order, planned into fused stages.

    Args:
        ops: The ops (`keras_regkit.augment.roles.Augmentation`), in
            order.

    Example:
    >>> from keras_regkit import augment as rka
    >>> chain = Chain([rka.RandomFlip(), rka.RandomRotation(0.1),
    ...                rka.RandomContrast(0.2), rka.RandomZoom(0.1)])
    >>> [len(stage.ops) for stage in chain.stages]
    [2, 1, 1]
    """

    def __init__(self, ops):
        self.ops = list(ops)
        self.stages = []
        for op in self.ops:
            if op.geometric and self.stages and self.stages[-1].geometric:
                self.stages[-1].ops.append(op)
            elif op.geometric:
                self.stages.append(_GeometryStage([op]))
            else:
                self.stages.append(_stage(op))

    @property
    def geometric(self):
        """Whether every op is geometric (the chain is one matrix)."""
        return bool(self.ops) and all(op.geometric for op in self.ops)

    def output_size(self, height, width):
        """The images' ``(height, width)`` after the chain."""
        for stage in self.stages:
            height, width = stage.output_size(height, width)
        return height, width

    def check_targets(self, targets, has_labels=False, owner=None):
        """Raises ValueError for a target an op cannot keep consistent.

        Args:
            targets: The names of the targets the data carries.
            has_labels: Whether the data carries image labels.
            owner: A composite whose name prefixes its children's errors,
                or None.
        """
        for op in self.ops:
            with _owned_errors(owner):
                op.check_targets(tuple(targets), has_labels)

    def validate(self, shape, has_labels=False, labels_spec=None, owner=None):
        """Validates every op on the shape it will see.

        Args:
            shape: The batch's shape (None for unknown entries).
            has_labels: Whether the data carries labels.
            labels_spec: The labels' spec, or None.
            owner: A composite whose name prefixes its children's errors,
                or None.
        """
        dims = list(shape)
        for stage in self.stages:
            for op in stage.ops:
                with _owned_errors(owner):
                    op.validate(tuple(dims), has_labels, labels_spec)
            if stage.geometric:
                dims[1:3] = stage.output_size(dims[1], dims[2])

    def _split(self, seed, gates):
        """Per-stage lists of seeds and gates (None where ungated)."""
        seeds = sampling.split_seed(seed, max(len(self.ops), 1))
        start, out = 0, []
        for stage in self.stages:
            count = len(stage.ops)
            stage_gates = [
                None if gates is None else gates[:, i]
                for i in range(start, start + count)
            ]
            out.append((seeds[start : start + count], stage_gates))
            start += count
        return out

    def sample(self, seed, batch_size, shape, gates=None):
        """Draws every stage's parameters for a batch.

        Args:
            seed: A shape-(2,) stateless seed.
            batch_size: The number of examples.
            shape: The shape of one example.
            gates: None, or float32 ``(batch, len(ops))`` 0/1: where each
                op applies (a composite's choice).

        Returns:
            A list with one parameter dict per stage.
        """
        params, dims = [], list(shape)
        for stage, (seeds, stage_gates) in zip(
            self.stages, self._split(seed, gates), strict=True
        ):
            params.append(
                stage.sample(seeds, batch_size, tuple(dims), stage_gates)
            )
            if stage.geometric:
                dims[0:2] = stage.output_size(dims[0], dims[1])
        return params

    def sample_matrix(self, seed, batch_size, shape, gates=None):
        """The centred matrix of an all-geometric chain (see `sample`)."""
        ((seeds, stage_gates),) = self._split(seed, gates)
        return self.stages[0].centred_matrix(
            seeds, batch_size, shape, stage_gates
        )

    def segments(self):
        """``(start, stop)`` stage ranges to compile separately with XLA.

        A geometric stage ends its segment: XLA on CPU otherwise fuses
        its gathers into the reductions after it (a contrast's mean) and
        recomputes them, 1.7x to 4x slower at 32 to 224 pixels (AVX-512,
        with `keras_regkit.augment.ops.color`'s vectorized reductions). A
        flip-only stage (`resample.mirror`) too: fused, a flip with
        brightness, contrast and saturation took 1.86 ms of CPU per
        image at 224 pixels against 0.74 separately (2-core AMD EPYC).
        Value and batch stages share segments.

        Example:
        >>> from keras_regkit import augment as rka
        >>> Chain([rka.RandomFlip(), rka.RandomContrast(0.2),
        ...        rka.RandomBrightness(0.1), rka.RandomZoom(0.1)]).segments()
        [(0, 1), (1, 4)]
        >>> Chain([rka.RandomRotation(0.1), rka.RandomContrast(0.2)]).segments()
        [(0, 1), (1, 2)]
        """
        out, start = [], 0
        for i, stage in enumerate(self.stages):
            if stage.geometric:
                out.append((start, i + 1))
                start = i + 1
        if start < len(self.stages):
            out.append((start, len(self.stages)))
        return out

    def run(self, images, labels, params, settings=None, start=0, stop=None):
        """Applies the stages with `sample`'s parameters (no targets).

        `run_targets` with no targets; returns ``(images, labels)``.
        """
        images, labels, _ = self.run_targets(
            images, labels, None, params, settings, start=start, stop=stop
        )
        return images, labels

    def run_targets(
        self,
        images,
        labels,
        targets,
        params,
        settings=None,
        target_settings=None,
        start=0,
        stop=None,
    ):
        """Applies the stages with `sample`'s parameters.

        Args:
            images: The float32 batch, or a uint8 one (read as ``value /
                255``; a geometric first stage resamples it without
                converting the whole input first).
            labels: The labels, or None.
            targets: The targets' internal dict
                (`keras_regkit.augment._core.targets.encode`), or None.
            params: `sample`'s output.
            settings: Resampling settings (`resample.settings`), or None
                for the defaults.
            target_settings: `keras_regkit.augment._core.targets.settings`, or
                None for the defaults.
            start: The first stage to run (see `segments`).
            stop: The stage after the last to run, or None for the end.

        Returns:
            ``(images, labels, targets)``; images float32 when the chain
            ends.
        """
        settings = settings or resample.DEFAULT_SETTINGS
        target_settings = target_settings or _targets.DEFAULT_SETTINGS
        stop = len(self.stages) if stop is None else stop
        for i in range(start, stop):
            stage = self.stages[i]
            if images.dtype == tf.uint8 and not stage.geometric:
                images = checks.to_float(images)
            images, labels, targets = stage.run(
                images, labels, params[i], settings, targets, target_settings
            )
        if stop == len(self.stages):
            images = checks.to_float(images)
        return images, labels, targets
