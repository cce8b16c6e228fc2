"""Checks of a built page's HTML: what a reader must never see.

`hooks.on_post_page` runs `problems` on every page and logs each problem
as a warning, so that ``mkdocs build --strict`` fails on it;
tests/docs/test_page_checks.py runs it over a built site too, and on
pages made to fail.

- **Private bases**: a "Bases:" line naming a class a user cannot import
  (a name or module starting with ``_``).
- **Empty sections**: a docstring section item with no description, or
  a dangling "–" where a name or type was expected (an empty-looking
  "Returns: –").
- **Leftover markup**: reStructuredText's double backticks or roles
  (``:class:`X```) that Markdown left as they were, outside code.
- **Internals**: a dotted path through a private module or name
  (``keras_regkit.augment._core.chain``) on a user page; the
  contributors' page (`INTERNALS_ALLOWED`) may name them.
"""

from __future__ import annotations

import html
import re

INTERNALS_ALLOWED = ("layout.md",)

_ARTICLE = re.compile(r"<article\b[^>]*>(.*)</article>", re.DOTALL)
_BASES = re.compile(r'class="doc doc-class-bases">(.*?)</p>', re.DOTALL)
_ITEM = re.compile(r'<li class="doc-section-item[^"]*">(.*?)</li>', re.DOTALL)
_DESCRIPTION = re.compile(
    r'<div class="doc-md-description">(.*?)</div>', re.DOTALL
)
_PRE = re.compile(r"<pre\b.*?</pre>", re.DOTALL)
_CODE = re.compile(r"<code\b.*?</code>", re.DOTALL)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_PRIVATE_NAME = re.compile(r"(?:^|[\s,(.])(_[A-Za-z]\w*)")
_PRIVATE_PATH = re.compile(
    r"\bkeras_regkit(?:\.\w+)*\._[A-Za-z]\w*"  # keras_regkit.x._private
    r"|(?<![\w.])_[a-z]\w*\.[A-Za-z]\w*"  # _core.roles, _base.ValueOp
    r"|\b[\w/]*/_[a-z]\w*(?:/\w+)*\.py\b"  # augment/_core/chain.py
)
_RST = re.compile(r"``|:(?:class|func|meth|mod|attr|obj|ref):`")


def text(fragment: str) -> str:
    """The text of an HTML fragment (tags dropped, entities decoded).

    Example:
    >>> text("<p>a &lt; <b>b</b></p>")
    'a < b'
    """
    return html.unescape(_TAG.sub("", _SCRIPT.sub("", fragment)))


def article(page: str) -> str:
    """The page's article (its content, without navigation)."""
    match = _ARTICLE.search(page)
    return match.group(1) if match else page


def private_bases(page: str) -> list[str]:
    """The private names on the page's "Bases:" lines.

    Example:
    >>> private_bases('<p class="doc doc-class-bases">Bases: '
    ...     '<code>_Factor</code>, <code>Layer</code></p>')
    ['_Factor']
    """
    found = []
    for match in _BASES.finditer(page):
        found += _PRIVATE_NAME.findall(text(match.group(1)))
    return found


def empty_items(page: str) -> list[str]:
    """Section items with no description or a dangling dash.

    Example:
    >>> empty_items('<li class="doc-section-item field-body"> – '
    ...     '<div class="doc-md-description"><p>x</p></div></li>')
    ['a dangling "–" before: x']
    >>> empty_items('<li class="doc-section-item field-body"><b>a</b> – '
    ...     '<div class="doc-md-description"></div></li>')
    ['an empty description after: a –']
    """
    found = []
    for match in _ITEM.finditer(page):
        item = match.group(1)
        description = _DESCRIPTION.search(item)
        head = item[: description.start()] if description else item
        body = text(description.group(1)).strip() if description else ""
        if text(head).strip().startswith("–"):
            found.append(f'a dangling "–" before: {body[:60]}')
        elif not body:
            found.append(f"an empty description after: {text(head).strip()}")
    return found


def leftover_markup(page: str) -> list[str]:
    """reStructuredText markup left in the prose (outside code).

    Example:
    >>> leftover_markup("<p>images ``(batch, h)`` in</p><pre>``ok``</pre>")
    ['images ``(batch, h)`` in']
    """
    prose = text(_CODE.sub("", _PRE.sub("", page)))
    return [
        " ".join(line.split())[:100]
        for line in prose.splitlines()
        if _RST.search(line)
    ]


def internal_paths(page: str) -> list[str]:
    """Dotted paths through a private module or name.

    Example:
    >>> internal_paths("<p>See <code>keras_regkit.augment._chain.Chain"
    ...     "</code> and keras_regkit.layers.DropPath.</p>")
    ['keras_regkit.augment._chain']
    >>> internal_paths("<p>(<code>_core.roles.ValueOp</code>) in "
    ...     "<code>augment/_core/chain.py</code>, not __init__.py</p>")
    ['_core.roles', 'augment/_core/chain.py']
    """
    return _PRIVATE_PATH.findall(text(_PRE.sub("", page)))


def problems(page: str, src_uri: str = "") -> list[str]:
    """Every problem of a built page, as messages.

    Args:
        page: The page's HTML.
        src_uri: Its Markdown source's path under docs/ (for the pages
            allowed to name internals).

    Returns:
        One message per problem; empty when the page is clean.
    """
    body = article(page)
    found = [f"private base class: {n}" for n in private_bases(body)]
    found += [f"empty section item: {m}" for m in empty_items(body)]
    found += [f"leftover markup: {m}" for m in leftover_markup(body)]
    if src_uri not in INTERNALS_ALLOWED:
        found += [f"internal name: {p}" for p in internal_paths(body)]
    return found
