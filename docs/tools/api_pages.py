"""The API reference's pages, generated from the package's ``__all__``s.

One page per public name (``api/<subpackage>/<Name>.md``, rendered by
mkdocstrings from the docstring) and one index page per subpackage (its
module docstring and a table of its names with their one-line summaries),
so that a name added to an ``__all__`` gets its page with no edit here.
"""

from __future__ import annotations

import importlib
import inspect

PACKAGE = "keras_regkit"


def subpackages() -> tuple[str, ...]:
    """The subpackages the package exports (its ``_SUBPACKAGES``).

    Returns:
        Their short names, e.g. ``("augment", "callbacks", ...)``.

    Example:
    >>> "layers" in subpackages()
    True
    """
    return tuple(importlib.import_module(PACKAGE)._SUBPACKAGES)


def public_names() -> dict[str, list[str]]:
    """Every subpackage's public names, from its ``__all__``.

    Returns:
        A dict from subpackage name to its sorted public names.
    """
    names = {}
    for sub in subpackages():
        module = importlib.import_module(f"{PACKAGE}.{sub}")
        names[sub] = sorted(module.__all__, key=str.lower)
    return names


def summary(obj) -> str:
    """The first line of an object's docstring, for the index tables."""
    doc = inspect.getdoc(obj) or ""
    return doc.strip().split("\n")[0].replace("|", "\\|")


def kind(obj) -> str:
    """``"class"``, ``"function"`` or ``"attribute"``, for the tables."""
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "attribute"


def target(sub: str, name: str) -> str:
    """The dotted path mkdocstrings renders for a public name.

    Classes and functions are rendered where they are defined (their
    ``__module__``), so each page names the module that holds the code.

    Example:
    >>> target("layers", "DropBlock2D")
    'keras_regkit.layers.drop_block.DropBlock2D'
    """
    obj = getattr(importlib.import_module(f"{PACKAGE}.{sub}"), name)
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if module and qualname and module.startswith(PACKAGE):
        return f"{module}.{qualname}"
    return f"{PACKAGE}.{sub}.{name}"


def _is_public_class(cls) -> bool:
    """Whether a class is named in some subpackage's ``__all__``."""
    for sub in subpackages():
        module = importlib.import_module(f"{PACKAGE}.{sub}")
        if any(getattr(module, name) is cls for name in module.__all__):
            return True
    return False


def _private_module(path: str) -> bool:
    """Whether a dotted module path goes through a private name.

    Example:
    >>> _private_module("keras_regkit.augment._core.roles")
    True
    """
    return any(part.startswith("_") for part in path.split("."))


def inherited_from_private(obj) -> list[str]:
    """The public methods and properties a class inherits from private
    classes of the kit (bases that have no page of their own) defined in
    public modules; a private module's classes (the augmentation roles'
    protocol) stay off the pages.

    Example:
    >>> inherited_from_private(len)
    []
    """
    if not inspect.isclass(obj):
        return []
    names = []
    for attr in sorted(dir(obj)):
        if attr.startswith("_"):
            continue
        owner = next((k for k in obj.__mro__ if attr in vars(k)), obj)
        module = owner.__module__ or ""
        if (
            owner is not obj
            and module.split(".")[0] == PACKAGE
            and not _private_module(module)
            and not _is_public_class(owner)
        ):
            names.append(attr)
    return names


def _options(obj, **extra) -> list[str]:
    """A ``:::`` block's options lines (empty when there are none)."""
    options = dict(extra)
    inherited = inherited_from_private(obj)
    if inherited:
        options["inherited_members"] = inherited
    if not options:
        return []
    return ["    options:"] + [f"      {k}: {v}" for k, v in options.items()]


