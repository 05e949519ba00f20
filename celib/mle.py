r"""Empirical cross-entropy (average negative log-likelihood) and its minimisation.

Given data :math:`z_1, \dots, z_n` and a model :math:`p_\theta`, the empirical
distribution :math:`\hat p_n = \frac1n \sum_i \delta_{z_i}` puts mass :math:`1/n` on
each observation, and the cross-entropy from the model to it is the average negative
log-likelihood

.. math::

    J(\theta) = H(\hat p_n, p_\theta) = -\frac1n \sum_{i=1}^n \log p_\theta(z_i).

Minimising :math:`J` over :math:`\theta` is maximum-likelihood estimation. For a
conditional model the observations are pairs :math:`(a_i, t_i)` of inputs and targets
and :math:`J(\theta) = -\frac1n \sum_i \log p_\theta(t_i \mid a_i)`.

:func:`empirical_cross_entropy` evaluates :math:`J` for a frozen ``scipy.stats``
distribution or for any callable returning log-probabilities (numpy or torch, so the
same function is a differentiable training loss); :func:`minimize_cross_entropy` fits a
``scipy.stats`` family by minimising :math:`J` with ``scipy.optimize``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from array_api_compat import array_namespace, is_array_api_obj
from scipy import optimize, special, stats

from celib import _checks, _docs

if TYPE_CHECKING:  # pragma: no cover
    from scipy.stats._distn_infrastructure import rv_frozen

__all__ = ["empirical_cross_entropy", "minimize_cross_entropy"]


# ---------------------------------------------------------------------------------------
# empirical_cross_entropy
# ---------------------------------------------------------------------------------------


def _is_discrete(model: Any) -> bool:
    if isinstance(getattr(model, "dist", None), stats.rv_continuous | stats.rv_discrete):
        return isinstance(model.dist, stats.rv_discrete)
    # scipy's newer distribution objects (stats.Binomial, ...): logpdf of a discrete
    # one is the log of a point mass "density", so use logpmf.
    return any(c.__name__ == "DiscreteDistribution" for c in type(model).__mro__)


def _log_prob_method(model: Any) -> Callable[[Any], Any]:
    """logpmf for a discrete model, else logpdf (the caller checked one exists)."""
    if _is_discrete(model) and hasattr(model, "logpmf"):
        return model.logpmf
    return model.logpdf if hasattr(model, "logpdf") else model.logpmf


def _as_array(a: Any, name: str) -> Any:
    """numpy for array_like input, untouched for array-API arrays (torch tensors)."""
    if is_array_api_obj(a):
        return a
    try:
        return np.asarray(a)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array_like, got {type(a).__name__}") from exc


def _check_samples(a: Any, name: str, *, real: bool = False) -> int:
    """Check a data array (non-empty, at least 1-D, no NaN/inf); return the sample count.

    ``real=True`` (data for a scipy.stats model) also requires real numbers; a callable
    model may take other data (labels as strings, say), but never complex numbers.
    """
    shape = tuple(a.shape)
    if len(shape) == 0:
        raise ValueError(f"{name} must hold samples along its first axis, got a scalar")
    n = int(shape[0])
    if n == 0 or math.prod(shape) == 0:
        raise ValueError(f"{name} is empty: the empirical distribution needs at least one sample")
    xp = array_namespace(a)
    complex_ = xp.isdtype(a.dtype, "complex floating")
    if (real or complex_) and not xp.isdtype(a.dtype, ("real floating", "integral", "bool")):
        raise TypeError(f"{name} must be real numbers, got dtype {a.dtype}")
    if xp.isdtype(a.dtype, "real floating"):
        if bool(xp.any(xp.isnan(a))):
            raise ValueError(f"{name} contains NaN: every sample must be a number")
        if not bool(xp.all(xp.isfinite(a))):
            raise ValueError(f"{name} contains inf: every sample must be finite")
    elif not xp.isdtype(a.dtype, ("integral", "bool")) and isinstance(a, np.ndarray):
        if a.dtype == object:
            raise TypeError(f"{name} must be numeric, got an array of dtype object")
    return n


def _reduce(nll: Any, reduction: str, base: float | None) -> Any:
    xp = array_namespace(nll)
    out = _checks.reduce(xp, _checks.to_base(nll, base), reduction, name="data")
    return _checks.finish(out)


@_docs.fill()
def empirical_cross_entropy(
    model: rv_frozen | Callable[..., Any],
    data: Any,
    *,
    reduction: str = "mean",
    base: float | None = None,
) -> Any:
    r"""Cross-entropy from a model to the empirical distribution of the data.

    For samples :math:`z_1, \dots, z_n` with empirical distribution
    :math:`\hat p_n = \frac1n\sum_i \delta_{z_i}`,

    .. math::

        J = H(\hat p_n, q) = -\frac1n \sum_{i=1}^n \log q(z_i),

    the average negative log-likelihood of the model :math:`q` (a density or a mass
    function). For a conditional model, ``data = (a, t)`` (inputs and targets) and
    :math:`J = -\frac1n \sum_i \log q(t_i \mid a_i)`.

    Parameters
    ----------
    model : frozen scipy.stats distribution or callable
        A frozen distribution such as ``stats.norm(0, 1)`` or ``stats.poisson(3)``, or
        a family without shape parameters (``stats.norm`` is the standard normal,
        ``stats.rv_discrete(values=...)`` its listed law) (its
        ``logpdf``, or ``logpmf`` for a discrete one, is used; any object with such a
        method works, e.g. ``stats.multivariate_normal(...)``), or a callable returning
        one log-probability per sample: ``model(z)`` for plain data, ``model(a, t)``
        giving :math:`\log q(t_i \mid a_i)` for conditional data. A callable may work
        on torch tensors; the result is then a torch tensor that carries gradients.
    data : array_like or tuple (a, t)
        The samples, along the first axis. A ``tuple`` of two arrays means conditional
        data ``(a, t)`` with the same number of samples (only with a callable model).
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'mean'`` gives :math:`J`; ``'sum'`` the total negative log-likelihood
        :math:`nJ`; ``'none'`` the per-sample values :math:`-\log q(z_i)`.
    %(base)s

    Returns
    -------
    numpy scalar, numpy.ndarray or torch.Tensor
        A numpy scalar (``numpy.float64``, a ``float``) for numpy inputs (``'mean'`` or
        ``'sum'``), an array for ``'none'``; a 0-d tensor (differentiable) when the
        callable returns tensors.
        ``+inf`` when a sample lies where the model has zero density or mass (the
        convention :math:`p > 0 = q \Rightarrow` infinite cross-entropy).

    Raises
    ------
    TypeError
        If ``model`` is neither a distribution nor callable, or is a family that needs
        shape parameters (``stats.gamma``), or a frozen law with a parameter that is not
        a real number; if ``reduction`` is not a string or ``base`` not a number; if a
        distribution is given
        conditional ``(a, t)`` data, or data that are not real numbers (a callable may
        take any labels, e.g. strings, but never complex numbers); if the model returns
        non-real values.
    ValueError
        If ``data`` is empty, a scalar, contains NaN or inf; if ``a`` and ``t`` have
        different numbers of samples; if the model returns a number of log-probabilities
        other than one per sample, NaN, or both ``+inf`` and ``-inf``; if ``reduction``
        or ``base`` is invalid; if a frozen law has a NaN/inf parameter or one outside
        its family's domain.

    See Also
    --------
    celib.mle.minimize_cross_entropy : the minimiser of :math:`J` over a family.
    celib.discrete.cross_entropy : :math:`H(\hat p_n, q)` from the counts, for a
        finite set of outcomes.

    Notes
    -----
    Argument order: the model first, then the data, as in scipy's ``rv.logpdf(z)``
    and ``family.fit(data)``; the data stand for the truth :math:`\hat p_n` of
    :math:`H(\hat p_n, q)`.

    References
    ----------
    R. A. Fisher, "On the mathematical foundations of theoretical statistics",
    *Philosophical Transactions of the Royal Society A* 222 (1922), 309-368.

    K. P. Murphy, *Probabilistic Machine Learning: An Introduction*, MIT Press (2022),
    section 4.2.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> from celib.mle import empirical_cross_entropy
    >>> data = np.array([0.5, -1.0, 2.0])
    >>> print(f"{empirical_cross_entropy(stats.norm(0, 1), data):.6f}")
    1.793939
    >>> print(f"{0.5 * np.log(2 * np.pi) + np.mean(data**2) / 2:.6f}")
    1.793939

    A conditional model, :math:`t \mid a \sim \mathrm{Bernoulli}(\sigma(wa))` with
    :math:`w = 1`:

    >>> a, t = np.array([-1.0, 0.0, 2.0]), np.array([0, 1, 1])
    >>> logp = lambda a, t: -np.logaddexp(0.0, -(2 * t - 1) * a)
    >>> print(f"{empirical_cross_entropy(logp, (a, t)):.6f}")
    0.377779
    """
    _checks.check_reduction(reduction)
    _checks.log_base(base)
    if _checks.is_law_family(model) or _checks.is_frozen_law(model):
        _checks.frozen_law(model, "model")  # parameters given, real and finite
    is_dist = hasattr(model, "logpdf") or hasattr(model, "logpmf")
    if not is_dist and not callable(model):
        raise TypeError(
            "model must be a frozen scipy.stats distribution or a callable returning "
            f"log-probabilities, got {type(model).__name__}"
        )

    if isinstance(data, tuple):
        if len(data) != 2:
            raise ValueError(
                f"data: a tuple means conditional data (a, t), got a tuple of {len(data)}"
            )
        if is_dist:
            raise TypeError(
                "data: an (a, t) tuple is conditional data, which needs a callable model "
                "giving log p(y | x); a distribution models unconditional samples "
                "(pass them as an array)"
            )
        a, t = _as_array(data[0], "data's inputs a"), _as_array(data[1], "data's targets t")
        n = _check_samples(a, "data's inputs a")
        nt = _check_samples(t, "data's targets t")
        if n != nt:
            raise ValueError(
                f"data: a and t must have the same number of samples, got {n} and {nt}"
            )
        logp = model(a, t)
    else:
        z = _as_array(data, "data")
        n = _check_samples(z, "data", real=is_dist)
        if is_dist:
            if not isinstance(z, np.ndarray):
                raise TypeError(
                    "data must be array_like (numpy) for a scipy.stats model, "
                    f"got {type(z).__name__}"
                )
            with np.errstate(divide="ignore"):
                logp = _log_prob_method(model)(z)
        else:
            logp = model(z)

    logp = _as_array(logp, "model output")
    xp = array_namespace(logp)
    if math.prod(tuple(logp.shape)) != n:
        raise ValueError(
            f"model must return one log-probability per sample: expected {n} values, "
            f"got shape {tuple(logp.shape)}"
        )
    logp = xp.reshape(logp, (n,))
    if not xp.isdtype(logp.dtype, ("real floating", "integral", "bool")):
        raise TypeError(f"model must return real log-probabilities, got dtype {logp.dtype}")
    if not xp.isdtype(logp.dtype, "real floating"):
        logp = xp.astype(logp, xp.float64)
    if bool(xp.any(xp.isnan(logp))):
        raise ValueError("model returned NaN log-probabilities: every sample needs a number")
    if bool(xp.any(logp == math.inf)) and bool(xp.any(logp == -math.inf)):
        raise ValueError(
            "model returned both +inf and -inf log-probabilities: the average is undefined"
        )
    return _reduce(-logp, reduction, base)


# ---------------------------------------------------------------------------------------
# minimize_cross_entropy
# ---------------------------------------------------------------------------------------


class _Param:
    """One free or fixed parameter of a scipy.stats family and its unconstrained map."""

    def __init__(self, name: str, lo: float, hi: float, inclusive: tuple[bool, bool]):
        self.name = name
        self.lo, self.hi = float(lo), float(hi)
        self.inclusive = inclusive
        # an unbounded parameter (loc) is optimised as (v - shift) / unit, on the data's scale
        self.shift, self.unit = 0.0, 1.0

    def to_free(self, v: float) -> float:
        lo, hi = self.lo, self.hi
        if math.isinf(lo) and math.isinf(hi):
            return (v - self.shift) / self.unit
        if math.isinf(hi):
            return math.log(max(v - lo, 1e-300))
        if math.isinf(lo):
            return math.log(max(hi - v, 1e-300))
        t = min(max((v - lo) / (hi - lo), 1e-15), 1 - 1e-15)
        return float(special.logit(t))

    def from_free(self, u: float) -> float:
        lo, hi = self.lo, self.hi
        if math.isinf(lo) and math.isinf(hi):
            return self.shift + self.unit * u
        if math.isinf(hi):
            return lo + math.exp(min(u, 700.0))
        if math.isinf(lo):
            return hi - math.exp(min(u, 700.0))
        return lo + (hi - lo) * float(special.expit(u))

    def default_start(self) -> float:
        lo, hi = self.lo, self.hi
        if math.isinf(lo) and math.isinf(hi):
            return 0.0
        if math.isinf(hi):
            return (0.0 if lo < 1e-300 else lo) + 1.0
        if math.isinf(lo):
            return hi - 1.0
        return 0.5 * (lo + hi)

    def contains(self, v: float) -> bool:
        lo_ok = v >= self.lo if self.inclusive[0] else v > self.lo
        hi_ok = v <= self.hi if self.inclusive[1] else v < self.hi
        return bool(lo_ok and hi_ok)


def _family_name(family: Any) -> str:
    return f"stats.{getattr(family, 'name', type(family).__name__)}"


def _family_params(family: Any) -> tuple[list[_Param], list[str]]:
    """All parameters of the family, in scipy's order (shapes, loc[, scale]); integer ones."""
    params, integer = [], []
    infos = family._shape_info() if hasattr(family, "_shape_info") else []
    shape_names = [s.strip() for s in family.shapes.split(",")] if family.shapes else []
    by_name = {info.name: info for info in infos}
    for name in shape_names:
        info = by_name.get(name)
        if info is None:  # pragma: no cover - every scipy family documents its shapes
            params.append(_Param(name, -math.inf, math.inf, (False, False)))
            continue
        lo, hi = info.domain
        params.append(_Param(name, lo, hi, tuple(info.inclusive)))
        if info.integrality:
            integer.append(name)
    params.append(_Param("loc", -math.inf, math.inf, (False, False)))
    if isinstance(family, stats.rv_continuous):
        params.append(_Param("scale", 0.0, math.inf, (False, False)))
    return params, integer


