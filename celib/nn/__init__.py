r"""Training losses for PyTorch: accurate, memory-lean drop-ins for ``torch.nn``.

The package's parts:

:mod:`celib.nn.functional`
    :func:`~celib.nn.functional.cross_entropy`,
    :func:`~celib.nn.functional.binary_cross_entropy_with_logits` and
    :func:`~celib.nn.functional.linear_cross_entropy`, with the signatures, shapes,
    reductions and targets of their namesakes in ``torch.nn.functional`` (PyTorch's own
    test samples pass, ``tests/test_nn_opinfo.py``).
:mod:`celib.nn.modules`
    :class:`~celib.nn.modules.CrossEntropyLoss`,
    :class:`~celib.nn.modules.BCEWithLogitsLoss` and
    :class:`~celib.nn.modules.LinearCrossEntropyLoss`, their ``torch.nn`` module forms.
``celib.nn._kernel`` (private)
    each formula once: the softmax cross-entropy (:math:`-\log p_y =
    \operatorname{log1p}(T / p_y)`), the binary cross-entropy with logits and the
    reduction, called by every form (the discrete functions of ``celib`` too).
``celib.nn._ce``, ``_bce``, ``_linear`` (private)
    the blocked torch kernels and their autograd functions; ``_args`` checks the
    arguments.

The names are imported on first use (PEP 562), so that ``celib.discrete`` can use the
kernel without importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Public name -> the submodule that defines it. (New losses, e.g. a focal loss, add
# their function to ``functional`` and their module to ``modules``, and a line here.)
_EXPORTS = {
    "binary_cross_entropy_with_logits": "functional",
    "cross_entropy": "functional",
    "linear_cross_entropy": "functional",
    "BCEWithLogitsLoss": "modules",
    "CrossEntropyLoss": "modules",
    "LinearCrossEntropyLoss": "modules",
}

__all__ = sorted(_EXPORTS, key=str.lower)

if TYPE_CHECKING:  # pragma: no cover
    from celib.nn.functional import (  # noqa: F401
        binary_cross_entropy_with_logits,
        cross_entropy,
        linear_cross_entropy,
    )
    from celib.nn.modules import (  # noqa: F401
        BCEWithLogitsLoss,
        CrossEntropyLoss,
        LinearCrossEntropyLoss,
    )


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"celib.nn.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    if name in ("functional", "modules"):
        return importlib.import_module(f"celib.nn.{name}")
    raise AttributeError(f"module 'celib.nn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | {"functional", "modules"})
