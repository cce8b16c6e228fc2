"""MkDocs hooks: the generated pages of the site.

* ``on_config`` fills the "API reference" navigation entry with a page
  per public name (`api_pages`);
* ``on_files`` adds those pages and the augmentation gallery (`gallery`:
  its Markdown and PNGs, drawn by the real ops) to the build as
  generated files: they go to the build output, never into git.
"""

from __future__ import annotations

import logging
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(__file__))

import api_pages  # noqa: E402
import gallery  # noqa: E402
from mkdocs.structure.files import File  # noqa: E402

log = logging.getLogger("mkdocs.hooks.keras_regkit")
_API_TITLE = "API reference"
_GALLERY_TITLE = "Augmentation gallery"
_names = {}


def on_config(config):
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