def _default_fixed(family: Any, params: list[_Param]) -> dict[str, float]:
    if isinstance(family, stats.rv_discrete):
        return {"loc": 0}
    shapes = [p.default_start() for p in params[:-2]]
    with np.errstate(all="ignore"):
        a, b = (float(e) for e in family.support(*shapes))
    if math.isfinite(a) and math.isfinite(b):
        return {"loc": 0.0, "scale": 1.0} if shapes else {}
    if math.isfinite(a) or math.isfinite(b):
        return {"loc": 0.0}
    return {}


def _neg_loglik(family: Any, data: np.ndarray, values: dict[str, float], names: list[str]) -> float:
    args = [values[k] for k in names]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(family, stats.rv_discrete):
            lp = family.logpmf(data, *args)
        else:
            lp = family.logpdf(data, *args)
        j = -float(np.mean(lp))
    return j if not math.isnan(j) else math.inf


def _loc_scale_start(
    family: Any, data: np.ndarray, values: dict[str, float], free: set[str], shape_names: list[str]
) -> None:
    """Robust start for loc/scale: match the sample median and quartiles."""
    if not {"loc", "scale"} & free:
        return
    shapes = [values[k] for k in shape_names]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q25, q50, q75 = (float(v) for v in family.ppf([0.25, 0.5, 0.75], *shapes))
    d25, d50, d75 = (float(v) for v in np.quantile(data, [0.25, 0.5, 0.75]))
    if "scale" in free:
        if "loc" in free:
            scale = (d75 - d25) / (q75 - q25) if q75 > q25 else float("nan")
            if not (math.isfinite(scale) and scale > 0):
                scale = float(np.std(data)) or 1.0
        else:
            scale = (d50 - values["loc"]) / q50 if q50 != 0 else float("nan")
            if not (math.isfinite(scale) and scale > 0):
                scale = float(np.mean(np.abs(data - values["loc"]))) or 1.0
        values["scale"] = scale
    if "loc" in free:
        loc = d50 - values["scale"] * q50
        loc = loc if math.isfinite(loc) else d50
        # keep every sample inside a one-sided support: loc + scale * a < min(data)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a, b = (float(e) for e in family.support(*shapes))
        if math.isfinite(a) and not math.isfinite(b):
            loc = min(loc, float(np.min(data)) - values["scale"] * (a + 0.05))
        if math.isfinite(b) and not math.isfinite(a):
            loc = max(loc, float(np.max(data)) - values["scale"] * (b - 0.05))
        values["loc"] = loc


