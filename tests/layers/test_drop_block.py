"""Tests of DropBlock1D/2D/3D and the functions behind them."""

import helpers
import keras
import numpy as np
import pytest

import keras_regkit as rk
from keras_regkit.layers import drop_block as db


def brute_force_counts(size, block):
    counts = np.zeros(size, int)
    for s in range(size - block + 1):
        counts[s : s + block] += 1
    return counts


def numpy_drop_block_2d(x, rate, block, noise, per_channel):
    """Reference: seeds from ``noise``, blocks grown by loops, NHWC."""
    _, h, w, _ = x.shape
    bh, bw = min(block[0], h), min(block[1], w)
    counts = np.multiply.outer(
        brute_force_counts(h, bh), brute_force_counts(w, bw)
    )
    gamma = float(db.drop_block_gamma(rate, counts))
    keep_prob = (1.0 - gamma) ** counts
    seeds = noise < gamma  # (batch, h - bh + 1, w - bw + 1, channels or 1)
    dropped = np.zeros(x.shape[:3] + (seeds.shape[-1],), bool)
    for b, i, j, c in zip(*np.nonzero(seeds), strict=True):
        dropped[b, i : i + bh, j : j + bw, c] = True
    out = x * (~dropped) / keep_prob[None, :, :, None]
    return out.astype("float32")


# ----------------------------------------------------------------- gamma


@pytest.mark.parametrize("size,block", [(1, 1), (5, 1), (6, 3), (7, 7), (9, 4)])
def test_seed_counts_match_brute_force(size, block):
    np.testing.assert_array_equal(
        db.block_seed_counts(size, block), brute_force_counts(size, block)
    )


@pytest.mark.parametrize(
    "shape,block,rate",
    [((8, 12), (3, 3), 0.1), ((16, 9), (5, 5), 0.3), ((7, 20), (7, 3), 0.5)],
)
def test_gamma_solves_expected_fraction(shape, block, rate):
    counts = db.block_seed_count_map(shape, block)
    # First Newton step = the paper's formula with the edge correction,
    # written for H != W.
    h, w = shape
    paper = rate / (block[0] * block[1]) * (h * w)
    paper /= (h - block[0] + 1) * (w - block[1] + 1)
    first = float(db.drop_block_gamma(rate, counts, steps=1))
    np.testing.assert_allclose(first, paper, rtol=1e-6)
    gamma = float(db.drop_block_gamma(rate, counts))
    dropped = np.mean(1.0 - (1.0 - gamma) ** counts)
    np.testing.assert_allclose(dropped, rate, rtol=1e-5)
    # The paper's gamma drops too little once blocks overlap.
    assert np.mean(1.0 - (1.0 - paper) ** counts) < rate


# ------------------------------------------------------- exact values


@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("block", [(3, 3), (2, 4), (9, 9)])
def test_matches_numpy_reference(per_channel, block):
    x = np.random.default_rng(0).uniform(0.5, 1.5, (3, 6, 9, 2))
    x = x.astype("float32")
    rate = 0.25
    out = db.drop_block(
        x,
        rate,
        block,
        seed=keras.random.SeedGenerator(11),
        per_channel=per_channel,
    )
    # The same generator state yields the same noise the layer drew: one
    # draw per position, of which the seeds where a whole block fits.
    bh, bw = min(block[0], 6), min(block[1], 9)
    noise = keras.random.uniform(
        (3, 6, 9, 2 if per_channel else 1),
        seed=keras.random.SeedGenerator(11),
    )
    noise = keras.ops.convert_to_numpy(noise)[:, : 6 - bh + 1, : 9 - bw + 1]
    expected = numpy_drop_block_2d(x, rate, block, noise, per_channel)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(out), expected, rtol=1e-5
    )


def test_channels_first_is_channels_last_transposed():
    x = np.random.default_rng(1).normal(size=(4, 7, 11, 3)).astype("float32")
    last = rk.layers.DropBlock2D(0.3, 3, "channels_last", seed=5)
    first = rk.layers.DropBlock2D(0.3, 3, "channels_first", seed=5)
    y_last = np.asarray(last(x, training=True))
    y_first = np.asarray(first(np.transpose(x, (0, 3, 1, 2)), training=True))
    np.testing.assert_allclose(np.transpose(y_first, (0, 2, 3, 1)), y_last)
    assert (y_last == 0).any()


