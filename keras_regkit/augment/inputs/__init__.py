"""Images of any size and encoded images (JPEG): cropped before batching.

`decode` (pure window and decode functions) and `unbatched` (the
per-example crop stage, given the ops, seeds and the batched stage as a
function; never a `Pipeline`). Imports ``_core`` and ``ops``.
"""
