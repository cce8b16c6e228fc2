"""``python -m keras_regkit.demo``."""

import sys

from keras_regkit.demo.cli import main

if __name__ == "__main__":  # not when doctest collection imports it
    sys.exit(main())