# -------------------------------------------------------- statistics


@pytest.mark.parametrize(
    "shape,block_size",
    [((12, 20), 3), ((9, 17), 5), ((16, 8), 7), ((10, 14), (2, 5))],
)
@pytest.mark.parametrize("rate", [0.1, 0.3])
def test_dropped_fraction_and_mean_2d(shape, block_size, rate):
    # Blocks make the units of an example correlated: with block 5 on 9x17
    # the dropped fraction of one example has a standard deviation near
    # 0.1; 1024 examples put the 15% tolerance beyond 4 standard errors.
    layer = rk.layers.DropBlock2D(rate, block_size, seed=42)
    x = np.random.default_rng(2).uniform(0.5, 1.5, (1024, *shape, 2))
    x = x.astype("float32")
    y = np.asarray(layer(x, training=True))
    dropped = float((y == 0).mean())
    assert abs(dropped - rate) <= 0.15 * rate, (
        f"dropped {dropped:.4f}, rate {rate}, shape {shape}, "
        f"block {block_size} (tolerance 15% relative)"
    )
    # Kept units are scaled by 1 / (1 - rate), the mask is independent of
    # x: the mean ratio is (1 - dropped) / (1 - rate) up to x's noise (the
    # drop rate's own seed noise is bounded by the check above; with block
    # 7 on a width of 8 it alone can move the ratio by 3%).
    ratio = y.mean() / x.mean()
    expected = (1.0 - dropped) / (1.0 - rate)
    assert abs(ratio - expected) < 0.01, (
        f"mean ratio {ratio:.4f}, expected {expected:.4f} (tol 0.01)"
    )


@pytest.mark.parametrize(
    "cls,shape,block_size",
    [
        # Batches large enough for 4.5 standard errors within 15%.
        (rk.layers.DropBlock1D, (512, 37, 2), 5),
        (rk.layers.DropBlock3D, (256, 6, 9, 5, 1), 3),
    ],
)
def test_dropped_fraction_1d_3d(cls, shape, block_size):
    rate = 0.2
    layer = cls(rate, block_size, seed=3)
    y = np.asarray(layer(np.ones(shape, "float32"), training=True))
    dropped = float((y == 0).mean())
    assert abs(dropped - rate) <= 0.15 * rate, f"dropped {dropped:.4f}"
    assert abs(y.mean() - 1.0) < 0.05, f"mean {y.mean():.4f} (tol 0.05)"


def _zero_set_is_union_of_blocks(zero, bh, bw):
    """Every zero pixel lies in some all-zero bh x bw window."""
    h, w = zero.shape
    covered = np.zeros_like(zero)
    for i in range(h - bh + 1):
        for j in range(w - bw + 1):
            if zero[i : i + bh, j : j + bw].all():
                covered[i : i + bh, j : j + bw] = True
    return np.array_equal(covered, zero)


@pytest.mark.parametrize("block_size", [3, (2, 5)])
def test_dropped_regions_are_whole_blocks_shared_by_channels(block_size):
    layer = rk.layers.DropBlock2D(0.3, block_size, seed=8)
    y = np.asarray(layer(np.ones((16, 10, 13, 3), "float32"), training=True))
    zero = y == 0
    np.testing.assert_array_equal(zero[..., 0], zero[..., 1])
    np.testing.assert_array_equal(zero[..., 0], zero[..., 2])
    bh, bw = (
        (block_size, block_size)
        if isinstance(block_size, int)
        else (block_size)
    )
    assert zero.any()
    for example in zero[..., 0]:
        assert _zero_set_is_union_of_blocks(example, bh, bw)


def test_per_channel_blocks_differ_between_channels():
    layer = rk.layers.DropBlock2D(0.3, 3, per_channel=True, seed=8)
    y = np.asarray(layer(np.ones((8, 10, 13, 4), "float32"), training=True))
    zero = y == 0
    assert not np.array_equal(zero[..., 0], zero[..., 1])
    for example in np.moveaxis(zero, -1, 1).reshape(-1, 10, 13):
        assert _zero_set_is_union_of_blocks(example, 3, 3)


