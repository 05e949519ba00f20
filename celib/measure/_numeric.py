"""Numerical methods of :mod:`celib.measure`: quadrature, series and Monte Carlo.

All three compute :math:`\\int p\\, g(\\log p, \\log q)\\, d\\nu` for

* ``"cross_entropy"``: :math:`g = -\\log q`,
* ``"kl_divergence"``: :math:`g = \\log p - \\log q`,
* ``"entropy"``: :math:`g = -\\log p`,

with :math:`\\nu` = counting measure on the atoms + Lebesgue measure, and
:math:`0 \\cdot g = 0` where :math:`p = 0`.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
from scipy import integrate, stats

from celib.measure._laws import (
    DISCRETE,
    MIXED,
    MVN,
    Law,
    is_atom,
    log_cont,
    log_density,
    log_mass,
    sample,
)
from celib.measure._types import Estimate

#: |integral of a density - 1| above this raises (the density is not normalised).
NORM_ATOL = 1e-8
#: at most this many terms in a series before giving up (about a second of work).
MAX_TERMS = 2_100_000
#: and at most this many seconds (some scipy pmfs cost microseconds a term).
MAX_SECONDS = 1.5

#: log of p |x| below which a non-finite integrand value counts as 0.
_LOG_TINY = math.log(1e-100)

#: probabilities at which P's support is split (quantiles): mass lives between them.
_SPLIT_PROBS = np.array([1e-12, 1e-6, 1e-3, 0.02, 0.1, 0.25])


def _g(quantity: str, lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    if quantity == "cross_entropy":
        return -lq
    if quantity == "kl_divergence":
        return lp - lq
    return -lp


def _weighted(quantity: str, lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    """p * g(log p, log q), with 0 where p = 0 (0 log 0 = 0; 0 log 0/q = 0)."""
    with np.errstate(all="ignore"):
        p = np.exp(lp)
        val = p * _g(quantity, lp, lq)
    return np.where(p == 0.0, 0.0, val)


# --------------------------------------------------------------------------------------
# Quadrature of the continuous part.

# Points where a family's density is not smooth: {scipy name: f(shapes, loc, scale)}.
_KINKS = {
    "laplace": lambda s, loc, scale: [loc],
    "laplace_asymmetric": lambda s, loc, scale: [loc],
    "triang": lambda s, loc, scale: [loc + s[0] * scale],
    "trapezoid": lambda s, loc, scale: [loc + s[0] * scale, loc + s[1] * scale],
}


def _kinks(d: Any) -> list[float]:
    shapes, loc, scale = d.dist._parse_args(*d.args, **d.kwds)
    if isinstance(d.dist, stats.rv_histogram):
        return (np.asarray(d.dist._hbins, float) * scale + loc).tolist()
    fn = _KINKS.get(d.dist.name)
    return [float(v) for v in fn(shapes, loc, scale)] if fn else []


def _edges(d: Any, others: list[Any]) -> np.ndarray:
    """Split points of d's support: quantiles of d and the kinks of d and ``others``."""
    a, b = (float(v) for v in d.support())
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = np.concatenate(
            [
                _quantiles(d.ppf, _SPLIT_PROBS),
                _quantiles(d.ppf, [0.5]),
                _quantiles(d.isf, _SPLIT_PROBS),
            ]
        )
    pts = [float(v) for v in q] + _kinks(d) + [k for o in others for k in _kinks(o)]
    inner = sorted({v for v in pts if np.isfinite(v) and a < v < b})
    return np.array([a, *inner, b], dtype=float)


def _quantiles(fn: Any, probs: Any) -> np.ndarray:
    """scipy quantiles, NaN where scipy fails (boost's OverflowError for ncf, ...)."""
    try:
        return np.asarray(fn(np.asarray(probs, dtype=float)), dtype=float)
    except (OverflowError, FloatingPointError, ValueError, RuntimeError):
        return np.full(np.shape(probs), np.nan)


