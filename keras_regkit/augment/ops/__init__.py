"""The op families: one module each, importing only ``_core``.

`geometry`, `resized_crop` (torchvision's random resized crop), `color`,
`tone` (solarize, posterize), `filters` (sharpness, blur, noise),
`occlusion`,
`mixing` (MixUp, CutMix), `mosaic`, `sequence` (spectrograms, time
series), `tabular`.
"""
