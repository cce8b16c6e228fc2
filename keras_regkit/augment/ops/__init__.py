"""The op families: one module each, importing only ``_core``.

`geometry`, `color`, `filters` (sharpness, blur, noise), `occlusion`,
`mixing` (MixUp, CutMix), `mosaic`, `sequence` (spectrograms, time
series), `tabular`.
"""
