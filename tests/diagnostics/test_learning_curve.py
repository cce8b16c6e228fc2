import keras
import matplotlib
import numpy as np
import pytest
from diagnostics._linear import SIGMA
from diagnostics._linear import WEIGHTS
from diagnostics._linear import linear_data

from keras_regkit.diagnostics import LearningCurveResult
from keras_regkit.diagnostics import learning_curve

matplotlib.use("Agg")


def test_linear_curves_converge_to_the_bayes_error(exact_linear):
    # Least squares with d = p + 1 parameters on n examples of
    # y = x w + b + N(0, s^2): E[training MSE] = s^2 (n - d) / n exactly;
    # the validation MSE is above s^2 and both tend to s^2 (the Bayes
    # error) as n grows.
    x, y = linear_data(1000, seed=0)
    validation = linear_data(4000, seed=1)
    seeds = list(range(6))
    result = learning_curve(
        exact_linear,
        (x, y),
        [10, 40, 1000],
        validation_data=validation,
        seeds=seeds,
        verbose=0,
    )
    s2, d = SIGMA**2, len(WEIGHTS) + 1
    for i, n in enumerate(result.sizes):
        expected = s2 * (n - d) / n
        # training MSE ~ s^2 chi2(n - d) / n: its standard error per seed
        # is s^2 sqrt(2 (n - d)) / n.
        se = s2 * np.sqrt(2 * (n - d)) / n / np.sqrt(len(seeds))
        assert abs(result.mean("train")[i] - expected) < 3 * se, (n, result)
    assert result.mean("validation")[0] > 1.5 * s2
    assert np.all(np.diff(result.mean("validation")) < 0)
    # At n = 1000 both are within 6 % of the noise level.
    assert result.mean("train")[-1] == pytest.approx(s2, rel=0.06)
    assert result.mean("validation")[-1] == pytest.approx(s2, rel=0.06)
    gaps = result.mean("validation") - result.mean("train")
    assert gaps[0] > 10 * gaps[-1] > 0


def test_sgd_training_reaches_the_least_squares_errors():
    # The same measurement with real training: a Dense(1) trained by SGD
    # ends within 3 % of the exact least-squares errors on the same data.
    x, y = linear_data(400, seed=0)
    validation = linear_data(4000, seed=1)
    design = np.c_[x, np.ones(len(x))]
    w = np.linalg.lstsq(design, y, rcond=None)[0]
    train_mse = np.mean((design @ w - y) ** 2)
    validation_mse = np.mean(
        (np.c_[validation[0], np.ones(4000)] @ w - validation[1]) ** 2
    )

    def build():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.1), "mse")
        return model

    result = learning_curve(
        build,
        (x, y),
        [1.0],
        validation_data=validation,
        seeds=[0],
        fit_kwargs={"epochs": 3, "batch_size": 32},
        verbose=0,
    )
    assert result.train[0, 0] == pytest.approx(train_mse, rel=0.03)
    assert result.validation[0, 0] == pytest.approx(validation_mse, rel=0.03)


def test_the_error_leaves_out_regularization_penalties(exact_linear):
    x, y = linear_data(200, seed=0)
    models = []

    def build():
        models.append(exact_linear(l2=10.0))
        return models[-1]

    result = learning_curve(
        build,
        (x, y),
        [1.0],
        validation_data=(x[:50], y[:50]),
        seeds=1,
        verbose=0,
    )
    prediction = keras.ops.convert_to_numpy(models[0](x))
    assert result.train[0, 0] == pytest.approx(
        np.mean((prediction - y) ** 2), rel=1e-5
    )


def _classifier():
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(
        keras.optimizers.SGD(0.5),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=True,
    )
    return model


