"""Accuracy and cost of celib.measure's three methods (closed form, quadrature, Monte Carlo).

Prints, for random parameter sets of each registered family, the largest relative error
of the closed forms and of the quadrature against 50-digit mpmath references, the Monte
Carlo coverage of the 95 % intervals (light- and heavy-tailed terms, 2000 repetitions
each), and the time of each method relative to the
closed form. Run: ``.venv/bin/python benchmarks/bench_measure.py`` (about a minute).
Timings on a shared machine are noisy.
"""

from __future__ import annotations

import math
import time

import mpmath
import numpy as np
from scipy import stats

from celib import measure

mpmath.mp.dps = 50
RNG = np.random.default_rng(0)


def logu(lo: float, hi: float) -> float:
    return float(np.exp(RNG.uniform(np.log(lo), np.log(hi))))


def mp(x: float) -> mpmath.mpf:
    return mpmath.mpf(float(x))


def normal() -> tuple:
    m1, m2 = RNG.uniform(-10, 10, 2)
    s1 = logu(1e-3, 1e3)
    s2 = s1 * (1 + RNG.choice([1e-9, 1e-4, 0.3])) if RNG.random() < 0.5 else logu(1e-3, 1e3)
    a, b, c, d = map(mp, (m1, s1, m2, s2))
    ce = mpmath.log(d) + mpmath.log(2 * mpmath.pi) / 2 + (b**2 + (a - c) ** 2) / (2 * d**2)
    h = (mpmath.log(2 * mpmath.pi) + 1) / 2 + mpmath.log(b)
    return stats.norm(m1, s1), stats.norm(m2, s2), ce, h


def gamma() -> tuple:
    a1, a2 = logu(0.05, 100), logu(0.05, 100)
    if RNG.random() < 0.5:
        a2 = a1 * (1 + RNG.choice([1e-9, 1e-4, 0.3]))
    t1, t2 = logu(1e-2, 1e2), logu(1e-2, 1e2)
    ap, tp, aq, tq = map(mp, (a1, t1, a2, t2))
    elog = mpmath.digamma(ap) + mpmath.log(tp)
    ce = mpmath.loggamma(aq) + aq * mpmath.log(tq) - (aq - 1) * elog + ap * tp / tq
    h = ap + mpmath.log(tp) + mpmath.loggamma(ap) + (1 - ap) * mpmath.digamma(ap)
    return stats.gamma(a1, scale=t1), stats.gamma(a2, scale=t2), ce, h


def laplace() -> tuple:
    m1, m2 = RNG.uniform(-10, 10, 2)
    b1, b2 = logu(1e-2, 1e2), logu(1e-2, 1e2)
    a, b, c, d = map(mp, (m1, b1, m2, b2))
    dist = abs(a - c)
    ce = mpmath.log(2 * d) + (dist + b * mpmath.exp(-dist / b)) / d
    return stats.laplace(m1, b1), stats.laplace(m2, b2), ce, 1 + mpmath.log(2 * b)


def expon() -> tuple:
    l1, s1, s2 = RNG.uniform(-5, 5), logu(1e-2, 1e2), logu(1e-2, 1e2)
    l2 = l1 - RNG.uniform(0, 3)
    a, b, c, d = map(mp, (l1, s1, l2, s2))
    return (
        stats.expon(l1, s1),
        stats.expon(l2, s2),
        mpmath.log(d) + (a - c + b) / d,
        1 + mpmath.log(b),
    )


def rel(got: float, want: mpmath.mpf) -> float:
    return float(abs(mp(got) - want) / abs(want)) if want != 0 else abs(got)


#: Monte Carlo coverage cases: (name, quantity, P, Q); light tails first, then terms
#: with heavy tails (a finite variance, but no finite third or fourth moment).
COVERAGE_CASES = [
    (
        "gamma CE (the chapter's)",
        "cross_entropy",
        stats.gamma(2.0, scale=1.5),
        stats.gamma(1.5, scale=3.0),
    ),
    ("normal CE", "cross_entropy", stats.norm(0, 1), stats.norm(1, 2)),
    ("Laplace KL", "kl_divergence", stats.laplace(0, 1), stats.laplace(0.5, 2)),
    ("Poisson CE", "cross_entropy", stats.poisson(4.0), stats.poisson(6.0)),
    ("expon vs normal, X^2/2", "cross_entropy", stats.expon(), stats.norm()),
    ("t5 vs normal, X^2/2", "cross_entropy", stats.t(5), stats.norm()),
    ("lognormal vs normal", "cross_entropy", stats.lognorm(0.5), stats.norm()),
]


def coverage(runs: int = 2000, n: int = 500) -> None:
    """Coverage of the 95 % intervals of method='mc' over `runs` repetitions."""
    print(
        f"\nMC coverage of nominal 95% intervals, {runs} runs of n={n} each "
        f"(binomial sd {math.sqrt(0.95 * 0.05 / runs):.4f}):"
    )
    for name, quantity, P, Q in COVERAGE_CASES:
        f = getattr(measure, quantity)
        truth = f(P, Q)
        hits = 0
        for s in range(runs):
            lo, hi = f(P, Q, method="mc", n_samples=n, rng=s).ci(0.95)
            hits += lo <= truth <= hi
        flag = "ok" if abs(hits / runs - 0.95) <= 0.01 else "OUT OF 0.95 +- 0.01"
        print(f"  {name:28s} {hits / runs:.4f}  {flag}")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = measure.cross_entropy(stats.t(3), stats.norm(), method="mc", n_samples=n, rng=0)
    print(f"  t3 vs normal (variance infinite): {est:.4f}")


def main() -> None:
    print(f"{'family':8} {'closed CE':>10} {'closed KL':>10} {'quad CE':>10} {'quad KL':>10}")
    for name, gen in [("normal", normal), ("gamma", gamma), ("laplace", laplace), ("expon", expon)]:
        worst = dict.fromkeys(("cce", "ckl", "qce", "qkl"), 0.0)
        for i in range(200):
            P, Q, ce, h = gen()
            kl = ce - h
            worst["cce"] = max(worst["cce"], rel(measure.cross_entropy(P, Q), ce))
            if kl > 1e-40:
                worst["ckl"] = max(worst["ckl"], rel(measure.kl_divergence(P, Q), kl))
            if i < 30:
                worst["qce"] = max(
                    worst["qce"], rel(measure.cross_entropy(P, Q, method="quad"), ce)
                )
                if kl > 1e-6:
                    q = measure.kl_divergence(P, Q, method="quad")
                    worst["qkl"] = max(worst["qkl"], rel(q, kl))
        print(f"{name:8} " + " ".join(f"{v:10.1e}" for v in worst.values()))

    coverage()
    P, Q = stats.gamma(2.0, scale=1.5), stats.gamma(1.5, scale=3.0)
    truth = measure.cross_entropy(P, Q)

    timings = {}
    for method, kw in [("closed_form", {}), ("quad", {}), ("mc", {"n_samples": 100_000, "rng": 0})]:
        t0 = time.perf_counter()
        for _ in range(20):
            measure.cross_entropy(P, Q, method=method, **kw)
        timings[method] = (time.perf_counter() - t0) / 20
    base = timings["closed_form"]
    print(
        "time per call relative to closed form: "
        + ", ".join(f"{k} {v / base:.0f}x ({v * 1e3:.2f} ms)" for k, v in timings.items())
    )
    assert math.isfinite(truth)


if __name__ == "__main__":
    main()
