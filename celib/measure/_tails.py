r"""Deciding whether the integrals of :mod:`celib.measure` converge.

:math:`P \ll Q` makes :math:`H(P, Q) = \mathbb{E}_P[-\log q(X)]` well defined but not
finite: under a normal :math:`Q`, :math:`-\log q(x) = c + x^2 / (2\sigma^2)`, so
:math:`H(P, Q) = \infty` exactly when :math:`\mathbb{E}_P[X^2] = \infty`. This module
decides finiteness before any quadrature, one end of :math:`P`'s support at a time.

At an infinite end it compares two exponents:

* the tail index :math:`\alpha` of :math:`P` (:math:`P(|X| > x) \approx x^{-\alpha}`:
  moments of order :math:`< \alpha` are finite, those of order :math:`\ge \alpha` are
  not; :math:`\alpha = \infty` for tails lighter than every power), known exactly for
  the heavy-tailed scipy families (:data:`_TAIL_INDEX`) and otherwise read off
  :math:`\log p` at :math:`x = 10^4, 10^8, \dots, 10^{128}` scales from the centre;
* the growth exponent :math:`k` of :math:`g = -\log q` (:math:`g(x) \approx x^k`;
  :math:`k = 0` for logarithmic growth), exact when :math:`\log q` is a linear
  combination of sufficient statistics (:data:`_STATISTICS`: :math:`x^2` for the
  normal, :math:`|x - m|` for the Laplace law, ...) and otherwise read off
  :math:`\log g` at the same points.

Then :math:`\mathbb{E}_P[|g(X)|] < \infty` iff :math:`\alpha > k` (and the variance of
:math:`g(X)`, which Monte Carlo needs, is finite iff :math:`\alpha > 2k`). Tails lighter
than every power against a super-polynomial :math:`g` (a Gumbel model) and the finite
ends of the support are decided on the integrand :math:`p\,|g|` itself, from the slope
of :math:`\log(p |g|)` against :math:`\log x` (an integrand :math:`\asymp x^{s}` is
integrable at infinity iff :math:`s < -1`, at a finite end :math:`u \to 0` iff
:math:`s > -1`). Exponents read off numerically are trusted only when two successive
slopes agree (a power law), or when the slope is already far on the convergent side
and still moving that way; otherwise finiteness is undecided and the caller raises.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from celib.measure._laws import CONTINUOUS, DISCRETE, MIXED, MVN, Law, log_cont, log_mass

#: exact tail indices of heavy-tailed scipy families: name -> (left, right) from shapes.
_TAIL_INDEX: dict[str, Any] = {
    "t": lambda s: (s[0], s[0]),
    "cauchy": lambda s: (1.0, 1.0),
    "skewcauchy": lambda s: (1.0, 1.0),
    "nct": lambda s: (s[0], s[0]),
    "halfcauchy": lambda s: (None, 1.0),
    "halft": lambda s: (None, s[0]),
    "pareto": lambda s: (None, s[0]),
    "lomax": lambda s: (None, s[0]),
    "genpareto": lambda s: (None, 1.0 / s[0] if s[0] > 0 else math.inf),
    "levy": lambda s: (None, 0.5),
    "levy_l": lambda s: (0.5, None),
    "invgamma": lambda s: (None, s[0]),
    "invweibull": lambda s: (None, s[0]),
    "fisk": lambda s: (None, s[0]),
    "burr": lambda s: (None, s[0]),
    "burr12": lambda s: (None, s[0] * s[1]),
    "f": lambda s: (None, s[1] / 2.0),
    "ncf": lambda s: (None, s[1] / 2.0),
    "betaprime": lambda s: (None, s[1]),
    "loglaplace": lambda s: (None, s[0]),
    "zipf": lambda s: (None, s[0] - 1.0),
    "yulesimon": lambda s: (None, s[0]),
}

#: -log q as sufficient statistics: name -> ((left kind, k), (right kind, k), text).
#: kind "power": g grows like |x|^k; "log": like a power of log|x| (k = 0).
_STATISTICS: dict[str, tuple[tuple[str, float], tuple[str, float], str]] = {
    "norm": (("power", 2.0), ("power", 2.0), "(x - m)^2 / (2 s^2)"),
    "laplace": (("power", 1.0), ("power", 1.0), "|x - m| / b"),
    "logistic": (("power", 1.0), ("power", 1.0), "|x| / s (asymptotically)"),
    "hypsecant": (("power", 1.0), ("power", 1.0), "|x| / s (asymptotically)"),
    "expon": (("power", 1.0), ("power", 1.0), "x / s"),
    "gamma": (("power", 1.0), ("power", 1.0), "x / s - (a - 1) log x"),
    "chi2": (("power", 1.0), ("power", 1.0), "x / 2 - (k/2 - 1) log x"),
    "rayleigh": (("power", 2.0), ("power", 2.0), "x^2 / (2 s^2) - log x"),
    "maxwell": (("power", 2.0), ("power", 2.0), "x^2 / (2 s^2) - 2 log x"),
    "halfnorm": (("power", 2.0), ("power", 2.0), "x^2 / (2 s^2)"),
    "lognorm": (("log", 0.0), ("log", 0.0), "(log x)^2 / (2 s^2) + log x"),
    "t": (("log", 0.0), ("log", 0.0), "((nu + 1) / 2) log(1 + x^2 / nu)"),
    "cauchy": (("log", 0.0), ("log", 0.0), "log(1 + x^2)"),
    "halfcauchy": (("log", 0.0), ("log", 0.0), "log(1 + x^2)"),
    "pareto": (("log", 0.0), ("log", 0.0), "(b + 1) log x"),
    "lomax": (("log", 0.0), ("log", 0.0), "(c + 1) log(1 + x)"),
    "poisson": (("power", 1.0), ("power", 1.0), "log k! - k log mu (~ k log k)"),
    "geom": (("power", 1.0), ("power", 1.0), "-(k - 1) log(1 - p)"),
    "dlaplace": (("power", 1.0), ("power", 1.0), "a |k|"),
    "zipf": (("log", 0.0), ("log", 0.0), "a log k"),
}


def _lookup(table: dict[str, Any], dist: Any) -> tuple[str, Any] | None:
    """The entry of the nearest ancestor of ``dist``'s class (the MRO, like the registry).

    Tables are keyed by scipy family names; a subclass of ``t_gen`` gets t's entry.
    """
    by_class = {type(getattr(stats, name)): name for name in table if hasattr(stats, name)}
    for cls in type(dist).__mro__:
        if cls in by_class:
            return by_class[cls], table[by_class[cls]]
    return None


#: the points (in scales from the centre) where infinite tails are read: doublings up
#: to 512 (where exponential tails still have finite logarithms), then 10^16 ... 10^128.
_FAR = np.concatenate([2.0 ** np.arange(2, 10), 10.0 ** np.array([16.0, 32.0, 64.0, 128.0])])
#: for a finite end a != 0: offsets |a| 10^-j (a + u must differ from a).
_NEAR_REL = np.array([3.0, 5.0, 7.0, 9.0, 11.0, 13.0])
_NEAR_ABS = np.array([4.0, 8.0, 16.0, 32.0, 64.0, 128.0])
_STABLE = 1e-3  # successive slopes closer than this: a power law


@dataclass(frozen=True)
class Verdict:
    """Whether the integral of a quantity is finite, and why.

    ``finite`` is True, False (then ``value`` is the infinite answer) or None
    (undecided); ``variance_finite`` is the same for the second moment of the
    Monte Carlo terms; ``reason`` is a sentence for messages and ``describe``.
    """

    finite: bool | None
    value: float
    reason: str
    variance_finite: bool | None = True


def _params(d: Any) -> tuple[tuple[float, ...], float, float]:
    shapes, loc, scale = d.dist._parse_args(*d.args, **d.kwds)
    return tuple(float(s) for s in shapes), float(loc), float(scale)


def _quiet(fn: Any, *args: Any) -> np.ndarray:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(fn(*args), dtype=float)


def _slopes(logx: np.ndarray, logy: np.ndarray) -> np.ndarray:
    ok = np.isfinite(logy) & np.isfinite(logx)
    x, y = logx[ok], logy[ok]
    if x.size < 2:
        return np.array([])
    return np.diff(y) / np.diff(x)


# --------------------------------------------------------------------------------------
# The pieces of P: where its mass lives, and its log-density there.


def _part(P: Law) -> Any:
    """The scipy law whose tails are P's tails (None: P has bounded, finite support)."""
    if P.kind in (CONTINUOUS, MVN) or (P.kind == MIXED and P.has_cont):
        return P.cont
    if P.kind == DISCRETE:
        return P.discrete
    return None


