"""The demo: a diagnosis of one small network's overfitting, on real data.

Run ``python -m keras_regkit.demo`` (or ``keras-regkit-demo``). It asks of
a small residual CNN on scikit-learn's bundled handwritten digits (1,797
real 8x8 images, no download) what a user asks of their own model, with
three `keras_regkit.diagnostics` calls (the demo has no training loop of
its own):

1. **Is it overfitting?** The learning curve of the baseline (``none``)
   on 1/8, 1/4, 1/2 and all of its 300 training images, and `diagnose`'s
   verdict with its evidence.
2. **Which regularizer helps?** `compare` of the variants on the same
   seeds: each one's error minus the baseline's, with a paired t 95%
   confidence interval:

   =================  ====================================================
   ``none``           no regularization (the baseline)
   ``l2``             L2 in the textbook form, cost = loss + λ/(2m)·Σ‖w‖²
   ``dropout``        Dropout on the dense layer, DropPath on the residual
                      branch, DropBlock2D on the feature map (its rate
                      ramped up by a schedule)
   ``early_stopping`` `EarlyStopping` on the validation accuracy, best
                      weights restored
   ``augment``        an `augment.AugmentationLayer` of small shifts,
                      rotations and zooms at the network's input
   ``combined``       l2, dropout, early_stopping and augment together
   ``sam``, ``swa``   `training.SAM` and `callbacks.SWA` (``--variants``;
                      not in the default run: each costs about two others)
   =================  ====================================================

3. **How strong?** The validation curve of the strength (L2's lambda, the
   dropout rate, the augmentation magnitude) of the variant that most
   lowered the validation error, with the best value and the
   one-standard-error choice.

Each finished trial prints a line (which size, variant or value, which
seed, the time left); each step prints its table; three PNGs go to
``--out``: ``learning_curve.png``, ``comparison.png`` (the paired
intervals on the test error) and ``validation_curve.png``.

**The regime, and how it was chosen.** 300 training images, 300
validation images, the other 1,197 for the test; 20% of the training and
validation labels replaced by another class (``--noise``), the test labels
clean; 30 epochs of Adam per trial; 4 seeds in the comparison, 2 for the
curves; the trials run in one process per CPU core (at most 4,
``--jobs``; ``--quick`` runs them in this process), which changes
nothing in the results. On clean digits the baseline already reaches
about 95% test accuracy, and the previous demo measured every
regularizer within seed noise of it (gains of 0.01 to 0.015 with 3
seeds). With wrong labels an unregularized network learns them by
heart; in a trial run (300 images, 20% noise, a similar CNN, 40 epochs,
3 seeds) dropout and augmentation cut the test error by about 0.09 and
0.11 with paired intervals excluding 0. 30 epochs, a narrow network and
2 seeds for the curves keep a default run at about 5 minutes on two CPU
cores (docs/demo.md shows a run and its time); ``--quick`` (5 epochs,
2 variants, 2 seeds, 1 seed and 2 sizes for the curves) is too short for
the noise to be learned: it checks the pipeline, not the regularizers.

Bad flags exit with a one-line error and status 2.

The package, one concern per module:

- `cli`: flags, one-line errors, `main` and `run` (the three steps);
- `steps`: each step as one diagnostics call;
- `variants`: the variants, one list of `Variant` records;
- `data`: the digits (or an .npz), split with a seed, the label noise;
- `training`: the network per variant (a picklable builder, so
  ``--jobs`` runs trials in processes) and what ``fit`` gets;
- `report`: the three pictures.
"""

from keras_regkit.demo.cli import main

__all__ = ["main"]
