"""Examples that cannot be read or decoded: named, or dropped alone.

`guarded` maps a per-example function over a dataset so that a failure
(a truncated JPEG, a missing file) is known per example, in order, with
the example still at hand to name. Examples are cropped `CHUNK` at a
time in a dataset whose errors are caught (``ignore_errors``); a chunk
that fails is cropped again one example at a time, each in a
one-element dataset of its own followed by a placeholder flagged as
failed that only a failure reaches. Then
``on_error="raise"`` stops with an error naming the example (its
position in this pass over the data, its path) and TensorFlow's reason
(found by running it once more, eagerly); ``on_error="skip"`` drops it
and logs a warning on the ``keras_regkit`` logger, with the count
skipped so far in this pass. The chunks stay batched (a leading
dimension of up to `CHUNK`) to the end: the caller rebatches them.
"""

from __future__ import annotations

import logging
import re

import tensorflow as tf

from keras_regkit import _validation
from keras_regkit.augment._core import structure
from keras_regkit.augment.inputs import files

# What an example that cannot be read or decoded does.
ON_ERROR = ("raise", "skip")
# Examples cropped together while none fails (see `_chunked`).
CHUNK = 16
_LOG = logging.getLogger("keras_regkit")
# TensorFlow's wrapping of an op's message: the function node, the op
# and its (empty) name.
_TF_NOISE = re.compile(r"\{\{[^}]*\}\}\s*|\s*\[Op:\w+\](\s*name:.*$)?")


def _reason(error):
    """TensorFlow's message of a failed op, without its wrapping."""
    return _TF_NOISE.sub("", error.message.strip().splitlines()[0])


def guarded(examples, crop, on_error, paths, owner):
    """``examples.map(crop)`` in chunks, a failed example named or dropped.

    Chunks of `CHUNK` examples are cropped together (crops of several
    sizes: one at a time); in a chunk that fails, each ``(seed, data)``
    is cropped in a dataset of its own whose errors are caught, and a
    failure yields a placeholder flagged as failed, with a message naming
    the example (its position in this pass, its path) and TensorFlow's
    reason, found by cropping it once more, eagerly. The chunks stay
    batched through the checks (``dataset.rebatch`` them), so that the
    checks run once per chunk rather than once per example (the JPEG
    benchmark's cost went from 154 to 171 images per CPU-second, one run
    each: within that benchmark's noise).

    Returns:
        A dataset of chunks: ``crop``'s outputs with a leading dimension
        of up to `CHUNK` (fewer where examples were skipped, or at the
        end), in the examples' order.
    """
    name = _validation.owner_name(owner) if owner is not None else None
    prefix = f"{name}: " if name else ""

    def attempt(index, seed, data):
        return True, index, "", crop(seed, data)

    def describe(index, seed, data):
        """The message for a failed example (run in Python, rarely)."""
        source = structure.unpack(data)[0].numpy()
        try:
            crop(seed, data)
            reason = "failed inside the dataset"
        except tf.errors.OpError as error:
            reason = _reason(error)
        is_path = paths or not bool(files.is_encoded(source))
        where = f" ({source.decode(errors='replace')})" if is_path else ""
        return (
            f"example {int(index)}{where} could not be read or decoded: "
            f"{reason}"
        )

    def one(index, element):
        seed, data = element
        single = tf.data.Dataset.from_tensors((index, seed, data))
        good = single.map(attempt).ignore_errors()
        spec = good.element_spec[3]

        def failure(index, seed, data):
            flat = tf.nest.flatten(data)

            def run(index, seed, *flat):
                example = tf.nest.pack_sequence_as(data, list(flat))
                return describe(index, seed, example)

            message = tf.py_function(run, [index, seed, *flat], tf.string)
            empty = tf.nest.map_structure(_zeros, spec)
            return False, index, message, empty

        return good.concatenate(single.map(failure)).take(1)

    options = {"num_parallel_calls": tf.data.AUTOTUNE, "deterministic": True}
    spec = examples.map(crop).element_spec
    if all(s.shape.is_fully_defined() for s in tf.nest.flatten(spec)):
        chunks = examples.enumerate().batch(CHUNK)
        out = chunks.interleave(_chunked(crop, one, spec), **options)
    else:  # Crops of several sizes: a batch of them cannot be formed.
        out = examples.enumerate().interleave(one, **options).batch(1)
    if on_error == "raise":
        return out.map(lambda *chunk: _checked(prefix, *chunk))
    out = out.scan(tf.constant(0, tf.int64), lambda *a: _skipped(prefix, *a))
    return out.filter(lambda *kept: tf.size(tf.nest.flatten(kept)[0]) > 0)


def _checked(prefix, ok, index, message, element):
    """A chunk's examples, or an error naming its first failed one."""
    first = tf.argmin(tf.cast(ok, tf.int32), output_type=tf.int32)
    text = tf.strings.join(
        [
            prefix,
            tf.gather(message, first),
            " (on_error='skip' drops such examples)",
        ]
    )
    check = tf.debugging.Assert(tf.reduce_all(ok), [text])
    with tf.control_dependencies([check]):
        return tf.nest.map_structure(tf.identity, element)


def _skipped(prefix, skipped, chunk):
    """A chunk without its failed examples, each logged with the count."""
    ok, index, message, element = chunk
    failed = tf.logical_not(ok)

    def warn(messages, before):
        count = int(before)
        for text in messages.numpy():
            count += 1
            _LOG.warning(
                "%sskipped %s; %d example%s skipped so far in this pass over "
                "the data",
                prefix,
                text.decode(errors="replace"),
                count,
                "" if count == 1 else "s",
            )
        return 0

    def report():
        messages = tf.boolean_mask(message, failed)
        return tf.py_function(warn, [messages, skipped], tf.int32)

    done = tf.cond(tf.reduce_any(failed), report, lambda: tf.constant(0))
    with tf.control_dependencies([done]):
        skipped = skipped + tf.reduce_sum(tf.cast(failed, tf.int64))
    kept = tf.nest.map_structure(lambda t: tf.boolean_mask(t, ok), element)
    return skipped, kept


def _chunked(crop, one, spec):
    """``one`` for a chunk of examples, cropped together while none fails.

    The chunk is cropped in one call (`tf.map_fn`), in a dataset whose
    errors are caught; only a chunk where an example fails is cropped
    again one example at a time by ``one``, which names or drops it. A
    dataset per example cost about a tenth of a JPEG pipeline's CPU in
    TensorFlow's kernel lookups; a dataset per chunk of `CHUNK` does not.
    """

    def crop_all(indices, seeds, data):
        def crop_one(args):
            return crop(*args)

        cropped = tf.map_fn(crop_one, (seeds, data), fn_output_signature=spec)
        count = tf.shape(indices)[:1]
        return tf.fill(count, True), indices, tf.fill(count, ""), cropped

    def chunk(indices, elements):
        seeds, data = elements
        whole = tf.data.Dataset.from_tensors((indices, seeds, data))
        together = whole.map(crop_all).ignore_errors()
        singly = tf.data.Dataset.from_tensor_slices((indices, elements))
        singly = singly.flat_map(one).batch(CHUNK)
        return together.concatenate(singly).take(1)

    return chunk


def _zeros(spec):
    """A placeholder for ``spec`` (unknown sizes as 0)."""
    shape = [0 if size is None else size for size in spec.shape]
    return tf.zeros(shape, spec.dtype)