def _log_p(P: Law, x: np.ndarray) -> np.ndarray:
    """log p at x; NaN (scipy failing far out, where p underflows) counts as -inf."""
    lp = _quiet(log_mass, P, x) if P.kind == DISCRETE else _quiet(log_cont, P, x)
    return np.where(np.isnan(lp), -np.inf, lp)


def _vanishes(lf: np.ndarray) -> bool:
    """The last three values are -inf: the integrand is 0 towards the end."""
    return bool(np.all(np.isneginf(lf[-3:])))


def _log_q(Q: Law, x: np.ndarray, discrete: bool) -> np.ndarray:
    return _quiet(log_mass if discrete else log_cont, Q, x)


def _centre_scale(d: Any) -> tuple[float, float]:
    _, loc, scale = _params(d)
    if isinstance(d.dist, stats.rv_discrete):  # no quantile search on a heavy tail
        a, b = (float(v) for v in d.support())
        mean = float(_quiet(d.mean))
        centre = mean if math.isfinite(mean) else (a if math.isfinite(a) else loc)
        return centre, scale
    med = float(_quiet(d.median))
    centre = med if math.isfinite(med) else loc
    return centre, scale


def _far_points(d: Any, side: int, discrete: bool) -> tuple[np.ndarray, np.ndarray]:
    """Points far out on one side, and the logs of their distances from the centre."""
    centre, scale = _centre_scale(d)
    with np.errstate(over="ignore"):
        dist = scale * _FAR
        if discrete:
            centre = float(np.floor(centre))
            dist = np.ceil(np.maximum(scale, 1.0) * _FAR)
        x = centre + side * dist
    ok = np.isfinite(x) & (dist > 0)
    return x[ok], np.log(dist[ok])