def _blobs(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    x = rng.normal(size=(n, 4)) + np.eye(4)[labels] * 2
    return x.astype("float32"), labels


def test_same_seeds_same_numbers_and_the_metric_error():
    data, validation = _blobs(96, 0), _blobs(64, 1)
    models = []

    def build():
        models.append(_classifier())
        return models[-1]

    kwargs = dict(
        validation_data=validation,
        seeds=[0, 1],
        metric="accuracy",
        fit_kwargs={"epochs": 1, "batch_size": 32},
        verbose=0,
    )
    first = learning_curve(build, data, [1.0], **kwargs)
    again = learning_curve(build, data, [1.0], **kwargs)
    np.testing.assert_array_equal(first.validation, again.validation)
    np.testing.assert_array_equal(first.train, again.train)
    assert first.validation[0, 0] != first.validation[0, 1]
    predicted = keras.ops.convert_to_numpy(models[0](validation[0]))
    accuracy = np.mean(predicted.argmax(axis=1) == validation[1])
    assert first.validation[0, 0] == pytest.approx(1 - accuracy, abs=1e-6)
    assert first.error == "error (1 - accuracy)"


def test_a_results_file_resumes_the_curve(exact_linear, tmp_path):
    x, y = linear_data(100, seed=0)
    builds = []

    def build():
        builds.append(1)
        return exact_linear()

    path = tmp_path / "curve.jsonl"
    kwargs = dict(validation_data=(x, y), results_file=path, verbose=0)
    first = learning_curve(build, (x, y), [20, 100], seeds=[0], **kwargs)
    assert len(builds) == 2
    second = learning_curve(build, (x, y), [20, 100], seeds=[0, 1], **kwargs)
    assert len(builds) == 4  # only seed 1 was trained
    np.testing.assert_array_equal(second.train[:, :1], first.train)


def _result(test=None):
    return LearningCurveResult(
        points=[10, 100],
        seeds=[0, 1, 2],
        train=[[0.1, 0.2, 0.3], [0.4, 0.4, 0.4]],
        validation=[[0.9, 1.0, 1.1], [0.5, 0.6, 0.7]],
        test=test,
        error="loss",
    )


def test_table_rows_and_plot():
    result = _result(test=[[1.0, 1.0, 1.0], [0.6, 0.6, 0.6]])
    rows = result.rows()
    assert rows[0] == pytest.approx(
        {
            "size": 10,
            "train_mean": 0.2,
            "train_std": 0.1,
            "validation_mean": 1.0,
            "validation_std": 0.1,
            "test_mean": 1.0,
            "test_std": 0.0,
        }
    )
    assert "1 ± 0.1" in str(result) and "mean ± std over 3 seed(s)" in str(
        result
    )
    ax = result.plot()
    assert [line.get_label() for line in ax.get_lines()] == [
        "train",
        "validation",
        "test",
    ]
    assert len(ax.collections) == 3  # one band per curve
    matplotlib.pyplot.close("all")


def test_to_pandas_or_a_clear_import_error():
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            _result().to_pandas()
    else:
        frame = _result().to_pandas()
        assert list(frame["validation_mean"]) == pytest.approx([1.0, 0.6])
        assert list(frame["size"]) == [10, 100]


def _build():
    return _classifier()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(build_model="model"), TypeError, "`build_model`"),
        (dict(data=np.zeros((4, 4))), TypeError, "`data`"),
        (dict(validation_data=None), TypeError, "`validation_data`"),
        (dict(train_sizes=[0.5, 8]), TypeError, "`train_sizes`"),
        (dict(seeds=[1, 1]), ValueError, "`seeds`"),
        (dict(seeds=0), ValueError, "`seeds`"),
        (dict(seeds=[-1]), ValueError, "`seeds`"),
        (dict(metric=3), TypeError, "`metric`"),
        (dict(fit_kwargs={"x": 1}), ValueError, "`fit_kwargs`"),
        (dict(stratify="yes"), ValueError, "`stratify`"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    data = _blobs(16, 0)
    arguments = dict(
        build_model=_build, data=data, validation_data=data, verbose=0
    )
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        learning_curve(**arguments)


def test_stratify_true_needs_classes_and_models_must_be_compiled():
    x, y = linear_data(16, seed=0)
    with pytest.raises(ValueError, match="`stratify`"):
        learning_curve(
            _build, (x, y), validation_data=(x, y), stratify=True, verbose=0
        )

    def uncompiled():
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])

    with pytest.raises(TypeError, match="compiled keras.Model"):
        learning_curve(
            uncompiled,
            (x, y),
            [1.0],
            validation_data=(x, y),
            seeds=1,
            verbose=0,
        )
