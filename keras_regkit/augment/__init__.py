"""tf.data augmentation pipelines (see the augmentation issue)."""

__all__ = []
