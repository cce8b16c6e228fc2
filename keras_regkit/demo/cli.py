"""The demo's command line: flags, one-line errors, the run itself.

Training and plotting are imported only once the flags are valid, so a
bad flag fails at once, without loading TensorFlow.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

from keras_regkit.demo import variants
from keras_regkit.demo.errors import DemoError

DEFAULT_EPOCHS = 30
QUICK_EPOCHS = 5
DEFAULT_SEEDS = 4  # the comparison's; the curves use the first two
QUICK_SEEDS = 2
CURVE_SEEDS = 2
QUICK_CURVE_SEEDS = 1
DEFAULT_NOISE = 0.2
QUICK_VARIANTS = ("none", "dropout")
# Each trial process imports TensorFlow and Keras again (about half a
# gigabyte): a default that a laptop with many cores can afford.
MAX_DEFAULT_JOBS = 4


def default_jobs() -> int:
    """One trial process per CPU core this process may use, at most
    `MAX_DEFAULT_JOBS`.

    Returns:
        The default of ``--jobs``.

    Example:
        >>> from keras_regkit.demo import cli
        >>> 1 <= cli.default_jobs() <= cli.MAX_DEFAULT_JOBS
        True
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call.
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_JOBS))


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise DemoError(message)


def parse_args(argv=None) -> argparse.Namespace:
    """Parses and checks the command line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The parsed flags, with ``variants`` as a list of names.

    Raises:
        DemoError: For an unknown flag or variant, a bad number.

    Example:
    >>> parse_args(["--quick", "--variants", "l2,none,l2"]).variants
    ['l2', 'none']
    """
    choices = ", ".join(variants.names())
    parser = _Parser(
        prog="keras-regkit-demo",
        description="Diagnose a small network on few, noisily labelled "
        "digits: its learning curve, the regularizers compared with "
        "paired confidence intervals, the best one's strength swept.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a short run: {QUICK_SEEDS} seeds, {QUICK_EPOCHS} epochs, "
        f"variants {','.join(QUICK_VARIANTS)}",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        help=f"epochs per trial (default {DEFAULT_EPOCHS}; {QUICK_EPOCHS} "
        "with --quick)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="the data split's and label noise's seed, and the first "
        "trial seed",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        help="seeds per variant in the comparison, at least 2: seed, "
        f"seed + 1, ... (default {DEFAULT_SEEDS}; {QUICK_SEEDS} with "
        f"--quick); the curves use the first {CURVE_SEEDS}",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=DEFAULT_NOISE,
        help="share of training and validation labels replaced by another "
        f"class, in [0, 1) (default {DEFAULT_NOISE}); test labels stay "
        "clean",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        help="processes running the trials (default: one per CPU core "
        f"this process may use, at most {MAX_DEFAULT_JOBS}, here "
        f"{default_jobs()}; 1 with --quick, whose trials are shorter than "
        "a process's start; 1: one after the other, in this process); "
        "the results do not depend on it",
    )
    parser.add_argument("--out", default="regkit-demo", help="output folder")
    parser.add_argument(
        "--variants",
        help="comma-separated, the first is the baseline (default "
        f"{','.join(variants.DEFAULT_VARIANTS)}); from: {choices}",
    )
    parser.add_argument(
        "--data",
        help="an .npz with `images` (N, H, W[, C]) and `labels` (N,) arrays "
        "instead of the digits",
    )
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = QUICK_EPOCHS if args.quick else DEFAULT_EPOCHS
    if args.epochs < 1:
        raise DemoError(f"--epochs must be >= 1, got {args.epochs}")
    if args.seeds is None:
        args.seeds = QUICK_SEEDS if args.quick else DEFAULT_SEEDS
    if args.seeds < 2:
        raise DemoError(
            f"--seeds must be >= 2 (a paired interval needs two), got "
            f"{args.seeds}"
        )
    if args.seed < 0:
        raise DemoError(f"--seed must be >= 0, got {args.seed}")
    if not 0 <= args.noise < 1:
        raise DemoError(f"--noise must be in [0, 1), got {args.noise}")
    if args.jobs is None:
        args.jobs = 1 if args.quick else default_jobs()
    if args.jobs < 1:
        raise DemoError(f"--jobs must be >= 1, got {args.jobs}")
    if args.variants is None:
        args.variants = ",".join(
            QUICK_VARIANTS if args.quick else variants.DEFAULT_VARIANTS
        )
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in variants.names()]
    if unknown or not names:
        raise DemoError(
            f"unknown variant(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {choices}"
        )
    args.variants = list(dict.fromkeys(names))
    if len(args.variants) < 2:
        raise DemoError(
            "--variants needs at least two (a baseline and one to compare "
            f"with it), got {','.join(args.variants)}"
        )
    return args


