"""Docstring fragments shared by celib's public functions, written once.

A docstring marks a fragment as ``%(name)s`` (scipy's ``docfiller`` convention), on a
line of its own indented like a numpydoc entry (4 spaces), and the function is decorated
with :func:`fill`. A fragment's first line has no indentation (the marker's is kept);
its other lines carry the indentation they have in a function docstring (4 spaces for an
entry, 8 for its text).
Only ``%(name)s`` markers are replaced, so LaTeX and other ``%`` signs are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

FRAGMENTS: dict[str, str] = {
    "base": """\
base : float, optional
        Logarithm base: None (nats, the default), 2 (bits), 10 (bans), ...; a real
        number, finite, positive and not 1.""",
    "axis": """\
axis : int, default -1
        The axis that indexes outcomes; other axes are a batch.""",
    "reduction": """\
reduction : {"mean", "sum", "none"}, default "mean"
        The mean of the per-sample losses, their sum, or the losses themselves (as in
        PyTorch).""",
    "rng": """\
rng : numpy.random.Generator or int, default 0
        The random numbers: a Generator (used and advanced) or an int seed of
        ``numpy.random.default_rng``; the same seed gives the same arrays.""",
}

_MARK = re.compile(r"%\((\w+)\)s")


def fill(**extra: str) -> Callable[[F], F]:
    """Decorator: replace the ``%(name)s`` markers of the docstring by fragments.

    ``extra`` adds or overrides fragments for one module.
    """
    fragments = {**FRAGMENTS, **extra}

    def decorate(func: F) -> F:
        if func.__doc__:
            func.__doc__ = _MARK.sub(lambda m: fragments[m.group(1)], func.__doc__)
        return func

    return decorate