# --------------------------------------------------------------------------------------
# Exponents at an infinite end.


def _tail_index(P: Law, side: int) -> tuple[float | None, str]:
    """The tail index alpha of P at the end ``side`` (inf: lighter than every power).

    None when it cannot be read (then the caller decides on the integrand).
    """
    d = _part(P)
    entry = _lookup(_TAIL_INDEX, d.dist)
    if entry is not None:
        name, index = entry
        shapes, _, _ = _params(d)
        left, right = index(shapes)
        alpha = right if side > 0 else left
        if alpha is not None:
            return float(alpha), f"{name}'s {'right' if side > 0 else 'left'} tail index"
    x, logd = _far_points(d, side, P.kind == DISCRETE)
    lp = _log_p(P, x)
    if _vanishes(lp):
        return math.inf, "its density vanishes far out"
    s = _slopes(logd, lp)
    if s.size < 2:
        return None, ""
    if abs(s[-1] - s[-2]) <= _STABLE * max(1.0, abs(s[-1])):
        return max(0.0, float(-s[-1] - 1.0)), "read off its log-density"
    if s[-1] < s[-2]:
        return math.inf, "its log-density falls faster than every power"
    return None, ""


def _growth(Q: Law, P: Law, side: int) -> tuple[float | None, str]:
    """The growth exponent k of -log q at P's end ``side`` (inf: super-polynomial)."""
    discrete = P.kind == DISCRETE
    qd = Q.discrete if discrete else Q.cont
    entry = None if Q.kind == MVN else _lookup(_STATISTICS, qd.dist)
    if entry is not None:
        left, right, text = entry[1]
        kind, k = right if side > 0 else left
        return (0.0 if kind == "log" else k), f"-log q(x) = {text} + const"
    x, logd = _far_points(_part(P), side, discrete)
    lq = _log_q(Q, x, discrete)
    with np.errstate(all="ignore"):
        lg = np.log(-lq)
    s = _slopes(logd, lg)
    if s.size < 2:
        return None, ""
    if s[-1] > 50.0 or s[-1] > s[-2] + 1.0:
        return math.inf, "-log q grows faster than every power"
    if s[-1] < 0.05 and s[-1] <= s[-2] + _STABLE:
        return 0.0, "-log q grows like a power of log x"
    if abs(s[-1] - s[-2]) <= 0.02 * max(1.0, abs(s[-1])):
        return float(s[-1]), "read off -log q"
    return None, ""