def _scipy_fit_start(
    family: Any, data: np.ndarray, fixed: dict[str, float], names: list[str]
) -> dict[str, float] | None:
    """scipy's own estimate (family.fit with the same fixed parameters), if it has one."""
    if not isinstance(family, stats.rv_continuous) or len(fixed) == len(names):
        return None
    kwargs = {}
    n_shapes = len(names) - 2
    for i, name in enumerate(names):
        if name in fixed:
            key = f"f{i}" if i < n_shapes else f"f{name}"
            kwargs[key] = fixed[name]
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = family.fit(data, **kwargs)
    except Exception:  # noqa: BLE001 - scipy's fit is only a candidate start
        return None
    vals = dict(zip(names, (float(v) for v in est), strict=True))
    return vals if all(math.isfinite(v) for v in vals.values()) else None


def _check_support(
    family: Any, data: np.ndarray, params: list[_Param], fixed: dict[str, float], start: dict
) -> None:
    """Raise if data lie outside the part of the support that no free parameter can move."""
    names = [p.name for p in params]
    shape_names = names[: len(names) - (2 if "scale" in names else 1)]
    if isinstance(family, stats.rv_discrete):
        bad = np.flatnonzero(data != np.floor(data))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"data must be integers for the discrete family {_family_name(family)}: "
                f"data[{i}] = {data[i]!r}"
            )
    loc_fixed = "loc" in fixed
    scale_fixed = "scale" in fixed or "scale" not in names

    def ends(shapes):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [float(e) for e in family.support(*shapes)]

    s0 = [start[k] for k in shape_names]
    # perturb the free shapes by an arbitrary step (0.37 in the unconstrained variable,
    # not a round number that could hit a special value): an end of the support that
    # moves with the shapes is not checked up front
    s1 = [
        start[k] if k in fixed else params[i].from_free(params[i].to_free(start[k]) + 0.37)
        for i, k in enumerate(shape_names)
    ]
    e0, e1 = ends(s0), ends(s1)
    loc = fixed.get("loc", 0.0)
    scale = fixed.get("scale", 1.0)
    for side, (a0, a1) in enumerate(zip(e0, e1, strict=True)):
        if not (math.isfinite(a0) and a0 == a1) or not loc_fixed:
            continue
        if a0 != 0 and not scale_fixed:
            continue
        edge = loc + scale * a0
        bad = np.flatnonzero(data < edge) if side == 0 else np.flatnonzero(data > edge)
        if bad.size:
            i = int(bad[0])
            rule = f">= {edge:g}" if side == 0 else f"<= {edge:g}"
            raise ValueError(
                f"data outside the support of {_family_name(family)} with "
                + ", ".join(f"{k}={v:g}" for k, v in fixed.items())
                + f": every sample must be {rule}, but data[{i}] = {data[i]!r}"
            )


