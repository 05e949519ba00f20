"""Small Sphinx fixes for the book's website (loaded through `_config.yml`'s local_extensions).

- **Duplicate scripts.** Jupyter Book 1 on Sphinx 7.4 writes some inline scripts twice
  into every page: extensions that call ``app.add_js_file`` while the build is already
  running (sphinx-thebe, sphinx-togglebutton) end up both in the builder's list and in
  the registry it re-reads. sphinx-thebe's script declares ``const THEBE_JS_URL``, so
  the second copy is a JavaScript ``SyntaxError`` on every page (the browser test in
  tests/site sees it). This extension keeps the first copy of each script.
- **The repository address in one place.** ``repository.url`` of ``_config.yml`` (which
  Jupyter Book passes on as the theme's ``repository_url``, also used by launch buttons)
  becomes the MyST substitutions ``{{ repository_url }}`` and ``{{ repository_name }}``
  (its last path component, the folder ``git clone`` creates), used by intro.md and run.md.
- **Search snippets without TeX.** The search page shows a piece of each page's text,
  taken from its HTML before MathJax runs, so math would appear as raw TeX
  (``\\(\\mathrm{KL}(\\hat p_n ...\\)``); ``_assets/search-math.js``, added to the
  search page, turns the math of the snippets into plain text first.
- **Author-year labels in the bibliography**, as the citations in the text read
  ("Cover and Thomas, 2006"): a pybtex label style ``authoryear`` and a formatting style
  of the same name (``bibtex_default_style: authoryear`` in ``_config.yml``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as _UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.application import Sphinx
from sphinx.config import Config


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


def _repository_substitutions(app: Sphinx, config: Config) -> None:
    url = str((config.html_theme_options or {}).get("repository_url") or "").rstrip("/")
    if not url:
        return
    name = url.rsplit("/", 1)[-1].removesuffix(".git")
    config.myst_substitutions = {
        "repository_url": url,
        "repository_name": name,
        **(config.myst_substitutions or {}),
    }


def _search_math(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if pagename == "search" and "script_files" in context:
        context["script_files"].append("_static/search-math.js")


def _plain(latex: str) -> str:
    return Text.from_latex(latex).render_as("text")


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels as the text cites: "Shannon, 1948", "Cover and Thomas, 2006", "Guo et al.,
    2017" (a suffix a, b, ... where two entries would get the same label)."""

    def format_labels(self, sorted_entries: Any) -> Iterator[str]:
        labels = [self._label(entry) for entry in sorted_entries]
        total, seen = Counter(labels), Counter()
        for label in labels:
            if total[label] > 1:
                seen[label] += 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            else:
                yield label

    @staticmethod
    def _label(entry: Any) -> str:
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_plain(" ".join(p.prelast_names + p.last_names)) for p in persons]
        if not names:
            who = _plain(entry.fields.get("organization", entry.key))
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(_UnsrtStyle):
    """pybtex's ``unsrt`` entries, labelled author-year, sorted by author, year, title."""

    default_label_style = "authoryear"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _drop_duplicate_scripts, priority=100)
    app.connect("html-page-context", _search_math)
    app.connect("config-inited", _repository_substitutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
