"""tf.data augmentation pipelines: batched, fused, reproducible, label-aware.

Example:
>>> from keras_regkit import augment as rka
>>> pipeline = rka.Pipeline([rka.RandomFlip(), rka.RandomRotation(0.04)])
>>> [type(op).__name__ for op in pipeline.ops]
['RandomFlip', 'RandomRotation']
"""

from keras_regkit.augment.color import RandomAutoContrast
from keras_regkit.augment.color import RandomBrightness
from keras_regkit.augment.color import RandomContrast
from keras_regkit.augment.color import RandomEqualize
from keras_regkit.augment.color import RandomGamma
from keras_regkit.augment.color import RandomGaussianBlur
from keras_regkit.augment.color import RandomGaussianNoise
from keras_regkit.augment.color import RandomGrayscale
from keras_regkit.augment.color import RandomHue
from keras_regkit.augment.color import RandomPosterize
from keras_regkit.augment.color import RandomSaturation
from keras_regkit.augment.color import RandomSharpness
from keras_regkit.augment.color import RandomSolarize
from keras_regkit.augment.geometry import RandomFlip
from keras_regkit.augment.geometry import RandomPadCrop
from keras_regkit.augment.geometry import RandomResizedCrop
from keras_regkit.augment.geometry import RandomRotation
from keras_regkit.augment.geometry import RandomShear
from keras_regkit.augment.geometry import RandomTranslation
from keras_regkit.augment.geometry import RandomZoom
from keras_regkit.augment.mixing import CutMix
from keras_regkit.augment.mixing import MixUp
from keras_regkit.augment.mixing import MixUpCutMix
from keras_regkit.augment.occlusion import RandomCutout
from keras_regkit.augment.occlusion import RandomErasing
from keras_regkit.augment.pipeline import AugmentationLayer
from keras_regkit.augment.pipeline import Pipeline
from keras_regkit.augment.pipeline import tta_predict

__all__ = [
    "AugmentationLayer",
    "CutMix",
    "MixUp",
    "MixUpCutMix",
    "Pipeline",
    "RandomAutoContrast",
    "RandomBrightness",
    "RandomContrast",
    "RandomCutout",
    "RandomEqualize",
    "RandomErasing",
    "RandomFlip",
    "RandomGamma",
    "RandomGaussianBlur",
    "RandomGaussianNoise",
    "RandomGrayscale",
    "RandomHue",
    "RandomPadCrop",
    "RandomPosterize",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "RandomSolarize",
    "RandomTranslation",
    "RandomZoom",
    "tta_predict",
]
