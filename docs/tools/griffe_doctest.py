"""Griffe extension: the kit's unindented ``Example:`` sections, as Google.

The kit's docstrings write their doctests flush with the section title
(an ``Example:`` line, then ``>>>`` lines at the same indentation), as
Keras's do. Griffe's Google parser reads a section's body from its
indented lines only, so it would render those ``>>>`` lines as Markdown
(nested block quotes). This extension indents the body of every ``Example:`` /
``Examples:`` section whose first line is not indented, up to the next
section title or the end, so that mkdocstrings renders the examples as
highlighted Python console code, and renames ``Example:`` to
``Examples:`` (the title Griffe knows; others become admonitions, whose
``>>>`` lines Markdown reads as block quotes). Source files are not
changed.
"""

from __future__ import annotations

import importlib
import inspect
import re

import griffe

_EXAMPLE = re.compile(r"^(?P<indent>\s*)Examples?:\s*$")
_TITLE = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")


def _indent(line):
    return len(line) - len(line.lstrip())


def _is_title(lines, index, indent):
    """Whether ``lines[index]`` is a section title at ``indent``."""
    line = lines[index]
    if _indent(line) != indent or not _TITLE.match(line.strip()):
        return False
    following = [x for x in lines[index + 1 :] if x.strip()]
    return bool(following) and _indent(following[0]) > indent


def indent_examples(text: str) -> str:
    """Indents flush ``Example:`` bodies by 4 spaces, titled ``Examples:``.

    Args:
        text: A cleaned docstring.

    Returns:
        The docstring, with every flush example body indented.

    Example:
    >>> doc = "Summary.\\n\\nExample:\\n" + ">" * 3 + " 1 + 1\\n2"
    >>> indent_examples(doc).splitlines()[2:]
    ['Examples:', '    >>> 1 + 1', '    2']
    """
    lines = text.split("\n")
    out = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        match = _EXAMPLE.match(line)
        if not match:
            out.append(line)
            continue
        indent = len(match.group("indent"))
        out.append(" " * indent + "Examples:")
        body = [x for x in lines[index:] if x.strip()]
        if not body or _indent(body[0]) > indent:
            continue
        while index < len(lines) and not _is_title(lines, index, indent):
            current = lines[index]
            out.append("    " + current if current.strip() else current)
            index += 1
    return "\n".join(out)


def runtime_docstring(path: str) -> str | None:
    """The docstring an object has once imported (None if it has none).

    For classes that build ``__doc__`` from shared pieces (the DropBlock
    layers), which static analysis reads as having no docstring.

    Example:
    >>> runtime_docstring("keras_regkit.layers.drop_block.DropBlock2D")[:9]
    'DropBlock'
    """
    module_path, _, name = path.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_path), name)
    except (ImportError, AttributeError):
        return None
    return inspect.getdoc(obj)


_ITEM = re.compile(r"^(?P<indent>\s+)(?P<name>\*{0,2}\w+):\s(?P<rest>.*)$")


def list_call_arguments(text: str) -> str:
    """Turns a ``Call arguments:`` section's items into a Markdown list.

    Griffe renders the section (not a Google one) as an admonition whose
    ``name: description`` lines Markdown would join into one paragraph.

    Args:
        text: A cleaned docstring.

    Returns:
        The docstring, with ``- `name`: description`` items there.

    Example:
    >>> doc = "Call arguments:\\n    x: The input.\\n    training: Whether."
    >>> list_call_arguments(doc).splitlines()[1:]
    ['    - `x`: The input.', '    - `training`: Whether.']
    """
    lines = text.split("\n")
    out = []
    section = None
    for line in lines:
        stripped = line.strip()
        if stripped == "Call arguments:":
            section = _indent(line)
        elif section is not None and stripped and _indent(line) <= section:
            section = None
        match = _ITEM.match(line) if section is not None else None
        if match and len(match.group("indent")) == section + 4:
            line = (
                f"{match.group('indent')}- `{match.group('name')}`: "
                f"{match.group('rest')}"
            )
        out.append(line)
    return "\n".join(out)


class FlushExamples(griffe.Extension):
    """Indents flush ``Example:`` bodies of every object's docstring.

    Classes and functions with no docstring in their source get the one
    they have at run time, if any.
    """

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is None and (obj.is_class or obj.is_function):
            doc = runtime_docstring(obj.path)
            if doc:
                obj.docstring = griffe.Docstring(doc, parent=obj)
        if obj.docstring is not None:
            value = indent_examples(obj.docstring.value)
            obj.docstring.value = list_call_arguments(value)
