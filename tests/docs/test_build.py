"""The built site has a reference page for every public name and a
gallery picture for every augmentation op; the docs tools' own examples
run."""

from __future__ import annotations

import doctest
import html
import importlib
import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOLS = ROOT / "docs" / "tools"


def load_tool(name):
    """Imports a module of docs/tools (not a package) by its path."""
    spec = importlib.util.spec_from_file_location(
        f"docs_tools_{name}", TOOLS / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def public_names():
    import keras_regkit

    for sub in keras_regkit._SUBPACKAGES:
        module = importlib.import_module(f"keras_regkit.{sub}")
        for name in module.__all__:
            yield sub, name


PUBLIC = list(public_names())


def h1_text(page):
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.DOTALL)
    assert match, "no <h1>"
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))


def test_the_generator_covers_every_subpackage():
    import keras_regkit

    names = load_tool("api_pages").public_names()
    assert set(names) == set(keras_regkit._SUBPACKAGES)
    assert sum(len(n) for n in names.values()) == len(PUBLIC) > 60


@pytest.mark.parametrize(("sub", "name"), PUBLIC, ids=lambda v: str(v))
def test_every_public_name_has_a_rendered_page(site_dir, sub, name):
    page = site_dir / "api" / sub / name / "index.html"
    assert page.is_file(), f"no reference page for keras_regkit.{sub}.{name}"
    text = page.read_text(encoding="utf-8")
    assert name in h1_text(text).split(), h1_text(text)
    # The docstring was found and rendered (not only the heading).
    assert 'class="doc doc-contents' in text
    index = (site_dir / "api" / sub / "index.html").read_text("utf-8")
    assert f'href="{name}/"' in index, f"{name} missing from {sub}'s index"


def test_reference_renders_doctest_examples_as_code(site_dir):
    page = (site_dir / "api/layers/DropBlock2D/index.html").read_text("utf-8")
    # A highlighted console block: ">>>" as a prompt (Pygments' "gp"),
    # the expected output as output ("go"), under an "Examples" title.
    assert '<span class="doc-section-title">Examples:</span>' in page
    block = page.split("Examples:</span>", 1)[1].split("</code>", 1)[0]
    assert '<div class="highlight">' in block
    assert '<span class="gp">&gt;&gt;&gt; </span>' in block
    assert '<span class="go">0.1</span>' in block


def test_every_augmentation_op_has_gallery_pictures(site_dir):
    gallery = load_tool("gallery")
    pages, _ = gallery.pages_of()
    assert pages, "no augmentation ops found"
    for page, ops in pages.items():
        text = (site_dir / "gallery" / page / "index.html").read_text("utf-8")
        for name, _ in ops:
            assert f'id="{name.lower()}"' in text, (page, name)
            pictures = list((site_dir / "gallery/img").glob(f"{name}-*.png"))
            assert pictures, f"no picture of {name}"
            for picture in pictures:
                assert picture.stat().st_size > 200, picture
                assert f"img/{picture.name}" in text, picture.name


def test_masks_and_boxes_page_shows_or_lists_every_image_op(site_dir):
    gallery = load_tool("gallery")
    if not gallery.supports_targets():
        pytest.skip("the pipeline does not take masks and boxes")
    page = site_dir / "gallery" / gallery.MASKS_PAGE / "index.html"
    text = page.read_text("utf-8")
    assert "img/targets-original.png" in text
    pages, _ = gallery.pages_of()
    image_ops = [
        name
        for ops in pages.values()
        for name, cls in ops
        if gallery.kind_of(cls) == "images"
    ]
    shown = [n for n in image_ops if f"img/targets-{n}.png" in text]
    refused = [n for n in image_ops if f'{n}/">' in text and n not in shown]
    assert sorted(shown + refused) == sorted(image_ops)
    # The geometric ops all move the targets (none refuses them).
    assert {"RandomRotation", "RandomFlip", "RandomResizedCrop"} <= set(shown)


def test_gallery_strengths_name_real_ops():
    gallery = load_tool("gallery")
    ops, _ = gallery.ops_of()
    stale = set(gallery.STRENGTHS) - set(ops)
    assert not stale, f"STRENGTHS entries for names that are no ops: {stale}"


def test_gallery_draws_a_new_op_at_its_defaults_or_warns(caplog):
    """A new op appears without an edit; one needing arguments warns."""
    from keras_regkit import augment as rka
    from keras_regkit.augment._core import roles

    gallery = load_tool("gallery")

    class NewOp(roles.ValueOp):
        def __init__(self, amount=0.5, probability=1.0):
            super().__init__(probability)
            self.amount = amount

        def apply(self, inputs, params):
            return inputs * self.amount

    class NeedsArguments(NewOp):
        def __init__(self, amount, probability=1.0):
            super().__init__(amount, probability)

    columns = gallery.variants("NewOp", NewOp, rka)
    assert list(columns) == ["default"]
    kwargs, op = columns["default"]
    assert kwargs == {} and op.probability == 1.0
    with caplog.at_level("WARNING"):
        assert gallery.variants("NeedsArguments", NeedsArguments, rka) == {}
    assert "NeedsArguments" in caplog.text and "STRENGTHS" in caplog.text
    # The strict build counts warnings of the "mkdocs" loggers.
    assert gallery.log.name.startswith("mkdocs.")


@pytest.mark.parametrize(
    "name",
    ["api_pages", "gallery", "griffe_doctest", "griffe_public", "page_checks"],
)
def test_docs_tools_examples(name):
    result = doctest.testmod(load_tool(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, result
