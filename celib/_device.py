"""Where celib's torch code runs: :func:`default_device`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch

ENV_VAR = "CELIB_DEVICE"


def default_device() -> torch.device:
    """Return the device the book's torch code should run on.

    The first available of CUDA, Apple's MPS, and the CPU. The environment variable
    ``CELIB_DEVICE`` (for example ``"cpu"`` or ``"cuda:1"``) overrides the choice, so a
    reader with a GPU can still reproduce the CPU run.

    Returns
    -------
    torch.device
        ``cuda`` if ``torch.cuda.is_available()``, else ``mps`` if
        ``torch.backends.mps.is_available()``, else ``cpu``.

    Raises
    ------
    ImportError
        If PyTorch is not installed (it is the ``torch`` extra:
        ``pip install celib[torch]``).
    ValueError
        If ``CELIB_DEVICE`` is not a device string torch understands, or names a
        device type that is not available on this machine.

    Examples
    --------
    >>> import os, celib
    >>> os.environ["CELIB_DEVICE"] = "cpu"
    >>> celib.default_device()
    device(type='cpu')
    >>> del os.environ["CELIB_DEVICE"]
    """
    try:
        import torch
    except ModuleNotFoundError as exc:
        raise ImportError(
            "celib.default_device() needs PyTorch, which is not installed: "
            "pip install celib[torch] (or pip install torch)"
        ) from exc

    requested = os.environ.get(ENV_VAR, "").strip()
    if requested:
        try:
            device = torch.device(requested)
        except (RuntimeError, ValueError) as exc:
            raise ValueError(
                f"{ENV_VAR}={requested!r} is not a torch device string "
                "(expected e.g. 'cpu', 'cuda', 'cuda:1', 'mps')"
            ) from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"{ENV_VAR}={requested!r} asks for CUDA, but no CUDA device is available"
            )
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"{ENV_VAR}={requested!r} asks for MPS, but MPS is not available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
