"""DropBlock and stochastic depth in a small ResNet, DropBlock ramped up.

Trains the same small ResNet (a stem and two stages of two residual
blocks, 8x8 then 4x4 feature maps) on a small slice of scikit-learn's
bundled digits (1,797 real 8x8 handwritten digits, no download; 150
training images, an overfitting regime) twice, with the same seed and
epochs, and prints train and test accuracy, the generalization gap and
the test loss:

1. no regularization;
2. DropBlock2D inside every residual branch (3x3 blocks on the 8x8 maps,
   2x2 on the 4x4 ones; the block size is clamped to the map, so the 8x8
   digits need no upsampling) with its rate ramped linearly from 0 to
   its final value over the first half of training
   (`rk.schedules.Linear`, moved by `rk.callbacks.ScheduleCallback`
   without retracing), plus stochastic depth: a `DropPath` at the end of
   every residual branch with the per-block rates of
   `rk.layers.drop_path_rates` (0 for the first block, rising linearly to
   the last).

Both layers are the identity at inference, so the evaluation needs no
change. Both variants fit the training set; with this budget the
regularized one generalizes a little better (1.2 to 1.5 points of test
accuracy and a lower test loss, for the two seeds we tried). With a
larger training set (300 images) this ResNet already reaches about 97%
test accuracy and the regularization did not improve on it in our runs.

Run:
    pip install -e ".[demo]"
    python examples/dropblock_resnet.py

Set ``REGKIT_EXAMPLE_EPOCHS`` to change the epoch budget (the test suite
runs every example with a tiny one).
"""

import os
import time

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import keras_regkit as rk

EPOCHS = int(os.environ.get("REGKIT_EXAMPLE_EPOCHS", "60"))
TRAIN_SIZE = 150
DROP_BLOCK_RATE = 0.2
MAX_DROP_PATH_RATE = 0.2
DEPTHS = (2, 2)
WIDTHS = (32, 64)
SEED = 0


def load_data():
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target.astype("int32")
    return train_test_split(
        x, y, train_size=TRAIN_SIZE, random_state=SEED, stratify=y
    )


def BatchNorm(**kwargs):
    # A short training run: moving statistics that follow the weights
    # closely (Keras's default momentum of 0.99 lags behind them).
    return keras.layers.BatchNormalization(momentum=0.9, **kwargs)


def residual_block(x, filters, stride, drop_block, drop_path_rate, name):
    """conv-bn-relu, (DropBlock), conv-bn, (DropPath), add, relu."""
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = keras.layers.Conv2D(
            filters, 1, strides=stride, use_bias=False, name=f"{name}_proj"
        )(x)
        shortcut = BatchNorm(name=f"{name}_proj_bn")(shortcut)
    y = keras.layers.Conv2D(
        filters, 3, strides=stride, padding="same", use_bias=False
    )(x)
    y = BatchNorm()(y)
    y = keras.layers.ReLU()(y)
    if drop_block is not None:
        y = drop_block(y)
    y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = BatchNorm()(y)
    if drop_path_rate is not None:
        y = rk.layers.DropPath(drop_path_rate, name=f"{name}_drop_path")(y)
    return keras.layers.ReLU()(keras.layers.Add()([shortcut, y]))


def build_resnet(regularize):
    keras.utils.set_random_seed(SEED)
    rates = rk.layers.drop_path_rates(MAX_DROP_PATH_RATE, list(DEPTHS))
    ramp = rk.schedules.Linear(
        0.0, DROP_BLOCK_RATE, duration=max(EPOCHS // 2, 1)
    )
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(WIDTHS[0], 3, padding="same", use_bias=False)(
        inputs
    )
    x = keras.layers.ReLU()(BatchNorm()(x))
    for stage, (depth, filters) in enumerate(zip(DEPTHS, WIDTHS, strict=True)):
        block_size = 3 if stage == 0 else 2
        for i in range(depth):
            name = f"stage{stage + 1}_block{i + 1}"
            drop_block = None
            if regularize:
                drop_block = rk.layers.DropBlock2D(
                    ramp, block_size=block_size, name=f"{name}_drop_block"
                )
            x = residual_block(
                x,
                filters,
                stride=2 if (stage > 0 and i == 0) else 1,
                drop_block=drop_block,
                drop_path_rate=rates[stage][i] if regularize else None,
                name=name,
            )
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10)(x)
    return keras.Model(inputs, outputs)


def train(model, data, callbacks=()):
    x_train, x_test, y_train, y_test = data
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=32,
        epochs=EPOCHS,
        verbose=0,
        callbacks=list(callbacks),
    )
    train_acc = model.evaluate(x_train, y_train, verbose=0)[1]
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    return (train_acc, test_acc, test_loss), history.history


def main():
    data = load_data()
    print(f"digits: {len(data[0])} training images, {len(data[1])} test images")
    start = time.perf_counter()
    runs = {}
    runs["none"] = train(build_resnet(regularize=False), data)[0]
    model = build_resnet(regularize=True)
    print("stochastic depth rates per block:")
    for layer in model.layers:
        if isinstance(layer, rk.layers.DropPath):
            print(f"  {layer.name:<24}{layer.rate:.3f}")
    schedule = rk.callbacks.ScheduleCallback()
    runs["DropBlock + DropPath"], history = train(
        model, data, callbacks=[schedule]
    )
    ramp = history["stage1_block1_drop_block/rate"]
    shown = sorted({0, len(ramp) // 4, len(ramp) // 2, len(ramp) - 1})
    print(
        "DropBlock rate by epoch: "
        + ", ".join(f"{e + 1}: {ramp[e]:.3f}" for e in shown)
    )
    print(
        f"{'variant':<22}{'train acc':>10}{'test acc':>10}{'gap':>8}"
        f"{'test loss':>11}"
    )
    for name, (train_acc, test_acc, test_loss) in runs.items():
        gap = train_acc - test_acc
        print(
            f"{name:<22}{train_acc:>10.3f}{test_acc:>10.3f}{gap:>8.3f}"
            f"{test_loss:>11.3f}"
        )
    print(f"total time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
