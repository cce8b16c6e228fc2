"""The demo's command line: flags, one-line errors, the run itself.

Training and plotting are imported only once the flags are valid, so a
bad flag fails at once, without loading TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import sys

from keras_regkit.demo import variants
from keras_regkit.demo.errors import DemoError

DEFAULT_EPOCHS = 45
QUICK_EPOCHS = 8
DEFAULT_SEEDS = 3
QUICK_SEEDS = 1


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
        description="Train one network several ways and compare the "
        "generalization gap.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a short run: {QUICK_SEEDS} seed(s), {QUICK_EPOCHS} epochs",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        help=f"epoch budget per variant and seed (default {DEFAULT_EPOCHS}; "
        f"{QUICK_EPOCHS} with --quick)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="the first seed (base seed)"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        help="how many seeds per variant: seed, seed + 1, ... "
        f"(default {DEFAULT_SEEDS}; {QUICK_SEEDS} with --quick)",
    )
    parser.add_argument("--out", default="regkit-demo", help="output folder")
    parser.add_argument(
        "--variants",
        default=",".join(variants.names()),
        help=f"comma-separated, from: {choices}",
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
    if args.seeds < 1:
        raise DemoError(f"--seeds must be >= 1, got {args.seeds}")
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in variants.names()]
    if unknown or not names:
        raise DemoError(
            f"unknown variant(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {choices}"
        )
    args.variants = list(dict.fromkeys(names))
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


def run(args: argparse.Namespace, stream=None) -> list:
    """Trains every requested variant with every seed, reports the summary.

    Seed ``s`` (``args.seed``, ``args.seed + 1``, ...) fixes the data split
    (which 300 images train), the initial weights, the shuffling and the
    layers' randomness; every variant sees the same seeds.

    Args:
        args: The flags, from `parse_args`.
        stream: Where to print (default: standard output).

    Returns:
        The `report.Summary` of every variant, in order.
    """
    from keras_regkit.demo import data
    from keras_regkit.demo import report
    from keras_regkit.demo import training

    stream = stream or sys.stdout
    out = prepare_out_dir(args.out)
    seeds = [args.seed + i for i in range(args.seeds)]
    results = []
    for seed in seeds:
        splits = data.load_data(args.data, seed)
        stream.write(
            f"data: {splits.source}: {len(splits.x_train)} train, "
            f"{len(splits.x_val)} validation, {len(splits.x_test)} test "
            f"images; {args.epochs} epochs per variant, seed {seed} "
            f"({seed - args.seed + 1} of {len(seeds)})\n"
        )
        for name in args.variants:
            variant = variants.get(name)
            stream.write(f"{name}: {variant.description}\n")
            results.append(
                training.train_variant(
                    variant, splits, args.epochs, seed, stream
                )
            )
    summaries = report.summarize(results)
    stream.write(
        f"\nmean ± std over {len(seeds)} seed(s) "
        f"({', '.join(map(str, seeds))}):\n"
        + report.format_table(summaries)
        + "\n\n"
    )
    curves = report.plot_learning_curves(
        summaries, os.path.join(out, "learning_curves.png")
    )
    gaps = report.plot_gaps(
        summaries, os.path.join(out, "generalization_gap.png")
    )
    stream.write(f"wrote {curves}\nwrote {gaps}\n")
    return summaries


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