def test_1d_blocks_are_contiguous_runs():
    layer = rk.layers.DropBlock1D(0.3, 4, seed=1)
    y = np.asarray(layer(np.ones((32, 23, 2), "float32"), training=True))
    zero = y[..., 0] == 0
    assert zero.any()
    for example in zero:
        assert _zero_set_is_union_of_blocks(example[None, :], 1, 4)


def test_block_larger_than_map_clamps_without_nan():
    rate = 0.3
    layer = rk.layers.DropBlock2D(rate, 9, seed=4)
    y = np.asarray(layer(np.ones((400, 4, 6, 1), "float32"), training=True))
    assert np.isfinite(y).all()
    per_example = y.reshape(400, -1)
    # The block covers the whole map: each example is all dropped or all
    # kept (and scaled by 1 / (1 - rate)).
    dropped = (per_example == 0).all(axis=1)
    kept = np.isclose(per_example, 1 / (1 - rate)).all(axis=1)
    assert (dropped | kept).all()
    assert abs(dropped.mean() - rate) < 0.06, dropped.mean()  # ~3 sigma


# ---------------------------------------------------- modes and seeds


def test_inference_and_zero_rate_are_identity():
    x = np.random.default_rng(3).normal(size=(2, 5, 7, 3)).astype("float32")
    layer = rk.layers.DropBlock2D(0.5, 3, seed=1)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    zero = rk.layers.DropBlock2D(0.0, 3, seed=1)
    np.testing.assert_array_equal(np.asarray(zero(x, training=True)), x)
    scheduled_zero = rk.layers.DropBlock2D(
        rk.schedules.Linear(0.0, 0.2, duration=4), 3, seed=1
    )
    np.testing.assert_allclose(
        np.asarray(scheduled_zero(x, training=True)), x, rtol=1e-6
    )


def test_seeds_reproducible_distinct_and_fresh_each_step():
    x = np.ones((4, 8, 10, 1), "float32")

    helpers.assert_seeded_masks(
        lambda seed: rk.layers.DropBlock2D(0.3, 3, seed=seed), x
    )


def test_dropped_units_get_zero_gradient():
    x = np.random.default_rng(4).uniform(1, 2, (4, 6, 9, 2)).astype("float32")
    layer = rk.layers.DropBlock2D(0.3, 3, seed=2)

    def loss(x):
        y = layer(x, training=True)
        return keras.ops.sum(y), y

    grad, y = helpers.gradient(loss, x)
    assert (y == 0).any()
    np.testing.assert_array_equal(grad[y == 0], 0.0)
    # Elsewhere the gradient is the scale y / x.
    kept = y != 0
    np.testing.assert_allclose(grad[kept], (y / np.asarray(x))[kept], rtol=1e-5)
    assert (grad[kept] >= 1.0).all()


