"""Input checking for :mod:`celib.measure`: one internal view of every accepted law.

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

from celib._measure_types import Mixed, describe

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
        return describe(self.obj)

    @property
    def has_cont(self) -> bool:
        return self.w_cont > 0.0

    @property
    def has_atoms(self) -> bool:
        if self.kind == MIXED:
            return len(self.obj._points) > 0
        return self.kind == DISCRETE


def family_of(d: Any) -> type:
    """The registry key of a family: ``stats.norm`` -> ``norm_gen``."""
    if isinstance(d, type):
        return d
    if isinstance(d, stats.rv_continuous | stats.rv_discrete) or isinstance(d, _MVN_GEN):
        return type(d)
    if isinstance(d, rv_frozen):
        raise TypeError(
            f"a family is the unfrozen generator (e.g. stats.norm), got the frozen "
            f"distribution {describe(d)}"
        )
    raise TypeError(f"not a scipy.stats distribution family: {d!r}")


def as_law(d: Any, argname: str) -> Law:
    """Check ``d`` and return its :class:`Law` view; ``argname`` is used in messages."""
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
        shapes, loc, scale = d.dist._parse_args(*d.args, **d.kwds)
        params = (*shapes, loc, scale)
        if any(np.ndim(v) != 0 for v in params):
            raise ValueError(
                f"{argname} has array-valued parameters ({describe(d)}); pass one "
                "distribution at a time"
            )
        if not all(np.isfinite(v) for v in params) or not bool(
            d.dist._argcheck(*shapes) and scale > 0
        ):
            raise ValueError(f"{argname} has invalid parameters: {describe(d)}")
        if isinstance(d.dist, stats.rv_continuous):
            return Law(d, CONTINUOUS, 1, type(d.dist), d, 1.0, None)
        return Law(d, DISCRETE, 1, type(d.dist), None, 0.0, d)
    if isinstance(d, _MVN_FROZEN):
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
            return np.log(L.obj._mass(x))
        if L.kind == DISCRETE:
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
        return np.asarray(d.logpdf(x), dtype=float)
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
        return L.obj._mass(x) > 0
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
