"""The law adapter of :mod:`celib.measure`: the one place that checks a law.

Every entry point (the three quantities, :class:`~celib.measure.Mixed`'s continuous
part, :func:`~celib.measure.describe`) turns its distributions into a :class:`Law`
through :func:`as_law`, which refuses what is not a probability law with a message
naming the argument.

Every accepted law is seen as a sum of (at most) two parts on a common reference
measure :math:`\\nu` = counting measure on the atoms + Lebesgue measure:

* an atomic part: finitely many atoms (:class:`~celib.measure.Mixed`) or a discrete
  scipy.stats distribution (possibly infinitely many atoms), and
* an absolutely continuous part: a continuous scipy.stats distribution (or a
  multivariate normal) with weight ``w_cont``.

``log_mass(L, x)`` is :math:`\\log L(\\{x\\})` and ``log_cont(L, x)`` the log-density of the
continuous part (weight included), so the density of ``L`` with respect to
:math:`\\nu` is ``log_mass`` at the atoms of :math:`\\nu` and ``log_cont`` elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from scipy.stats.distributions import rv_frozen

from celib.measure._types import Mixed, law_name

_MVN_FROZEN = type(stats.multivariate_normal())
_MVN_GEN = type(stats.multivariate_normal)
_MULTI_FROZEN = type(stats.multivariate_normal()).__mro__[1]  # scipy's multi_rv_frozen

CONTINUOUS, DISCRETE, MVN, MIXED = "continuous", "discrete", "mvn", "mixed"


@dataclass(frozen=True)
class Law:
    """A checked distribution and its decomposition (see the module docstring)."""

    obj: Any  # the frozen scipy distribution, or the Mixed instance
    kind: str  # CONTINUOUS | DISCRETE | MVN | MIXED
    dim: int
    family: type  # key of the closed-form registry
    cont: Any = None  # continuous part (frozen 1-D continuous or frozen mvn)
    w_cont: float = 0.0
    discrete: Any = None  # frozen discrete scipy distribution (weight 1)

    @property
    def name(self) -> str:
        return law_name(self.obj)

    @property
    def has_cont(self) -> bool:
        return self.w_cont > 0.0

    @property
    def has_atoms(self) -> bool:
        if self.kind == MIXED:
            return len(self.obj.points) > 0
        return self.kind == DISCRETE


def family_of(d: Any, argname: str = "family") -> type:
    """The registry key of a family: ``stats.norm`` -> ``norm_gen``."""
    if isinstance(d, type):
        return d
    if isinstance(d, stats.rv_continuous | stats.rv_discrete) or isinstance(d, _MVN_GEN):
        return type(d)
    if isinstance(d, rv_frozen):
        raise TypeError(
            f"{argname}: a family is the unfrozen generator (e.g. stats.norm), got the "
            f"frozen distribution {law_name(d)}"
        )
    raise TypeError(f"{argname} is not a scipy.stats distribution family: {d!r}")


def _check_params(d: Any, argname: str) -> None:
    """The parameters of a frozen scipy law: real scalars, finite, in the family's range."""
    names = [n.strip() for n in (d.dist.shapes or "").split(",") if n.strip()]
    try:
        shapes, loc, scale = d.dist._parse_args(*d.args, **d.kwds)
    except TypeError as exc:
        raise TypeError(f"{argname} has invalid parameters ({exc})") from exc
    params = dict(zip([*names, "loc", "scale"], [*shapes, loc, scale], strict=False))
    for pname, v in params.items():
        if v is None or isinstance(v, str | bytes):
            raise TypeError(
                f"{argname}: the parameter {pname} of {d.dist.name} must be a real number, "
                f"got {v!r}"
            )
        try:
            arr = np.asarray(v)
        except ValueError as exc:
            raise ValueError(f"{argname}: the parameter {pname} is not a number") from exc
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"{argname}: the parameter {pname} of {d.dist.name} must be a real number, "
                f"got {v!r} (dtype {arr.dtype})"
            )
        if arr.ndim != 0:
            raise ValueError(
                f"{argname} has array-valued parameters ({pname}={arr.tolist()!r}); pass one "
                "distribution at a time"
            )
        if not np.isfinite(arr):
            raise ValueError(
                f"{argname} has invalid parameters: {pname}={float(arr)!r} is not finite"
            )
    if not (bool(np.all(d.dist._argcheck(*shapes))) and float(scale) > 0):
        raise ValueError(
            f"{argname} has invalid parameters: {law_name(d)} (shape parameters outside "
            f"the family's range, or scale <= 0)"
        )


