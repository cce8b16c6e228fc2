"""tf.data augmentation pipelines: batched, fused, reproducible, label-aware.

Images, plus spectrograms, time series and tabular rows (`.ops.sequence`,
`.ops.tabular`) through the same `Pipeline`. The package's layout:
``_core/`` the engine (op roles, chain, resampling, targets), ``ops/``
the op families, ``compose/`` ops made of ops, ``inputs/`` images of any
size and encoded images, and on top `Pipeline`, `AugmentationLayer`,
`tta_predict`.

Example:
>>> from keras_regkit import augment as rka
>>> pipeline = rka.Pipeline([rka.RandomFlip(), rka.RandomRotation(0.04)])
>>> [type(op).__name__ for op in pipeline.ops]
['RandomFlip', 'RandomRotation']
"""

from keras_regkit.augment import _tensorflow  # noqa: F401 (first)
from keras_regkit.augment.any_size import augment_ragged
from keras_regkit.augment.any_size import augment_unbatched
from keras_regkit.augment.compose.augmix import AugMix
from keras_regkit.augment.compose.choice import RandomApply
from keras_regkit.augment.compose.choice import RandomChoice
from keras_regkit.augment.compose.rand_augment import RandAugment
from keras_regkit.augment.compose.rand_augment import TrivialAugment
from keras_regkit.augment.inputs.decode import decode_center_crop
from keras_regkit.augment.inputs.decode import decode_random_resized_crop
from keras_regkit.augment.layer import AugmentationLayer
from keras_regkit.augment.ops.color import RandomAutoContrast
from keras_regkit.augment.ops.color import RandomBrightness
from keras_regkit.augment.ops.color import RandomContrast
from keras_regkit.augment.ops.color import RandomEqualize
from keras_regkit.augment.ops.color import RandomGamma
from keras_regkit.augment.ops.color import RandomGrayscale
from keras_regkit.augment.ops.color import RandomHue
from keras_regkit.augment.ops.color import RandomSaturation
from keras_regkit.augment.ops.filters import RandomGaussianBlur
from keras_regkit.augment.ops.filters import RandomGaussianNoise
from keras_regkit.augment.ops.filters import RandomSharpness
from keras_regkit.augment.ops.geometry import RandomFlip
from keras_regkit.augment.ops.geometry import RandomPadCrop
from keras_regkit.augment.ops.geometry import RandomRotation
from keras_regkit.augment.ops.geometry import RandomShear
from keras_regkit.augment.ops.geometry import RandomTranslation
from keras_regkit.augment.ops.geometry import RandomZoom
from keras_regkit.augment.ops.mixing import CutMix
from keras_regkit.augment.ops.mixing import MixUp
from keras_regkit.augment.ops.mixing import MixUpCutMix
from keras_regkit.augment.ops.mosaic import Mosaic
from keras_regkit.augment.ops.occlusion import GridMask
from keras_regkit.augment.ops.occlusion import RandomCutout
from keras_regkit.augment.ops.occlusion import RandomErasing
from keras_regkit.augment.ops.resized_crop import RandomResizedCrop
from keras_regkit.augment.ops.sequence import FrequencyMasking
from keras_regkit.augment.ops.sequence import RandomJitter
from keras_regkit.augment.ops.sequence import RandomMagnitudeWarp
from keras_regkit.augment.ops.sequence import RandomScaling
from keras_regkit.augment.ops.sequence import TimeMasking
from keras_regkit.augment.ops.tabular import FeatureDropout
from keras_regkit.augment.ops.tabular import FeatureNoise
from keras_regkit.augment.ops.tone import RandomPosterize
from keras_regkit.augment.ops.tone import RandomSolarize
from keras_regkit.augment.pipeline import Pipeline
from keras_regkit.augment.tta import tta_predict
from keras_regkit.losses import JensenShannonCrossEntropy

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
