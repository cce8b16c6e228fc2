"""The augmentation engine: what every op, composite and pipeline builds on.

Op roles (`roles`), their shared value ops (`value_ops`), stateless
sampling (`sampling`), run-time checks (`checks`), the chain of ops
(`chain`), one resampling (`resample`), batches through a chain
(`batched`), the structure of a batch (`structure`), the targets moved
with the images (`targets`, `boxes`), the labels mixing ops take
(`labels`) and the regions occlusion cuts (`regions`).

Imports nothing of `keras_regkit.augment` outside ``_core``.
"""