def check_continuous_part(d: Any, argname: str) -> None:
    """The continuous part of a Mixed law: a valid frozen 1-D continuous scipy law."""
    if not (isinstance(d, rv_frozen) and isinstance(d.dist, stats.rv_continuous)):
        raise TypeError(
            f"{argname} must be a frozen one-dimensional continuous scipy.stats "
            f"distribution such as stats.gamma(2.0), got {type(d).__name__}"
        )
    _check_params(d, argname)


def as_law(d: Any, argname: str) -> Law:
    """Check ``d`` and return its :class:`Law` view; ``argname`` is used in messages."""
    if d is None:
        raise TypeError(
            f"{argname} must be a distribution (a frozen scipy.stats law or a "
            f"celib.measure.Mixed), got None"
        )
    if isinstance(d, Mixed):
        return Law(d, MIXED, 1, Mixed, d.continuous, d.continuous_weight, None)
    if isinstance(d, stats.rv_continuous | stats.rv_discrete):
        # An unfrozen generator: fine when it needs no parameters (rv_histogram,
        # rv_discrete(values=...), or stats.norm meaning the standard normal).
        if d.numargs:
            raise TypeError(
                f"{argname} is the unfrozen family {d.name!r}, which needs shape parameters "
                f"({d.shapes}); freeze it with its parameters, e.g. stats.{d.name}(...)"
            )
        d = d()
    if isinstance(d, rv_frozen):
        _check_params(d, argname)
        if isinstance(d.dist, stats.rv_continuous):
            return Law(d, CONTINUOUS, 1, type(d.dist), d, 1.0, None)
        return Law(d, DISCRETE, 1, type(d.dist), None, 0.0, d)
    if isinstance(d, _MVN_FROZEN):
        mean, cov = np.asarray(d.mean), np.asarray(d.cov_object.covariance)
        if mean.dtype.kind not in "biuf" or cov.dtype.kind not in "biuf":
            raise TypeError(f"{argname}: the mean and covariance must be real")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(cov))):
            raise ValueError(
                f"{argname}: the mean and covariance of the multivariate normal must be "
                f"finite, got mean={mean.tolist()!r}"
            )
        return Law(d, MVN, int(d.dim), _MVN_GEN, d, 1.0, None)
    if isinstance(d, _MULTI_FROZEN):
        raise TypeError(
            f"{argname}: of the multivariate scipy.stats distributions only "
            f"multivariate_normal is supported, got {type(d).__name__}"
        )
    raise TypeError(
        f"{argname} must be a frozen scipy.stats distribution (e.g. stats.norm(0, 1)), "
        f"a frozen stats.multivariate_normal, or a celib.measure.Mixed; "
        f"got {type(d).__name__}"
    )


def check_pair(P: Law, Q: Law) -> None:
    """Both laws must live on the same space."""
    if P.dim != Q.dim:
        raise ValueError(
            f"P and Q must live on the same space: P is {P.dim}-dimensional ({P.name}), "
            f"Q is {Q.dim}-dimensional ({Q.name})"
        )


def check_has_density(P: Law, argname: str) -> None:
    """A multivariate normal with a singular covariance has no Lebesgue density."""
    if P.kind == MVN and int(P.cont.cov_object.rank) < P.dim:
        raise ValueError(
            f"{argname} is a multivariate normal with a singular covariance (rank "
            f"{int(P.cont.cov_object.rank)} < {P.dim}): it has no density with respect "
            f"to Lebesgue measure on R^{P.dim}"
        )