def minimize_cross_entropy(
    family: stats.rv_continuous | stats.rv_discrete,
    data: Any,
    *,
    fixed: Mapping[str, float | None] | None = None,
    x0: Mapping[str, float] | None = None,
) -> rv_frozen:
    r"""Fit a ``scipy.stats`` family by minimising the empirical cross-entropy.

    Returns :math:`p_{\hat\theta}` with

    .. math::

        \hat\theta = \arg\min_\theta J(\theta), \qquad
        J(\theta) = H(\hat p_n, p_\theta) = -\frac1n \sum_{i=1}^n \log p_\theta(z_i),

    the maximum-likelihood estimate, found numerically with ``scipy.optimize``.

    Parametrisation: the optimiser works on unconstrained variables; the scale is
    :math:`e^u`, a shape with domain :math:`(a, \infty)` is :math:`a + e^u`, one with
    domain :math:`(a, b)` is :math:`a + (b - a)\,\sigma(u)` (domains from scipy). A
    shape whose domain includes an end (e.g. ``p = 1`` of ``stats.bernoulli``) is
    snapped to it when that does not increase :math:`J`.

    Default fixed parameters (as scipy's ``floc``/``fscale``, but chosen so that the
    textbook family is fitted):

    * discrete families: ``loc = 0`` (a shift by an integer is not fitted);
    * continuous families whose standard support is bounded on one side
      (``expon``, ``gamma``, ``lognorm``, ``weibull_min``, ...): ``loc = 0``, so
      ``stats.expon`` fits the rate of :math:`\lambda e^{-\lambda x}` on
      :math:`x \ge 0`;
    * with shapes and a support bounded on both sides (``beta``): ``loc = 0, scale = 1``;
    * otherwise (``norm``, ``logistic``, ``t``, ``uniform``, ...): nothing fixed.

    Starting points: ``x0`` when given; otherwise both a quantile-matching start
    (median and quartiles for loc and scale, the middle of each shape's domain) and, for
    continuous families, scipy's own ``family.fit`` estimate with the same parameters
    fixed. The optimiser (BFGS with central-difference gradients, then a Nelder--Mead
    polish) runs from each, and the best end point is returned, so the likelihood is
    never worse than that of the starts, scipy's ``fit`` included.

    Parameters
    ----------
    family : scipy.stats.rv_continuous or scipy.stats.rv_discrete
        The family, e.g. ``stats.norm``, ``stats.expon``, ``stats.poisson``.
    data : array_like
        One-dimensional samples (integers for a discrete family).
    fixed : mapping of str to float or None, optional
        Parameters held fixed, by name (shape names as in ``family.shapes``, ``"loc"``,
        ``"scale"``), merged into the defaults above; ``None`` frees a parameter fixed
        by default (``fixed={"loc": None}`` fits the shift of ``stats.expon`` too). An
        integer-valued shape (``n`` of ``stats.binom``) must be fixed.
    x0 : mapping of str to float, optional
        Starting values for free parameters, by name; the others start as above.

    Returns
    -------
    scipy.stats frozen distribution
        ``family(*shapes, loc=..., scale=...)`` at the minimiser.

    Raises
    ------
    TypeError
        If ``family`` is not a ``scipy.stats`` family (a frozen distribution is not);
        if ``data`` are not real numbers; if ``fixed`` or ``x0`` is not a mapping of
        parameter names to real numbers (a list, a string value, None in ``x0``).
    ValueError
        If ``data`` is empty, not one-dimensional, contains NaN or inf, is not
        integer-valued for a discrete family, or lies outside the support the fixed
        parameters determine (``data >= 0`` for ``stats.expon``); if a continuous family
        with a free scale gets fewer than two distinct values (the likelihood is then
        unbounded); if ``fixed`` or ``x0`` names an unknown parameter or a value out of
        its domain or NaN/inf; if an integer shape is not fixed, or fixed at a value
        that is not an integer (``fixed={"n": 5.5}``); if nothing is left to fit, or no
        start has a finite :math:`J`.

    See Also
    --------
    celib.mle.empirical_cross_entropy : :math:`J` itself, for any model.

    Notes
    -----
    Data so large or small that their squares over- or underflow (beyond
    :math:`2^{\pm 60}` in absolute value) are fitted after division by a power of 2,
    which is exact; :math:`J` only shifts by the log of that factor, so the minimiser's
    ``loc`` and ``scale`` are multiplied back. The normal fit of ``[1e307, -1e307, 0]``
    has scale :math:`\sqrt{2/3} \cdot 10^{307}`, as it should.

    References
    ----------
    J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer (2006),
    chapter 6 (BFGS).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> from celib.mle import minimize_cross_entropy
    >>> z = np.random.default_rng(0).normal(2.0, 3.0, size=500)
    >>> fit = minimize_cross_entropy(stats.norm, z)
    >>> print(f"{fit.mean():.6f} {fit.std():.6f}")
    1.919330 3.040798
    >>> print(f"{z.mean():.6f} {z.std():.6f}")
    1.919330 3.040798
    >>> counts = np.array([3, 0, 2, 4, 1])
    >>> print(f"{minimize_cross_entropy(stats.poisson, counts).mean():.6f}")
    2.000000
    """
    if not isinstance(family, stats.rv_continuous | stats.rv_discrete):
        if _checks.is_frozen_law(family):
            raise TypeError(
                "family must be a scipy.stats family such as stats.norm, not a frozen "
                "distribution (its parameters are what is fitted)"
            )
        raise TypeError(
            "family must be a scipy.stats family (rv_continuous or rv_discrete, e.g. "
            f"stats.norm), got {type(family).__name__}"
        )
    fname = _family_name(family)
    if is_array_api_obj(data) and not isinstance(data, np.ndarray):
        raise TypeError(f"data must be array_like (numpy), got {type(data).__name__}")
    z = _as_array(data, "data")
    if z.ndim != 1:
        raise ValueError(f"data must be one-dimensional samples, got shape {z.shape}")
    if z.dtype == bool:
        z = z.astype(np.int64)
    if not (np.issubdtype(z.dtype, np.integer) or np.issubdtype(z.dtype, np.floating)):
        raise TypeError(f"data must be real numbers, got dtype {z.dtype}")
    _check_samples(z, "data")
    fixed = _checks.mapping(fixed, "fixed", allow_none=True)
    x0 = None if x0 is None else _checks.mapping(x0, "x0")
    if isinstance(family, stats.rv_continuous):
        # Fit on z / c, c a power of 2 (exact), when |z| is so large or small that
        # squares over- or underflow: J(z) = J(z / c) + log c, so the minimiser is the
        # same with loc and scale multiplied by c (scipy's logpdf of 1e307 / 1e306 is
        # fine, of 1e307 squared is not).
        c = _data_unit(z.astype(np.float64))
        if c != 1.0:
            fixed = {
                k: (v / c if k in ("loc", "scale") and v is not None else v)
                for k, v in fixed.items()
            }
            x0 = (
                None
                if x0 is None
                else {k: (v / c if k in ("loc", "scale") else v) for k, v in x0.items()}
            )
            fit = minimize_cross_entropy(family, z / c, fixed=fixed, x0=x0)
            return family(*fit.args, loc=fit.kwds["loc"] * c, scale=fit.kwds["scale"] * c)
    z = z.astype(np.float64) if isinstance(family, stats.rv_continuous) else z

    params, integer = _family_params(family)
    names = [p.name for p in params]
    by_name = {p.name: p for p in params}
    fix: dict[str, float] = _default_fixed(family, params)
    for k, v in fixed.items():
        if k not in by_name:
            raise ValueError(
                f"fixed: unknown parameter {k!r} of {fname} (parameters: {', '.join(names)})"
            )
        if v is None:
            fix.pop(k, None)
            continue
        if not by_name[k].contains(v):
            raise ValueError(f"fixed: {k}={v!r} is outside its domain for {fname}")
        if k in integer and v != math.floor(v):
            raise ValueError(f"fixed: {k} of {fname} must be an integer, got {v!r}")
        fix[k] = v
    if isinstance(family, stats.rv_discrete) and "loc" not in fix:
        raise ValueError(f"fixed: loc of the discrete family {fname} is an integer; fix it")
    missing = [k for k in integer if k not in fix]
    if missing:
        raise ValueError(
            f"fixed: the integer-valued shape(s) {', '.join(missing)} of {fname} cannot be "
            f"fitted by a continuous optimiser; fix them, e.g. fixed={{{missing[0]!r}: value}}"
        )
    free = [k for k in names if k not in fix]
    if not free:
        raise ValueError(f"fixed: every parameter of {fname} is fixed, nothing to fit")
    if "scale" in free and np.unique(z).size < 2:
        raise ValueError(
            f"data: fitting the scale of {fname} needs at least two distinct values "
            "(with one, J decreases without bound as scale -> 0)"
        )

    start = dict(fix)
    shape_names = names[: len(names) - (2 if "scale" in names else 1)]
    for k in shape_names:
        start.setdefault(k, by_name[k].default_start())
    for k, v in (x0 or {}).items():
        if k not in by_name:
            raise ValueError(
                f"x0: unknown parameter {k!r} of {fname} (parameters: {', '.join(names)})"
            )
        if k in fix:
            raise ValueError(f"x0: {k!r} is fixed at {fix[k]!r}; it has no starting value")
        if not by_name[k].contains(v):
            raise ValueError(f"x0: {k}={v!r} is outside its domain for {fname}")
        start[k] = v
    given = set(x0 or {})
    _loc_scale_start(
        family, z, start, {k for k in ("loc", "scale") if k in free} - given, shape_names
    )
    _check_support(family, z, params, fix, start)
    if "loc" in free:
        q25, q50, q75 = (float(v) for v in np.quantile(z, [0.25, 0.5, 0.75]))
        spread = q75 - q25 if q75 > q25 else float(np.std(z))
        by_name["loc"].shift, by_name["loc"].unit = q50, spread if spread > 0 else 1.0

    starts = [start]
    if x0 is None:
        fit_start = _scipy_fit_start(family, z, fix, names)
        if fit_start is not None:
            starts.append(fit_start)

    def unpack(u: np.ndarray) -> dict[str, float]:
        vals = dict(fix)
        for k, ui in zip(free, u, strict=True):
            vals[k] = by_name[k].from_free(float(ui))
        return vals

    def objective(u: np.ndarray) -> float:
        return _neg_loglik(family, z, unpack(u), names)

    best, best_j, best_u = None, math.inf, None
    for s in starts:
        j_s = _neg_loglik(family, z, s, names)
        if _better(j_s, best_j):  # a start may already be the optimum (a boundary MLE)
            best, best_j, best_u = s, j_s, None
        u0 = np.array([by_name[k].to_free(s[k]) for k in free])
        j0 = objective(u0)
        if not math.isfinite(j0):
            continue
        u, j = _optimise(objective, u0, j0)
        if _better(j, best_j):
            best, best_j, best_u = unpack(u), j, u
    if best is None:
        raise ValueError(
            f"data: J is infinite at every starting point of {fname} (some samples have "
            "zero density); check the support, or give x0"
        )
    if best_u is None:
        best_u = np.array([by_name[k].to_free(best[k]) for k in free])
    u, j = _newton_polish(objective, best_u)
    if u is not None and j <= best_j + 1e-13 * (1.0 + abs(best_j)):
        best, best_j = unpack(u), min(j, best_j)
    vals = dict(best)
    # shapes whose domain includes an end: the MLE may sit on it (p = 1, mu = 0)
    for k in free:
        p = by_name[k]
        for end, inc in zip((p.lo, p.hi), p.inclusive, strict=True):
            if inc and math.isfinite(end):
                trial = {**vals, k: end}
                j = _neg_loglik(family, z, trial, names)
                if j <= best_j:
                    vals, best_j = trial, j
    if not math.isfinite(best_j):  # pragma: no cover - -inf only for unbounded likelihoods
        raise ValueError(f"data: the likelihood of {fname} is unbounded on these data")
    args = {k: (int(v) if k in integer else v) for k, v in vals.items()}
    shapes = [args[k] for k in shape_names]
    if isinstance(family, stats.rv_discrete):
        return family(*shapes, loc=args["loc"])
    return family(*shapes, loc=args["loc"], scale=args["scale"])


