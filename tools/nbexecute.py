"""Re-execute the book's notebooks in place, reproducibly (``make execute``).

Running a notebook twice on unchanged code must not change its file, so that after
``make execute`` ``git status`` shows only what the code changed. This script

- executes each notebook with nbclient in its own folder, without recording cell timestamps
  (no ``execution`` metadata in the cells: it is also removed where an older run left it)
  and without the kernel's Python patch version, which differs between machines;
- keeps the committed text of an output that differs from the new one only in the parts
  ``tests/nbval_sanitize.cfg`` replaces (timings, device names, memory addresses), the
  same comparison strict nbval makes: such outputs are noise, not results
  (``--new-timings`` writes the new ones instead);
- writes the notebook in nbformat's canonical JSON (sorted keys, one-space indent);
- warns about absolute file paths in the outputs (a traceback showing the machine's
  folders): the text of a notebook must be the same wherever it runs.

Figures need nothing special: matplotlib's PNG writer stores no date (only
``Software: Matplotlib version ...``, fixed by the pinned version), so the same figure
gives the same bytes; ``tests/test_reexecute.py`` checks it on a real chapter.

Usage: ``python tools/nbexecute.py [--new-timings] [--clean-only] NOTEBOOK...``.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
TIMEOUT = 600  # seconds per cell

# An absolute path in an output: a Unix folder a machine would have, a Windows drive.
_ABSOLUTE_PATH = re.compile(
    r"(?<![\w.~])/(?:home|root|tmp|usr|opt|work|srv|mnt|var|private|Users)/[^\s\"'\x1b:]+"
    r"|\b[A-Za-z]:\\[^\s\"']+"
    r"|site-packages"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the colours of a traceback


def sanitize_patterns(path: Path = SANITIZE) -> list[tuple[str, str]]:
    """The (regex, replacement) pairs of the nbval sanitizer file, read as nbval reads it."""
    return re.findall(r"^regex: (.*)$\n^replace: (.*)$", path.read_text(), flags=re.MULTILINE)


def _sanitized(value: object, patterns: list[tuple[str, str]]) -> object:
    if isinstance(value, str):
        for regex, replace in patterns:
            value = re.sub(regex, replace, value)
        return value
    if isinstance(value, list):
        return [_sanitized(item, patterns) for item in value]
    if isinstance(value, dict):
        return {key: _sanitized(item, patterns) for key, item in value.items()}
    return value


def _outputs_key(outputs: list, patterns: list[tuple[str, str]]) -> str:
    """The outputs as strict nbval compares them (sanitized), as one string."""
    return json.dumps(_sanitized(outputs, patterns), sort_keys=True)


def _coalesce_streams(outputs: list) -> list:
    """Consecutive stdout (or stderr) outputs as one: how the kernel cuts a cell's printed
    text into messages depends on timing (a busy machine flushes more often), the text
    does not. nbval joins them the same way before it compares."""
    merged: list = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and last is not None
            and last.get("output_type") == "stream"
            and last.get("name") == output.get("name")
        ):
            last["text"] = "".join(_strings(last["text"])) + "".join(_strings(output["text"]))
        else:
            merged.append(output)
    return merged


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes from run to run or machine to machine without changing a result:
    cell timestamps, the kernel's Python patch version (``language_info.version``), and
    the cuts between consecutive printed outputs."""
    nb.metadata.get("language_info", {}).pop("version", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _coalesce_streams(cell.get("outputs", []))
            for output in cell.get("outputs", []):
                if output.get("output_type") == "execute_result":
                    output.get("metadata", {}).pop("execution", None)
    return nb


def keep_committed_noise(
    new: nbformat.NotebookNode,
    old: nbformat.NotebookNode,
    patterns: list[tuple[str, str]],
) -> int:
    """Give back the committed outputs of cells whose new outputs differ only in noise.

    A cell keeps its committed outputs when its source is unchanged and the old and new
    outputs are equal once sanitized (timings, device names, addresses). Returns how many
    cells kept their outputs.
    """
    kept = 0
    if len(new.cells) != len(old.cells):
        return kept
    for cell, before in zip(new.cells, old.cells):
        if cell.cell_type != "code" or cell.source != before.get("source"):
            continue
        after_outputs, before_outputs = cell.outputs, before.get("outputs", [])
        if after_outputs == before_outputs:
            continue
        if _outputs_key(after_outputs, patterns) == _outputs_key(before_outputs, patterns):
            cell.outputs = copy.deepcopy(before_outputs)
            kept += 1
    return kept


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for key, item in value.items() if key != "image/png" for s in _strings(item)]
    return []


def absolute_paths(nb: nbformat.NotebookNode) -> list[str]:
    """Absolute file paths printed in the outputs, as 'cell N: path'."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for text in _strings(cell.get("outputs", [])):
            text = _ANSI.sub("", text)
            found += [f"cell {index}: {m.group(0)}" for m in _ABSOLUTE_PATH.finditer(text)]
    return found


def execute(nb: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    """Run every cell (the ``raises-exception`` cells may fail) and return the notebook."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=TIMEOUT,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return nb


def reexecute(path: Path, *, new_timings: bool = False, run: bool = True) -> str:
    """The canonical text of ``path`` after a clean re-execution (nothing is written)."""
    old = nbformat.read(path, as_version=4)
    new = copy.deepcopy(old)
    if run:
        execute(new, path.parent)
    clean(new)
    if not new_timings:
        keep_committed_noise(new, clean(copy.deepcopy(old)), sanitize_patterns())
    return nbformat.writes(new) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument(
        "--new-timings",
        action="store_true",
        help="write new timings and device names too (default: keep the committed ones)",
    )
    parser.add_argument(
        "--clean-only", action="store_true", help="normalise the files without executing"
    )
    args = parser.parse_args(argv)
    for number, path in enumerate(args.notebooks, 1):
        action = "cleaning" if args.clean_only else "executing"
        print(f"[{number}/{len(args.notebooks)}] {action} {path}", flush=True)
        text = reexecute(path, new_timings=args.new_timings, run=not args.clean_only)
        if text != path.read_text(encoding="utf-8"):
            path.write_text(text, encoding="utf-8")
            print(f"    {path} changed", flush=True)
        paths = absolute_paths(nbformat.reads(text, as_version=4))
        for where in paths:
            print(f"    warning: absolute path in an output, {where}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
