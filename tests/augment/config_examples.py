"""Constructor arguments of every public class of keras_regkit.augment.

Every argument is set, to non-default values where possible; the config
tests build each class from these, and check that every argument appears
in ``get_config`` and survives ``from_config`` and Keras serialization.
"""

_POLICY = {
    "ops": [
        {
            "module": "keras_regkit.augment.ops.geometry",
            "class_name": "RandomFlip",
            "config": {"mode": "vertical", "probability": 0.25},
            "registered_name": "keras_regkit>RandomFlip",
        }
    ],
    "seed": 7,
    "fill_mode": "reflect",
    "fill_value": 0.5,
    "interpolation": "nearest",
    "jit_compile": False,
    "bounding_box_format": "rel_center_xywh",
    "mask_fill_value": 255,
    "bounding_box_min_visibility": 0.3,
    "value_range": [0.0, 255.0],
}

_FLIP = {
    "module": "keras_regkit.augment.ops.geometry",
    "class_name": "RandomFlip",
    "config": {"probability": 0.5, "mode": "vertical"},
    "registered_name": "keras_regkit>RandomFlip",
}
_CONTRAST = {
    "module": "keras_regkit.augment.ops.color",
    "class_name": "RandomContrast",
    "config": {"probability": 0.5, "factor": 0.2},
    "registered_name": "keras_regkit>RandomContrast",
}

CONFIG_EXAMPLES = {
    "AugmentationLayer": {
        "pipeline": {
            "module": "keras_regkit.augment.pipeline",
            "class_name": "Pipeline",
            "config": _POLICY,
            "registered_name": "keras_regkit>Pipeline",
        },
        "name": "augment",
    },
    "Pipeline": _POLICY,
    "RandomFlip": {"mode": "horizontal_and_vertical", "probability": 0.3},
    "RandomRotation": {"factor": [-0.1, 0.2], "probability": 0.9},
    "RandomTranslation": {
        "height_factor": 0.1,
        "width_factor": [-0.2, 0.1],
        "probability": 0.8,
    },
    "RandomZoom": {
        "height_factor": [-0.2, 0.3],
        "width_factor": 0.1,
        "probability": 0.7,
    },
    "RandomShear": {
        "x_factor": 0.2,
        "y_factor": [-0.1, 0.3],
        "probability": 0.6,
    },
    "RandomPadCrop": {"padding": 2, "probability": 0.5},
    "RandomResizedCrop": {
        "height": 24,
        "width": 20,
        "scale": [0.2, 0.9],
        "ratio": [0.5, 2.0],
        "probability": 0.9,
        "antialias": False,
        "fallback": "whole",
    },
    "RandomBrightness": {"factor": [-0.1, 0.3], "probability": 0.5},
    "RandomContrast": {"factor": 0.3, "probability": 0.4},
    "RandomSaturation": {"factor": [-0.5, 0.2], "probability": 0.3},
    "RandomHue": {"factor": 0.1, "probability": 0.2},
    "RandomGamma": {"factor": [-0.3, 0.4], "probability": 0.6},
    "RandomSharpness": {"factor": 0.8, "probability": 0.7},
    "RandomGrayscale": {"probability": 0.2},
    "RandomEqualize": {"probability": 0.3},
    "RandomAutoContrast": {"probability": 0.4},
    "RandomSolarize": {"threshold": [0.3, 0.7], "probability": 0.5},
    "RandomPosterize": {"bits": [3, 6], "probability": 0.6},
    "RandomGaussianNoise": {"stddev": 0.1, "probability": 0.7},
    "RandomGaussianBlur": {
        "kernel_size": 5,
        "sigma": [0.5, 1.5],
        "probability": 0.8,
    },
    "RandomErasing": {
        "probability": 0.75,
        "scale": [0.05, 0.2],
        "ratio": [0.5, 2.0],
        "value": "random",
        "count": 2,
        "mask_value": 255,
    },
    "RandomCutout": {
        "height": 8,
        "width": 6,
        "count": 3,
        "value": 0.5,
        "probability": 0.9,
        "mask_value": 0,
    },
    "MixUpCutMix": {
        "mixup_alpha": 0.4,
        "cutmix_alpha": 0.6,
        "switch_probability": 0.3,
        "mode": "elem",
        "num_classes": 5,
        "label_smoothing": 0.1,
        "probability": 0.8,
    },
    "MixUp": {
        "alpha": 0.4,
        "mode": "elem",
        "num_classes": 3,
        "label_smoothing": 0.05,
        "probability": 0.5,
    },
    "CutMix": {
        "alpha": 0.5,
        "mode": "elem",
        "num_classes": 4,
        "label_smoothing": 0.2,
        "probability": 0.6,
    },
    "Mosaic": {"offset": [0.3, 0.6], "num_classes": 3, "probability": 0.8},
    "GridMask": {
        "unit": [6, 20],
        "ratio": 0.4,
        "value": "per_pixel",
        "probability": 0.7,
        "mask_value": 3,
    },
    "RandomChoice": {
        "ops": [_FLIP, _CONTRAST],
        "weights": [1.0, 3.0],
        "probability": 0.8,
    },
    "RandomApply": {"ops": [_CONTRAST, _FLIP], "probability": 0.3},
    "RandAugment": {
        "num_ops": 3,
        "magnitude": 7.0,
        "magnitude_std": 0.5,
        "ops": ["rotate", "solarize", "equalize"],
        "probability": 0.9,
    },
    "TrivialAugment": {"ops": ["shear_x", "posterize"], "probability": 0.8},
    "AugMix": {
        "severity": 5,
        "width": 2,
        "depth": 2,
        "alpha": 0.5,
        "jsd": True,
        "ops": ["rotate", "autocontrast"],
        "probability": 0.9,
    },
    "JensenShannonCrossEntropy": {
        "num_views": 4,
        "weight": 6.0,
        "from_logits": True,
        "name": "jsd",
        "reduction": "sum",
    },
    "TimeMasking": {
        "max_width": 12,
        "count": 2,
        "value": "mean",
        "probability": 0.8,
    },
    "FrequencyMasking": {
        "max_width": 6,
        "count": 3,
        "value": -1.5,
        "probability": 0.7,
    },
    "RandomJitter": {"stddev": 0.05, "probability": 0.6},
    "RandomScaling": {"stddev": 0.2, "probability": 0.5},
    "RandomMagnitudeWarp": {"stddev": 0.3, "knots": 6, "probability": 0.4},
    "FeatureNoise": {"stddev": 0.3, "probability": 0.9},
    "FeatureDropout": {"rate": 0.2, "value": -1.0, "probability": 0.8},
}
