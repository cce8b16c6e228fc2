"""tf.data augmentation pipelines: batched, fused, reproducible, label-aware.

Images, plus spectrograms, time series and tabular rows (`.sequence`,
`.tabular`) through the same `Pipeline`.

Example:
>>> from keras_regkit import augment as rka
>>> pipeline = rka.Pipeline([rka.RandomFlip(), rka.RandomRotation(0.04)])
>>> [type(op).__name__ for op in pipeline.ops]
['RandomFlip', 'RandomRotation']
"""

from keras_regkit.augment import _tensorflow  # noqa: F401 (first)
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
from keras_regkit.augment.control import RandomApply
from keras_regkit.augment.control import RandomChoice
from keras_regkit.augment.geometry import RandomFlip
from keras_regkit.augment.geometry import RandomPadCrop
from keras_regkit.augment.geometry import RandomResizedCrop
from keras_regkit.augment.geometry import RandomRotation
from keras_regkit.augment.geometry import RandomShear
from keras_regkit.augment.geometry import RandomTranslation
from keras_regkit.augment.geometry import RandomZoom
from keras_regkit.augment.inputs import augment_ragged
from keras_regkit.augment.inputs import augment_unbatched
from keras_regkit.augment.inputs import decode_center_crop
from keras_regkit.augment.inputs import decode_random_resized_crop
from keras_regkit.augment.layer import AugmentationLayer
from keras_regkit.augment.mixing import CutMix
from keras_regkit.augment.mixing import MixUp
from keras_regkit.augment.mixing import MixUpCutMix
from keras_regkit.augment.mosaic import Mosaic
from keras_regkit.augment.occlusion import GridMask
from keras_regkit.augment.occlusion import RandomCutout
from keras_regkit.augment.occlusion import RandomErasing
from keras_regkit.augment.pipeline import Pipeline
from keras_regkit.augment.policies import AugMix
from keras_regkit.augment.policies import JensenShannonCrossEntropy
from keras_regkit.augment.policies import RandAugment
from keras_regkit.augment.policies import TrivialAugment
from keras_regkit.augment.sequence import FrequencyMasking
from keras_regkit.augment.sequence import RandomJitter
from keras_regkit.augment.sequence import RandomMagnitudeWarp
from keras_regkit.augment.sequence import RandomScaling
from keras_regkit.augment.sequence import TimeMasking
from keras_regkit.augment.tabular import FeatureDropout
from keras_regkit.augment.tabular import FeatureNoise
from keras_regkit.augment.tta import tta_predict

__all__ = [
    "AugMix",
    "AugmentationLayer",
    "CutMix",
    "FeatureDropout",
    "FeatureNoise",
    "FrequencyMasking",
    "GridMask",
    "JensenShannonCrossEntropy",
    "MixUp",
    "MixUpCutMix",
    "Mosaic",
    "Pipeline",
    "RandAugment",
    "RandomApply",
    "RandomAutoContrast",
    "RandomBrightness",
    "RandomChoice",
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
    "RandomJitter",
    "RandomMagnitudeWarp",
    "RandomPadCrop",
    "RandomPosterize",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomSaturation",
    "RandomScaling",
    "RandomSharpness",
    "RandomShear",
    "RandomSolarize",
    "RandomTranslation",
    "RandomZoom",
    "TimeMasking",
    "TrivialAugment",
    "augment_ragged",
    "augment_unbatched",
    "decode_center_crop",
    "decode_random_resized_crop",
    "tta_predict",
]
