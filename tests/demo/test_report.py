"""The demo's report: mean and sample std over seeds, the table."""

import numpy as np
import pytest
from demo import demo_helpers as _h

from keras_regkit.demo import report


def test_summary_is_mean_and_sample_std_over_seeds():
    results = _h.fake_results()
    summaries = report.summarize(results[::-1])  # order does not matter
    assert [s.name for s in summaries] == ["sam", "none"]
    for summary in summaries:
        mine = [r for r in results if r.name == summary.name]
        assert [r.seed for r in summary.results] == [3, 4, 5]
        assert summary.seeds == 3
        columns = {
            "train_acc": [r.train_acc for r in mine],
            "val_acc": [r.val_acc for r in mine],
            "test_acc": [r.test_acc for r in mine],
            "gap": [r.train_acc - r.test_acc for r in mine],
            "epochs_run": [r.epochs_run for r in mine],
            "seconds": [r.seconds for r in mine],
        }
        assert sorted(summary.mean) == sorted(columns)
        for quantity, values in columns.items():
            assert summary.mean[quantity] == pytest.approx(np.mean(values))
            assert summary.std[quantity] == pytest.approx(
                np.std(values, ddof=1)
            )
            assert summary.std[quantity] > 0
    table = report.format_table(summaries)
    header, rows = _h.table_rows(table)
    assert header == list(report.TABLE_COLUMNS)
    for row, summary in zip(rows, summaries, strict=True):
        for cell, (quantity, _) in zip(row[1:], report.QUANTITIES, strict=True):
            mean, std = _h.mean_std(cell)
            digits = 1 if quantity in ("epochs_run", "seconds") else 3
            assert mean == round(summary.mean[quantity], digits)
            assert std == round(summary.std[quantity], digits)


def test_one_seed_has_zero_std():
    (summary,) = report.summarize(_h.fake_results(seeds=(0,), names=("x",)))
    assert set(summary.std.values()) == {0.0}
    assert summary.mean["gap"] == pytest.approx(
        summary.results[0].train_acc - summary.results[0].test_acc
    )