def _far(d: Any) -> tuple[float, float]:
    """Points beyond which d has mass < 1e-300: scipy may return NaN out there."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lo, hi = (float(v) for v in (*_quantiles(d.ppf, [1e-300]), *_quantiles(d.isf, [1e-300])))
    return (lo if np.isfinite(lo) else -math.inf), (hi if np.isfinite(hi) else math.inf)


def _ignorable(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, far: tuple[float, float]) -> Any:
    """Where a non-finite integrand value may be set to 0: interval ends, far tails."""
    return (x == lo) | (x == hi) | (x < far[0]) | (x > far[1])


def _tanhsinh(f: Any, edges: np.ndarray, rtol: float, what: str, noise: Any = None) -> float:
    """Sum of the integrals of f over the pieces; warns when rtol is not reached.

    ``noise()``, if given, is an integral of |integrand terms|: rounding in the
    integrand (e.g. log p - log q for P close to Q) limits the accuracy to about
    eps times it, and no warning is given below that floor.
    """
    lo, hi = edges[:-1], edges[1:]
    res = integrate.tanhsinh(f, lo, hi, args=(lo, hi), rtol=rtol * 1e-2)
    values = np.atleast_1d(res.integral)
    if np.any(np.isnan(values)) or np.any(np.atleast_1d(res.status) == -3):
        return math.nan  # non-finite integrand: the caller decides what it means
    total = math.fsum(values.tolist())
    err = float(np.sum(res.error))
    if (
        err > rtol * abs(total)
        and err > 1e-300
        and not (noise is not None and err <= 1e3 * np.finfo(float).eps * noise())
    ):
        warnings.warn(
            f"quadrature of {what} reached an error estimate of {err:.3g} "
            f"(relative {err / abs(total) if total else math.inf:.3g}), above rtol={rtol:g}",
            RuntimeWarning,
            stacklevel=4,
        )
    return total


def _check_normalised(L: Law, rtol: float, argname: str) -> None:
    """The continuous part of L (a scipy law) must integrate to 1 within NORM_ATOL."""
    d = L.cont
    far = _far(d)

    def f(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            v = np.asarray(d.pdf(x), dtype=float)
        return np.where(~np.isfinite(v) & _ignorable(x, lo, hi, far), 0.0, v)

    mass = _tanhsinh(f, _edges(d, []), rtol, f"the density of {argname}")
    if not abs(mass - 1.0) <= NORM_ATOL:
        raise ValueError(
            f"{argname}'s density integrates to {mass!r}, not 1 (tolerance {NORM_ATOL:g}): "
            f"{L.name} is not a probability distribution"
        )


def _integral(quantity: str, P: Law, Q: Law, rtol: float) -> float:
    """The continuous part: integral of p g(log p, log q) dx over P's support."""
    q_zero: list[bool] = []
    far = _far(P.cont)
    others = [] if quantity == "entropy" else [Q.cont]
    edges = _edges(P.cont, others)
    inner = np.abs(edges[1:-1])
    bulk = float(np.max(inner)) if inner.size else 1.0

    def f(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            lp = log_cont(P, x)
            lq = lp if quantity == "entropy" else log_cont(Q, x)
        val = _weighted(quantity, lp, lq)
        # Far out scipy's log-densities may overflow (x^2 beyond 1e154, x^4 beyond
        # 1e77, x / scale beyond 1e308) and give -inf: where p |x| < 1e-100 (the mass of
        # such a tail) those points carry nothing once the tails are known to converge
        # (celib.measure._tails decides that first).
        with np.errstate(all="ignore"):
            tiny = lp + np.log(np.maximum(1.0, np.abs(x))) < _LOG_TINY
            # scipy may also give NaN for p there (ncf beyond 1e300): 1e50 times beyond
            # the 1e-12 quantiles, a converging tail carries nothing either.
            tiny |= np.isnan(lp) & (np.abs(x) > 1e50 * bulk)
        ignorable = _ignorable(x, lo, hi, far) | tiny
        if np.any(~np.isfinite(val) & ~ignorable & np.isneginf(lq)):
            q_zero.append(True)
        return np.where(~np.isfinite(val) & ignorable, 0.0, val)

    def magnitude(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            lp = log_cont(P, x)
            lq = lp if quantity == "entropy" else log_cont(Q, x)
            val = np.exp(lp) * (np.abs(lp) + np.abs(lq))
        return np.where(np.isfinite(val), val, 0.0)

    def noise() -> float:
        res = integrate.tanhsinh(magnitude, edges[:-1], edges[1:], args=(edges[:-1], edges[1:]))
        return float(np.sum(res.integral))

    total = _tanhsinh(f, edges, rtol, f"the {quantity}", noise)
    if q_zero:
        # log q = -inf where p > 0, inside Q's support. For a histogram density this is
        # an empty bin: P is not dominated by Q. Otherwise scipy's logpdf may have
        # underflowed (some families compute log(pdf)): refuse to guess.
        if isinstance(Q.cont.dist, stats.rv_histogram):
            return math.inf
        raise ValueError(
            f"Q's log-density is -inf inside its support where P has positive density "
            f"(Q = {Q.name}): either Q's density vanishes there (then P is not dominated "
            "by Q and the answer is inf) or scipy's logpdf underflowed in the tail"
        )
    if math.isnan(total):
        raise ValueError(
            f"the integrand of the {quantity} is not finite inside the support of P "
            f"({P.name}); its log-density may be +inf or NaN there"
        )
    return total


# --------------------------------------------------------------------------------------
# Series over atoms.


def _series(quantity: str, P: Law, Q: Law, rtol: float) -> tuple[float, float]:
    """Sum of p g over P's atoms; returns (sum, total mass summed)."""

    # Q's pmf may underflow to 0 inside its support (scipy computes some logpmfs as
    # log(pmf)): there, where P's mass is negligible (p k < 1e-100), the term is 0.
    # Outside Q's support a zero is real: P is not dominated and the sum is inf.
    q_lo, q_hi = (-math.inf, math.inf)
    if Q.kind == DISCRETE:
        q_lo, q_hi = (float(v) for v in Q.discrete.support())

    def terms(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lp = log_mass(P, x)
        lq = lp if quantity == "entropy" else log_mass(Q, x)
        val = _weighted(quantity, lp, lq)
        if Q.kind == DISCRETE:
            with np.errstate(all="ignore"):
                tiny = lp + np.log(np.maximum(1.0, np.abs(x))) < _LOG_TINY
            val = np.where(~np.isfinite(val) & tiny & (x >= q_lo) & (x <= q_hi), 0.0, val)
        return val, np.exp(lp)

    if P.kind == MIXED:
        t, m = terms(P.obj.points)
        return math.fsum(t.tolist()), math.fsum(m.tolist())
    d = P.discrete
    if hasattr(d.dist, "xk"):  # rv_discrete(values=...): finitely many listed points
        _, loc, _ = d.dist._parse_args(*d.args, **d.kwds)
        t, m = terms(np.asarray(d.dist.xk, float) + loc)
        return math.fsum(t.tolist()), math.fsum(m.tolist())
    a, b = (float(v) for v in d.support())
    # Blocks of doubling width outward from the bulk (scipy's quantiles are never asked
    # for: its isf hangs on heavy tails). A side stops when the sum of the block after
    # it, extrapolated as a geometric series of block sums (exact for a power-law or
    # geometric tail), is below 1e-3 rtol |total|. The work is bounded by MAX_TERMS.
    start = time.perf_counter()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mean = float(d.mean())  # scipy's moment formulas: no search, no quantiles
    if math.isfinite(mean):
        centre = float(np.round(mean))
    else:
        centre = a if np.isfinite(a) else (b if np.isfinite(b) else 0.0)
    lo = max(a, centre - 512.0)
    hi = min(b, lo + 1023.0)
    t, m = terms(np.arange(lo, hi + 1.0))
    parts, masses = [math.fsum(t.tolist())], [math.fsum(m.tolist())]
    for side in (+1, -1):
        previous: tuple[float, float] | None = None
        while (hi < b) if side > 0 else (lo > a):
            total = math.fsum(parts)
            if math.isinf(total):
                return total, math.fsum(masses)
            width = max(hi - lo + 1.0, 1024.0)
            done = hi - lo + 1.0
            predicted = (time.perf_counter() - start) * (done + width) / done
            if done + width > MAX_TERMS or predicted > MAX_SECONDS:
                raise RuntimeError(_too_many(P, quantity))
            if side > 0:
                new = min(b, hi + width)
                t, m = terms(np.arange(hi + 1.0, new + 1.0))
                hi = new
            else:
                new = max(a, lo - width)
                t, m = terms(np.arange(new, lo))
                lo = new
            block = (math.fsum(np.abs(t).tolist()), math.fsum(m.tolist()))
            parts.append(math.fsum(t.tolist()))
            masses.append(block[1])
            if block == (0.0, 0.0):
                break
            if previous is not None and all(
                _geometric_tail(now, before) <= bound
                for now, before, bound in zip(
                    block,
                    previous,
                    (1e-3 * rtol * abs(math.fsum(parts)), 1e-2 * NORM_ATOL),
                    strict=True,
                )
            ):
                break
            previous = block
    return math.fsum(parts), math.fsum(masses)


def _geometric_tail(now: float, before: float) -> float:
    """The sum of the blocks after ``now`` if block sums fall by a constant ratio."""
    if now == 0.0:
        return 0.0
    ratio = now / before if before > 0 else math.inf
    return now * ratio / (1.0 - ratio) if ratio < 0.9 else math.inf


def _too_many(P: Law, quantity: str) -> str:
    return (
        f"the series for the {quantity} of {P.name} needs more than {MAX_TERMS} terms "
        f"(or {MAX_SECONDS:g} s) "
        "to reach the tolerance (a heavy tail); use method='mc', or a larger rtol"
    )


# --------------------------------------------------------------------------------------
# The exact numerical method.


def numerical(quantity: str, P: Law, Q: Law, rtol: float) -> float:
    """``method='quad'``: quadrature of the continuous part plus series over the atoms."""
    if MVN in (P.kind, Q.kind):
        raise ValueError(
            "method='quad' integrates one-dimensional distributions; for "
            "multivariate_normal use method='closed_form' or method='mc'"
        )
    parts = []
    if P.has_atoms:
        s, mass = _series(quantity, P, Q, rtol)
        if math.isinf(s):
            return s
        expected = 1.0 - P.w_cont
        if P.kind == DISCRETE and not abs(mass - expected) <= max(NORM_ATOL, 10 * rtol):
            raise ValueError(
                f"P's probabilities sum to {mass!r}, not 1 (tolerance {NORM_ATOL:g}): "
                f"{P.name} is not a probability distribution"
            )
        parts.append(s)
    if P.has_cont:
        _check_normalised(P, rtol, "P")
        if quantity != "entropy" and Q.has_cont:
            _check_normalised(Q, rtol, "Q")
        value = _integral(quantity, P, Q, rtol)
        if math.isinf(value):
            return value
        parts.append(value)
    return math.fsum(parts)


# --------------------------------------------------------------------------------------
# Monte Carlo.


def monte_carlo(quantity: str, P: Law, Q: Law, n: int, rng: np.random.Generator) -> Estimate:
    """``method='mc'``: average of g(log p(X), log q(X)) over n draws X of P."""
    x = sample(P, n, rng)
    if quantity == "entropy":
        atom = is_atom(P, x)
        y = -log_density(P, x, atom)
    else:
        atom = is_atom(P, x) | is_atom(Q, x)
        lq = log_density(Q, x, atom)
        y = -lq if quantity == "cross_entropy" else log_density(P, x, atom) - lq
    return summarise(y, n)


def summarise(y: Any, n: int) -> Estimate:
    """Mean and standard error of the terms y (numpy array or torch tensor)."""
    from array_api_compat import array_namespace

    xp = array_namespace(y)
    if tuple(y.shape) != (n,):
        raise ValueError(
            f"the log-density must return one value per sample: expected shape ({n},), "
            f"got {tuple(y.shape)}"
        )
    if not xp.isdtype(y.dtype, "real floating"):
        y = xp.astype(y, xp.float64)
    elif str(y.dtype).rsplit(".", 1)[-1] in ("float16", "bfloat16"):
        y = xp.astype(y, xp.float32)  # accumulate in at least single precision
    if bool(xp.any(xp.isnan(y))):
        raise ValueError("the log-density returned NaN at some samples")
    if bool(xp.any(y == -math.inf)):
        raise ValueError(
            "a log-density returned +inf at some samples (an infinite density); "
            "the Monte Carlo average is not defined"
        )
    if bool(xp.any(y == math.inf)):
        # q = 0 (or p/q = inf) at a sample of P: P is not dominated by Q.
        return Estimate(math.inf, 0.0, n)
    mean = xp.mean(y)
    value = float(mean)
    sd = float(xp.std(y, correction=1))
    stderr = sd / math.sqrt(n)
    skew = kurt = 0.0
    if sd > 0 and math.isfinite(sd):
        u = (y - mean) / sd
        u2 = u * u
        skew, kurt = float(xp.mean(u2 * u)), float(xp.mean(u2 * u2)) - 3.0
        if not (math.isfinite(skew) and math.isfinite(kurt)):
            skew = kurt = 0.0
    return Estimate(value, stderr, n, skew, kurt)
