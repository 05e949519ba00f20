"""celib.surrogates against closed forms, mpmath (50 digits), scipy.optimize and scikit-learn."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import hinge_loss, log_loss

import celib
from celib.surrogates import (
    KINDS,
    conditional_risk,
    empirical_risk,
    excess_risk,
    excess_risk_bound,
    logistic_optimism,
    margin_loss,
    minimal_conditional_risk,
    minimize_empirical_risk,
    optimal_score,
    psi_transform,
)

mpmath.mp.dps = 50
SURROGATES = ("logistic", "hinge", "exponential", "squared")


def mp_phi(m, kind):
    m = mpmath.mpf(m)
    if kind == "zero_one":
        return mpmath.mpf(1 if m <= 0 else 0)
    if kind == "logistic":
        return mpmath.log1p(mpmath.exp(-m))
    if kind == "hinge":
        return max(mpmath.mpf(0), 1 - m)
    if kind == "exponential":
        return mpmath.exp(-m)
    return (1 - m) ** 2


def mp_psi(theta, kind):
    with mpmath.workdps(700):  # 1 + theta keeps theta = 1e-300
        return +_mp_psi(mpmath.mpf(theta), kind)


def _mp_psi(th, kind):
    if kind in ("zero_one", "hinge"):
        return abs(th)
    if kind == "squared":
        return th**2
    if kind == "exponential":
        return 1 - mpmath.sqrt(1 - th**2)
    return (1 + th) / 2 * mpmath.log(1 + th) + ((1 - th) / 2 * mpmath.log(1 - th) if th != 1 else 0)


def close(got, want, rel=4e-15, abs_=0.0):
    want = float(want)
    if math.isinf(want):
        return got == want
    return abs(got - want) <= rel * abs(want) + abs_


# --------------------------------------------------------------------------- margin_loss

MARGINS = [-800.0, -710.0, -40.0, -3.0, -1.0, -1e-12, 0.0, 1e-12, 0.5, 1.0, 2.0, 40.0, 700.0]


@pytest.mark.parametrize("kind", KINDS)
def test_margin_loss_matches_mpmath(kind):
    got = margin_loss(np.array(MARGINS), kind)
    for m, g in zip(MARGINS, got):
        want = mp_phi(m, kind)
        if kind == "exponential" and want > mpmath.mpf(np.finfo(float).max):
            assert g == math.inf  # overflow of e^{-m} is +inf, not a warning or nan
        else:
            assert close(g, want, rel=4e-16 if kind != "exponential" else 1e-13), (m, g, want)


def test_margin_loss_logistic_is_the_binary_cross_entropy():
    m = np.linspace(-50, 50, 101)
    np.testing.assert_array_equal(
        margin_loss(m),
        celib.binary_cross_entropy(np.ones_like(m), m, from_logits=True, reduction="none"),
    )
    assert margin_loss(40.0) == pytest.approx(4.248354255291589e-18, rel=1e-15)
    assert np.ndim(margin_loss(1.0)) == 0 and margin_loss([1.0]).shape == (1,)


@pytest.mark.parametrize("kind", SURROGATES)
def test_surrogates_are_convex_and_calibrated_shape(kind):
    m = np.linspace(-3, 3, 601)
    phi = margin_loss(m, kind)
    assert np.all(np.diff(phi, 2) >= -1e-12)  # convex
    # differentiable at 0 with phi'(0) < 0 (Bartlett et al., Theorem 2), hinge: kink at 1
    assert phi[299] > phi[300] > phi[301]


# ------------------------------------------------------------------------ empirical_risk


def test_empirical_risk_against_sklearn_and_celib():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 2, 500).astype(float)
    f = rng.normal(0, 2, 500)
    s = 2 * t - 1
    assert empirical_risk(t, f) == pytest.approx(
        log_loss(t, special.expit(f), labels=[0, 1]), rel=1e-12
    )
    assert empirical_risk(t, f) == pytest.approx(
        float(celib.binary_cross_entropy(t, f, from_logits=True)), rel=1e-15
    )
    assert empirical_risk(t, f, "hinge") == pytest.approx(hinge_loss(s, f), rel=1e-14)
    assert empirical_risk(t, f, "zero_one") == np.mean(np.sign(f) != s)
    assert empirical_risk(t, f, "squared") == pytest.approx(np.mean((s - f) ** 2), rel=1e-14)
    # the training cross-entropy in bits bounds the training error (phi_log / log 2 >= 1[m<=0])
    assert empirical_risk(t, f, "zero_one") <= empirical_risk(t, f) / math.log(2)


# ---------------------------------------------------------------------- conditional risks

ETAS = np.array([0.0, 1e-300, 1e-12, 0.01, 0.2, 0.5, 0.7, 0.99, 1 - 1e-12, 1.0])


@pytest.mark.parametrize("kind", KINDS)
def test_conditional_risk_is_the_weighted_loss(kind):
    for e in ETAS:
        for f in (-30.0, -1.0, -0.2, 0.0, 0.3, 2.0, 30.0):
            mp_e = mpmath.mpf(e)
            want = mp_e * mp_phi(f, kind) + (1 - mp_e) * mp_phi(-f, kind)
            got = conditional_risk(e, f, kind)
            assert close(got, want, rel=2e-14, abs_=1e-300), (kind, e, f, got, want)


def test_conditional_risk_zero_weight_times_inf_is_zero():
    # e^{1000} overflows, but its weight is 0
    assert conditional_risk(1.0, 1000.0, "exponential") == 0.0
    assert conditional_risk(0.0, -1000.0, "exponential") == 0.0
    assert conditional_risk(0.5, 1000.0, "exponential") == math.inf
    assert conditional_risk(np.array([0.2, 0.8]), np.array([[0.0], [1.0]]), "hinge").shape == (
        2,
        2,
    )


@pytest.mark.parametrize("kind", SURROGATES)
@pytest.mark.parametrize("eta", [0.03, 0.2, 0.5, 0.64, 0.9])
def test_minimal_conditional_risk_and_optimal_score_against_scipy(kind, eta):
    res = optimize.minimize_scalar(
        lambda f: float(conditional_risk(eta, f, kind)),
        bounds=(-6, 6),
        method="bounded",
        options={"xatol": 1e-12},
    )
    h = minimal_conditional_risk(eta, kind)
    # the bounded scalar search locates the hinge's kink to about 1e-9 only
    assert h == pytest.approx(res.fun, rel=1e-9 if kind != "hinge" else 1e-7, abs=1e-12)
    assert h <= res.fun + 1e-15
    f_star = optimal_score(eta, kind)
    assert conditional_risk(eta, f_star, kind) == pytest.approx(h, rel=1e-14, abs=1e-16)
    if kind != "hinge":  # the hinge minimiser is not unique at eta = 1/2
        assert f_star == pytest.approx(res.x, abs=1e-5)
    # the minimiser is on the Bayes side of 1/2 (classification-calibration)
    assert np.sign(f_star) == np.sign(2 * eta - 1)


def test_minimal_conditional_risk_extremes_against_mpmath():
    for e in [1e-300, 1e-20, 1e-8, 0.3, 0.5, 1 - 1e-8]:
        mp_e = mpmath.mpf(e)
        want = -mp_e * mpmath.log(mp_e) - (1 - mp_e) * mpmath.log1p(-mp_e)
        assert close(minimal_conditional_risk(e), want, rel=1e-14)
        assert close(minimal_conditional_risk(e, "exponential"), 2 * mpmath.sqrt(mp_e * (1 - mp_e)))
    assert minimal_conditional_risk(0.0) == 0.0 and minimal_conditional_risk(1.0) == 0.0
    assert optimal_score(1.0) == math.inf and optimal_score(0.0, "exponential") == -math.inf
    assert optimal_score(0.5, "hinge") == 0.0 and optimal_score(0.7, "zero_one") == 1.0


# --------------------------------------------------------------------------- excess_risk


def test_excess_risk_logistic_is_a_kl_divergence():
    for e in [1e-12, 0.1, 0.5, 0.9, 1.0, 0.0]:
        for f in [-20.0, -1.0, 1e-9, 0.4, 25.0]:
            mp_e, q = mpmath.mpf(e), 1 / (1 + mpmath.exp(-mpmath.mpf(f)))
            want = (mp_e * mpmath.log(mp_e / q) if e > 0 else 0) + (
                (1 - mp_e) * mpmath.log((1 - mp_e) / (1 - q)) if e < 1 else 0
            )
            got = excess_risk(e, f, reduction="none")
            assert close(got, want, rel=1e-12, abs_=1e-300), (e, f, got, want)
    # near the optimum: a tiny excess that C - H computed apart would lose
    e, f = 0.3, float(special.logit(0.3)) + 1e-7
    want = 0.5 * 0.3 * 0.7 * 1e-14  # KL ~ var * df^2 / 2
    assert excess_risk(e, f) == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_excess_risk_reductions_and_definition(kind):
    rng = np.random.default_rng(1)
    eta, f = rng.uniform(0, 1, 50), rng.normal(0, 2, 50)
    per = excess_risk(eta, f, kind, reduction="none")
    assert np.all(per >= 0)
    if kind != "zero_one":
        np.testing.assert_allclose(
            per, conditional_risk(eta, f, kind) - minimal_conditional_risk(eta, kind), atol=1e-14
        )
    else:
        np.testing.assert_allclose(
            per, np.where(np.sign(f) != np.sign(2 * eta - 1), np.abs(2 * eta - 1), 0), atol=0
        )
        # the excess 0-1 risk is C - H of the 0-1 loss where no score is 0
        np.testing.assert_allclose(
            per, conditional_risk(eta, f, kind) - minimal_conditional_risk(eta, kind), atol=1e-15
        )
    assert excess_risk(eta, f, kind) == pytest.approx(per.mean(), rel=1e-14)
    assert excess_risk(eta, f, kind, reduction="sum") == pytest.approx(per.sum(), rel=1e-14)


@pytest.mark.parametrize("kind", SURROGATES)
@settings(max_examples=60, deadline=None)
@given(
    eta=st.lists(st.floats(0, 1), min_size=1, max_size=20),
    data=st.data(),
)
def test_psi_bound_holds_for_any_scores(kind, eta, data):
    """Bartlett, Jordan and McAuliffe (2006), Theorem 1: psi(R - R*) <= R_phi - R_phi*."""
    f = data.draw(
        st.lists(st.floats(-30, 30), min_size=len(eta), max_size=len(eta)), label="scores"
    )
    excess01 = excess_risk(eta, f, "zero_one")
    excess_phi = excess_risk(eta, f, kind)
    # excess01 carries a few ulp of rounding, and psi is increasing with an infinite slope
    # at 1 (exponential, logistic): near 1 those ulp move psi by far more than its own
    # rounding. So psi is taken at excess01 lowered by 4 ulp. (Found by Hypothesis:
    # eta = f = 1e-15, where the exponential bound is an equality.)
    theta = excess01 * (1 - 4 * np.finfo(float).eps)
    assert psi_transform(theta, kind) <= excess_phi * (1 + 1e-12) + 1e-15
    assert excess01 <= excess_risk_bound(excess_phi, kind) * (1 + 1e-12) + 1e-15


# ------------------------------------------------------------------------- psi_transform

THETAS = [0.0, 1e-300, 1e-150, 1e-9, 1e-4, 0.1, 0.4999, 0.5, 0.75, 0.999999, 1.0]


@pytest.mark.parametrize("kind", KINDS)
def test_psi_closed_forms_against_mpmath(kind):
    for th in THETAS:
        for sign in (1.0, -1.0):
            got = psi_transform(sign * th, kind)
            assert close(got, mp_psi(th, kind), rel=6e-16 if kind != "logistic" else 3e-15), (
                kind,
                th,
                got,
            )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("theta", [0.05, 0.3, 0.6, 0.9, 0.99])
def test_psi_is_the_excess_risk_on_the_wrong_side(kind, theta):
    """psi(theta) = inf over wrong-signed f of C_eta(f) - H(eta), eta = (1 + theta) / 2."""
    eta = (1 + theta) / 2
    if kind == "zero_one":
        wrong = float(conditional_risk(eta, -1e-9, kind))  # any f < 0: cost eta
    else:
        res = optimize.minimize_scalar(
            lambda f: float(conditional_risk(eta, f, kind)),
            bounds=(-20, 0),
            method="bounded",
            options={"xatol": 1e-12},
        )
        wrong = min(res.fun, float(conditional_risk(eta, 0.0, kind)))
    numeric = wrong - minimal_conditional_risk(eta, kind)
    assert psi_transform(theta, kind) == pytest.approx(numeric, rel=1e-12, abs=1e-15)


def test_psi_logistic_is_kl_to_a_fair_coin_and_beats_pinsker():
    theta = np.linspace(-0.95, 0.95, 39)
    p = np.stack([(1 + theta) / 2, (1 - theta) / 2], axis=1)
    kl = celib.kl_divergence(p, np.full_like(p, 0.5))
    np.testing.assert_allclose(psi_transform(theta), kl, rtol=1e-13)
    assert np.all(psi_transform(theta) >= theta**2 / 2)
    # convex, even, increasing on [0, 1]
    grid = np.linspace(0, 1, 1001)
    for kind in KINDS:
        v = psi_transform(grid, kind)
        assert np.all(np.diff(v) >= 0) and np.all(np.diff(v, 2) >= -1e-12)


# --------------------------------------------------------------------- excess_risk_bound


@pytest.mark.parametrize("kind", KINDS)
def test_excess_risk_bound_inverts_psi(kind):
    top = psi_transform(1.0, kind)
    for frac in [1e-300, 1e-30, 1e-10, 1e-3, 0.2, 0.5, 0.9, 1 - 1e-12]:
        delta = frac * top
        theta = excess_risk_bound(delta, kind)
        assert 0 <= theta <= 1
        assert psi_transform(theta, kind) == pytest.approx(delta, rel=1e-13)
    assert excess_risk_bound(top, kind) == 1.0
    assert excess_risk_bound(5.0, kind) == 1.0
    assert excess_risk_bound(0.0, kind) == 0.0


def test_excess_risk_bound_logistic_against_mpmath():
    # psi is increasing: the float theta whose exact psi is delta (to 1e-15) is the root
    for delta in [1e-300, 1e-20, 1e-6, 0.01, 0.3, 0.69]:
        theta = excess_risk_bound(delta)
        assert close(float(mp_psi(theta, "logistic")), delta, rel=1e-15)
    vec = excess_risk_bound(np.array([0.0, 0.01, 0.3, 1.0]))
    assert vec.shape == (4,) and vec[-1] == 1.0


# ---------------------------------------------------------------- minimize_empirical_risk


@pytest.fixture(scope="module")
def data():
    x, t = celib.datasets.logistic_data(400, [1.5, -1.0], 0.3, rng=3)
    return np.column_stack([x, np.ones(len(t))]), t


def test_logistic_erm_is_sklearn_maximum_likelihood(data):
    A, t = data
    theta = minimize_empirical_risk(A, t)
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000, fit_intercept=False)
    sk.fit(A, t)
    np.testing.assert_allclose(theta, sk.coef_[0], rtol=1e-5)
    grad = A.T @ (special.expit(A @ theta) - t) / len(t)
    assert np.max(np.abs(grad)) < 1e-13


@pytest.mark.parametrize("kind", ["logistic", "exponential"])
def test_newton_erm_against_scipy_bfgs(data, kind):
    A, t = data
    theta = minimize_empirical_risk(A, t, kind)
    res = optimize.minimize(
        lambda th: empirical_risk(t, A @ th, kind),
        np.zeros(3),
        method="BFGS",
        options={"gtol": 1e-10},
    )
    np.testing.assert_allclose(theta, res.x, atol=1e-5)
    assert empirical_risk(t, A @ theta, kind) <= res.fun + 1e-14


def test_squared_erm_is_least_squares(data):
    A, t = data
    theta = minimize_empirical_risk(A, t, "squared")
    np.testing.assert_allclose(theta, np.linalg.lstsq(A, 2 * t - 1, rcond=None)[0], rtol=1e-12)


def test_hinge_erm_beats_a_generic_optimiser(data):
    A, t = data
    theta = minimize_empirical_risk(A, t, "hinge")
    best = min(
        optimize.minimize(
            lambda th: empirical_risk(t, A @ th, "hinge"),
            x0,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20_000},
        ).fun
        for x0 in (np.zeros(3), np.array([1.0, -1.0, 0.0]))
    )
    got = empirical_risk(t, A @ theta, "hinge")
    assert got <= best + 1e-12 and got == pytest.approx(best, abs=1e-6)


@pytest.mark.parametrize("kind", ["logistic", "exponential"])
def test_separable_data_have_no_minimiser(kind):
    A = np.array([[-2.0, 1.0], [-1.0, 1.0], [1.0, 1.0], [3.0, 1.0]])
    with pytest.raises(ValueError, match="linearly separable"):
        minimize_empirical_risk(A, [0, 0, 1, 1], kind)
    # the hinge and squared losses still have a minimiser
    assert minimize_empirical_risk(A, [0, 0, 1, 1], "hinge").shape == (2,)


def test_zero_one_erm_is_refused(data):
    A, t = data
    with pytest.raises(ValueError, match="NP-hard"):
        minimize_empirical_risk(A, t, "zero_one")


# ---------------------------------------------------------------------- logistic_optimism


def test_optimism_is_about_d_over_n():
    res = logistic_optimism(400, [1.0, -0.5], repeats=200, n_test=4000, rng=0)
    assert np.all(res.train_drop >= -1e-15) and np.all(res.test_excess >= 0)
    d, n = 3, 400
    se = res.gap.std(ddof=1) / np.sqrt(len(res.gap))
    assert abs(res.gap.mean() - d / n) < 4 * se + 0.1 * d / n
    # each half is about d / (2n): 2n * train_drop is the likelihood-ratio statistic
    assert abs(res.train_drop.mean() - d / (2 * n)) < 4 * res.train_drop.std() / np.sqrt(200) + 2e-4


def test_optimism_is_reproducible_and_uses_the_rng():
    a = logistic_optimism(50, [0.5], repeats=3, n_test=100, rng=np.random.default_rng(7))
    b = logistic_optimism(50, [0.5], repeats=3, n_test=100, rng=7)
    np.testing.assert_array_equal(a.gap, b.gap)
    c = logistic_optimism(50, [0.5], repeats=3, n_test=100, rng=8)
    assert not np.array_equal(a.gap, c.gap)


# --------------------------------------------------------------------------- bad input

NAN, INF = float("nan"), float("inf")
ELEMENTWISE = [
    (margin_loss, "margin", {}),
    (psi_transform, "theta", {}),
    (excess_risk_bound, "excess_surrogate", {}),
    (minimal_conditional_risk, "eta", {}),
    (optimal_score, "eta", {}),
]


@pytest.mark.parametrize(("func", "arg", "extra"), ELEMENTWISE)
@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        ("abc", TypeError, "must hold real numbers"),
        ([1 + 2j], TypeError, "must hold real numbers"),
        ([object()], TypeError, "must hold real numbers"),
        ([0.5, NAN], ValueError, "NaN"),
        ([INF], ValueError, "must be finite"),
    ],
)
def test_elementwise_bad_values(func, arg, extra, value, error, match):
    with pytest.raises(error, match=f"{arg} .*{match}|{arg} contains .*{match}"):
        func(value, **extra)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: margin_loss([1.0], kind=3), TypeError, "kind must be a string"),
        (lambda: margin_loss([1.0], kind="savage"), ValueError, "kind must be one of"),
        (lambda: psi_transform(1.5), ValueError, r"theta must lie in \[-1, 1\]"),
        (lambda: psi_transform(0.5, "tangent"), ValueError, "kind must be one of"),
        (lambda: excess_risk_bound(-0.1), ValueError, "excess_surrogate must be >= 0"),
        (lambda: minimal_conditional_risk(1.2), ValueError, r"eta must lie in \[0, 1\]"),
        (lambda: optimal_score(-0.1), ValueError, r"eta must lie in \[0, 1\]"),
        (lambda: conditional_risk(1.2, 0.0), ValueError, r"eta must lie in \[0, 1\]"),
        (lambda: conditional_risk([0.5], [NAN]), ValueError, "scores contains NaN"),
        (lambda: conditional_risk([0.5], [INF]), ValueError, "scores contains inf"),
        (lambda: conditional_risk("x", [0.0]), TypeError, "eta must hold real"),
        (lambda: conditional_risk([0.5], None), TypeError, "scores must hold real"),
        (lambda: conditional_risk([0.5, 0.2], [1.0, 2.0, 3.0]), ValueError, "do not broadcast"),
        (lambda: conditional_risk(0.5, 0.0, None), TypeError, "kind must be a string"),
        (lambda: excess_risk([0.5], [1.0], reduction="avg"), ValueError, "reduction must be"),
        (lambda: excess_risk([NAN], [1.0]), ValueError, "eta contains NaN"),
        (lambda: excess_risk([0.5], [INF]), ValueError, "scores contains inf"),
        (lambda: excess_risk([0.5, 0.1], [1.0, 2.0, 3.0]), ValueError, "do not broadcast"),
        (lambda: excess_risk([0.5], ["a"]), TypeError, "scores must hold real"),
        (lambda: excess_risk([0.5], [1.0], kind=1), TypeError, "kind must be a string"),
        (lambda: empirical_risk([0, 2], [1.0, 1.0]), ValueError, "t must hold labels 0 or 1"),
        (lambda: empirical_risk([], []), ValueError, "t must be a non-empty vector"),
        (lambda: empirical_risk([[0, 1]], [[1.0, 1.0]]), ValueError, "t must be a non-empty"),
        (lambda: empirical_risk([0, NAN], [1.0, 1.0]), ValueError, "t contains NaN"),
        (lambda: empirical_risk(["a"], [1.0]), TypeError, "t must hold real"),
        (lambda: empirical_risk([0, 1], [1.0]), ValueError, "scores must have the shape of t"),
        (lambda: empirical_risk([0, 1], [1.0, INF]), ValueError, "scores contains inf"),
        (lambda: empirical_risk([0, 1], [1.0, NAN]), ValueError, "scores contains NaN"),
        (lambda: empirical_risk([0, 1], [1.0, 1j]), TypeError, "scores must hold real"),
        (lambda: empirical_risk([0, 1], [1.0, 2.0], "x"), ValueError, "kind must be one of"),
        (lambda: conditional_risk([INF], [0.0]), ValueError, "eta contains inf"),
        (lambda: excess_risk([INF], [0.0]), ValueError, "eta contains inf"),
        (lambda: excess_risk([1.5], [0.0]), ValueError, r"eta must lie in \[0, 1\]"),
        (lambda: excess_risk([0.5], [0.0], "tangent"), ValueError, "kind must be one of"),
        (lambda: excess_risk([0.5], [0.0], reduction=None), TypeError, "reduction must be"),
        (lambda: excess_risk_bound(0.1, kind=2.0), TypeError, "kind must be a string"),
        (lambda: optimal_score(0.5, kind="tangent"), ValueError, "kind must be one of"),
        (lambda: minimal_conditional_risk(0.5, kind=None), TypeError, "kind must be a string"),
        (lambda: psi_transform([[0.1], [-1.01]]), ValueError, r"theta must lie in \[-1, 1\]"),
        (lambda: empirical_risk([0, 1], [1.0, 2.0], kind=None), TypeError, "kind must be a str"),
    ],
)
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


A_OK = np.column_stack([np.arange(6.0), np.ones(6)])
T_OK = np.array([0, 1, 0, 1, 1, 0])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"features": "abc"}, TypeError, "features must hold real"),
        ({"features": np.ones(6)}, ValueError, "features must be a non-empty 2-D"),
        ({"features": np.ones((0, 2))}, ValueError, "features must be a non-empty 2-D"),
        ({"features": np.full((6, 2), NAN)}, ValueError, "features contains NaN"),
        ({"features": np.full((6, 2), INF)}, ValueError, "features contains inf"),
        ({"t": T_OK[:5]}, ValueError, "t must have one label per row"),
        ({"t": T_OK * 2}, ValueError, "t must hold labels 0 or 1"),
        ({"t": [NAN] * 6}, ValueError, "t contains NaN"),
        ({"t": "abcdef"}, TypeError, "t must hold real"),
        ({"kind": "savage"}, ValueError, "kind must be one of"),
        ({"kind": 0}, TypeError, "kind must be a string"),
        ({"max_iter": 0}, ValueError, "max_iter must be >= 1"),
        ({"max_iter": 2.5}, TypeError, "max_iter must be an integer"),
        ({"max_iter": 1}, ValueError, "did not converge in 1 iterations"),
    ],
)
def test_minimize_empirical_risk_bad_input(kwargs, error, match):
    args = {"features": A_OK, "t": T_OK, **kwargs}
    with pytest.raises(error, match=match):
        minimize_empirical_risk(**args)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 1}, ValueError, "n must be >= 2"),
        ({"n": 10.0}, TypeError, "n must be an integer"),
        ({"n": True}, TypeError, "n must be an integer"),
        ({"weights": []}, ValueError, "weights must be a non-empty vector"),
        ({"weights": [[1.0]]}, ValueError, "weights must be a non-empty vector"),
        ({"weights": [NAN]}, ValueError, "weights contains NaN"),
        ({"weights": [INF]}, ValueError, "weights contains inf"),
        ({"weights": ["a"]}, TypeError, "weights must hold real"),
        ({"bias": INF}, ValueError, "bias contains inf"),
        ({"bias": NAN}, ValueError, "bias contains NaN"),
        ({"bias": [1.0, 2.0]}, ValueError, "bias must be a scalar"),
        ({"bias": "b"}, TypeError, "bias must hold real"),
        ({"repeats": 0}, ValueError, "repeats must be >= 1"),
        ({"repeats": "2"}, TypeError, "repeats must be an integer"),
        ({"n_test": 0}, ValueError, "n_test must be >= 1"),
        ({"n_test": 1.5}, TypeError, "n_test must be an integer"),
        ({"rng": 1.5}, TypeError, "rng must be a numpy.random.Generator"),
        ({"rng": None}, TypeError, "rng must be a numpy.random.Generator"),
    ],
)
def test_logistic_optimism_bad_input(kwargs, error, match):
    args = {"n": 20, "weights": [0.5], "repeats": 1, "n_test": 10, **kwargs}
    with pytest.raises(error, match=match):
        logistic_optimism(**args)


def test_submodule_is_lazy_and_listed():
    assert "surrogates" in celib._SUBMODULES
    assert celib.surrogates.margin_loss is margin_loss


@settings(max_examples=200, deadline=None)
@given(eta=st.floats(1e-9, 1 - 1e-9), f=st.floats(-40, 40))
def test_logistic_excess_keeps_its_digits(eta, f):
    """KL(Bern(eta) || Bern(sigma(f))) against mpmath: the error stays at the size that
    the rounding of logit(eta) alone causes, far below the eps * H(eta) of C - H."""
    mp_e = mpmath.mpf(eta)
    q = 1 / (1 + mpmath.exp(-mpmath.mpf(f)))
    want = mp_e * mpmath.log(mp_e / q) + (1 - mp_e) * mpmath.log((1 - mp_e) / (1 - q))
    got = excess_risk(eta, f, reduction="none")
    x = float(special.logit(eta))
    # d KL / d x = -sigma'(x) (f - x): the rounding of x (a few ulp) moves KL by this much
    slack = 8e-16 * (1 + abs(x)) * abs(f - x) * eta * (1 - eta)
    assert abs(got - float(want)) <= 1e-13 * float(want) + slack + 1e-300


def test_import_surrogates_is_light():
    import subprocess
    import sys

    code = "import sys, celib.surrogates; m = sys.modules; print('torch' in m, 'matplotlib' in m)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