def _integrand_slope_far(quantity: str, P: Law, Q: Law, side: int) -> bool | None:
    """Finiteness of the integral of p |g| at an infinite end, from its local slope."""
    discrete = P.kind == DISCRETE
    x, logd = _far_points(_part(P), side, discrete)
    lp = _log_p(P, x)
    lq = lp if quantity == "entropy" else _log_q(Q, x, discrete)
    with np.errstate(all="ignore"):
        g = -lq if quantity == "cross_entropy" else (-lp if quantity == "entropy" else lp - lq)
        lf = lp + np.log(np.abs(g))
    lf = np.where(np.isneginf(lp) | (g == 0), -np.inf, lf)
    if _vanishes(lf):
        return True
    s = _slopes(logd, lf)
    if s.size < 2:
        return None
    if s[-1] < -1.0 - 0.05 and s[-1] <= s[-2] + _STABLE:
        return True
    if s[-1] > -1.0 + _STABLE or abs(s[-1] - s[-2]) <= _STABLE:
        return s[-1] < -1.0 - _STABLE
    return None


def _near_points(a: float, scale: float, side: int) -> np.ndarray:
    """Points a + side * u with u -> 0, all distinct from a."""
    u = abs(a) * 10.0**-_NEAR_REL if a != 0.0 else scale * 10.0**-_NEAR_ABS
    x = a + side * u
    return x[x != a]


def _integrand_slope_near(quantity: str, P: Law, Q: Law, a: float, side: int) -> bool | None:
    """Finiteness at a finite end a of P's support (side = +1: P lives right of a)."""
    _, _, scale = _params(P.cont)
    x = _near_points(a, scale, side)
    lp = _log_p(P, x)
    lq = lp if quantity == "entropy" else _log_q(Q, x, False)
    with np.errstate(all="ignore"):
        g = -lq if quantity == "cross_entropy" else (-lp if quantity == "entropy" else lp - lq)
        lf = lp + np.log(np.abs(g))
    lf = np.where(np.isneginf(lp) | (g == 0), -np.inf, lf)
    if _vanishes(lf):
        return True  # p or g vanishes near the end: nothing to integrate
    if np.any(np.isposinf(lf)):
        return False if np.all(np.isfinite(lp)) else None
    s = _slopes(np.log(np.abs(x - a)), lf)
    if s.size < 2:
        return None
    if s[-1] > -1.0 + _STABLE and s[-1] >= s[-2] - _STABLE:
        return True
    if s[-1] > -1.0 + 0.05:
        return True
    if abs(s[-1] - s[-2]) <= _STABLE or s[-1] < -1.0 - 0.1:
        return False
    return None


# --------------------------------------------------------------------------------------
# The verdict.


_MOMENT = {
    2.0: "E_P[X^2]",
    1.0: "E_P[|X|]",
}


def _moment_text(k: float) -> str:
    return _MOMENT.get(k, f"E_P[|X|^{k:g}]")


