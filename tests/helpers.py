"""Helpers shared by the test modules: small models and round trips."""

from __future__ import annotations

import warnings

import keras
import numpy as np

import keras_regkit as rk


def dense_model(regularizer, input_dim=6, units=4):
    """A two-layer MLP whose kernels carry ``regularizer``."""
    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            keras.layers.Dense(
                units, activation="relu", kernel_regularizer=regularizer
            ),
            keras.layers.Dense(1, kernel_regularizer=regularizer),
        ]
    )


def conv_model(regularizer, height=7, width=5, channels=2):
    """A small Conv2D model (non-square input) with regularized kernels."""
    return keras.Sequential(
        [
            keras.Input((height, width, channels)),
            keras.layers.Conv2D(
                3, (3, 2), padding="same", kernel_regularizer=regularizer
            ),
            keras.layers.Flatten(),
            keras.layers.Dense(1, kernel_regularizer=regularizer),
        ]
    )


def regression_data(input_shape, n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *input_shape)).astype("float32")
    y = rng.normal(size=(n, 1)).astype("float32")
    return x, y


def save_and_load(model, path):
    """Saves ``model`` to ``path`` (a ``.keras`` file) and loads it back."""
    model.save(path)
    return keras.models.load_model(path)


def penalties(model) -> list[float]:
    """The model's regularization terms (`model.losses`) as floats."""
    return [float(keras.ops.convert_to_numpy(v)) for v in model.losses]


def fit_save_load(model, x, y, path, callbacks=None, epochs=2):
    """Fits briefly, checks the penalties, round-trips through ``path``.

    The reloaded model must predict the same, carry the same penalties
    (scheduled strengths included: they keep their position) and the same
    regularizer configs.

    Returns:
        The reloaded model.
    """
    model.compile(keras.optimizers.SGD(0.01), "mse")
    history = model.fit(
        x, y, epochs=epochs, batch_size=8, verbose=0, callbacks=callbacks
    )
    assert np.all(np.isfinite(history.history["loss"]))
    assert len(model.losses) >= 1
    assert all(loss > 0 for loss in penalties(model))
    loaded = save_and_load(model, path)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), loaded.predict(x, verbose=0), rtol=1e-6
    )
    np.testing.assert_allclose(penalties(model), penalties(loaded), rtol=1e-6)
    for before, after in zip(model.layers, loaded.layers, strict=True):
        reg = getattr(before, "kernel_regularizer", None)
        if reg is not None:
            assert type(after.kernel_regularizer) is type(reg)
            assert after.kernel_regularizer.get_config() == reg.get_config()
    return loaded


def fit_save_load_dense_and_conv(regularizer, directory):
    """`fit_save_load` on `dense_model` and on `conv_model` (non-square).

    Args:
        regularizer: The kernel regularizer both models use.
        directory: Where to write the two ``.keras`` files (``tmp_path``).
    """
    x, y = regression_data((6,))
    fit_save_load(dense_model(regularizer), x, y, str(directory / "d.keras"))
    x, y = regression_data((7, 5, 2))
    fit_save_load(conv_model(regularizer), x, y, str(directory / "c.keras"))


def frozen_dense_model(regularizer, input_dim=3):
    """``Dense(1)`` with a kernel of ones that SGD(0) never moves.

    With zero data (``np.zeros``) the loss `fit` reports is exactly the
    penalty on a kernel of ``input_dim`` ones. Compiled; the first layer
    is a `TraceCounter`.
    """
    model = keras.Sequential(
        [
            keras.Input((input_dim,)),
            TraceCounter(),
            keras.layers.Dense(
                1,
                use_bias=False,
                kernel_initializer="ones",
                kernel_regularizer=regularizer,
            ),
        ]
    )
    model.compile(keras.optimizers.SGD(0.0), "mse")
    return model


def scheduled_penalty_run(regularizer, epochs, input_dim=3):
    """Trains `frozen_dense_model` on zero data with `ScheduleCallback`.

    The reported loss of each epoch is then exactly the penalty on a kernel
    of ones; the model's `TraceCounter` counts how often the training step
    is traced.

    Returns:
        (history dict, traces per epoch end).
    """
    model = frozen_dense_model(regularizer, input_dim)
    history, seen = fit_with_schedules(
        model,
        np.zeros((16, input_dim), "float32"),
        np.zeros((16, 1), "float32"),
        model.layers[0],
        epochs=epochs,
        batch_size=8,
    )
    return history, [traces for traces, _ in seen]


