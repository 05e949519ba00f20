"""Re-executing a notebook on unchanged code changes nothing (``make execute``).

``make execute`` runs ``tools/nbexecute.py``; after it, ``git status`` must show only what
the code changed. Two checks:

- every committed notebook is already in the form that script writes (no execution
  timestamps, canonical JSON) and prints no absolute file path (a traceback showing the
  folders of the machine that ran it);
- one real chapter, re-executed into memory, comes out byte for byte as committed: its
  text, its figures (PNG bytes) and its metadata. Chapter 6 is used because it is the
  quickest to run (about 5 s, plus the start of a kernel) and draws figures.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
QUICK = ROOT / "chapters" / "06_at_scale.ipynb"


def _load_tool():
    spec = importlib.util.spec_from_file_location("nbexecute", ROOT / "tools" / "nbexecute.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nbexecute = _load_tool()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_normalised(path: Path) -> None:
    committed = path.read_text(encoding="utf-8")
    stamped = [
        index
        for index, cell in enumerate(nbformat.reads(committed, as_version=4).cells)
        if "execution" in cell.metadata
    ]
    assert not stamped, (
        f"{path.name}: cells {stamped} carry execution timestamps; `make nbclean` (or "
        "`make execute`) removes them"
    )
    assert nbexecute.reexecute(path, run=False) == committed, (
        f"{path.name} is not in canonical form: run `make nbclean`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_absolute_paths_in_outputs(path: Path) -> None:
    found = nbexecute.absolute_paths(nbformat.read(path, as_version=4))
    assert not found, (
        f"{path.name} prints absolute paths (start a failing cell with `%xmode Minimal`): {found}"
    )


def test_sanitized_noise_keeps_the_committed_text() -> None:
    patterns = nbexecute.sanitize_patterns()
    cell = {"cell_type": "code", "source": "t()", "metadata": {}, "execution_count": 1}
    stream = {"output_type": "stream", "name": "stdout"}
    old = nbformat.from_dict(
        {"cells": [{**cell, "outputs": [{**stream, "text": "x = 1.0 (2.1 ms elapsed)\n"}]}]}
    )
    new = nbformat.from_dict(
        {"cells": [{**cell, "outputs": [{**stream, "text": "x = 1.0 (3.7 ms elapsed)\n"}]}]}
    )
    assert nbexecute.keep_committed_noise(new, old, patterns) == 1
    assert new.cells[0].outputs[0].text == "x = 1.0 (2.1 ms elapsed)\n"
    changed = nbformat.from_dict(
        {"cells": [{**cell, "outputs": [{**stream, "text": "x = 1.5 (3.7 ms elapsed)\n"}]}]}
    )
    assert nbexecute.keep_committed_noise(changed, old, patterns) == 0
    assert changed.cells[0].outputs[0].text == "x = 1.5 (3.7 ms elapsed)\n"


@pytest.mark.slow
def test_reexecution_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "MPLCONFIGDIR", os.environ.get("MPLCONFIGDIR", str(ROOT / ".venv" / "mplconfig"))
    )
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    expected = nbexecute.reexecute(QUICK, run=False)  # the committed file, normalised
    got = nbexecute.reexecute(QUICK)
    if got != expected:
        import difflib

        diff = "".join(
            list(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    got.splitlines(keepends=True),
                    "committed",
                    "re-executed",
                    n=1,
                )
            )[:60]
        )
        pytest.fail(f"re-executing {QUICK.name} changed it:\n{diff}")
