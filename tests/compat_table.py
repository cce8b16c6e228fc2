"""The README's compatibility table, generated from the tests that back it.

A test backs a cell by carrying ``@pytest.mark.compat(component, platform)``.
This module finds those marks by reading the test files (no test is run),
and renders the table: a cell is ✓ exactly when some test carries its mark.
CI runs every marked test (on JAX for the "JAX" column, in the distributed
suite for the strategy columns), so a ✓ is a passing test.

Run ``python tests/compat_table.py`` to print the table, ``--write`` to
replace it in README.md; `tests/test_compat_table.py` fails when the README
drifts from the tests.
"""

from __future__ import annotations

import ast
import pathlib
import sys

COMPONENTS = (
    "L1/L2/L1L2",
    "ElasticNet",
    "GroupLasso",
    "Orthogonal",
    "regularizers.apply",
    "DropBlock1D/2D/3D",
    "DropPath",
    "DropConnect",
    "MCDropout",
    "ConcreteDropout",
    "EarlyStopping",
    "ScheduleCallback",
    "augment.Pipeline",
    "SAM/ASAM",
    "SWA",
    "L2SP",
    "GapMonitor",
)
PLATFORMS = (
    "TensorFlow",
    "JAX",
    "PyTorch",
    "MirroredStrategy",
    "MultiWorker",
    "tf.data service",
    "XLA",
    "mixed precision",
)
TESTS = pathlib.Path(__file__).parent
README = TESTS.parent / "README.md"
BEGIN, END = "<!-- compat-table -->", "<!-- /compat-table -->"


def _is_compat_mark(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "compat"
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "mark"
    )


def collect(root: pathlib.Path = TESTS) -> dict[tuple[str, str], list[str]]:
    """Maps each (component, platform) cell to the tests marked for it.

    Raises:
        ValueError: For a mark whose component or platform is unknown, or
            whose arguments are not string literals.
    """
    cells: dict[tuple[str, str], list[str]] = {}
    for path in sorted(root.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not _is_compat_mark(node):
                continue
            where = f"{path.relative_to(root.parent)}:{node.lineno}"
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if len(args) != 2 or len(node.args) != 2:
                raise ValueError(f"{where}: compat takes two string literals")
            component, platform = args
            if component not in COMPONENTS or platform not in PLATFORMS:
                raise ValueError(
                    f"{where}: unknown compat cell ({component!r}, "
                    f"{platform!r}); components: {COMPONENTS}, platforms: "
                    f"{PLATFORMS}"
                )
            cells.setdefault((component, platform), []).append(where)
    return cells


def render(cells) -> str:
    """The Markdown table: ✓ where a test backs the cell, — elsewhere."""
    lines = [
        "| component | " + " | ".join(PLATFORMS) + " |",
        "|---|" + "---|" * len(PLATFORMS),
    ]
    for component in COMPONENTS:
        marks = [
            "✓" if (component, platform) in cells else "—"
            for platform in PLATFORMS
        ]
        lines.append(f"| {component} | " + " | ".join(marks) + " |")
    return "\n".join(lines)


def readme_table(text: str) -> str:
    """The table between the README's compat-table markers."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip()


def write_readme() -> None:
    text = README.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    table = render(collect())
    README.write_text(text[:start] + "\n" + table + "\n" + text[end:])


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write_readme()
    print(render(collect()))