def fit_with_schedules(model, x, y, counter, watch=None, epochs=3, **kwargs):
    """Fits with `ScheduleCallback`, recording traces at each epoch end.

    Args:
        model: A compiled model containing ``counter``.
        x, y: Training data.
        counter: The model's `TraceCounter`.
        watch: An object with a ``rate`` (a layer); its rate is recorded
            too.
        epochs: Number of epochs.
        **kwargs: Passed to `fit`.

    Returns:
        ``(history dict, [(traces, rate or None) per epoch])``.
    """
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(
            (counter.traces, None if watch is None else watch.rate)
        )
    )
    history = model.fit(
        x,
        y,
        epochs=epochs,
        verbose=0,
        callbacks=[rk.callbacks.ScheduleCallback(), record],
        **kwargs,
    )
    return history.history, seen


def fit_on_pipeline(epochs=2, probe=None):
    """Fits a small classifier on batches from an `augment.Pipeline`.

    The pipeline (flip and rotation, seeded) maps a `tf.data.Dataset` of
    four batches of 8 uint8 images (12x10x1); `fit` takes the dataset
    itself, whatever the backend.

    Args:
        epochs: Number of epochs.
        probe: None, or a layer put first in the model (it sees the
            batches as the training step gets them).

    Returns:
        (the model, the history dict).
    """
    import tensorflow as tf

    from keras_regkit import augment

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 12, 10, 1)).astype("uint8")
    y = rng.integers(0, 2, (32,))
    pipeline = augment.Pipeline(
        [augment.RandomFlip(), augment.RandomRotation(0.05)], 7
    )
    ds = pipeline(tf.data.Dataset.from_tensor_slices((x, y)).batch(8))
    model = keras.Sequential(
        [
            keras.Input((12, 10, 1)),
            *([] if probe is None else [probe]),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    model.compile(
        "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    history = model.fit(ds, epochs=epochs, verbose=0, shuffle=False)
    assert len(history.history["loss"]) == epochs
    assert np.isfinite(history.history["loss"]).all()
    return model, history.history


def assert_seeded_masks(make_layer, x, training=True):
    """Same seed → same masks; masks change per call and between seeds.

    Args:
        make_layer: ``make_layer(seed)`` builds the layer under test.
        x: The input to call it on twice.
        training: The ``training`` argument of the calls.
    """

    def first_two(seed):
        layer = make_layer(seed)
        return (
            keras.ops.convert_to_numpy(layer(x, training=training)),
            keras.ops.convert_to_numpy(layer(x, training=training)),
        )

    a1, a2 = first_two(1)
    b1, b2 = first_two(1)
    c1, _ = first_two(2)
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)
    assert not np.array_equal(a1, c1)


def compiles_train_step() -> bool:
    """Whether `fit` traces the training step once and then reuses it.

    TensorFlow (`tf.function`) and JAX (`jax.jit`) do. The torch backend
    with the default ``jit_compile="auto"`` runs the step eagerly: every
    step executes the layers' Python, so there is no trace to reuse.
    """
    return keras.backend.backend() in ("tensorflow", "jax")


def assert_not_retraced(traces):
    """Checks `TraceCounter.traces`, recorded at each epoch end.

    Where the step is compiled (`compiles_train_step`) the count must not
    move after the first epoch: changing a scheduled value must not
    retrace. Where it runs eagerly (torch) the count grows at every step;
    then this only checks that every epoch ran the step. Either way, the
    calling test asserts that the scheduled values reached the step.
    """
    if compiles_train_step():
        assert len(set(traces)) == 1, f"retraced: {traces}"
    else:
        assert traces == sorted(set(traces)), traces


def allow_torch_compile_warnings(jit_compile=True):
    """On torch with ``jit_compile``, ignores warnings for the rest of the test.

    There ``jit_compile=True`` means `torch.compile`, which breaks the
    graph at every `keras.random` call (Keras keeps its torch seed
    generator out of dynamo, which does not support `torch.Generator`:
    pytorch/pytorch#88576). When dynamo resumes it warns about reading
    ``.grad`` of a non-leaf tensor, and its inductor imports raise
    deprecation warnings; under ``filterwarnings=error`` those would fail
    the step (``keras.layers.Dropout(0.3, seed=1)`` fails the same way).
    The training still runs and is checked; pytest restores the filters
    after the test.
    """
    if jit_compile and keras.backend.backend() == "torch":
        warnings.simplefilter("ignore")


class TraceCounter(keras.layers.Layer):
    """Identity layer counting the Python executions of `call` (traces)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.traces = 0

    def call(self, x):
        self.traces += 1
        return x


def gradient(fn, x):
    """The gradient of a scalar function, on the current backend.

    Args:
        fn: ``fn(x) -> (scalar, aux)``, written with `keras.ops`.
        x: The point, an array.

    Returns:
        (d scalar / dx as numpy, aux as numpy).
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        grad, aux = jax.grad(fn, has_aux=True)(jax.numpy.asarray(x))
    elif backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value, aux = fn(x)
        grad = tape.gradient(value, x)
    elif backend == "torch":
        import torch

        x = keras.ops.convert_to_tensor(x).detach().requires_grad_()
        value, aux = fn(x)
        (grad,) = torch.autograd.grad(value, x)
    else:
        raise NotImplementedError(f"gradient() on the {backend} backend")
    aux = None if aux is None else keras.ops.convert_to_numpy(aux)
    return keras.ops.convert_to_numpy(grad), aux


def layer_gradient(layer, variable, loss, *args, **kwargs):
    """The gradient of ``loss(outputs, losses)`` wrt one of a layer's weights.

    Calls the layer with `stateless_call` (``*args`` and ``**kwargs`` are
    its inputs), so it works on every backend `gradient` supports.
    """
    trainable = layer.trainable_variables
    index = next(i for i, v in enumerate(trainable) if v is variable)
    values = [v.value for v in trainable]
    others = [v.value for v in layer.non_trainable_variables]

    def fn(value):
        current = list(values)
        current[index] = value
        outputs, _, losses = layer.stateless_call(
            current, others, *args, return_losses=True, **kwargs
        )
        return loss(outputs, losses), None

    return gradient(fn, values[index])[0]


def fit_save_load_predictions(
    model,
    x,
    y,
    path,
    *,
    batch_size=4,
    jit_compile=False,
    optimizer="adam",
    rtol=1e-6,
):
    """Fits two epochs, saves to ``path`` (.keras), loads, compares.

    Checks that the losses are finite, that the loaded model has layers of
    the same types and that it predicts the same. (`fit_save_load` adds
    the checks of a regularized model's penalties.)

    Returns:
        The reloaded model.
    """
    allow_torch_compile_warnings(jit_compile)
    model.compile(optimizer, "mse", jit_compile=jit_compile)
    history = model.fit(x, y, epochs=2, batch_size=batch_size, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    loaded = save_and_load(model, path)
    assert [type(layer) for layer in loaded.layers] == [
        type(layer) for layer in model.layers
    ]
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=rtol
    )
    return loaded


def keras_conv2d_runs_channels_first_on_cpu() -> bool:
    """Whether Keras's own `Conv2D` runs ``channels_first`` on this CPU.

    TensorFlow's CPU `Conv2D` kernel runs NCHW only with oneDNN on (the
    default on Intel CPUs; off on others, or with
    ``TF_ENABLE_ONEDNN_OPTS=0``): "The Conv2D op currently only supports
    the NHWC tensor format on the CPU". JAX and torch run it everywhere.
    """
    conv = keras.layers.Conv2D(1, 1, data_format="channels_first")
    try:
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            with tf.device("/CPU:0"):
                conv(np.ones((1, 1, 2, 2), "float32"))
        else:
            conv(np.ones((1, 1, 2, 2), "float32"))
    except Exception as error:  # UnimplementedError on TensorFlow
        if "NHWC" not in str(error):
            raise
        return False
    return True


def run_python(code, *, env=None, cwd=None, timeout=300, check=True):
    """Runs ``code`` in a fresh Python process, as a user's next session.

    The child gets this interpreter, ``TF_CPP_MIN_LOG_LEVEL=3`` and this
    process's ``KERAS_BACKEND`` unless ``env`` overrides them.

    Args:
        code: Python source (dedented here).
        env: Extra environment variables.
        cwd: The working directory of the child.
        timeout: Seconds before the child is killed.
        check: Whether a non-zero exit fails the calling test, showing the
            child's stderr.

    Returns:
        The `subprocess.CompletedProcess` (``stdout``/``stderr`` as text).
    """
    import os
    import subprocess
    import sys
    import textwrap

    child_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=child_env,
        cwd=cwd,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"child process exited {result.returncode}:\n{result.stderr}"
        )
    return result


def run_on_two_jax_devices(code, *, timeout=600):
    """Runs ``code`` on JAX over two host CPU devices, in a new process.

    ``XLA_FLAGS`` (``--xla_force_host_platform_device_count=2``) is read
    when JAX starts, hence a process of its own; the GPU is hidden so the
    two devices are the host's. The child first checks that JAX sees two
    devices; ``code`` must print ``OK`` last (checked here).

    Args:
        code: Python source (dedented here), e.g. a fit under
            ``keras.distribution.DataParallel()``.
        timeout: Seconds before the child is killed.

    Returns:
        The `subprocess.CompletedProcess`.
    """
    import textwrap

    prelude = "import jax\nassert len(jax.devices()) == 2, jax.devices()\n"
    result = run_python(
        prelude + textwrap.dedent(code),
        env={
            "KERAS_BACKEND": "jax",
            "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
            "CUDA_VISIBLE_DEVICES": "",
        },
        timeout=timeout,
    )
    assert result.stdout.strip().endswith("OK"), result.stdout[-2000:]
    return result
