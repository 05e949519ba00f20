"""celib's one validation layer: every public function checks its arguments here.

The rule, everywhere: a wrong *type* raises ``TypeError``, a wrong *value* raises
``ValueError``, and the message names the argument, the rule it broke and the offending
value (``"n must be >= 1, got 0"``). Nothing is silently cast (complex input is refused,
``True`` is not a count) and nothing returns a silent ``nan``.

The functions, by what they check:

Arrays (numpy or torch, any device, through the array API)
    :func:`namespace` (the arrays' namespace, lists converted into it),
    :func:`floating`, :func:`default_float`, :func:`common_float`, :func:`broadcast`,
    :func:`check_finite`, :func:`check_probabilities` (with :func:`norm_tolerance`),
    :func:`check_labels` (integer class labels), :func:`finish` (numpy 0-d -> scalar).
numpy data (``datasets``, ``plotting``, ``mle``)
    :func:`real_array` (finite real numbers of a given shape, as float64),
    :func:`label_array` (integer class labels as int64).
Scalars and options
    :func:`real_scalar`, :func:`count` (counts, resolutions, bin numbers),
    :func:`flag` (a bool), :func:`choice` (one of a few strings),
    :func:`check_callable`, :func:`normalize_axis` (``axis``), :func:`log_base`
    (``base``) and :func:`to_base`.
Reductions
    :data:`REDUCTIONS`, :func:`check_reduction`, :func:`mean_divisor` (the one
    definition of what a ``'mean'`` divides by) and :func:`reduce`.
Randomness, laws, parameters
    :func:`rng` (a ``Generator`` or an int seed), :func:`is_frozen_law`,
    :func:`is_law_family` (an unfrozen ``stats.gamma``) and :func:`frozen_law` (a law:
    a frozen ``scipy.stats`` distribution with real, finite parameters, or a family
    without shapes; a clear TypeError for ``stats.gamma`` without its ``a``),
    :func:`mapping` (a dict of named numeric parameters, e.g. ``fixed``, ``x0``).

Docstring fragments shared by public functions live in ``celib._docs``.
Messages
    :func:`describe` (a short, bounded description of an offending value).

``import celib`` imports this module, so it imports neither torch nor scipy.stats at
module level (both are imported inside the functions that need them).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import array_api_compat
import numpy as np

#: The reductions of a loss over its terms, as in PyTorch.
REDUCTIONS = ("mean", "sum", "none")

_REPR_LIMIT = 60


# --------------------------------------------------------------------------- messages


def describe(value: Any) -> str:
    """A short description of ``value`` for an error message (at most ~60 characters).

    Arrays are described by kind, shape and dtype, other values by a truncated repr
    prefixed with the type name when the repr does not show it.
    """
    if array_api_compat.is_array_api_obj(value):
        kind = "torch tensor" if array_api_compat.is_torch_array(value) else "array"
        shape = tuple(value.shape)
        if math.prod(shape) <= 4 and len(shape) <= 1:
            text = repr(value.tolist()) if hasattr(value, "tolist") else repr(value)
            return f"{kind} {text[:_REPR_LIMIT]} (dtype {value.dtype})"
        return f"{kind} of shape {shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > _REPR_LIMIT:
        text = text[: _REPR_LIMIT - 3] + "..."
    if isinstance(value, str | int | float | bool | type(None)):
        return text
    return f"{type(value).__name__} {text}"


# ----------------------------------------------------------------- arrays (array API)


def namespace(**arrays: Any) -> tuple[Any, dict[str, Any]]:
    """Return the array namespace of the arguments and the arguments as its arrays.

    Arrays (numpy or torch) fix the namespace; Python lists and scalars are converted
    into it (on the device of the first array). Ragged or non-numeric input is a
    TypeError; so is mixing numpy arrays and torch tensors. Arrays on different
    devices are a ValueError.
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
            value = _as_numpy(value, name)
            if real and xp is not array_api_compat.array_namespace(value):
                value = xp.asarray(value, device=device)
        elif device is not None and array_api_compat.device(value) != device:
            raise ValueError(
                f"{name} is on device {array_api_compat.device(value)}, but "
                f"{first} is on {device}: put them on the same device"
            )
        out[name] = value
    return xp, out


def _as_numpy(value: Any, name: str) -> np.ndarray:
    if value is None or isinstance(value, str | bytes):
        raise TypeError(f"{name} must be array-like numbers, got {describe(value)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise TypeError(
            f"{name} must be array-like (a rectangular nested list or an array), "
            f"got {describe(value)}"
        ) from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got {describe(value)}")
    return arr


def _kind(value: Any) -> str | None:
    if array_api_compat.is_torch_array(value):
        return "torch"
    if array_api_compat.is_numpy_array(value):
        return "numpy"
    if hasattr(value, "__array_namespace__"):
        return type(value).__module__.split(".")[0]
    return None