def _data_unit(z: np.ndarray) -> float:
    """1.0, or a power of 2 near max |z| when that lies outside [2**-60, 2**60]."""
    top = float(np.max(np.abs(z)))
    if top == 0.0 or 2.0**-60 <= top <= 2.0**60:
        return 1.0
    return 2.0 ** math.frexp(top)[1]


def _better(j: float, best: float) -> bool:
    """Whether J = j beats the best so far by more than rounding noise.

    Near a minimum J is flat: points 1e-8 apart differ in J by about 1e-16, the size of
    the rounding error of the average. Comparing such values picks a point at random
    within that distance, so a later point must win by a margin; the gradient-based
    BFGS result, which locates the minimum to about 1e-11, is then kept.
    """
    if not math.isfinite(best):
        return j < best
    return j < best - 1e-13 * (1.0 + abs(best))


def _fd_gradient(objective: Callable[[np.ndarray], float], u: np.ndarray) -> np.ndarray:
    """Central differences, step eps**(1/3): error about eps**(2/3) ~ 4e-11."""
    g = np.empty_like(u)
    for i in range(u.size):
        h = 6e-6 * max(1.0, abs(u[i]))
        e = np.zeros_like(u)
        e[i] = h
        g[i] = (objective(u + e) - objective(u - e)) / (2 * h)
    return g


