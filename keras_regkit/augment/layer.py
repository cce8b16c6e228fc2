"""AugmentationLayer: a `Pipeline` inside a Keras model, active in training."""

from __future__ import annotations

import copy

import keras

from keras_regkit import _validation
from keras_regkit.augment.pipeline import Pipeline


@keras.saving.register_keras_serializable(package="keras_regkit")
class AugmentationLayer(keras.layers.Layer):
    """A `Pipeline` as a Keras layer, active only in training.

    For augmenting on the accelerator, inside the model. In training each
    call draws a fresh seed from a `keras.random.SeedGenerator` seeded with
    the pipeline's seed; outside training images are only converted to
    float32 in [0, 1] (and resized where the pipeline sets an output
    size). Label-mixing ops need labels and so cannot be used here, and
    the layer takes images only: segmentation masks, boxes and keypoints
    (which a model's inputs do not carry) are augmented with the images
    by a `Pipeline` mapped over a `tf.data.Dataset`. Requires the
    TensorFlow backend.

    Args:
        pipeline: A `Pipeline`, its config or its serialized config.
        **kwargs: Base layer arguments (``name``, ...).

    Call arguments:
        inputs: Images ``(batch, height, width, channels)``.
        training: Whether to augment.

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from keras_regkit import augment as rka
    >>> layer = rka.AugmentationLayer(rka.Pipeline([rka.RandomFlip()], seed=1))
    >>> x = np.ones((2, 8, 6, 3), "float32")
    >>> layer(x, training=True).shape
    TensorShape([2, 8, 6, 3])
    >>> model = keras.Sequential([keras.Input((8, 6, 3)), layer,
    ...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> _ = model.fit(x, np.zeros((2, 1)), epochs=1, verbose=0)
    """

    def __init__(self, pipeline, **kwargs):
        super().__init__(**kwargs)
        if isinstance(pipeline, dict) and "class_name" in pipeline:
            pipeline = keras.saving.deserialize_keras_object(
                copy.deepcopy(pipeline)
            )
        elif isinstance(pipeline, dict):
            pipeline = Pipeline.from_config(copy.deepcopy(pipeline))
        self.pipeline = _validation.check_type(
            "pipeline",
            pipeline,
            Pipeline,
            "a keras_regkit.augment.Pipeline",
            owner=self,
        )
        if pipeline.has_mixing:
            expected = (
                "a pipeline without label-mixing ops (a layer sees no labels)"
            )
            raise _validation.invalid(
                "pipeline", expected, pipeline, owner=self
            )
        self.seed_generator = keras.random.SeedGenerator(pipeline.seed)
        self.supports_masking = False

    def call(self, inputs, training=None):
        if isinstance(inputs, dict):
            raise _validation.invalid(
                "inputs",
                "a batch of images (augment masks, boxes and keypoints "
                "with a Pipeline over a tf.data.Dataset)",
                f"a dict with keys {sorted(inputs)}",
                owner=self,
            )
        if training:
            return self.pipeline.augment(inputs, self.seed_generator.next())
        return self.pipeline.convert(inputs)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 4:
            return input_shape
        height, width = self.pipeline.output_size(
            input_shape[1], input_shape[2]
        )
        return (input_shape[0], height, width, input_shape[3])

    def compute_output_spec(self, inputs, training=None):
        return keras.KerasTensor(
            self.compute_output_shape(inputs.shape), dtype="float32"
        )

    def get_config(self):
        return {
            **super().get_config(),
            "pipeline": keras.saving.serialize_keras_object(self.pipeline),
        }