def floating(xp: Any, x: Any, name: str) -> Any:
    """Return ``x`` with a real floating dtype (integers and booleans are promoted).

    Complex and non-numeric dtypes are a TypeError.
    """
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
    """ValueError if ``x`` holds a NaN or an infinity (``what`` names the entries)."""
    if not bool(xp.all(xp.isfinite(x))):
        bad = "NaN" if bool(xp.any(xp.isnan(x))) else "infinite"
        raise ValueError(f"{name} contains {bad} {what}; they must be finite")


def check_probabilities(xp: Any, x: Any, name: str, axis: int | None) -> None:
    """Finite, non-negative and (if ``axis`` is not None) summing to 1 along ``axis``.

    With ``axis=None`` each entry is a probability on its own (in [0, 1]). A
    distribution with no outcome (length 0 along ``axis``) is a ValueError.
    """
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


def check_labels(xp: Any, t: Any, name: str, n_classes: int) -> None:
    """Integer class labels in ``[0, n_classes)``: TypeError for another dtype."""
    if xp.isdtype(t.dtype, "bool") or not xp.isdtype(t.dtype, "integral"):
        raise TypeError(f"{name} must hold integer class labels, got dtype {t.dtype}")
    if math.prod(tuple(t.shape)) == 0:
        return
    lo, hi = int(xp.min(t)), int(xp.max(t))
    if lo < 0 or hi >= n_classes:
        raise ValueError(
            f"{name} has labels outside [0, {n_classes - 1}] (found {lo}..{hi}); there are "
            f"{n_classes} classes"
        )


def broadcast(xp: Any, names: Sequence[str], *arrays: Any) -> list[Any]:
    """Broadcast ``arrays`` against each other; ValueError naming all shapes if not."""
    try:
        return list(xp.broadcast_arrays(*arrays))
    except (ValueError, RuntimeError) as exc:
        shapes = ", ".join(f"{n}{tuple(a.shape)}" for n, a in zip(names, arrays, strict=True))
        raise ValueError(f"shapes do not broadcast: {shapes}") from exc


def normalize_axis(axis: int, ndim: int, name: str = "axis", *, array: str | None = None) -> int:
    """``axis`` as an index in ``range(ndim)``; negative axes count from the end.

    ``array`` names the array the axis belongs to, for the message when it is a scalar.
    """
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{name} must be an int, got {describe(axis)}")
    if ndim == 0:
        what = "probability vectors" if array is None else array
        raise ValueError(
            f"{what} must have at least one dimension (the {name} of outcomes); got a scalar"
        )
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for arrays with {ndim} dimension(s)")
    return int(axis) % ndim


def finish(x: Any) -> Any:
    """numpy 0-d results become numpy scalars (like numpy's own reductions)."""
    if array_api_compat.is_numpy_array(x) and x.ndim == 0:
        return x[()]
    return x


# ----------------------------------------------------------------------- numpy data


def real_array(
    value: Any,
    name: str,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    nonempty: bool = True,
    finite: bool = True,
) -> np.ndarray:
    """``value`` as a float64 numpy array of real numbers.

    TypeError for None, strings, ragged lists, complex, object or string dtypes, and
    torch tensors; ValueError for a wrong number of dimensions, a wrong ``shape``
    (``None`` entries match any length), no entries (unless ``nonempty=False``), or
    NaN/inf (unless ``finite=False``). Booleans and integers are converted.
    """
    if array_api_compat.is_array_api_obj(value) and not isinstance(value, np.ndarray | np.generic):
        raise TypeError(f"{name} must be a numpy array or array-like, got {describe(value)}")
    arr = _as_numpy(value, name).astype(np.float64, copy=False)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if shape is not None and (
        arr.ndim != len(shape)
        or any(want is not None and want != got for want, got in zip(shape, arr.shape))
    ):
        want = "(" + ", ".join("n" if s is None else str(s) for s in shape)
        want += ",)" if len(shape) == 1 else ")"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one entry")
    if finite and not np.all(np.isfinite(arr)):
        bad = "NaN" if np.any(np.isnan(arr)) else "inf"
        raise ValueError(f"{name} must be finite, but contains {bad}")
    return arr


def label_array(value: Any, name: str, *, n_classes: int | None = None) -> np.ndarray:
    """Integer class labels as an int64 numpy array (1-D), in ``[0, n_classes)``.

    Float, bool, complex and string labels are a TypeError (a label 1.5 has no
    class); negative labels, or labels >= ``n_classes``, a ValueError.
    """
    if array_api_compat.is_array_api_obj(value) and not isinstance(value, np.ndarray | np.generic):
        raise TypeError(f"{name} must be a numpy array or array-like, got {describe(value)}")
    arr = _as_numpy(value, name)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must be class labels >= 0, got {int(arr.min())}")
    if n_classes is not None and arr.size and arr.max() >= n_classes:
        raise ValueError(f"{name} must be class labels < {n_classes}, got {int(arr.max())}")
    return arr.astype(np.int64, copy=False)


