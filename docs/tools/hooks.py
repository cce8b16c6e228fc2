"""MkDocs hooks: the generated pages of the site.

* ``on_config`` fills the "API reference" navigation entry with a page
  per public name (`api_pages`);
* ``on_files`` adds those pages and the augmentation gallery (`gallery`:
  its Markdown and PNGs, drawn by the real ops) to the build as
  generated files: they go to the build output, never into git;
* ``on_page_markdown`` writes the version and the repository into the
  home page (``{{ version }}``, ``{{ repository }}``): the version is
  ``keras_regkit.__version__``; the repository is ``REGKIT_REPO_URL``
  when the build sets it (then also the header's link), else the commit
  the site was built from;
* ``on_post_page`` checks each built page (`page_checks`: private base
  classes, empty docstring sections, leftover markup, internal names)
  and logs a warning per problem, which fails a ``--strict`` build.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(__file__))

import api_pages  # noqa: E402
import gallery  # noqa: E402
import page_checks  # noqa: E402
from mkdocs.structure.files import File  # noqa: E402

log = logging.getLogger("mkdocs.hooks.keras_regkit")
_API_TITLE = "API reference"
_GALLERY_TITLE = "Augmentation gallery"
_names = {}


def repository() -> str:
    """The home page's repository line, as Markdown."""
    url = os.environ.get("REGKIT_REPO_URL")
    if url:
        return f"[Repository]({url})"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=os.path.dirname(__file__),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "built from its git repository"
    return f"built from commit `{commit}` of its git repository"


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri != "index.md":
        return markdown
    import keras_regkit

    markdown = markdown.replace("{{ version }}", keras_regkit.__version__)
    return markdown.replace("{{ repository }}", repository())


def on_config(config):
    if os.environ.get("REGKIT_REPO_URL"):
        config.repo_url = os.environ["REGKIT_REPO_URL"]
    _names.clear()
    _names.update(api_pages.public_names())
    generated = {
        _API_TITLE: api_pages.nav(_names),
        _GALLERY_TITLE: gallery.nav(),
    }
    for index, entry in enumerate(config.nav or []):
        for title, children in generated.items():
            if isinstance(entry, dict) and title in entry:
                config.nav[index] = {title: children}
    return config


def on_files(files, config):
    generated = dict(api_pages.pages(_names))
    start = time.perf_counter()
    generated.update(gallery.build())
    log.info(
        "keras_regkit: gallery drawn in %.1f s",
        time.perf_counter() - start,
    )
    for path, content in generated.items():
        existing = files.get_file_from_path(path)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, path, content=content))
    return files


def on_post_page(output, page, config):
    for problem in page_checks.problems(output, page.file.src_uri):
        log.warning("%s: %s", page.file.src_uri, problem)
    return output
