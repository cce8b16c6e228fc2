"""The kit without TensorFlow: Keras on JAX, as a JAX user installs it."""

import json

import helpers

import keras_regkit

# The package's own list, less the one that needs TensorFlow.
SUBPACKAGES = sorted(
    name
    for name in keras_regkit._SUBPACKAGES
    if name != keras_regkit._NEEDS_TENSORFLOW
)


def test_without_tensorflow_augment_alone_is_missing():
    """Keras on JAX without TensorFlow: the kit imports, augment says why.

    .ci/run runs this suite in an environment without TensorFlow, as a JAX
    user installs the kit; where TensorFlow is installed (a developer's
    environment) the child hides it (``sys.modules["tensorflow"] = None``
    makes `importlib.util.find_spec` report it missing).
    """
    result = helpers.run_python(
        """
        import json
        import sys

        sys.modules["tensorflow"] = None
        import keras_regkit as rk

        try:
            rk.augment
            error = None
        except ImportError as exc:
            error = str(exc)
        print(json.dumps({
            "loaded": sorted(
                m for m in sys.modules if m.startswith("keras_regkit.")
                and m.count(".") == 1 and not m.split(".")[1].startswith("_")
            ),
            "error": error,
            "dir": "augment" in dir(rk),
            "layer": type(rk.layers.DropPath(0.1)).__name__,
        }))
        """,
        env={"KERAS_BACKEND": "jax"},
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["loaded"] == [f"keras_regkit.{name}" for name in SUBPACKAGES]
    assert "needs TensorFlow" in found["error"]
    assert "pip install" in found["error"]
    assert found["dir"] and found["layer"] == "DropPath"