# -------------------------------------------------------------------- scalars, options


def _is_real_number(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"


def real_scalar(
    value: Any,
    name: str,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    finite: bool = True,
) -> float:
    """``value`` as a Python float: a real number (not a bool, a string or a list).

    ValueError for NaN/inf (unless ``finite=False``; NaN is always refused), a value
    <= 0 with ``positive`` or < 0 with ``nonnegative``.
    """
    if not _is_real_number(value):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    v = float(value)
    if math.isnan(v) or (finite and math.isinf(v)):
        raise ValueError(f"{name} must be a finite number, got {v}")
    if positive and not v > 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    if nonnegative and not v >= 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v


def count(value: Any, name: str, minimum: int = 0) -> int:
    """``value`` as an int >= ``minimum`` (a count, a resolution, a number of bins).

    Only ``int`` and numpy integers are counts: a bool, a float (even ``2.0``, and
    NaN or inf), a string or None is a TypeError.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def flag(value: Any, name: str) -> bool:
    """``value`` as a bool: only ``True``/``False`` (or numpy bools); TypeError otherwise."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """One of the strings ``choices``: TypeError for a non-string, ValueError otherwise."""
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {choices}, got {describe(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_callable(value: Any, name: str, what: str = "a callable") -> Callable[..., Any]:
    """TypeError unless ``value`` is callable (``what`` says what it should be)."""
    if not callable(value):
        raise TypeError(f"{name} must be {what}, got {describe(value)}")
    return value


def log_base(base: float | None, name: str = "base") -> float | None:
    """``log(base)`` to divide a natural-log result by, or None for nats.

    ``base`` is None (nats) or a real number, finite, > 0 and != 1 (2 gives bits).
    """
    if base is None:
        return None
    if not _is_real_number(base):
        raise TypeError(
            f"{name} must be a number (e.g. 2 for bits) or None for nats, got {describe(base)}"
        )
    b = float(base)
    if not math.isfinite(b) or b <= 0 or b == 1:
        raise ValueError(f"{name} must be a positive finite number other than 1, got {b}")
    return math.log(b)


def to_base(value: Any, base: float | None, name: str = "base") -> Any:
    """A natural-log ``value`` converted to logarithms in ``base`` (checked)."""
    scale = log_base(base, name)
    return value if scale is None else value / scale


# ------------------------------------------------------------------------- reductions


def check_reduction(reduction: Any, name: str = "reduction") -> str:
    """``reduction`` as one of :data:`REDUCTIONS` (TypeError for a non-string)."""
    return choice(reduction, name, REDUCTIONS)


def mean_divisor(xp: Any, loss: Any, weights: Any = None) -> Any:
    r"""What a ``'mean'`` reduction divides the summed loss by.

    The number of terms, :math:`n`, or with ``weights`` (PyTorch's weighted mean, e.g.
    class weights of the rows) their sum :math:`\sum_i w_i`. The one definition in
    celib: every ``'mean'`` is ``sum(loss) / mean_divisor(...)``.
    """
    if weights is None:
        return math.prod(tuple(loss.shape))
    return xp.sum(weights)


def reduce(
    xp: Any, loss: Any, reduction: str, *, weights: Any = None, name: str | None = None
) -> Any:
    """Reduce ``loss`` by ``reduction`` (see :func:`mean_divisor` for ``'mean'``).

    With ``weights``, ``'sum'`` is also weighted (``loss`` should then hold the
    weighted terms already, as in PyTorch; ``weights`` only change the divisor). The
    mean of no terms (or of zero total weight) is 0/0: with ``name`` (the arguments the
    terms come from) given it is a ValueError naming them; without, it is NaN, as in
    PyTorch (celib.nn, a drop-in, keeps that).
    """
    check_reduction(reduction)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return xp.sum(loss)
    divisor = mean_divisor(xp, loss, weights)
    # an int divisor costs nothing to test; a tensor one is tested (a device sync) only
    # when the caller wants the error, else 0/0 gives NaN by itself
    if (isinstance(divisor, int) or name is not None) and float(divisor) == 0:
        if name is not None:
            raise ValueError(
                f"reduction='mean' of no terms is 0/0, undefined: no entries in {name}; "
                "use reduction='sum' (0 for no terms) or 'none'"
            )
        return xp.sum(loss) * float("nan")
    if weights is None:
        return xp.mean(loss)
    return xp.sum(loss) / divisor


# ------------------------------------------------------------ randomness, laws, params


def rng(value: Any, name: str = "rng") -> np.random.Generator:
    """A ``numpy.random.Generator``: ``value`` itself, or ``default_rng(value)`` for an int.

    A Generator is used as given (and advanced); an int (>= 0) seeds a new one, so the
    same int gives the same numbers. Anything else (None, a float, a legacy
    ``RandomState``) is a TypeError: celib's results are reproducible by default.
    """
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"{name} must be a numpy.random.Generator or an int seed, got {describe(value)}"
        )
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int seed, got {value}")
    return np.random.default_rng(int(value))


def is_frozen_law(value: Any) -> bool:
    """Whether ``value`` is a frozen scipy.stats distribution (``stats.norm(0, 1)``)."""
    from scipy import stats
    from scipy.stats._distn_infrastructure import rv_frozen
    from scipy.stats._multivariate import multi_rv_frozen

    if isinstance(value, rv_frozen | multi_rv_frozen):
        return True
    return isinstance(getattr(value, "dist", None), stats.rv_continuous | stats.rv_discrete)


def is_law_family(value: Any) -> bool:
    """Whether ``value`` is an unfrozen scipy.stats family (``stats.norm``, ``stats.gamma``)."""
    from scipy import stats
    from scipy.stats._multivariate import multi_rv_generic

    return isinstance(value, stats.rv_continuous | stats.rv_discrete | multi_rv_generic)


def frozen_law(value: Any, name: str) -> Any:
    """``value`` if it is a law: a frozen scipy.stats distribution with real, finite
    parameters, or a family without shape parameters (``stats.norm`` is the standard
    normal, ``stats.rv_discrete(values=...)`` its listed law).

    TypeError for a family that needs shape parameters (``stats.gamma`` rather than
    ``stats.gamma(2)``: the message names them), for anything else that is not a law,
    and for a parameter that is not a real number (None, a string, complex);
    ValueError for a NaN/inf parameter, or one outside the family's domain (scipy
    would answer NaN there).
    """
    if is_law_family(value):
        family = getattr(value, "name", None) or type(value).__name__
        shapes = getattr(value, "shapes", None)
        if shapes:
            raise TypeError(
                f"{name} must be a frozen distribution, not the family stats.{family}, "
                f"which needs its shape parameter(s) {shapes}: pass stats.{family}({shapes}, "
                "loc=..., scale=...) with numbers"
            )
        return value
    if not is_frozen_law(value):
        raise TypeError(
            f"{name} must be a frozen scipy.stats distribution (e.g. stats.norm(0, 1)), "
            f"got {describe(value)}"
        )
    params = dict(enumerate(getattr(value, "args", ())))
    params.update(getattr(value, "kwds", {}) or {})
    for key, v in params.items():
        label = f"{name}'s parameter {key}" if isinstance(key, str) else f"{name}'s shape {key}"
        try:
            arr = np.asarray(v)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{label} must be a real number, got {describe(v)}") from exc
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{label} must be a real number, got {describe(v)}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{label} must be finite, got {describe(v)}")
    dist = getattr(value, "dist", None)
    if hasattr(dist, "_argcheck") and hasattr(value, "args"):
        try:
            shapes, _, scale = dist._parse_args(*value.args, **value.kwds)
            with np.errstate(all="ignore"):
                ok = bool(np.all(dist._argcheck(*shapes)) and np.all(np.asarray(scale) > 0))
        except TypeError as exc:  # a missing or unexpected parameter
            raise TypeError(f"{name}: {exc}") from exc
        if not ok:
            raise ValueError(
                f"{name} has parameters outside the domain of stats.{dist.name}: "
                f"args {value.args}, keywords {value.kwds}"
            )
    return value


def mapping(
    value: Any,
    name: str,
    *,
    keys: Iterable[str] | None = None,
    allow_none: bool = False,
) -> dict[str, float | None]:
    """A dict of named real parameters, e.g. ``{"loc": 0.0, "scale": 2.0}``.

    TypeError unless ``value`` is a Mapping with string keys and real-number values
    (None too with ``allow_none``); ValueError for a key not in ``keys`` (listed in the
    message) or a NaN/inf value. None stands for an empty mapping.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{name} must be a mapping of parameter names to numbers, e.g. "
            f"{{'loc': 0.0}}, got {describe(value)}"
        )
    allowed = tuple(keys) if keys is not None else None
    out: dict[str, float | None] = {}
    for key, v in value.items():
        if not isinstance(key, str):
            raise TypeError(f"{name}: parameter names must be strings, got {describe(key)}")
        if allowed is not None and key not in allowed:
            raise ValueError(
                f"{name}: unknown parameter {key!r} (parameters: {', '.join(allowed)})"
            )
        if v is None and allow_none:
            out[key] = None
            continue
        out[key] = real_scalar(v, f"{name}[{key!r}]")
    return out
