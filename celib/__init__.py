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
``celib.scoring``
    scoring rules and calibration: log and Brier scores, focal loss, the expected
    calibration error, the calibration-refinement split, temperature scaling.
``celib.plotting``
    the book's figure helpers (matplotlib).
``celib.datasets``
    the small synthetic data sets and calibration bins the chapters use.
``celib.expfam``
    exponential families on a finite support, maximum-entropy distributions.
``celib.variational``
    the ELBO and exact evidence of small latent-variable models; KL projections.
``celib.coding``
    cross-entropy as code length: an arithmetic coder, text models, perplexity.
``celib.surrogates``
    margin losses of learning theory (0-1, logistic, hinge, exponential, squared),
    their risks, the psi-transform bounds and empirical risk minimisation.

Every public function checks its arguments in one place (``celib._checks``): a wrong
type raises TypeError, a wrong value ValueError, and the message names the argument.
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

# The public submodules, those present in this installation (lazy, see __getattr__).
_SUBMODULES = tuple(
    name
    for name in (
        "coding",
        "datasets",
        "discrete",
        "expfam",
        "measure",
        "mle",
        "nn",
        "plotting",
        "scoring",
        "surrogates",
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
    from celib import (  # noqa: F401
        coding,
        datasets,
        expfam,
        measure,
        mle,
        nn,
        plotting,
        scoring,
        surrogates,
        variational,
    )


def __getattr__(name: str):
    # Lazy submodules (PEP 562): ``celib.nn`` imports torch only when first used.
    if name in _SUBMODULES:
        return importlib.import_module(f"celib.{name}")
    raise AttributeError(f"module 'celib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