def _newton_polish(
    objective: Callable[[np.ndarray], float], u: np.ndarray
) -> tuple[np.ndarray | None, float]:
    """A few Newton steps on the finite-difference gradient.

    Line searches stop when J changes by less than its rounding error, about 1e-8 from
    the minimiser; the gradient still points the way there. Each step is kept only if
    it shrinks the gradient without increasing J beyond rounding.
    """
    j = objective(u)
    g = _fd_gradient(objective, u)
    if not (math.isfinite(j) and np.all(np.isfinite(g))):
        return None, math.inf
    moved = False
    for _ in range(3):
        hess = np.empty((u.size, u.size))
        for i in range(u.size):
            h = 1e-4 * max(1.0, abs(u[i]))
            e = np.zeros_like(u)
            e[i] = h
            hess[:, i] = (_fd_gradient(objective, u + e) - _fd_gradient(objective, u - e)) / (2 * h)
        hess = 0.5 * (hess + hess.T)
        try:
            step = np.linalg.solve(hess, g)
        except np.linalg.LinAlgError:
            break
        u_new = u - step
        j_new = objective(u_new)
        g_new = _fd_gradient(objective, u_new)
        if not (
            np.all(np.isfinite(g_new))
            and j_new <= j + 1e-13 * (1.0 + abs(j))
            and np.linalg.norm(g_new) < np.linalg.norm(g)
        ):
            break
        u, j, g, moved = u_new, j_new, g_new, True
    return (u, j) if moved else (None, math.inf)


def _optimise(
    objective: Callable[[np.ndarray], float], u0: np.ndarray, j0: float
) -> tuple[np.ndarray, float]:
    """BFGS with central differences, then a Nelder--Mead polish; the best point seen."""
    best_u, best_j = u0, j0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = optimize.minimize(
            objective,
            u0,
            method="BFGS",
            jac="3-point",
            options={"gtol": 1e-10, "maxiter": 200 * u0.size},
        )
        if np.all(np.isfinite(res.x)) and _better(res.fun, best_j):
            best_u, best_j = res.x, float(res.fun)
        res = optimize.minimize(
            objective,
            best_u,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-14, "maxfev": 400 * u0.size, "adaptive": True},
        )
        if np.all(np.isfinite(res.x)) and _better(res.fun, best_j):
            best_u, best_j = res.x, float(res.fun)
    return np.asarray(best_u, dtype=float), best_j
