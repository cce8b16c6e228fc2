"""Griffe extension: the reference pages name public classes only.

A public class of the kit may derive from a private one (``_Factor``,
``_DropBlock``, ``_PrecheltRule``, a role class of a private module). Its
page's "Bases:" line would name that class, which a user cannot import
and which has no page. This extension records, for every such class, its
*public* bases instead: each private kit base is replaced by that base's
own bases, recursively, until a public kit class (one in a subpackage's
``__all__``) or a class from outside the kit (Keras's) is reached. The
template ``templates/python/material/class.html.jinja`` renders that list
(``extra["keras_regkit"]["public_bases"]``); the public methods the class
inherits from the private bases are listed on its page by `api_pages`
(mkdocstrings' ``inherited_members``), so that none is lost with the base.

It also links "the module docstring", which several docstrings point to,
to that module's docstring as the subpackage's reference page renders it.
"""

from __future__ import annotations

import abc
import importlib
import inspect
import re

import griffe

PACKAGE = "keras_regkit"
# Where a class from outside the kit is looked up for its public name.
_PUBLIC_NAMESPACES = (
    "keras.layers",
    "keras.callbacks",
    "keras.regularizers",
    "keras.losses",
    "keras.optimizers.schedules",
    "keras",
)
_SKIPPED = (object, abc.ABC)
_MODULE_DOCSTRING = re.compile(r"\bthe module docstring\b")


def public_classes() -> set[type]:
    """Every class named in a subpackage's ``__all__``."""
    package = importlib.import_module(PACKAGE)
    found = set()
    for sub in package._SUBPACKAGES:
        try:
            module = importlib.import_module(f"{PACKAGE}.{sub}")
        except ImportError:
            continue
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                found.add(obj)
    return found


def in_kit(cls: type) -> bool:
    return (cls.__module__ or "").split(".")[0] == PACKAGE


def public_bases(cls: type, public: set[type]) -> list[type]:
    """``cls``'s bases, each private kit class replaced by its bases.

    Example:
    >>> class _Private(dict): pass
    >>> class Public(_Private): pass
    >>> _Private.__module__ = Public.__module__ = "keras_regkit.x"
    >>> public_bases(Public, {Public})
    [<class 'dict'>]
    """
    out = []
    for base in cls.__bases__:
        if base in _SKIPPED:
            continue
        if in_kit(base) and base not in public:
            candidates = public_bases(base, public)
        else:
            candidates = [base]
        out += [c for c in candidates if c not in out]
    return out


def private_kit_bases(cls: type, public: set[type]) -> list[type]:
    """The private kit classes that `public_bases` skips for ``cls``."""
    out = []
    for base in cls.__bases__:
        if in_kit(base) and base not in public:
            out += [base, *private_kit_bases(base, public)]
    return out


def display(cls: type) -> tuple[str, str | None]:
    """``(title, autorefs identifier or None)`` of a base class."""
    if in_kit(cls):
        return cls.__name__, f"{cls.__module__}.{cls.__qualname__}"
    for namespace in _PUBLIC_NAMESPACES:
        module = importlib.import_module(namespace)
        for name in dir(module):
            if getattr(module, name, None) is cls:
                return f"{namespace}.{name}", None
    return cls.__name__, None


def runtime_object(path: str):
    """The object a Griffe path names once imported, or None."""
    module_path, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_path), name)
    except (ImportError, AttributeError, ValueError):
        return None


class PublicBases(griffe.Extension):
    """Records public bases; links "the module docstring"."""

    def __init__(self):
        super().__init__()
        self._public = None

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None and not obj.is_module:
            module = obj.module.path
            obj.docstring.value = _MODULE_DOCSTRING.sub(
                f"[the module docstring][{module}]", obj.docstring.value
            )
        if not obj.is_class or not obj.path.startswith(PACKAGE):
            return
        cls = runtime_object(obj.path)
        if not inspect.isclass(cls):
            return
        if self._public is None:
            self._public = public_classes()
        if not private_kit_bases(cls, self._public):
            return
        bases = [display(b) for b in public_bases(cls, self._public)]
        obj.extra[PACKAGE]["public_bases"] = bases
