"""The layout of keras_regkit.augment: who may import whom, module sizes.

Read from the source (``ast``), without importing it:

* ``_core/`` imports nothing of augment outside ``_core/``;
* ``ops/`` imports only ``_core/`` (no op family imports another);
* ``compose/`` and ``inputs/`` import nothing above them (the pipeline,
  the layer, test-time augmentation), and ``inputs/`` nothing of
  ``compose/``;
* the imports among augment's modules have no cycle;
* no module is over 500 lines.
"""

import ast
import pathlib

import pytest

PACKAGE = "keras_regkit.augment"
ROOT = pathlib.Path(__file__).parents[2] / "keras_regkit" / "augment"
MAX_LINES = 500
TOP = ("pipeline", "layer", "tta")
# What each folder may import inside augment (prefixes of module names,
# relative to the package); a module may always import its own folder.
ALLOWED = {
    "_core": ("_core",),
    "ops": ("_core",),
    "compose": ("_core", "ops", "compose"),
    "inputs": ("_core", "ops", "inputs"),
}


def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {
    _module_name(path): path
    for path in sorted(ROOT.rglob("*.py"))
    if "__pycache__" not in path.parts
}


def _imports(path):
    """The augment modules a file imports, relative to the package."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            # ``from a.b import c`` imports a.b.c where c is a module.
            names = [node.module] + [
                f"{node.module}.{alias.name}" for alias in node.names
            ]
        else:
            continue
        for name in names:
            if name == PACKAGE or not name.startswith(PACKAGE + "."):
                continue
            relative = name[len(PACKAGE) + 1 :]
            if relative in MODULES:
                found.add(relative)
    return found


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def test_the_layout_is_read():
    # The folders exist and hold modules (a moved tree fails loudly here).
    for folder in ALLOWED:
        assert any(name.startswith(folder + ".") for name in MODULES), folder
    for name in TOP:
        assert name in MODULES
    assert GRAPH["pipeline"], "the pipeline's imports were not found"


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_folders_import_only_below_them(folder):
    allowed = ALLOWED[folder]
    wrong = {
        name: sorted(
            imported
            for imported in imports
            if imported.split(".")[0] not in allowed
            and imported != "_tensorflow"
        )
        for name, imports in GRAPH.items()
        if name.split(".")[0] == folder
    }
    wrong = {name: found for name, found in wrong.items() if found}
    assert not wrong, f"{folder}/ may import only {allowed}: {wrong}"


def test_op_families_do_not_import_each_other():
    shared = {
        name: sorted(i for i in imports if i.startswith("ops."))
        for name, imports in GRAPH.items()
        if name.startswith("ops.")
    }
    assert not {name: found for name, found in shared.items() if found}


def test_no_import_cycle():
    # Depth-first search; a back edge is a cycle.
    state, stack = {}, []

    def visit(name):
        state[name] = "open"
        stack.append(name)
        for imported in sorted(GRAPH[name]):
            if state.get(imported) == "open":
                cycle = stack[stack.index(imported) :] + [imported]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if imported not in state:
                visit(imported)
        stack.pop()
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)


def test_the_graph_holds_the_known_edges():
    # The pipeline imports the inputs, which import no pipeline (the
    # circle this layout removed).
    assert "inputs.unbatched" in GRAPH["pipeline"]
    assert not any(i in TOP for i in GRAPH["inputs.unbatched"])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_500_lines(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name}: {lines} lines (at most {MAX_LINES})"
