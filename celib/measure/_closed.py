"""Closed forms of cross-entropy, entropy and KL divergence, and their registry.

Formulas take frozen scipy.stats distributions and return a float, ``math.inf`` when
``P`` is not dominated by ``Q``, or ``NotImplemented`` to decline (the caller then
integrates numerically). KL divergences are written so that they stay accurate to a
few ulps when ``P`` and ``Q`` are close (no cancellation of the two entropies): they
are sums of non-negative terms computed with the helpers below.

References: Cover & Thomas (2006), ch. 8 (differential entropies); the Gaussian KL
in Murphy (2023), sec. 5.1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import linalg, special, stats

from celib import _checks
from celib.measure._laws import CONTINUOUS, DISCRETE, MIXED, MVN, Law, family_of, log_mass

QUANTITIES = ("cross_entropy", "entropy", "kl_divergence")
_TABLES: dict[str, dict[tuple[type, ...], Callable[..., Any]]] = {q: {} for q in QUANTITIES}
_LOG_2PI = math.log(2.0 * math.pi)


def register(quantity: str, family_p: Any, family_q: Any = None) -> Callable:
    """Decorator adding a closed form to the registry (see ``celib.measure``)."""
    quantity = _checks.choice(quantity, "quantity", QUANTITIES)
    if quantity == "entropy":
        if family_q is not None:
            raise ValueError("an entropy formula takes one family: family_q must be None")
        key: tuple[type, ...] = (family_of(family_p, "family_p"),)
    else:
        if family_q is None:
            raise ValueError(f"a {quantity} formula needs family_q (the family of Q)")
        key = (family_of(family_p, "family_p"), family_of(family_q, "family_q"))

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(fn):
            raise TypeError(f"the registered formula must be callable, got {fn!r}")
        _TABLES[quantity][key] = fn
        return fn

    return decorator


# --------------------------------------------------------------------------------------
# Lookup with derivations: H(P) = H(P, P); H(P, Q) = H(P) + KL; KL = H(P, Q) - H(P).


def _lookup(quantity: str, *families: type) -> Callable[..., Any] | None:
    """The formula registered for the nearest ancestors of ``families`` (None if none).

    Like ``torch.distributions.kl_divergence``: among the registered keys whose classes
    are ancestors of the given ones, take the one with the smallest total distance in
    the method resolution orders (ties: the more specific first argument), so that a
    subclass of ``norm_gen`` gets the normal formulas.
    """
    table = _TABLES[quantity]
    mros = [f.__mro__ for f in families]
    best: tuple[tuple[int, ...], Callable[..., Any]] | None = None
    for key, fn in table.items():
        try:
            ranks = tuple(mro.index(k) for mro, k in zip(mros, key, strict=True))
        except ValueError:
            continue
        order = (sum(ranks), *ranks)
        if best is None or order < best[0]:
            best = (order, fn)
    return None if best is None else best[1]


def _direct(quantity: str, P: Any, Q: Any = None) -> Any:
    if quantity == "entropy":
        fn = _lookup("entropy", _fam(P))
        return NotImplemented if fn is None else fn(P)
    fn = _lookup(quantity, _fam(P), _fam(Q))
    return NotImplemented if fn is None else fn(P, Q)


def _fam(d: Any) -> type:
    return type(d.dist) if hasattr(d, "dist") else type(stats.multivariate_normal)


def _scipy_closed(quantity: str, P: Any, Q: Any = None) -> Any:
    """Closed form for plain scipy distributions, deriving the missing quantity."""
    r = _direct(quantity, P, Q)
    if r is not NotImplemented:
        return float(r)
    if quantity == "entropy":
        r = _direct("cross_entropy", P, P)
        return r if r is NotImplemented else float(r)
    h = _scipy_closed("entropy", P)
    if h is NotImplemented:
        return NotImplemented
    if quantity == "cross_entropy":
        kl = _direct("kl_divergence", P, Q)
        return kl if kl is NotImplemented else h + float(kl)
    ce = _direct("cross_entropy", P, Q)
    if ce is NotImplemented:
        return NotImplemented
    return math.inf if math.isinf(ce) else float(ce) - h


def closed_form(quantity: str, P: Law, Q: Law | None) -> Any:
    """Closed form of ``quantity`` (nats), or NotImplemented."""
    Q = P if Q is None else Q
    if P.kind != MIXED and Q.kind != MIXED:
        if quantity == "entropy":
            return _scipy_closed("entropy", P.obj)
        return _scipy_closed(quantity, P.obj, Q.obj)
    if P.kind == DISCRETE or P.kind == MVN:
        return NotImplemented
    # P = sum_k w_k delta_{a_k} + w_c C (a continuous P has no atoms and w_c = 1).
    terms: list[float] = []
    if P.kind == MIXED and P.has_atoms:
        w = P.obj.weights
        lw = np.log(w)
        if quantity == "entropy":
            terms.extend((-w * lw).tolist())
        else:
            lq = log_mass(Q, P.obj.points)
            if np.any(np.isneginf(lq)):
                return math.inf
            g = -lq if quantity == "cross_entropy" else lw - lq
            terms.extend((w * g).tolist())
    if P.has_cont:
        wp = P.w_cont
        if quantity == "entropy":
            h = _scipy_closed("entropy", P.cont)
            if h is NotImplemented:
                return NotImplemented
            terms += [-wp * math.log(wp), wp * h]
        else:
            if not Q.has_cont:
                return math.inf
            wq = Q.w_cont
            r = _scipy_closed(quantity, P.cont, Q.cont)
            if r is NotImplemented:
                return NotImplemented
            if quantity == "cross_entropy":
                terms += [-wp * math.log(wq), wp * r]
            else:
                terms += [wp * _log_ratio(wp, wq), wp * r]
    return math.fsum(terms)


# --------------------------------------------------------------------------------------
# Accurate helpers.


def _params(d: Any) -> tuple[tuple[float, ...], float, float]:
    shapes, loc, scale = d.dist._parse_args(*d.args, **d.kwds)
    return tuple(float(s) for s in shapes), float(loc), float(scale)


def _rel_diff(x: float, y: float) -> float:
    """(x - y) / y, exact difference when x and y are within a factor 2 (Sterbenz)."""
    return (x - y) / y


def _log_ratio(x: float, y: float) -> float:
    """log(x / y), accurate when x is close to y."""
    m = _rel_diff(x, y)
    return math.log1p(m) if -0.5 < m < 1.0 else math.log(x) - math.log(y)


def _xm_log1p(m: float) -> float:
    r"""m - log(1 + m) >= 0, accurate near m = 0 (this is r - 1 - log r at r = 1 + m)."""
    if abs(m) < 0.25:
        # sum_{n>=2} (-1)^n m^n / n, Horner from the tail; 0.25^40 / 40 < 1e-25.
        s = 0.0
        for n in range(40, 1, -1):
            s = s * (-m) + 1.0 / n
        return s * m * m
    return m - math.log1p(m)


def _rm1mlog(x: float, y: float) -> float:
    r"""r - 1 - log r >= 0 for r = x / y > 0, accurate both near r = 1 and far from it."""
    m = _rel_diff(x, y)
    if abs(m) < 0.5:
        return _xm_log1p(m)
    return m - (math.log(x) - math.log(y))


def _expm1mx(u: float) -> float:
    r"""e^u - 1 - u >= 0, accurate near u = 0."""
    if abs(u) < 0.5:
        s = 0.0
        term_coeffs = [1.0 / math.factorial(n) for n in range(2, 24)]
        for c in reversed(term_coeffs):
            s = s * u + c
        return s * u * u
    return math.expm1(u) - u


def _lgamma_bregman(a: float, b: float) -> float:
    r"""ln Gamma(b) - ln Gamma(a) - (b - a) psi(a) >= 0, accurate when b is close to a."""
    h = b - a
    if h == 0.0:
        return 0.0
    if abs(h) <= 0.5 * a:
        # Taylor series of ln Gamma about a: sum_{n>=2} psi^{(n-1)}(a) h^n / n!. Its radius
        # is a (the pole at 0) and its terms shrink like (|h| / a)^n: 80 terms reach 1e-24
        # of the first at |h| = a / 2. Beyond, the terms of the direct formula, of size
        # a ln a, are at most a few tens of times the result.
        n = np.arange(2, 80)
        terms = special.polygamma(n - 1, a) * np.exp(n * math.log(abs(h)) - special.gammaln(n + 1))
        terms = terms * np.where((n % 2 == 1) & (h < 0), -1.0, 1.0)
        return math.fsum(terms[::-1].tolist())
    return special.gammaln(b) - special.gammaln(a) - h * special.digamma(a)


# --------------------------------------------------------------------------------------
# The formulas. Each takes frozen distributions; `loc`/`scale` follow scipy.


@register("cross_entropy", stats.norm, stats.norm)
def _ce_norm(P: Any, Q: Any) -> float:
    _, mp, sp = _params(P)
    _, mq, sq = _params(Q)
    return math.fsum(
        [math.log(sq), 0.5 * _LOG_2PI, 0.5 * (sp / sq) ** 2, 0.5 * ((mp - mq) / sq) ** 2]
    )


@register("entropy", stats.norm)
def _h_norm(P: Any) -> float:
    _, _, s = _params(P)
    return 0.5 * (_LOG_2PI + 1.0) + math.log(s)


@register("kl_divergence", stats.norm, stats.norm)
def _kl_norm(P: Any, Q: Any) -> float:
    # KL = 1/2 [r - 1 - log r] + (mp - mq)^2 / (2 sq^2), r = sp^2 / sq^2.
    _, mp, sp = _params(P)
    _, mq, sq = _params(Q)
    m = (sp - sq) / sq * ((sp + sq) / sq)  # r - 1
    rterm = _xm_log1p(m) if abs(m) < 0.5 else m - 2.0 * (math.log(sp) - math.log(sq))
    return 0.5 * rterm + 0.5 * ((mp - mq) / sq) ** 2


def _mvn_parts(P: Any, Q: Any) -> Any:
    """Cholesky factors and whitened quantities, or inf / NotImplemented."""
    mp, cp = np.asarray(P.mean, float), np.asarray(P.cov, float)
    mq, cq = np.asarray(Q.mean, float), np.asarray(Q.cov, float)
    try:
        lp = linalg.cholesky(cp, lower=True)
    except linalg.LinAlgError as exc:
        raise ValueError(
            "P's covariance is singular: P has no density with respect to Lebesgue measure on R^k"
        ) from exc
    try:
        lq = linalg.cholesky(cq, lower=True)
    except linalg.LinAlgError:
        return None  # Q singular, P not: P is not dominated by Q
    return mp, cp, lp, mq, cq, lq


@register("cross_entropy", stats.multivariate_normal, stats.multivariate_normal)
def _ce_mvn(P: Any, Q: Any) -> float:
    parts = _mvn_parts(P, Q)
    if parts is None:
        return math.inf
    mp, _, lp, mq, _, lq = parts
    k = mp.size
    a = linalg.solve_triangular(lq, lp, lower=True)  # Lq^-1 Lp: tr(Sq^-1 Sp) = |A|_F^2
    delta = linalg.solve_triangular(lq, mp - mq, lower=True)
    logdet_q = 2.0 * float(np.sum(np.log(np.diag(lq))))
    return 0.5 * math.fsum(
        [k * _LOG_2PI, logdet_q, float(np.sum(a * a)), float(np.sum(delta * delta))]
    )


@register("entropy", stats.multivariate_normal)
def _h_mvn(P: Any) -> float:
    _, _, lp, *_ = _mvn_parts(P, P)
    k = lp.shape[0]
    return 0.5 * k * (_LOG_2PI + 1.0) + float(np.sum(np.log(np.diag(lp))))


@register("kl_divergence", stats.multivariate_normal, stats.multivariate_normal)
def _kl_mvn(P: Any, Q: Any) -> float:
    # KL = 1/2 [tr(Sq^-1 Sp) - k - log det(Sq^-1 Sp) + |Lq^-1 (mp - mq)|^2]. When the
    # covariances are close, with mu_i the eigenvalues of Lq^-1 (Sp - Sq) Lq^-T (so
    # 1 + mu_i are those of Sq^-1 Sp), the first three terms are sum_i mu_i - log(1 + mu_i).
    parts = _mvn_parts(P, Q)
    if parts is None:
        return math.inf
    mp, cp, lp, mq, cq, lq = parts
    delta = linalg.solve_triangular(lq, mp - mq, lower=True)
    maha = float(np.sum(delta * delta))
    d = linalg.solve_triangular(lq, cp - cq, lower=True)
    d = linalg.solve_triangular(lq, d.T, lower=True)
    mu = linalg.eigvalsh(0.5 * (d + d.T))
    if np.max(np.abs(mu)) < 0.5:
        return 0.5 * math.fsum([*(_xm_log1p(float(m)) for m in mu), maha])
    a = linalg.solve_triangular(lq, lp, lower=True)
    logdet = 2.0 * float(np.sum(np.log(np.diag(lp))) - np.sum(np.log(np.diag(lq))))
    return 0.5 * math.fsum([float(np.sum(a * a)), -mp.size, -logdet, maha])


@register("cross_entropy", stats.expon, stats.expon)
def _ce_expon(P: Any, Q: Any) -> float:
    _, lp, sp = _params(P)
    _, lq, sq = _params(Q)
    if lp < lq:
        return math.inf
    return math.log(sq) + ((lp - lq) + sp) / sq


@register("entropy", stats.expon)
def _h_expon(P: Any) -> float:
    return 1.0 + math.log(_params(P)[2])


@register("kl_divergence", stats.expon, stats.expon)
def _kl_expon(P: Any, Q: Any) -> float:
    _, lp, sp = _params(P)
    _, lq, sq = _params(Q)
    if lp < lq:
        return math.inf
    return _rm1mlog(sp, sq) + (lp - lq) / sq


@register("cross_entropy", stats.laplace, stats.laplace)
def _ce_laplace(P: Any, Q: Any) -> float:
    # E_P|X - mq| = d + bp exp(-d / bp), d = |mp - mq|.
    _, mp, bp = _params(P)
    _, mq, bq = _params(Q)
    d = abs(mp - mq)
    return math.log(2.0 * bq) + (d + bp * math.exp(-d / bp)) / bq


@register("entropy", stats.laplace)
def _h_laplace(P: Any) -> float:
    return 1.0 + math.log(2.0 * _params(P)[2])


@register("kl_divergence", stats.laplace, stats.laplace)
def _kl_laplace(P: Any, Q: Any) -> float:
    # KL = [r - 1 - log r] + r (e^{-u} - 1 + u), r = bp / bq, u = |mp - mq| / bp.
    _, mp, bp = _params(P)
    _, mq, bq = _params(Q)
    u = abs(mp - mq) / bp
    return _rm1mlog(bp, bq) + (bp / bq) * _expm1mx(-u)


@register("cross_entropy", stats.uniform, stats.uniform)
def _ce_uniform(P: Any, Q: Any) -> float:
    (a, b), (c, d) = P.support(), Q.support()
    if a < c or b > d:
        return math.inf
    return math.log(_params(Q)[2])


@register("entropy", stats.uniform)
def _h_uniform(P: Any) -> float:
    return math.log(_params(P)[2])


@register("kl_divergence", stats.uniform, stats.uniform)
def _kl_uniform(P: Any, Q: Any) -> float:
    (a, b), (c, d) = P.support(), Q.support()
    if a < c or b > d:
        return math.inf
    return _log_ratio(_params(Q)[2], _params(P)[2])


@register("cross_entropy", stats.gamma, stats.gamma)
def _ce_gamma(P: Any, Q: Any) -> Any:
    # E_P[log(X - loc)] = psi(ap) + log(tp), E_P[X - loc] = ap tp (same loc).
    (ap,), lp, tp = _params(P)
    (aq,), lq, tq = _params(Q)
    if lp < lq:
        return math.inf
    if lp != lq:
        return NotImplemented  # E_P log(X - lq) has no closed form
    # H(P, Q) = H(P) + KL(P || Q), both free of cancellation; the textbook sum
    # ln Gamma(aq) + aq ln tq - (aq - 1)(psi(ap) + ln tp) + ap tp / tq has terms of size
    # a ln a that cancel when the result is small.
    return math.fsum([_h_gamma(P), _kl_gamma(P, Q)])


# Bernoulli numbers B_2, B_4, ..., B_40 for the asymptotic series of _gamma_shape_entropy.
_B2K = special.bernoulli(40)[2::2]
_GAMMA_SERIES_MIN = 7.0


def _gamma_shape_entropy(a: float) -> float:
    r"""g(a) = a + ln Gamma(a) + (1 - a) psi(a), the entropy of Gamma(a, scale=1).

    Its three terms grow like a ln a while g(a) ~ ln(2 pi e a) / 2: summed directly they
    cancel and lose about log10(a ln a) digits. For a >= 7 the Stirling series of
    ln Gamma and psi combine into one series without cancellation,

    g(a) = (1/2) ln(2 pi a) + 1/2 - 1/(2a)
           + sum_{k>=1} B_2k [1 / ((2k - 1) a^(2k-1)) - 1 / (2k a^(2k))],

    summed up to its smallest term (error below 1e-17 relative for a >= 7).
    """
    if a < _GAMMA_SERIES_MIN:
        return math.fsum([a, special.gammaln(a), (1.0 - a) * special.digamma(a)])
    terms = [0.5 * math.log(2.0 * math.pi * a), 0.5, -0.5 / a]
    smallest = math.inf
    inv = 1.0 / a
    power = inv  # a^-(2k-1)
    for k, b in enumerate(_B2K, start=1):
        term = b * power * (1.0 / (2 * k - 1) - inv / (2 * k))
        power *= inv * inv  # underflows to 0 for huge a: the loop then stops
        if abs(term) >= smallest or term == 0.0:
            break  # the asymptotic series starts to diverge (or is exhausted)
        smallest = abs(term)
        terms.append(term)
    return math.fsum(terms)


@register("entropy", stats.gamma)
def _h_gamma(P: Any) -> float:
    (a,), _, t = _params(P)
    return math.fsum([_gamma_shape_entropy(a), math.log(t)])


@register("kl_divergence", stats.gamma, stats.gamma)
def _kl_gamma(P: Any, Q: Any) -> Any:
    # KL = B(ap, aq) + aq [rho - 1 - log rho] + (ap - aq)(rho - 1), rho = tp / tq,
    # with B the Bregman divergence of ln Gamma.
    (ap,), lp, tp = _params(P)
    (aq,), lq, tq = _params(Q)
    if lp < lq:
        return math.inf
    if lp != lq:
        return NotImplemented
    m = _rel_diff(tp, tq)
    return math.fsum([_lgamma_bregman(ap, aq), aq * _rm1mlog(tp, tq), (ap - aq) * m])


# Discrete families (counting measure on the integers).


def _bern_ce(p: float, q: float) -> float:
    """-p log q - (1 - p) log(1 - q) with 0 log 0 = 0."""
    terms = []
    for w, v in ((p, q), (1.0 - p, 1.0 - q)):
        if w > 0:
            if v <= 0:
                return math.inf
            terms.append(-w * math.log(v))
    return math.fsum(terms)


@register("cross_entropy", stats.bernoulli, stats.bernoulli)
def _ce_bernoulli(P: Any, Q: Any) -> Any:
    (p,), lp, _ = _params(P)
    (q,), lq, _ = _params(Q)
    if lp != lq:
        return NotImplemented
    return _bern_ce(p, q)


@register("entropy", stats.bernoulli)
def _h_bernoulli(P: Any) -> float:
    (p,), _, _ = _params(P)
    return _bern_ce(p, p)


@register("kl_divergence", stats.bernoulli, stats.bernoulli)
def _kl_bernoulli(P: Any, Q: Any) -> Any:
    (p,), lp, _ = _params(P)
    (q,), lq, _ = _params(Q)
    if lp != lq:
        return NotImplemented
    terms = []
    for w, v in ((p, q), (1.0 - p, 1.0 - q)):
        if w > 0:
            if v <= 0:
                return math.inf
            terms.append(w * _log_ratio(w, v))
    return max(0.0, math.fsum(terms))


@register("cross_entropy", stats.geom, stats.geom)
def _ce_geom(P: Any, Q: Any) -> Any:
    # pmf (1 - p)^{k - 1} p on k = 1, 2, ...; E_P[X - 1] = (1 - p) / p.
    (p,), lp, _ = _params(P)
    (q,), lq, _ = _params(Q)
    if lp != lq:
        return NotImplemented
    if q == 1.0:
        return 0.0 if p == 1.0 else math.inf
    return -math.log(q) - (1.0 - p) / p * math.log1p(-q)


@register("kl_divergence", stats.poisson, stats.poisson)
def _kl_poisson(P: Any, Q: Any) -> Any:
    # KL = lq [(1 + m) log(1 + m) - m], m = lp / lq - 1.
    (a,), locp, _ = _params(P)
    (b,), locq, _ = _params(Q)
    if locp != locq:
        return NotImplemented
    if a == 0.0:
        return b
    if b == 0.0:
        return math.inf
    m = _rel_diff(a, b)
    if abs(m) < 0.5:
        return b * (m * math.log1p(m) - _xm_log1p(m))
    return math.fsum([a * (math.log(a) - math.log(b)), b, -a])


# Zipf laws: pmf k^-a / zeta(a) on k = 1, 2, ...; their entropies need
# S(a) = sum_k k^-a log k = -zeta'(a), which scipy lacks.

_EM_N = 64  # terms summed directly; Euler-Maclaurin beyond
_EM_B = special.bernoulli(16)[2::2]  # B_2, B_4, ..., B_16


def _zipf_log_sum(a: float) -> float:
    r"""S(a) = \sum_{k \ge 1} k^{-a} \log k for a > 1, to a few ulps.

    The first N - 1 = 63 terms are summed; the rest by Euler-Maclaurin,
    :math:`\sum_{k \ge N} f(k) = \int_N^\infty f + f(N)/2 - \sum_{j=1}^{8}
    B_{2j} f^{(2j-1)}(N) / (2j)! + R`, with :math:`f(x) = x^{-a} \log x`. Its
    derivatives are :math:`f^{(n)}(x) = x^{-a-n}(u_n + v_n \log x)` with
    :math:`u_{n+1} = v_n - (a + n) u_n`, :math:`v_{n+1} = -(a + n) v_n`. The remainder
    is bounded by :math:`2 \zeta(16) (2\pi)^{-16} \int_N^\infty |f^{(16)}|`, below
    :math:`10^{-30}` of the sum for every a > 1 (a proven tail bound, not an estimate).
    """
    n_dir = _EM_N
    k = np.arange(2, n_dir, dtype=float)
    head = math.fsum((np.exp(-a * np.log(k)) * np.log(k)).tolist())
    x = float(n_dir)
    lx = math.log(x)
    integral = x ** (1.0 - a) * ((a - 1.0) * lx + 1.0) / (a - 1.0) ** 2
    terms = [head, integral, 0.5 * x**-a * lx]
    u, v = 0.0, 1.0
    for n in range(1, 2 * len(_EM_B)):
        c = a + (n - 1)
        u, v = v - c * u, -c * v
        if n % 2 == 1:
            j = (n + 1) // 2
            deriv = x ** (-a - n) * (u + v * lx)
            terms.append(-_EM_B[j - 1] / math.factorial(2 * j) * deriv)
    return math.fsum(terms)


@register("entropy", stats.zipf)
def _h_zipf(P: Any) -> float:
    # H = log zeta(a) + a S(a) / zeta(a).
    (a,), _, _ = _params(P)
    zm1 = float(special.zetac(a))  # zeta(a) - 1, accurate for large a
    return math.log1p(zm1) + a * _zipf_log_sum(a) / (1.0 + zm1)


@register("cross_entropy", stats.zipf, stats.zipf)
def _ce_zipf(P: Any, Q: Any) -> Any:
    # H(P, Q) = log zeta(b) + b S(a) / zeta(a) (same loc).
    (a,), locp, _ = _params(P)
    (b,), locq, _ = _params(Q)
    if locp != locq:
        return NotImplemented
    return math.log1p(float(special.zetac(b))) + b * _zipf_log_sum(a) / (
        1.0 + float(special.zetac(a))
    )


__all__ = ["CONTINUOUS", "DISCRETE", "MIXED", "MVN", "closed_form", "register"]