# ------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"rate": 1.0}, ValueError, r"`rate`.*\[0, 1\).*rate=1.0"),
        ({"rate": -0.1}, ValueError, r"Received: rate=-0.1"),
        ({"rate": "a"}, TypeError, r"Received: rate='a'"),
        ({"block_size": 0}, ValueError, r"`block_size`.*block_size=0"),
        ({"block_size": 2.5}, TypeError, r"block_size=2.5"),
        ({"block_size": (3,)}, ValueError, r"tuple of 2.*block_size=\(3,\)"),
        ({"block_size": (3, 0)}, ValueError, r"block_size=0"),
        ({"data_format": "nhwc"}, ValueError, r"`data_format`.*'nhwc'"),
        ({"per_channel": 1}, TypeError, r"`per_channel`.*per_channel=1"),
        ({"seed": "x"}, TypeError, r"`seed`.*seed='x'"),
        # Issue 12 §4: numpy booleans were taken as block size 1 / True.
        ({"block_size": np.True_}, TypeError, r"block_size=np.True_"),
        ({"block_size": (3, np.True_)}, TypeError, r"block_size=np.True_"),
        ({"per_channel": np.True_}, TypeError, r"True or False"),
        ({"rate": np.bool_(False)}, TypeError, r"`rate`"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    args = {"rate": 0.1, "block_size": 3, **kwargs}
    # Every message names the class first (the one validation template).
    with pytest.raises(error, match="^DropBlock2D: Invalid value .*" + match):
        rk.layers.DropBlock2D(**args)


def test_positional_numpy_boolean_block_size_is_rejected():
    with pytest.raises(TypeError, match=r"`block_size`.*np.True_"):
        rk.layers.DropBlock2D(0.1, np.True_)


def test_bad_schedule_value_is_rejected():
    with pytest.raises(ValueError, match=r"Received: rate=1.5"):
        rk.layers.DropBlock2D(rk.schedules.Linear(1.5, 0.0, duration=2), 3)


def test_bad_inputs():
    layer = rk.layers.DropBlock2D(0.1, 3)
    with pytest.raises(ValueError, match=r"rank-4 shape.*\(2, 5, 5\)"):
        layer(np.ones((2, 5, 5), "float32"), training=True)
    with pytest.raises(TypeError, match=r"`inputs`.*float tensor.*int32"):
        rk.layers.DropBlock2D(0.1, 3)(np.ones((1, 4, 4, 1), "int32"))
    with pytest.raises(ValueError, match=r"rank-5 shape"):
        rk.layers.DropBlock3D(0.1, 3)(np.ones((1, 4, 4, 1), "float32"))


# ------------------------------------------------------------ models


def _cnn(layer, input_shape=(8, 12, 3)):
    inputs = keras.Input(input_shape)
    h = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    h = layer(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    return keras.Model(inputs, keras.layers.Dense(1)(h))


@pytest.mark.compat("DropBlock1D/2D/3D", "TensorFlow")
@pytest.mark.compat("DropBlock1D/2D/3D", "JAX")
@pytest.mark.compat("DropBlock1D/2D/3D", "PyTorch")
@pytest.mark.compat("DropBlock1D/2D/3D", "XLA")
@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_save_load_same_predictions(tmp_path, jit_compile):
    x = np.random.default_rng(5).normal(size=(16, 8, 12, 3)).astype("float32")
    y = np.random.default_rng(6).normal(size=(16, 1)).astype("float32")
    model = _cnn(rk.layers.DropBlock2D(0.2, (3, 5), seed=1))
    loaded = helpers.fit_save_load_predictions(
        model,
        x,
        y,
        tmp_path / "model.keras",
        batch_size=5,
        jit_compile=jit_compile,
    )
    assert loaded.layers[2].block_size == (3, 5)


def test_sequential_channels_first_3d_and_output_shape():
    model = keras.Sequential(
        [
            keras.Input((2, 4, 6, 5)),
            rk.layers.DropBlock3D(0.2, 2, "channels_first", seed=1),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    model.compile("sgd", "mse")
    model.fit(
        np.ones((6, 2, 4, 6, 5)), np.ones((6, 1)), batch_size=3, verbose=0
    )
    layer = rk.layers.DropBlock1D(0.2, 3)
    assert layer.compute_output_shape((None, 7, 2)) == (None, 7, 2)


@pytest.mark.compat("DropBlock1D/2D/3D", "mixed precision")
def test_mixed_float16_policy():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        layer = rk.layers.DropBlock2D(0.2, 3, seed=1)
        y = layer(np.ones((8, 6, 10, 2), "float32"), training=True)
        assert keras.backend.standardize_dtype(y.dtype) == "float16"
        y = keras.ops.convert_to_numpy(y)
        assert np.isfinite(y).all() and (y == 0).any()
    finally:
        keras.config.set_dtype_policy("float32")


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="TensorFlow-specific: a tf.function with an unknown batch size",
)
def test_unknown_batch_in_graph_mode():
    import tensorflow as tf

    layer = rk.layers.DropBlock2D(0.3, 3, seed=1)

    @tf.function(input_signature=[tf.TensorSpec((None, 6, 10, 2), tf.float32)])
    def run(x):
        return layer(x, training=True)

    y = np.asarray(run(tf.ones((5, 6, 10, 2))))
    assert y.shape == (5, 6, 10, 2) and (y == 0).any()
    assert not np.array_equal(y, np.asarray(run(tf.ones((5, 6, 10, 2)))))


def test_scheduled_rate_changes_without_retracing():
    schedule = rk.schedules.Linear(0.0, 0.4, duration=2)
    layer = rk.layers.DropBlock2D(schedule, 3, seed=1)
    counter = helpers.TraceCounter()
    inputs = keras.Input((6, 10, 1))
    h = counter(keras.layers.Conv2D(2, 1)(inputs))
    h = keras.layers.Flatten()(layer(h))
    model = keras.Model(inputs, keras.layers.Dense(1)(h))
    model.compile("sgd", "mse")
    x, y = np.ones((8, 6, 10, 1)), np.ones((8, 1))
    _, seen = helpers.fit_with_schedules(
        model, x, y, counter, watch=layer, batch_size=8
    )
    traces = [t for t, _ in seen]
    # Traced while building and for the training step (how often depends
    # on the backend), never again when the rate changes.
    helpers.assert_not_retraced(traces)
    assert [r for _, r in seen] == pytest.approx([0.0, 0.2, 0.4])
    # The traced step really reads the new rate.
    assert (
        np.asarray(layer(np.ones((64, 6, 10, 1)), training=True)) == 0
    ).any()


def test_active_in_fit_and_identity_in_evaluate():
    # A learning rate of 0 keeps the model the identity map: the training
    # loss is > 0 only if DropBlock drops inside fit, the evaluation loss
    # is 0 only if it is the identity at inference.
    x = np.ones((16, 6, 10, 1), "float32")
    model = keras.Sequential(
        [
            keras.Input((6, 10, 1)),
            rk.layers.DropBlock2D(0.3, 3, seed=1),
            keras.layers.Dense(1, kernel_initializer="ones", use_bias=False),
        ]
    )
    model.compile(keras.optimizers.SGD(0.0), "mse")
    history = model.fit(x, x, epochs=1, batch_size=16, verbose=0)
    assert history.history["loss"][0] > 0.05
    assert model.evaluate(x, x, verbose=0) == 0.0


# ------------------------------------------------ unknown spatial sizes


def numpy_gamma(rate, counts):
    """Solves ``mean(1 - (1 - gamma) ** counts) = rate`` by bisection."""
    low, high = 0.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        if np.mean(1.0 - (1.0 - mid) ** counts) < rate:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def numpy_keep_prob(spatial, block, rate):
    """Each position's keep probability, from the sizes alone (numpy)."""
    clamped = [min(b, s) for b, s in zip(block, spatial, strict=True)]
    counts = np.ones(())
    for size, b in zip(spatial, clamped, strict=True):
        counts = np.multiply.outer(counts, brute_force_counts(size, b))
    return (1.0 - numpy_gamma(rate, counts)) ** counts


def assert_drop_block_statistics(y, rate, block, where=""):
    """Checks a DropBlock output of all-ones input (channels_last) against
    the numpy formula: each kept unit is ``1 / keep_prob(p)`` exactly; the
    dropped fraction is ``rate`` and each position's drop frequency is
    ``1 - keep_prob(p)``, within 4.5 standard errors."""
    keep = numpy_keep_prob(y.shape[1:-1], block, rate)
    kept = y != 0
    scale = np.broadcast_to((1.0 / keep)[None, ..., None], y.shape)
    np.testing.assert_allclose(
        y[kept], scale[kept], rtol=2e-5, err_msg=f"rescaling {where}"
    )
    n = y.shape[0]
    dropped = 1.0 - kept.mean(axis=(0, -1))
    se = np.sqrt(keep * (1.0 - keep) / n)
    assert np.all(np.abs(dropped - (1.0 - keep)) < 4.5 * se + 1e-6), (
        f"{where}: drop frequency by position {dropped} "
        f"vs 1 - keep {1.0 - keep}"
    )
    # Whole examples are correlated (blocks): compare with the spread of
    # the per-example fractions.
    per_example = 1.0 - kept.mean(axis=tuple(range(1, y.ndim)))
    tolerance = 4.5 * per_example.std() / np.sqrt(n) + 1e-3
    assert abs(per_example.mean() - rate) < tolerance, (
        f"{where}: dropped {per_example.mean():.4f}, rate {rate}"
    )


class Training(keras.layers.Layer):
    """Calls a layer with ``training=True`` (inside `predict` too)."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer

    def call(self, inputs):
        return self.layer(inputs, training=True)


def training_probe(layer, shape):
    """A model applying ``layer`` in training mode, for `predict`."""
    inputs = keras.Input(shape)
    return keras.Model(inputs, Training(layer)(inputs))


@pytest.mark.compat("DropBlock1D/2D/3D", "TensorFlow")
def test_unknown_spatial_sizes_fit_two_sizes_and_save_load(tmp_path):
    # A fully-convolutional model: Input((None, None, 3)), trained on two
    # image sizes (non-square; the second narrower than the block, so the
    # width is clamped at run time), then saved and loaded.
    layer = rk.layers.DropBlock2D(0.2, (3, 5), seed=1)
    model = _cnn(layer, input_shape=(None, None, 3))
    model.compile("adam", "mse")
    rng = np.random.default_rng(2)
    sizes = [(8, 12), (11, 4)]
    for h, w in sizes:
        x = rng.normal(size=(8, h, w, 3)).astype("float32")
        y = rng.normal(size=(8, 1)).astype("float32")
        history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
        assert np.isfinite(history.history["loss"]).all()

    # The layer's drops on each size, through a compiled predict (on
    # TensorFlow the second size retraces with unknown sizes).
    probe = training_probe(layer, (None, None, 4))
    for h, w in [*sizes, (5, 7)]:
        out = probe.predict(np.ones((512, h, w, 4), "float32"), verbose=0)
        assert_drop_block_statistics(out, 0.2, (3, 5), where=f"{h}x{w}")

    path = tmp_path / "fcn.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for h, w in sizes:
        x = rng.normal(size=(4, h, w, 3)).astype("float32")
        np.testing.assert_allclose(
            loaded.predict(x, verbose=0), model.predict(x, verbose=0)
        )
    assert loaded.input_shape == (None, None, None, 3)
    x = rng.normal(size=(4, 9, 6, 3)).astype("float32")
    loaded.fit(x, np.zeros((4, 1)), epochs=1, verbose=0)  # a third size


@pytest.mark.parametrize(
    "cls,block,sizes",
    [
        (rk.layers.DropBlock1D, (4,), [(13,), (3,)]),
        (rk.layers.DropBlock3D, (2, 3, 2), [(4, 6, 5), (3, 2, 7)]),
    ],
)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_unknown_spatial_sizes_1d_and_3d(cls, block, sizes, data_format):
    layer = cls(0.25, block, data_format, seed=3)
    spatial = (None,) * len(block)
    shape = (*spatial, 2) if data_format == "channels_last" else (2, *spatial)
    probe = training_probe(layer, shape)
    for size in sizes:
        x = np.ones((256, *size, 2), "float32")
        if data_format == "channels_first":
            x = np.moveaxis(x, -1, 1)
        out = probe.predict(x, verbose=0)
        if data_format == "channels_first":
            out = np.moveaxis(out, 1, -1)
        assert_drop_block_statistics(out, 0.25, block, where=f"{size}")


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="TensorFlow-specific: a tf.function with unknown spatial sizes",
)
def test_unknown_spatial_sizes_in_graph_equal_known_sizes():
    import tensorflow as tf

    # Traced once with unknown height and width, the layer drops the same
    # blocks and scales as with the sizes known (same generator state).
    dynamic = rk.layers.DropBlock2D(0.3, (3, 4), seed=7)
    static = rk.layers.DropBlock2D(0.3, (3, 4), seed=7)
    spec = tf.TensorSpec((None, None, None, 2), tf.float32)

    @tf.function(input_signature=[spec])
    def run(x):
        return dynamic(x, training=True)

    for shape in [(6, 9, 10, 2), (6, 5, 3, 2)]:
        x = np.random.default_rng(0).uniform(0.5, 1.5, shape)
        x = x.astype("float32")
        got = np.asarray(run(x))
        expected = np.asarray(static(x, training=True))
        np.testing.assert_array_equal(got == 0, expected == 0)
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert run.experimental_get_tracing_count() == 1
