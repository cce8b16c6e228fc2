"""The regularization showdown: one network, trained several ways, on real data.

Run ``python -m keras_regkit.demo`` (or ``keras-regkit-demo``). It trains the
same small residual CNN on a deliberately small slice of scikit-learn's
bundled handwritten digits (1,797 real 8x8 images, no download) once per
variant:

=================  ========================================================
``none``           no regularization
``l2``             L2 in the textbook form, cost = loss + λ/(2m)·Σ‖w‖²
``dropout``        Dropout on the dense layer, DropPath on the residual
                   branch, DropBlock2D on the feature map (its rate ramped
                   up by a schedule)
``early_stopping`` `EarlyStopping` with ``restore_best_weights=True``
``augment``        an `augment.Pipeline` of small shifts, rotations, zooms
``sam``            `training.SAM` (sharpness-aware minimization) around
                   the network
``swa``            the `callbacks.SWA` callback (stochastic weight
                   averaging of the last quarter of the epochs)
``combined``       l2, dropout, early_stopping and augment together
=================  ========================================================

once per seed (``--seeds``, three by default; a seed fixes the data split,
the initial weights and the randomness), with the same seeds and epoch
budget for every variant, then prints a table of the mean ± standard
deviation over the seeds (train, validation and test accuracy, the
generalization gap train − test, epochs run, wall time) and writes two
PNGs: the learning curves of every variant (one line per seed) and a bar
chart of the gaps with error bars.

Bad flags exit with a one-line error and status 2.

The package, one concern per module:

- `cli`: flags, one-line errors, `main` and `run`;
- `variants`: the variants, one list of `Variant` records;
- `data`: the digits (or an .npz), split with a seed;
- `training`: the model and its training, one variant at a time;
- `report`: the summary over the seeds, the table and the two pictures.
"""

from keras_regkit.demo.cli import main

__all__ = ["main"]