def prepare_out_dir(path: str) -> str:
    """Creates the output folder and checks that it can be written.

    Raises:
        DemoError: If it cannot be created or written.
    """
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".regkit-write-test")
        with open(probe, "w") as handle:
            handle.write("ok")
        os.remove(probe)
    except OSError as error:
        raise DemoError(f"--out {path!r} cannot be written: {error}") from None
    return path


def run(args: argparse.Namespace, stream=None) -> dict:
    """The diagnosis: learning curve, comparison, validation curve.

    Every step is one `keras_regkit.diagnostics` call (see `steps`),
    printing a line per finished trial (which variant or value, which
    seed, the time left); then its table. Seed ``args.seed`` fixes the
    data split and the label noise; the trials' seeds are ``args.seed``,
    ``args.seed + 1``, ... (initial weights, data order, the layers'
    randomness), the same for every variant.

    Args:
        args: The flags, from `parse_args`.
        stream: Where to print (default: standard output).

    Returns:
        ``{"learning_curve", "diagnosis", "comparison", "validation_curve"
        (None when no compared variant has a strength), "swept" (its
        variant's name, or None), "pictures"}``.
    """
    from keras_regkit.demo import data
    from keras_regkit.demo import report
    from keras_regkit.demo import steps

    stream = stream or sys.stdout
    out = prepare_out_dir(args.out)
    start = time.perf_counter()
    splits = data.load_data(args.data, args.seed, args.noise)
    seeds = [args.seed + i for i in range(args.seeds)]
    curve_seeds = seeds[: QUICK_CURVE_SEEDS if args.quick else CURVE_SEEDS]
    baseline = args.variants[0]

    def say(text):
        stream.write(text + "\n")
        stream.flush()

    say(
        f"data: {splits.source}: {len(splits.x_train)} train, "
        f"{len(splits.x_val)} validation, {len(splits.x_test)} test images; "
        f"{args.noise:.0%} of the training and validation labels replaced "
        f"by another class (test labels clean); {args.epochs} epochs per "
        "trial; error = 1 - accuracy"
    )
    with contextlib.redirect_stdout(stream):
        sizes = steps.QUICK_TRAIN_SIZES if args.quick else steps.TRAIN_SIZES
        say(
            f"\n[1/3] learning curve of {baseline!r}: {len(sizes)} training "
            f"sizes x {len(curve_seeds)} seed(s)"
        )
        curve, diagnosis = steps.learning_curve_step(
            splits, baseline, args.epochs, curve_seeds, args.jobs, sizes
        )
        say(f"\n{curve}\n\n{diagnosis}")
        say(
            f"\n[2/3] comparison: {len(args.variants)} variants x "
            f"{len(seeds)} seeds, the same seeds for each"
        )
        comparison = steps.compare_step(
            splits, args.variants, args.epochs, seeds, args.jobs
        )
        say(f"\n{comparison}")
        swept = steps.most_useful(comparison)
        sweep = None
        if swept is None:
            say(
                "\n[3/3] validation curve: skipped, no compared variant has "
                "a strength to sweep"
            )
        else:
            strength = variants.get(swept).strength
            values = list(
                strength.values[::2] if args.quick else strength.values
            )
            change = comparison.difference(swept).mean
            say(
                f"\n[3/3] validation curve of {swept!r} (of the variants "
                f"with a strength, the lowest validation error: "
                f"{change:+.3g} against {baseline!r}): {strength.name} in "
                f"{values} x {len(curve_seeds)} seed(s)"
            )
            sweep = steps.validation_curve_step(
                splits, swept, args.epochs, curve_seeds, args.jobs, values
            )
            say(f"\n{sweep}")
    pictures = [
        report.plot_curve(curve, baseline, out),
        report.plot_comparison(comparison, out),
    ]
    if sweep is not None:
        pictures.append(report.plot_curve(sweep, swept, out))
    say("")
    for picture in pictures:
        say(f"wrote {picture}")
    say(f"done in {time.perf_counter() - start:.0f} s")
    return {
        "learning_curve": curve,
        "diagnosis": diagnosis,
        "comparison": comparison,
        "validation_curve": sweep,
        "swept": swept,
        "pictures": pictures,
    }


def main(argv=None) -> int:
    """Entry point of `python -m keras_regkit.demo` and `keras-regkit-demo`.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 2 after a one-line error on standard error.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        run(parse_args(argv))
    except DemoError as error:
        sys.stderr.write(f"keras-regkit-demo: error: {error}\n")
        return 2
    return 0