def not_dominated_by_parts(P: Law, Q: Law) -> bool:
    """True when P has a part that Q's parts cannot dominate (then H(P, Q) = +inf).

    A continuous part of P needs a continuous part of Q, atoms of P need atoms of Q,
    and a continuous part of P needs Q's continuous support to contain its support.
    """
    if P.has_cont and not Q.has_cont:
        return True
    if Q.kind == MVN and int(Q.cont.cov_object.rank) < Q.dim:
        return True  # Q lives on a subspace, which P (with a density) gives mass 0
    if P.has_atoms and not Q.has_atoms:
        return True
    if P.has_cont and P.kind != MVN and Q.kind != MVN:
        a, b = (float(v) for v in P.cont.support())
        c, d = (float(v) for v in Q.cont.support())
        if a < c or b > d:
            return True
    return False


def log_mass(L: Law, x: np.ndarray) -> np.ndarray:
    """log L({x}) (-inf off the atoms)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        if L.kind == MIXED:
            return np.log(L.obj.mass(x))
        if L.kind == DISCRETE:
            if L.discrete.dist.name == "dlaplace":  # scipy: log(pmf), 0 beyond |k| a > 745
                (a,), loc, _ = L.discrete.dist._parse_args(*L.discrete.args, **L.discrete.kwds)
                k = x - loc
                out = math.log(math.tanh(a / 2.0)) - a * np.abs(k)
                return np.where(k == np.round(k), out, -np.inf)
            return np.asarray(L.discrete.logpmf(x), dtype=float)
    return np.full(x.shape[:1] if L.kind == MVN else x.shape, -np.inf)


# Standardised log-densities for families whose scipy logpdf is log(pdf), which
# underflows to -inf in the tails (|z| > ~745): all four live on the whole real line.
_LOGPDF_STD = {
    "laplace": lambda z: -np.abs(z) - math.log(2.0),
    "gumbel_r": lambda z: -z - np.exp(-z),
    "gumbel_l": lambda z: z - np.exp(z),
    "hypsecant": lambda z: -np.abs(z) - np.log1p(np.exp(-2.0 * np.abs(z))) + math.log(2 / math.pi),
}


def logpdf(d: Any, x: np.ndarray) -> np.ndarray:
    """scipy's logpdf, with the tails of a few families fixed (see _LOGPDF_STD)."""
    fn = _LOGPDF_STD.get(getattr(getattr(d, "dist", None), "name", ""))
    if fn is None:
        out = np.asarray(d.logpdf(x), dtype=float)
        if out.shape != np.shape(x):  # a multivariate normal: one value per row
            return out
        bad = np.isnan(out) & ~np.isnan(x)
        if np.any(bad):  # some logpdfs give NaN far out where pdf is a clean 0
            with np.errstate(divide="ignore"):
                out = np.where(bad, np.log(np.asarray(d.pdf(x), dtype=float)), out)
        return out
    _, loc, scale = d.dist._parse_args(*d.args, **d.kwds)
    with np.errstate(over="ignore"):
        return fn((x - loc) / scale) - math.log(scale)


def log_cont(L: Law, x: np.ndarray) -> np.ndarray:
    """Log-density of the continuous part, weight included (-inf if there is none)."""
    x = np.asarray(x, dtype=float)
    if L.kind in (CONTINUOUS, MVN):
        return logpdf(L.cont, x)
    if L.kind == MIXED and L.has_cont:
        return math.log(L.w_cont) + logpdf(L.cont, x)
    return np.full(x.shape, -np.inf)


def is_atom(L: Law, x: np.ndarray) -> np.ndarray:
    """Whether each x carries positive L-mass."""
    x = np.asarray(x, dtype=float)
    if L.kind == MIXED:
        return L.obj.mass(x) > 0
    if L.kind == DISCRETE:
        return np.asarray(L.discrete.pmf(x)) > 0
    return np.zeros(x.shape[:1] if L.kind == MVN else x.shape, dtype=bool)


def log_density(L: Law, x: np.ndarray, atom: np.ndarray) -> np.ndarray:
    """log dL/dnu at x, where ``atom`` marks the x that are atoms of nu."""
    return np.where(atom, log_mass(L, x), log_cont(L, x))


def sample(L: Law, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws from L (shape (n,) in 1-D, (n, dim) for a multivariate normal)."""
    x = np.asarray(L.obj.rvs(size=n, random_state=rng), dtype=float)
    if L.kind == MVN:
        x = x.reshape(n, L.dim)
    return x
