"""Private helpers shared by celib's array functions: namespaces, dtypes, validation.

Everything here works on numpy arrays and torch tensors (any device) through the
array API (``array_api_compat``). Messages name the argument and the rule it broke.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import array_api_compat
import numpy as np

REDUCTIONS = ("mean", "sum", "none")


def namespace(**arrays: Any) -> tuple[Any, dict[str, Any]]:
    """Return the array namespace of the arguments and the arguments as its arrays.

    Arrays (numpy or torch) fix the namespace; Python lists and scalars are converted
    into it (on the device of the first array). Integer and boolean arrays become the
    namespace's default floating dtype; complex and non-numeric input is a TypeError.
    """
    kinds = {name: _kind(value) for name, value in arrays.items()}
    real = {name: kind for name, kind in kinds.items() if kind is not None}
    if len(set(real.values())) > 1:
        listing = ", ".join(f"{name} is a {kind} array" for name, kind in real.items())
        raise TypeError(f"arguments must all be numpy arrays or all torch tensors: {listing}")
    if real:
        first = next(name for name in arrays if kinds[name] is not None)
        xp = array_api_compat.array_namespace(arrays[first])
        device = array_api_compat.device(arrays[first])
    else:
        xp = array_api_compat.array_namespace(np.empty(0))
        device = None
    out = {}
    for name, value in arrays.items():
        if kinds[name] is None:
            try:
                value = np.asarray(value)
            except (ValueError, TypeError) as exc:
                raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from exc
            if real and xp is not array_api_compat.array_namespace(value):
                value = xp.asarray(value, device=device)
        elif device is not None and array_api_compat.device(value) != device:
            raise ValueError(
                f"{name} is on device {array_api_compat.device(value)}, but "
                f"{first} is on {device}: put them on the same device"
            )
        out[name] = value
    return xp, out


def _kind(value: Any) -> str | None:
    if array_api_compat.is_torch_array(value):
        return "torch"
    if array_api_compat.is_numpy_array(value):
        return "numpy"
    if hasattr(value, "__array_namespace__"):
        return type(value).__module__.split(".")[0]
    return None


def floating(xp: Any, x: Any, name: str) -> Any:
    """Return ``x`` with a real floating dtype (integers and booleans are promoted)."""
    dtype = x.dtype
    if xp.isdtype(dtype, "real floating"):
        return x
    if xp.isdtype(dtype, "bool") or xp.isdtype(dtype, "integral"):
        return xp.astype(x, default_float(xp))
    raise TypeError(f"{name} must hold real numbers, got dtype {dtype}")


def default_float(xp: Any) -> Any:
    """The floating dtype integers are promoted to: float64 for numpy, torch's default."""
    if array_api_compat.is_torch_namespace(xp):
        import torch

        return torch.get_default_dtype()
    return xp.float64


def common_float(xp: Any, *arrays: Any) -> tuple[Any, ...]:
    """Cast floating arrays to their common result type."""
    dtype = xp.result_type(*arrays)
    return tuple(a if a.dtype == dtype else xp.astype(a, dtype) for a in arrays)


def norm_tolerance(xp: Any, dtype: Any) -> float:
    r"""Tolerance on :math:`|\sum_i p_i - 1|`: :math:`\sqrt{\varepsilon}` of the dtype.

    That is 1.5e-8 in float64, 3.5e-4 in float32 and 3.1e-2 in float16: loose enough
    for vectors normalised in that precision, tight enough to catch unnormalised input.
    """
    return math.sqrt(float(xp.finfo(dtype).eps))


def check_finite(xp: Any, x: Any, name: str, what: str = "values") -> None:
    if not bool(xp.all(xp.isfinite(x))):
        bad = "NaN" if bool(xp.any(xp.isnan(x))) else "infinite"
        raise ValueError(f"{name} contains {bad} {what}; they must be finite")


def check_probabilities(xp: Any, x: Any, name: str, axis: int | None) -> None:
    """Finite, non-negative and (if ``axis`` is not None) summing to 1 along ``axis``."""
    check_finite(xp, x, name, "probabilities")
    if bool(xp.any(x < 0)):
        low = float(xp.min(x))
        raise ValueError(
            f"{name} has negative mass (minimum {low:.3g}); probabilities must be >= 0"
        )
    if axis is None:
        if bool(xp.any(x > 1)):
            high = float(xp.max(x))
            raise ValueError(f"{name} has a probability above 1 (maximum {high:.6g})")
        return
    if x.shape[axis] == 0:
        raise ValueError(f"{name} is empty along axis {axis}; a distribution needs >= 1 outcome")
    totals = xp.sum(x, axis=axis)
    tol = norm_tolerance(xp, x.dtype)
    err = xp.abs(totals - 1)
    if bool(xp.any(err > tol)):
        lo, hi = float(xp.min(totals)), float(xp.max(totals))
        raise ValueError(
            f"{name} is not normalised along axis {axis}: its sums lie in [{lo:.6g}, {hi:.6g}], "
            f"but must be 1 within {tol:.1e} ({x.dtype})"
        )


def broadcast(xp: Any, names: Sequence[str], *arrays: Any) -> list[Any]:
    try:
        return list(xp.broadcast_arrays(*arrays))
    except (ValueError, RuntimeError) as exc:
        shapes = ", ".join(f"{n}{tuple(a.shape)}" for n, a in zip(names, arrays, strict=True))
        raise ValueError(f"shapes do not broadcast: {shapes}") from exc


def normalize_axis(axis: int, ndim: int, name: str = "axis") -> int:
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(axis).__name__}")
    if ndim == 0:
        raise ValueError("probability vectors need at least one dimension; got a scalar")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for arrays with {ndim} dimension(s)")
    return int(axis) % ndim


def log_base(base: float | None) -> float | None:
    """``log(base)`` to divide by, or None for nats; checks ``base``."""
    if base is None:
        return None
    if isinstance(base, bool) or not isinstance(base, int | float | np.floating | np.integer):
        raise TypeError(f"base must be a number, got {type(base).__name__}")
    base = float(base)
    if not math.isfinite(base) or base <= 0 or base == 1:
        raise ValueError(f"base must be a positive finite number other than 1, got {base}")
    return math.log(base)


def reduce(xp: Any, loss: Any, reduction: str) -> Any:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return xp.sum(loss)
    return xp.mean(loss)


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def finish(x: Any) -> Any:
    """numpy 0-d results become numpy scalars (like numpy's own reductions)."""
    if array_api_compat.is_numpy_array(x) and x.ndim == 0:
        return x[()]
    return x
