"""The README's compatibility table matches the tests that back it."""

import pathlib

import compat_table
import pytest


def test_readme_table_is_generated_from_the_tests():
    readme = compat_table.README.read_text()
    expected = compat_table.render(compat_table.collect())
    assert compat_table.readme_table(readme) == expected, (
        "README's compatibility table is stale: run "
        "`python tests/compat_table.py --write`"
    )


def test_collect_reads_marks_and_rejects_unknown_cells(tmp_path):
    good = tmp_path / "test_good.py"
    good.write_text(
        "import pytest\n"
        '@pytest.mark.compat("DropPath", "XLA")\n'
        '@pytest.mark.compat("DropPath", "JAX")\n'
        "def test_x():\n    pass\n"
    )
    cells = compat_table.collect(tmp_path)
    assert sorted(cells) == [("DropPath", "JAX"), ("DropPath", "XLA")]
    table = compat_table.render(cells)
    row = next(
        line for line in table.splitlines() if line.startswith("| DropPath")
    )
    assert row.count("✓") == 2
    (tmp_path / "test_bad.py").write_text(
        'import pytest\n@pytest.mark.compat("DropPath", "Windows 95")\n'
        "def test_y():\n    pass\n"
    )
    with pytest.raises(ValueError, match="unknown compat cell"):
        compat_table.collect(tmp_path)


def test_every_column_and_row_is_named_once():
    assert len(set(compat_table.COMPONENTS)) == len(compat_table.COMPONENTS)
    assert len(set(compat_table.PLATFORMS)) == len(compat_table.PLATFORMS)
    assert pathlib.Path(compat_table.README).name == "README.md"
