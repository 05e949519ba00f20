"""Small Sphinx fixes for the book's website (loaded through `_config.yml`'s local_extensions).

Jupyter Book 1 on Sphinx 7.4 writes some inline scripts twice into every page: extensions
that call ``app.add_js_file`` while the build is already running (sphinx-thebe,
sphinx-togglebutton) end up both in the builder's list and in the registry it re-reads.
sphinx-thebe's script declares ``const THEBE_JS_URL``, so the second copy is a
JavaScript ``SyntaxError`` on every page (the browser test in tests/site sees it). This
extension keeps the first copy of each script.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _script_key(script: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    attributes = getattr(script, "attributes", {}) or {}
    items = tuple(sorted((str(k), str(v)) for k, v in attributes.items()))
    # an inline script is filed once with filename None, once with "" (the duplicate)
    return str(getattr(script, "filename", script) or ""), items


def _drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _drop_duplicate_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
