"""Shared pytest configuration.

* CUDA-marked tests are skipped where no GPU is present.
* ``one_torch_thread``: a module-scoped fixture for test modules on tiny tensors.
* Hypothesis: locally every run draws new examples (and remembers failures in
  ``.hypothesis/``), so that the property tests keep looking for bugs; under ``CI=true``
  the examples are derandomised (the same on every run), so that CI's verdict on a
  commit does not depend on the luck of the draw. A failure found locally becomes a
  fix and, where useful, an ``@example``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread for a module of tests on tiny tensors: there, torch's threads
    only add synchronisation, which costs milliseconds per operation on a busy machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is in the dev environment
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (none present)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
