"""The built site in a real headless browser (the system's Chromium).

The site is served on localhost by ``http.server`` in a thread; Playwright
drives Chromium from the system's packages (``executable_path``: no
browser download). Each page must load with no console error, no page
error and no failed request, and show its key content; a full-page
screenshot of each is kept under ``site/_screenshots/`` (a build artifact,
not in git).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

# Playwright adds --headless and a fresh temporary profile (user data
# dir) to every launch.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000


def chromium_path():
    """The system's Chromium: ``$CHROMIUM``, else the one on the PATH."""
    for candidate in (
        os.environ.get("CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    pytest.fail(
        "No Chromium found: `apt-get install -y chromium` (or set CHROMIUM "
        "to the browser's path)"
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url(site_dir):
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=CHROMIUM_FLAGS,
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screenshots(site_dir):
    path = site_dir / "_screenshots"
    path.mkdir(exist_ok=True)
    return path


def visit(browser, url, screenshot):
    """Loads ``url``; returns the page and every problem it reported."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "assert")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "requestfailed",
        lambda r: problems.append(f"request failed: {r.url} {r.failure}"),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400
            else None
        ),
    )
    page.goto(url, wait_until="networkidle", timeout=TIMEOUT_MS)
    page.screenshot(path=str(screenshot), full_page=True)
    return page, problems


def loaded_images(page):
    """The ``src`` of every image in the page's article, all loaded."""
    images = page.evaluate(
        """() => Array.from(document.querySelectorAll("article img"))
            .map(img => [img.getAttribute("src"), img.naturalWidth])"""
    )
    broken = [src for src, width in images if not width]
    assert not broken, f"images not loaded: {broken}"
    return [src for src, _ in images]


def heading(page):
    return page.locator("article h1").first


def heading_words(page):
    """The words of the page's title, without the permalink sign."""
    return heading(page).inner_text().replace("¶", " ").split()


API_PAGES = [
    ("callbacks", "EarlyStopping"),
    ("layers", "DropBlock2D"),
    ("regularizers", "L2"),
    ("augment", "Pipeline"),
]


@pytest.mark.parametrize(("sub", "name"), API_PAGES)
def test_api_page(browser, base_url, screenshots, sub, name):
    page, problems = visit(
        browser, f"{base_url}/api/{sub}/{name}/", screenshots / f"{name}.png"
    )
    assert not problems, problems
    title = heading(page)
    assert title.is_visible()
    assert name in heading_words(page)
    # The signature and the docstring's doctest example, highlighted.
    assert page.locator(".doc-signature").first.is_visible()
    prompt = page.locator("article .highlight .gp").first
    assert prompt.is_visible()
    assert prompt.inner_text().strip() == ">>>"
    page.close()


def test_gallery_page(browser, base_url, screenshots):
    page, problems = visit(
        browser, f"{base_url}/gallery/geometry/", screenshots / "gallery.png"
    )
    assert not problems, problems
    assert heading_words(page) == ["Geometry"]
    assert page.locator("h2#randomrotation").is_visible()
    assert len(loaded_images(page)) >= 4 * 7
    # Thumbnails shown at least 224 px wide (large enough to judge an op
    # for 224-px inputs), and captions broken between arguments only:
    # each code piece on one line.
    widths = page.evaluate(
        """() => Array.from(document.querySelectorAll("article td img"))
            .map(img => img.getBoundingClientRect().width)"""
    )
    assert widths and min(widths) >= 224, min(widths)
    lines = page.evaluate(
        """() => Array.from(document.querySelectorAll("article td code"))
            .map(code => code.getClientRects().length)"""
    )
    assert lines and max(lines) == 1, max(lines)
    page.close()


def test_masks_and_boxes_page(browser, base_url, site_dir, screenshots):
    if not (site_dir / "gallery/masks-and-boxes/index.html").is_file():
        pytest.skip("no masks-and-boxes page (the pipeline takes no targets)")
    page, problems = visit(
        browser,
        f"{base_url}/gallery/masks-and-boxes/",
        screenshots / "gallery-masks-and-boxes.png",
    )
    assert not problems, problems
    assert heading_words(page) == ["Masks", "and", "boxes"]
    assert len(loaded_images(page)) > 10
    page.close()


def test_gallery_index(browser, base_url, screenshots):
    page, problems = visit(
        browser, f"{base_url}/gallery/", screenshots / "gallery-index.png"
    )
    assert not problems, problems
    assert len(loaded_images(page)) == 4
    page.close()


def test_guide_page(browser, base_url, screenshots):
    page, problems = visit(
        browser,
        f"{base_url}/guides/choosing-a-regularizer/",
        screenshots / "guide.png",
    )
    assert not problems, problems
    assert heading_words(page) == ["Choosing", "a", "regularizer"]
    assert page.locator("h2", has_text="λ/(2m)").is_visible()
    # The demo's two figures.
    assert [src.rsplit("/", 1)[-1] for src in loaded_images(page)] == [
        "learning_curves.png",
        "generalization_gap.png",
    ]
    page.close()


def test_home_page(browser, base_url, screenshots):
    page, problems = visit(browser, f"{base_url}/", screenshots / "home.png")
    assert not problems, problems
    assert [src.rsplit("/", 1)[-1] for src in loaded_images(page)] == [
        "generalization_gap.png"
    ]
    text = page.locator("article").inner_text()
    assert "Version " in text and 'pip install -e ".[tensorflow]"' in text
    page.close()


def test_search_finds_a_class(browser, base_url, screenshots):
    page, problems = visit(browser, f"{base_url}/", screenshots / "home.png")
    page.locator(".md-search__input").click()
    page.keyboard.type("DropBlock2D", delay=20)
    result = page.locator(".md-search-result__item").first
    result.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "DropBlock2D" in result.inner_text()
    assert not problems, problems
    page.close()
