"""One bad file does not end an epoch (issue 21, point 2).

A folder of 50 JPEGs, one of them truncated, read by path inside the
pipeline: ``on_error="skip"`` drops that example only (its batch keeps the
other images), logs a warning naming the file with the count skipped in
this pass over the data, and ``fit`` runs every epoch; ``on_error="raise"``
(the default) stops with an error naming the file and what is wrong (the
file here is cut short enough that every window reaches the missing part;
a window that stays in the part that is there decodes fine). Files that are
fine but unusual keep working: grayscale, CMYK, a PNG named ``.jpg``.
"""

from __future__ import annotations

import logging
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_regkit import augment as rka

COUNT = 50
BAD = 17
SIZE = 24


def picture(rng, height, width):
    """A smooth random picture (JPEG keeps it within a few levels)."""
    y = np.linspace(0.0, 1.0, height)[:, None, None]
    x = np.linspace(0.0, 1.0, width)[None, :, None]
    low, high = rng.uniform(20, 120, 3), rng.uniform(0, 120, 3)
    return (low + high * (x + y) / 2).round().astype(np.uint8)


def read(path):
    with open(path, "rb") as file:
        return file.read()


def write_folder(folder, truncate_to=0.3):
    """50 JPEGs of several sizes; number ``BAD`` cut to a fraction."""
    rng = np.random.default_rng(0)
    paths = []
    for i in range(COUNT):
        height, width = rng.integers(40, 120, 2)
        path = folder / (f"{i:02d}_bad.jpg" if i == BAD else f"{i:02d}.jpg")
        Image.fromarray(picture(rng, height, width)).save(path, quality=90)
        paths.append(str(path))
    data = read(paths[BAD])
    with open(paths[BAD], "wb") as file:
        file.write(data[: int(len(data) * truncate_to)])
    return paths


def pipeline(seed=0):
    crop = rka.RandomResizedCrop(SIZE, SIZE, scale=(0.5, 1.0))
    return rka.Pipeline([crop, rka.RandomFlip()], seed=seed, jit_compile=False)


def labelled(paths):
    labels = np.arange(len(paths), dtype=np.int64)
    return tf.data.Dataset.from_tensor_slices((paths, labels))


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path)


def records(caplog):
    return [
        r.getMessage() for r in caplog.records if "skipped" in r.getMessage()
    ]


def test_skip_drops_only_the_bad_file_and_reports_it(folder, caplog):
    p = pipeline()
    caplog.set_level(logging.WARNING, logger="keras_regkit")
    ds = p(labelled(folder), batch_size=8, on_error="skip")
    labels = np.concatenate([y.numpy() for _, y in ds])
    np.testing.assert_array_equal(labels, np.delete(np.arange(COUNT), BAD))
    (message,) = records(caplog)
    assert folder[BAD] in message and f"example {BAD}" in message, message
    assert "1 example skipped" in message, message
    # TensorFlow's reason without its wrapping (the op, its empty name).
    assert "[Op:" not in message and "name:" not in message, message
    # A second pass (a new epoch) reports its own count again.
    caplog.clear()
    assert sum(len(y) for _, y in ds) == COUNT - 1
    (message,) = records(caplog)
    assert "1 example skipped" in message, message


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_raise_names_the_file_and_what_is_wrong(folder, seed):
    ds = pipeline(seed)(labelled(folder), batch_size=8)
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        for _ in ds:
            pass
    message = info.value.message
    assert re.search(rf"example {BAD}\b", message), message
    assert folder[BAD] in message, message
    assert re.search("(?i)jpeg|decode|truncated", message), message