def decide(quantity: str, P: Law, Q: Law) -> Verdict:
    """Is the integral of ``quantity`` finite? (P << Q is assumed, checked elsewhere.)"""
    d = _part(P)
    if d is None or P.kind == MVN or (quantity != "entropy" and Q.kind == MVN):
        return Verdict(True, math.nan, "")
    discrete = P.kind == DISCRETE
    a, b = (float(v) for v in d.support())
    qa, qb = -math.inf, math.inf
    if discrete and quantity != "entropy":
        if Q.kind != DISCRETE:
            return Verdict(True, math.nan, "")  # atoms Q lacks: the series finds q = 0
        qa, qb = (float(v) for v in Q.discrete.support())
    var_ok: bool | None = True
    for side, end in ((+1, b), (-1, a)):
        where = "right" if side > 0 else "left"
        if math.isinf(end) and math.isfinite(qb if side > 0 else qa):
            continue  # Q's atoms stop: the series finds q = 0 where P has mass
        if math.isinf(end):
            alpha, why_a = _tail_index(P, side)
            if quantity == "entropy":
                k: float | None = 0.0
                why_k = "-log p grows like log|x|"
            else:
                k, why_k = _growth(Q, P, side)
            # KL: log p grows like log|x| on a power tail, so the growth of -log q decides.
            if alpha is not None and k is not None and not (math.isinf(alpha) and math.isinf(k)):
                if math.isinf(alpha):
                    continue
                if alpha <= 0.0:
                    return Verdict(None, math.nan, f"P's {where} tail is too heavy to decide")
                if alpha > k + 1e-9:
                    if not alpha > 2.0 * k + 1e-9:
                        var_ok = False
                    continue
                if quantity == "entropy":  # pragma: no cover - alpha > 0 = k always
                    return Verdict(None, math.nan, "")
                reason = (
                    f"P = {P.name} is dominated by Q = {Q.name}, but on the {where} "
                    f"{why_k}, which grows like |x|^{k:g}, while P's tail mass beyond x "
                    f"falls like |x|^-{alpha:g} ({why_a} is {alpha:g}): "
                    f"{_moment_text(k)} = inf"
                )
                return Verdict(False, math.inf, reason, False)
            ok = _integrand_slope_far(quantity, P, Q, side)
            if ok is None:
                return Verdict(
                    None,
                    math.nan,
                    f"cannot decide whether the {quantity} of P = {P.name} and Q = {Q.name} "
                    f"is finite: the integrand's {where} tail is neither clearly integrable "
                    "nor clearly not",
                )
            if not ok:
                reason = (
                    f"P = {P.name} is dominated by Q = {Q.name}, but p |log q| does not "
                    f"decay fast enough on the {where} (it falls no faster than 1/|x|)"
                )
                return Verdict(False, math.inf, reason, False)
            var_ok = None if var_ok is True else var_ok
        elif not discrete:
            ok = _integrand_slope_near(quantity, P, Q, end, -side)
            if ok is None:
                return Verdict(
                    None,
                    math.nan,
                    f"cannot decide whether the {quantity} of P = {P.name} and Q = {Q.name} "
                    f"is finite near the end {end:g} of P's support",
                )
            if not ok:
                if quantity == "entropy":  # p unbounded near the end: -p log p -> -inf
                    reason = (
                        f"the density of P = {P.name} is so singular at the end {end:g} "
                        "of its support that E_P[log p(X)] = +inf: H(P) = -inf"
                    )
                    return Verdict(False, -math.inf, reason, False)
                reason = (
                    f"P = {P.name} is dominated by Q = {Q.name}, but the integrand "
                    f"p |log q| is not integrable at the end {end:g} of P's support "
                    "(q vanishes there faster than p can compensate)"
                )
                return Verdict(False, math.inf, reason, False)
    return Verdict(True, math.nan, "", var_ok)


def explain(quantity: str, P: Law, Q: Law) -> str:
    """One sentence: is the quantity finite, and why (used by ``describe``)."""
    v = decide(quantity, P, Q)
    if v.finite is False:
        return v.reason
    if v.finite is None:
        return v.reason
    return f"the integral is finite (P = {P.name}, Q = {Q.name})"
