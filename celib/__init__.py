"""celib: cross-entropy, entropy and KL divergence, exact and memory-lean.

The top-level namespace holds the discrete-case functions (numpy arrays or torch
tensors) and :func:`default_device`. The other parts are submodules, imported on
first use so that ``import celib`` needs neither torch nor matplotlib:

``celib.measure``
    cross-entropy between distributions on a measure space (scipy.stats).
``celib.mle``
    empirical cross-entropy (average negative log-likelihood) and its minimisation.
``celib.nn``
    PyTorch training losses (drop-in replacements for ``torch.nn.functional``).
``celib.plotting``
    the book's figure helpers (matplotlib).
``celib.datasets``
    the small synthetic data sets and calibration bins the chapters use.
``celib.expfam``
    exponential families on a finite support: log-partition, moments, maximum entropy.
``celib.variational``
    the evidence lower bound (ELBO) of exactly solvable latent-variable models.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

from celib._device import default_device
from celib.discrete import (
    binary_cross_entropy,
    categorical_cross_entropy,
    cross_entropy,
    entropy,
    kl_divergence,
    shannon_code,
)

__version__ = "0.1.0"

# The book's modules (DESIGN.md), those present in this installation.
_SUBMODULES = tuple(
    name
    for name in (
        "datasets",
        "discrete",
        "expfam",
        "measure",
        "mle",
        "nn",
        "plotting",
        "variational",
    )
    if importlib.util.find_spec(f"celib.{name}") is not None
)

__all__ = [
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "cross_entropy",
    "default_device",
    "entropy",
    "kl_divergence",
    "shannon_code",
    *_SUBMODULES,
]

if TYPE_CHECKING:  # pragma: no cover
    from celib import datasets, expfam, measure, mle, nn, plotting, variational  # noqa: F401


def __getattr__(name: str):
    # Lazy submodules (PEP 562): ``celib.nn`` imports torch only when first used.
    if name in _SUBMODULES:
        return importlib.import_module(f"celib.{name}")
    raise AttributeError(f"module 'celib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