# Skipping makes the dataset's length unknown (as any filter does), and
# Keras's fit then warns at each epoch's end; the epochs all run.
@pytest.mark.filterwarnings("ignore:Your input ran out of data")
def test_fit_runs_every_epoch_with_skip(folder, caplog):
    caplog.set_level(logging.WARNING, logger="keras_regkit")
    ds = pipeline()(labelled(folder), batch_size=8, on_error="skip")
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(COUNT),
        ]
    )
    model.compile(
        "sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    history = model.fit(ds, epochs=3, verbose=0, shuffle=False)
    assert len(history.history["loss"]) == 3
    assert len(records(caplog)) == 3  # One report per epoch.
    # The default, "raise", keeps the dataset's length known.
    good = [path for i, path in enumerate(folder) if i != BAD]
    ds = pipeline()(labelled(good), batch_size=8)
    assert int(ds.cardinality()) == 7
    model.fit(ds, epochs=2, verbose=0, shuffle=False)


def test_dict_with_a_path_key_and_plain_paths(folder, caplog):
    caplog.set_level(logging.WARNING, logger="keras_regkit")
    good = [path for i, path in enumerate(folder) if i != BAD][:10]
    data = {"paths": good, "labels": np.arange(10)}
    ds = pipeline()(tf.data.Dataset.from_tensor_slices(data), batch_size=4)
    batches = list(ds)
    assert sorted(batches[0]) == ["images", "labels"]
    assert batches[0]["images"].shape == (4, SIZE, SIZE, 3)
    assert sum(len(b["labels"]) for b in batches) == 10
    # A dataset of path strings alone.
    ds = pipeline()(tf.data.Dataset.from_tensor_slices(good), batch_size=5)
    assert [tuple(b.shape) for b in ds] == [(5, SIZE, SIZE, 3)] * 2
    # Skipping in a dict dataset, the path named.
    data = {"paths": folder, "labels": np.arange(COUNT)}
    ds = pipeline()(
        tf.data.Dataset.from_tensor_slices(data), batch_size=8, on_error="skip"
    )
    assert sum(len(b["labels"]) for b in ds) == COUNT - 1
    (message,) = records(caplog)
    assert folder[BAD] in message


def test_bytes_in_memory_skip_names_the_example(folder, caplog):
    caplog.set_level(logging.WARNING, logger="keras_regkit")
    contents = [read(path) for path in folder]
    ds = tf.data.Dataset.from_tensor_slices(contents)
    out = pipeline()(ds, batch_size=10, on_error="skip")
    assert sum(len(b) for b in out) == COUNT - 1
    (message,) = records(caplog)
    assert f"example {BAD}" in message, message
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"example {BAD}"):
        for _ in pipeline()(ds, batch_size=10):
            pass


def test_missing_file_is_an_error_naming_it(tmp_path):
    path = str(tmp_path / "missing.jpg")
    ds = pipeline()(labelled([path]), batch_size=1)
    with pytest.raises(tf.errors.OpError, match=re.escape(path)):
        next(iter(ds))
    ds = pipeline()(labelled([path]), batch_size=1, on_error="skip")
    assert list(ds) == []


def test_unusual_but_valid_files_keep_working(tmp_path):
    rng = np.random.default_rng(5)
    rgb = picture(rng, 48, 64)
    gray = tmp_path / "gray.jpg"
    Image.fromarray(rgb).convert("L").save(gray, quality=95)
    cmyk = tmp_path / "cmyk.jpg"
    Image.fromarray(rgb).convert("CMYK").save(cmyk, quality=95)
    png = tmp_path / "png_named.jpg"
    Image.fromarray(rgb).save(png, format="PNG")
    paths = [str(gray), str(cmyk), str(png)]
    crop = rka.RandomResizedCrop(SIZE, SIZE, probability=0.0)
    p = rka.Pipeline([crop], jit_compile=False)
    (batch,) = list(p(tf.data.Dataset.from_tensor_slices(paths), batch_size=3))
    assert batch.shape == (3, SIZE, SIZE, 3)
    for image, path in zip(batch.numpy(), paths, strict=True):
        with Image.open(path) as pil:
            expected = np.asarray(pil.convert("RGB"), np.float64)
        assert abs(image.mean() * 255 - expected.mean()) < 4.0, path
    # The evaluation crop too.
    for path in paths:
        out = rka.decode_center_crop(read(path), SIZE)
        assert out.shape == (SIZE, SIZE, 3)


def test_on_error_is_checked(folder):
    with pytest.raises(ValueError, match="`on_error`.*'raise'.*'skip'"):
        pipeline()(labelled(folder), batch_size=8, on_error="ignore")
    batched = tf.data.Dataset.from_tensor_slices(
        np.zeros((4, 8, 8, 3), np.uint8)
    ).batch(2)
    with pytest.raises(ValueError, match="`on_error`"):
        pipeline()(batched, on_error="skip")


def test_chunks_give_the_images_of_one_at_a_time(folder, monkeypatch):
    # Examples are cropped 16 at a time while none fails; the chunk with
    # the bad file (examples 16-31) is cropped again one at a time. Either
    # way, every good example gets the pixels it gets alone, in order.
    from keras_regkit.augment.inputs import guard

    def images(chunk):
        monkeypatch.setattr(guard, "CHUNK", chunk)
        ds = pipeline()(labelled(folder), batch_size=8, on_error="skip")
        return np.concatenate([x.numpy() for x, _ in ds])

    chunked, single = images(16), images(1)
    assert chunked.shape == (COUNT - 1, SIZE, SIZE, 3)
    np.testing.assert_array_equal(chunked, single)
