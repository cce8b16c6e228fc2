"""The built pages show the public API only, with no empty section or
leftover markup (issue #22 §2), and the home page says what the kit is.

docs/tools/page_checks.py does the checking; the build's hook
(docs/tools/hooks.py) logs each problem as a warning, which fails
``mkdocs build --strict``. Here the same checks run over the built site,
and on pages made to fail, so a check that stops finding its problem
fails too.
"""

from __future__ import annotations

import logging

import pytest

import keras_regkit


def site_pages(site_dir):
    for path in sorted(site_dir.rglob("*.html")):
        relative = path.relative_to(site_dir)
        if relative.parts[0].startswith("_"):
            continue
        if relative.name == "index.html" and len(relative.parts) > 1:
            src = "/".join(relative.parts[:-1]) + ".md"
        else:
            src = str(relative).replace(".html", ".md")
        yield src, path.read_text(encoding="utf-8")


def test_no_built_page_has_a_problem(site_dir, docs_tool):
    checks = docs_tool("page_checks")
    pages = list(site_pages(site_dir))
    assert len(pages) > 100, len(pages)
    found = [
        f"{src}: {problem}"
        for src, page in pages
        for problem in checks.problems(page, src)
    ]
    assert not found, "\n".join(found[:40])


def _article(body):
    return f"<html><article class='md-content__inner'>{body}</article></html>"


BAD_PAGES = {
    "private base class": '<p class="doc doc-class-bases">Bases: '
    "<code><span>_DropBlock</span></code></p>",
    "empty section item": '<p><span class="doc-section-title">Returns:'
    '</span></p><ul><li class="doc-section-item field-body"> – '
    '<div class="doc-md-description"><p>A list.</p></div></li></ul>',
    "leftover markup": "<p>images float32 ``(batch, height)`` in [0, 1]</p>",
    "internal name": "<p>Pipeline runs a <code>keras_regkit.augment._core."
    "chain.Chain</code>.</p>",
}


@pytest.mark.parametrize("kind", BAD_PAGES)
def test_each_check_finds_its_problem(kind, docs_tool):
    checks = docs_tool("page_checks")
    found = checks.problems(_article(BAD_PAGES[kind]), "api/x.md")
    assert [p.split(":")[0] for p in found] == [kind], found


def test_contributors_page_may_name_internals(docs_tool):
    checks = docs_tool("page_checks")
    page = _article(BAD_PAGES["internal name"])
    assert checks.problems(page, "layout.md") == []


def test_code_blocks_are_not_leftover_markup(docs_tool):
    checks = docs_tool("page_checks")
    page = _article("<pre><code>x = ``1``</code></pre><p><code>``</code></p>")
    assert checks.problems(page, "api/x.md") == []


def test_the_hook_warns_so_a_strict_build_fails(caplog, docs_tool):
    """A problem is a warning of a "mkdocs." logger (strict counts those)."""
    hooks = docs_tool("hooks")

    class File:
        src_uri = "api/layers/DropBlock2D.md"

    class Page:
        file = File()

    with caplog.at_level(logging.WARNING):
        out = hooks.on_post_page(
            _article(BAD_PAGES["private base class"]), Page(), {}
        )
    assert out.startswith("<html>")
    assert "_DropBlock" in caplog.text
    assert hooks.log.name.startswith("mkdocs.")


def test_home_page_shows_version_install_and_a_picture(site_dir, docs_tool):
    page = (site_dir / "index.html").read_text(encoding="utf-8")
    checks = docs_tool("page_checks")
    text = checks.text(checks.article(page))
    assert f"Version {keras_regkit.__version__}" in text
    assert "{{" not in text, "a placeholder was not filled"
    assert 'pip install -e ".[tensorflow]"' in text
    assert "git repository" in text or "Repository" in text
    assert 'src="demo/generalization_gap.png"' in page
    assert (site_dir / "demo/generalization_gap.png").is_file()


def test_subpackage_pages_render_the_module_docstrings(site_dir):
    page = (site_dir / "api/layers/index.html").read_text(encoding="utf-8")
    # DropBlock's page points to "the module docstring": it is there.
    assert 'id="keras_regkit.layers.drop_block"' in page
    block = (site_dir / "api/layers/DropBlock2D/index.html").read_text(
        encoding="utf-8"
    )
    assert "../#keras_regkit.layers.drop_block" in block


def test_pages_show_methods_inherited_from_private_bases(site_dir):
    page = (site_dir / "api/callbacks/AnyOf/index.html").read_text(
        encoding="utf-8"
    )
    for method in ("get_state", "set_state", "reset"):
        assert (
            f'id="keras_regkit.callbacks.early_stopping.rules.AnyOf.{method}"'
            in page
        ), method
    stopper = (site_dir / "api/callbacks/EarlyStopping/index.html").read_text(
        encoding="utf-8"
    )
    assert "EarlyStopping.get_state" in stopper
    assert "EarlyStopping.set_state" in stopper
