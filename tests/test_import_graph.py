"""The package's import graph: no circle between modules, no long module.

Every module under keras_regkit/ is parsed (not imported) and each of its
imports of another keras_regkit module is an edge, wherever it stands (a
function-level import closes a circle as surely as a top-level one, it
only hides it until called); imports under ``if TYPE_CHECKING:`` are not.
``from package import name`` is an edge to ``package.name`` where that is
a module, else to the package. Importing a submodule runs its parent
packages' ``__init__`` first, but that is how every package works and is
not counted: a circle is a module that, through the modules it names,
names itself.

augment/ has its own layout test (tests/augment/test_layout.py: which
folder may import which, how long a module may be); here it is in the
circle check and out of the size check.
"""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "keras_regkit"
MAX_LINES = 500
OWN_LAYOUT_TEST = ("keras_regkit.augment",)


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, pathlib.Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    name = getattr(test, "id", None) or getattr(test, "attr", None)
    return name == "TYPE_CHECKING"


def _imports(tree: ast.AST):
    """Every Import / ImportFrom node, skipping ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (
                sub for orelse in node.orelse for sub in _imports_of(orelse)
            )
            continue
        yield from _imports_of(node)


def _imports_of(node):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _imports(node)


def imported_modules(name: str, path: pathlib.Path, known) -> set[str]:
    """The keras_regkit modules that module ``name`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}"
                if f"{base}.{alias.name}" in known
                else base
                for alias in node.names
            ]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: imported_modules(name, path, known)
        for name, path in known.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read():
    graph = import_graph()
    assert "keras_regkit.training.sam" in graph
    assert (
        "keras_regkit.training._sam_common"
        in (graph["keras_regkit.training._sam_jax"])
    )
    assert (
        "keras_regkit.training.batch_norm"
        in (graph["keras_regkit.callbacks.swa"])
    )


def test_cycles_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_circle():
    found = cycles(import_graph())
    assert not found, (
        "import circles (each: modules that import in a loop):\n"
        + ("\n".join(" <-> ".join(component) for component in found))
    )


def test_no_module_over_500_lines():
    long = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in modules().items()
        if not name.startswith(OWN_LAYOUT_TEST)
    }
    long = {name: lines for name, lines in long.items() if lines > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