def name_page(sub: str, name: str) -> str:
    """The Markdown of one public name's page.

    An alias (a second public name for the same object, e.g.
    ``StochasticDepth`` for ``DropPath``) gets a page titled with its own
    name that says so, then the object's reference. A class shows the
    public methods it inherits from private classes of the kit too.
    """
    obj = getattr(importlib.import_module(f"{PACKAGE}.{sub}"), name)
    original = getattr(obj, "__name__", name)
    if original == name:
        return "\n".join([f"::: {target(sub, name)}", *_options(obj), ""])
    return "\n".join(
        [
            f"# {name}",
            "",
            f"`{PACKAGE}.{sub}.{name}` is an alias of "
            f"[`{original}`]({original}.md): the same {kind(obj)}.",
            "",
            f"::: {target(sub, name)}",
            *_options(obj, heading_level=2),
            "",
        ]
    )


def defining_modules(sub: str, names: list[str]) -> list[str]:
    """The public modules that define a subpackage's public names (other
    than the subpackage itself), in the order of ``names``.

    Example:
    >>> "keras_regkit.layers.drop_block" in defining_modules(
    ...     "layers", ["DropBlock2D", "DropPath"])
    True
    """
    module = importlib.import_module(f"{PACKAGE}.{sub}")
    found = []
    for name in names:
        path = getattr(getattr(module, name), "__module__", None) or ""
        public = path.startswith(f"{PACKAGE}.{sub}.")
        if public and not _private_module(path) and path not in found:
            found.append(path)
    return found


def subpackage_page(sub: str, names: list[str]) -> str:
    """The Markdown of a subpackage's index page: its docstring, its
    names, and the docstrings of the modules that define them (which
    the names' pages refer to as "the module docstring")."""
    module = importlib.import_module(f"{PACKAGE}.{sub}")
    rows = [
        f"| [`{name}`]({name}.md) | {kind(getattr(module, name))} "
        f"| {summary(getattr(module, name))} |"
        for name in names
    ]
    modules = []
    for path in defining_modules(sub, names):
        if not inspect.getdoc(importlib.import_module(path)):
            continue
        modules += [
            f"::: {path}",
            "    options:",
            "      members: false",
            "      heading_level: 3",
            "      show_root_full_path: true",
            "",
        ]
    return "\n".join(
        [
            f"::: {PACKAGE}.{sub}",
            "    options:",
            "      members: false",
            "      show_root_full_path: true",
            "",
            "## Public names",
            "",
            "| name | kind | summary |",
            "|---|---|---|",
            *rows,
            "",
            *(["## Modules", "", *modules] if modules else []),
        ]
    )


def index_page(names: dict[str, list[str]]) -> str:
    """The Markdown of the API reference's front page."""
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings of every name in the `__all__` of",
        f"each subpackage of `{PACKAGE}` (import them as",
        "`import keras_regkit as rk`, then `rk.layers.DropBlock2D`, ...).",
        "",
        "| subpackage | public names |",
        "|---|---|",
    ]
    for sub, subnames in names.items():
        links = ", ".join(f"[`{n}`]({sub}/{n}.md)" for n in subnames)
        lines.append(f"| [`{sub}`]({sub}/index.md) | {links} |")
    return "\n".join(lines) + "\n"


def pages(names: dict[str, list[str]] | None = None) -> dict[str, str]:
    """Every page of the reference, by path under ``docs/``.

    Args:
        names: The output of `public_names`, or None to compute it.

    Returns:
        A dict from page path (``api/...md``) to its Markdown.
    """
    names = public_names() if names is None else names
    out = {"api/index.md": index_page(names)}
    for sub, subnames in names.items():
        out[f"api/{sub}/index.md"] = subpackage_page(sub, subnames)
        for name in subnames:
            out[f"api/{sub}/{name}.md"] = name_page(sub, name)
    return out


def nav(names: dict[str, list[str]]) -> list:
    """The reference's navigation, as a MkDocs ``nav`` entry's value."""
    entries = ["api/index.md"]
    for sub, subnames in names.items():
        children = [f"api/{sub}/index.md"]
        children += [{name: f"api/{sub}/{name}.md"} for name in subnames]
        entries.append({sub: children})
    return entries
