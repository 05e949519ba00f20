"""celib.scoring and celib.nn.focal_loss against independent references.

References: mpmath at 50 digits, closed forms, scikit-learn's brier_score_loss and
log_loss, scipy's optimisers, and torch autograd on the textbook formula.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special
from sklearn.metrics import brier_score_loss, log_loss

import celib
from celib import scoring
from celib.datasets import calibration_bins
from celib.nn import focal_loss as nn_focal_loss
from celib.scoring import (
    brier_score,
    calibration_refinement,
    expected_calibration_error,
    fit_temperature,
    focal_loss,
    focal_minimiser,
    log_score,
)

mpmath.mp.dps = 50


def _random_rows(rng, n, k, concentration=1.0):
    return rng.dirichlet(np.full(k, concentration), size=n)


def _sample_labels(rng, q):
    return (rng.random((q.shape[0], 1)) > q.cumsum(axis=1)).sum(axis=1)


# --------------------------------------------------------------------------- module


def test_scoring_is_a_lazy_submodule():
    assert "scoring" in celib._SUBMODULES
    assert celib.scoring is scoring
    assert set(scoring.__all__) <= set(dir(scoring))


# --------------------------------------------------------------------------- log score


def test_log_score_is_cross_entropy_and_matches_sklearn():
    rng = np.random.default_rng(0)
    q = _random_rows(rng, 200, 4)
    t = _sample_labels(rng, q)
    assert log_score(t, q) == celib.categorical_cross_entropy(t, q)
    assert float(log_score(t, q)) == pytest.approx(log_loss(t, q, labels=range(4)), rel=1e-12)
    y = rng.random(100)
    tb = (rng.random(100) < y).astype(float)
    assert float(log_score(tb, y, binary=True)) == pytest.approx(log_loss(tb, y), rel=1e-12)
    x = rng.normal(size=(50, 3))
    lab = rng.integers(0, 3, 50)
    assert log_score(lab, x, from_logits=True) == celib.categorical_cross_entropy(
        lab, x, from_logits=True
    )


def test_log_score_is_strictly_proper():
    p = np.array([0.6, 0.3, 0.1])
    best = float(log_score(p, p))
    assert best == pytest.approx(float(mp_entropy(p)), rel=1e-14)
    rng = np.random.default_rng(1)
    for q in _random_rows(rng, 200, 3):
        assert float(log_score(p, q)) > best


def mp_entropy(p):
    return -sum(mpmath.mpf(x) * mpmath.log(mpmath.mpf(x)) for x in p if x > 0)


# --------------------------------------------------------------------------- Brier score


def test_brier_binary_matches_sklearn():
    rng = np.random.default_rng(2)
    y = rng.random(500)
    t = (rng.random(500) < y).astype(float)
    assert float(brier_score(t, y, binary=True)) == pytest.approx(brier_score_loss(t, y), rel=1e-13)


def test_brier_rows_closed_form_and_two_class_relation():
    rng = np.random.default_rng(3)
    q = _random_rows(rng, 300, 5)
    t = _sample_labels(rng, q)
    onehot = np.eye(5)[t]
    expected = np.sum((q - onehot) ** 2, axis=1)
    np.testing.assert_allclose(brier_score(t, q, reduction="none"), expected, rtol=1e-14)
    assert float(brier_score(t, q, reduction="sum")) == pytest.approx(expected.sum(), rel=1e-13)
    # two classes: the row form is twice the binary form
    y = rng.random(50)
    tb = rng.integers(0, 2, 50)
    rows = np.stack([1 - y, y], axis=1)
    assert float(brier_score(tb, rows)) == pytest.approx(
        2 * float(brier_score(tb.astype(float), y, binary=True)), rel=1e-13
    )


def test_brier_soft_targets_are_the_expectation():
    p = np.array([0.5, 0.3, 0.2])
    q = np.array([0.2, 0.2, 0.6])
    expected = sum(pj * float(brier_score(j, q)) for j, pj in enumerate(p))
    assert float(brier_score(p, q)) == pytest.approx(expected, rel=1e-14)
    # binary soft target: t (1 - y)^2 + (1 - t) y^2
    assert float(brier_score(0.3, 0.8, binary=True)) == pytest.approx(
        0.3 * 0.2**2 + 0.7 * 0.8**2, rel=1e-14
    )


def test_brier_is_strictly_proper():
    p = np.array([0.6, 0.3, 0.1])
    best = float(brier_score(p, p))
    assert best == pytest.approx(1 - np.sum(p**2), rel=1e-14)
    rng = np.random.default_rng(4)
    for q in _random_rows(rng, 200, 3):
        assert float(brier_score(p, q)) - best == pytest.approx(np.sum((q - p) ** 2), abs=1e-14)
        assert float(brier_score(p, q)) > best


def test_brier_from_logits():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 4)) * 10
    t = rng.integers(0, 4, 40)
    q = special.softmax(x, axis=1)
    np.testing.assert_allclose(brier_score(t, x, from_logits=True), brier_score(t, q), rtol=1e-13)
    xb = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    tb = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    np.testing.assert_allclose(
        brier_score(tb, xb, binary=True, from_logits=True, reduction="none"),
        (special.expit(xb) - tb) ** 2,
        rtol=1e-14,
        atol=1e-300,
    )


def test_brier_axis_and_torch():
    rng = np.random.default_rng(6)
    q = _random_rows(rng, 10, 3)
    t = rng.integers(0, 3, 10)
    np.testing.assert_allclose(brier_score(t, q.T, axis=0), brier_score(t, q), rtol=1e-15)
    qt = torch.tensor(q, requires_grad=True)
    val = brier_score(torch.tensor(t), qt)
    assert isinstance(val, torch.Tensor)
    val.backward()
    expected = 2 * (q - np.eye(3)[t]) / 10
    np.testing.assert_allclose(qt.grad.numpy(), expected, rtol=1e-13)


# --------------------------------------------------------------------------- focal loss


def mp_focal(t_row, q_row, gamma):
    total = mpmath.mpf(0)
    for tj, qj in zip(t_row, q_row):
        if tj > 0:
            qj = mpmath.mpf(qj)
            total += mpmath.mpf(tj) * (1 - qj) ** gamma * -mpmath.log(qj)
    return total


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_focal_matches_mpmath_on_probabilities_and_logits(gamma):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(30, 4)) * 3
    t = rng.integers(0, 4, 30)
    got = focal_loss(t, x, gamma=gamma, from_logits=True, reduction="none")
    for i in range(30):
        xs = [mpmath.mpf(v) for v in x[i]]
        lse = mpmath.log(sum(mpmath.exp(v) for v in xs))
        q = [mpmath.exp(v - lse) for v in xs]
        ref = (1 - q[t[i]]) ** gamma * (lse - xs[t[i]])
        assert got[i] == pytest.approx(float(ref), rel=1e-13)
    q = special.softmax(x, axis=1)
    soft = _random_rows(rng, 30, 4)
    got_soft = focal_loss(soft, q, gamma=gamma, reduction="none")
    for i in range(30):
        assert got_soft[i] == pytest.approx(float(mp_focal(soft[i], q[i], gamma)), rel=1e-12)


def test_focal_gamma_zero_is_log_score_and_tiny_losses_survive():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(20, 3))
    t = rng.integers(0, 3, 20)
    np.testing.assert_array_equal(
        focal_loss(t, x, gamma=0.0, from_logits=True, reduction="none"),
        log_score(t, x, from_logits=True, reduction="none"),
    )
    # a confident correct prediction: loss ~ (2e-20)^2 * 2e-20, not 0
    tiny = focal_loss([0], [[45.0, 0.0, 0.0]], gamma=2.0, from_logits=True)
    r = 2 * math.exp(-45.0)
    assert tiny == pytest.approx(r**2 * r, rel=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 1.0, 2.0])
def test_focal_binary(gamma):
    rng = np.random.default_rng(9)
    x = rng.normal(size=50) * 4
    y = special.expit(x)
    t = rng.random(50)

    def mp_sigmoid(v):
        return 1 / (1 + mpmath.exp(-mpmath.mpf(v)))

    ref = [
        float(mp_focal([1 - tt, tt], [mp_sigmoid(-xx), mp_sigmoid(xx)], gamma))
        for tt, xx in zip(t, x)
    ]
    got = focal_loss(t, x, gamma=gamma, binary=True, from_logits=True, reduction="none")
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    got_p = focal_loss(t, y, gamma=gamma, binary=True, reduction="none")
    np.testing.assert_allclose(got_p, ref, rtol=1e-9)
    # the binary form is the two-class row form
    rows = np.stack([1 - t, t], axis=1)
    q = np.stack([1 - y, y], axis=1)
    np.testing.assert_allclose(
        got_p, focal_loss(rows, q, gamma=gamma, reduction="none"), rtol=1e-12
    )


def test_focal_torch_autograd_and_edges():
    # gradient through the array-API form equals autograd on the textbook formula
    torch.manual_seed(0)
    x = torch.randn(16, 5, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 5, (16,))
    focal_loss(t, x, gamma=2.0, from_logits=True).backward()
    x2 = x.detach().clone().requires_grad_(True)
    p = torch.softmax(x2, dim=1)[torch.arange(16), t]
    (-((1 - p) ** 2) * torch.log(p)).mean().backward()
    torch.testing.assert_close(x.grad, x2.grad, rtol=1e-12, atol=1e-15)
    # a zero probability on a class with zero target: finite loss, no NaN gradient
    q = torch.tensor([[0.5, 0.5, 0.0]], dtype=torch.float64, requires_grad=True)
    soft = torch.tensor([[0.3, 0.7, 0.0]], dtype=torch.float64)
    val = focal_loss(soft, q, gamma=2.0)
    val.backward()
    assert torch.isfinite(val) and torch.isfinite(q.grad).all()
    yb = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    focal_loss(torch.tensor([0.0, 1.0], dtype=torch.float64), yb, binary=True).backward()
    assert torch.isfinite(yb.grad).all()
    # an impossible outcome is +inf
    assert focal_loss([2], [[0.5, 0.5, 0.0]], gamma=1.0) == math.inf


def test_focal_is_not_proper():
    p = np.array([0.7, 0.3])
    at_truth = float(focal_loss(p, p, gamma=2.0))
    q = np.array([0.579, 0.421])
    assert float(focal_loss(p, q, gamma=2.0)) < at_truth


# --------------------------------------------------------------------------- focal minimiser


def _mp_binary_minimiser(p, gamma):
    p, g = mpmath.mpf(p), mpmath.mpf(gamma)

    def risk(y):
        return p * (1 - y) ** g * -mpmath.log(y) + (1 - p) * y**g * -mpmath.log(1 - y)

    return mpmath.findroot(lambda y: mpmath.diff(risk, y), mpmath.mpf("0.6"))


@pytest.mark.parametrize(("gamma", "value"), [(1.0, 0.617), (2.0, 0.579)])
def test_focal_minimiser_issue_values(gamma, value):
    # The issue's "about 0.617 and 0.579"; the exact values are 0.61723 and 0.57848.
    got = float(focal_minimiser(0.7, gamma=gamma, binary=True))
    assert got == pytest.approx(value, abs=1e-3)
    assert got == pytest.approx(float(_mp_binary_minimiser(0.7, gamma)), rel=1e-13)


def test_focal_minimiser_binary_grid_against_scipy():
    p = np.linspace(0.02, 0.98, 25)
    for gamma in (0.5, 1.0, 3.0):
        got = focal_minimiser(p, gamma=gamma, binary=True)
        # pulled towards 1/2, the side of 1/2 kept
        assert np.all(np.abs(got - 0.5) <= np.abs(p - 0.5) + 1e-15)
        assert np.all(np.sign(got - 0.5) == np.sign(np.round(p - 0.5, 12)))
        for pi, gi in zip(p, got):
            res = optimize.minimize_scalar(
                lambda y, pi=pi, g=gamma: float(focal_loss(pi, y, gamma=g, binary=True)),
                bounds=(1e-9, 1 - 1e-9),
                method="bounded",
                options={"xatol": 1e-12},
            )
            assert gi == pytest.approx(res.x, abs=1e-6)
    np.testing.assert_array_equal(focal_minimiser(p, gamma=0, binary=True), p)


def test_focal_minimiser_multiclass():
    rng = np.random.default_rng(10)
    for gamma in (1.0, 2.0):
        for p in _random_rows(rng, 5, 4):
            q = focal_minimiser(p, gamma=gamma)
            assert q.sum() == pytest.approx(1.0, abs=1e-14)
            assert np.array_equal(np.argsort(q), np.argsort(p))
            best = float(focal_loss(p, q, gamma=gamma))

            def risk(z, p=p, g=gamma):
                return float(focal_loss(p, z, gamma=g, from_logits=True))

            res = optimize.minimize(
                risk,
                np.log(p),
                method="Nelder-Mead",
                options={"xatol": 1e-10, "fatol": 1e-15, "maxiter": 20000},
            )
            assert best <= res.fun + 1e-12
            np.testing.assert_allclose(q, special.softmax(res.x), atol=1e-5)
    # zero-probability classes get zero; a certain class stays certain
    q = focal_minimiser([0.6, 0.0, 0.4], gamma=2.0)
    assert q[1] == 0.0
    assert q[0] == pytest.approx(float(focal_minimiser(0.6, gamma=2.0, binary=True)), rel=1e-13)
    np.testing.assert_array_equal(focal_minimiser([0.0, 1.0, 0.0], gamma=2.0), [0, 1, 0])
    # axis and batch
    ps = _random_rows(rng, 3, 3)
    np.testing.assert_allclose(
        focal_minimiser(ps.T, gamma=1.0, axis=0), focal_minimiser(ps, gamma=1.0).T, rtol=1e-15
    )


def _mp_focal_slope(p, y, gamma):
    """d/dy of p g(y) + (1 - p) g(1 - y), g(q) = -(1 - q)^gamma log q, at 50 digits.

    With h = -g', the slope is -p h(y) + (1 - p) h(1 - y); h(1 - x) is written in x, so
    that a y within 1e-300 of 0 or 1 keeps its digits.
    """
    p, g = mpmath.mpf(p), mpmath.mpf(gamma)

    def h(q):
        return (1 - q) ** g / q - g * (1 - q) ** (g - 1) * mpmath.log(q)

    def h_of_complement(x):  # h(1 - x)
        return x**g / (1 - x) - g * x ** (g - 1) * mpmath.log1p(-x)

    if y <= 0.5:
        x = mpmath.mpf(y)
        return -p * h(x) + (1 - p) * h_of_complement(x)
    x = mpmath.mpf(1 - y)  # exact in floating point for y > 1/2
    return -p * h_of_complement(x) + (1 - p) * h(x)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 20.0])
@pytest.mark.parametrize("p", [1e-300, 1e-12, 1e-6, 0.3, 1 - 1e-6, 1 - 1e-12])
def test_focal_minimiser_extreme_probabilities(p, gamma):
    y = float(focal_minimiser(p, gamma=gamma, binary=True))
    assert 0 < y < 1
    # the expected focal loss decreases just below y and increases just above it (a y
    # near 1 is only known to an ulp of 1: step by more than that)
    step = max(min(y, 1 - y) * 1e-9, 2 * np.spacing(y))
    below, above = y - step, y + step
    assert _mp_focal_slope(p, below, gamma) < 0 < _mp_focal_slope(p, above, gamma)
    # the classes' order does not matter
    rows = focal_minimiser(np.array([[p, 1 - p], [1 - p, p]]), gamma=gamma)
    np.testing.assert_array_equal(rows[0], rows[1][::-1])


def test_focal_minimiser_tiny_probability_asymptotics():
    # for p -> 0 the stationarity condition gives q ~ (p / (1 + gamma))^(1 / (1 + gamma))
    for gamma in (0.5, 1.0, 2.0):
        q = float(focal_minimiser(1e-300, gamma=gamma, binary=True))
        assert q == pytest.approx((1e-300 / (1 + gamma)) ** (1 / (1 + gamma)), rel=1e-10)
    assert isinstance(focal_minimiser(0.7, gamma=1.0, binary=True), np.floating)


def test_focal_minimiser_multiclass_stationarity_with_mpmath():
    for p, gamma in (
        ([1e-9, 0.5 - 1e-9, 0.5], 2.0),
        ([0.98, 0.01, 0.01], 50.0),
        ([0.1, 0.2, 0.3, 0.4], 1.0),
    ):
        q = focal_minimiser(p, gamma=gamma)
        g = mpmath.mpf(gamma)
        h = [
            mpmath.mpf(pj)
            * (
                (1 - mpmath.mpf(qj)) ** g / qj
                - g * (1 - mpmath.mpf(qj)) ** (g - 1) * mpmath.log(qj)
            )
            for pj, qj in zip(p, q)
        ]
        for hj in h[1:]:
            assert float(hj / h[0]) == pytest.approx(1.0, rel=1e-9)


def test_focal_h_is_decreasing():
    q = np.linspace(1e-6, 1 - 1e-6, 2001)
    for gamma in (0.1, 0.5, 1.0, 2.0, 5.0, 10.0):
        h = np.array([scoring._focal_h(v, gamma) for v in q])
        assert np.all(np.diff(h) < 0)


# --------------------------------------------------------------------------- calibration


def test_bins_are_the_equal_width_intervals():
    # The one binning formula (celib.datasets._bin_index, used by calibration_bins and
    # calibration_refinement): bin b holds [b/B, (b+1)/B), the last bin also 1.
    from celib.datasets import _bin_index

    rng = np.random.default_rng(11)
    p = np.concatenate([rng.random(1000), [0.0, 0.1, 0.5, 0.9, 1.0]])
    for n_bins in (1, 7, 10, 15):
        idx = _bin_index(p, n_bins)
        lo, hi = idx / n_bins, (idx + 1) / n_bins
        assert np.all((lo <= p * (1 + 1e-15)) & ((p < hi) | ((p == 1) & (idx == n_bins - 1))))
        counts = calibration_bins(p, np.zeros_like(p), n_bins).count
        np.testing.assert_array_equal(np.bincount(idx, minlength=n_bins), counts)


def test_ece_multiclass_against_direct_computation():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(500, 4)) * 2
    q = special.softmax(x, axis=1)
    t = _sample_labels(rng, special.softmax(x / 2, axis=1))
    conf, pred = q.max(axis=1), q.argmax(axis=1)
    correct = pred == t
    edges = np.linspace(0, 1, 16)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf >= lo) & ((conf < hi) | (hi == 1.0))
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    got = expected_calibration_error(t, q, n_bins=15)
    assert got == pytest.approx(ece, rel=1e-12)
    assert expected_calibration_error(t, x, n_bins=15, from_logits=True) == pytest.approx(
        got, rel=1e-12
    )
    assert expected_calibration_error(torch.tensor(t), torch.tensor(q), n_bins=15) == (
        pytest.approx(got, rel=1e-12)
    )


def test_ece_binary_is_calibration_bins():
    rng = np.random.default_rng(13)
    y = rng.random(300)
    t = (rng.random(300) < y**2).astype(np.int64)
    assert expected_calibration_error(t, y, binary=True) == calibration_bins(y, t).ece


def test_calibration_refinement_exact_for_discrete_forecasts():
    rng = np.random.default_rng(14)
    # forecasts take 5 values; the decomposition is then exact for the mean score
    levels = _random_rows(rng, 5, 3)
    which = rng.integers(0, 5, 2000)
    q = levels[which]
    truth = _random_rows(rng, 5, 3)[which]
    t = _sample_labels(rng, truth)
    for score, fn in (("log", log_score), ("brier", brier_score)):
        parts = calibration_refinement(t, q, score=score)
        assert parts.score == pytest.approx(float(fn(t, q)), rel=1e-12)
        assert parts.score == pytest.approx(parts.calibration + parts.refinement, rel=1e-14)
        assert parts.refinement == pytest.approx(parts.uncertainty - parts.resolution, rel=1e-12)
        assert parts.calibration >= 0 and parts.resolution >= 0
    # recalibrated forecasts (the observed frequencies) have zero calibration error
    freq = np.stack(
        [np.bincount(t[which == g], minlength=3) / (which == g).sum() for g in range(5)]
    )
    parts = calibration_refinement(t, freq[which])
    assert parts.calibration == pytest.approx(0.0, abs=1e-15)
    # the constant base-rate forecast: no resolution, score = uncertainty
    base = np.bincount(t, minlength=3) / t.size
    parts = calibration_refinement(t, np.tile(base, (t.size, 1)))
    assert parts.resolution == pytest.approx(0.0, abs=1e-15)
    assert parts.score == pytest.approx(parts.uncertainty, rel=1e-14)


def test_calibration_refinement_binary_brier_is_murphy():
    # Murphy's decomposition of sklearn's Brier score for forecasts on a grid
    rng = np.random.default_rng(15)
    y = rng.integers(0, 11, 3000) / 10
    t = (rng.random(3000) < np.clip(y + 0.1, 0, 1)).astype(np.int64)
    parts = calibration_refinement(t, y, score="brier", binary=True)
    assert parts.score == pytest.approx(brier_score_loss(t, y), rel=1e-12)
    rel = sum((y == v).mean() * (v - t[y == v].mean()) ** 2 for v in np.unique(y))
    assert parts.calibration == pytest.approx(rel, rel=1e-12)
    assert parts.uncertainty == pytest.approx(t.mean() * (1 - t.mean()), rel=1e-12)
    # the binary log score is the two-class row form
    rows = np.stack([1 - y, y], axis=1)
    b, r = calibration_refinement(t, y, binary=True), calibration_refinement(t, rows)
    assert b.calibration == pytest.approx(r.calibration, rel=1e-12)


def test_calibration_refinement_with_bins():
    rng = np.random.default_rng(16)
    x = rng.normal(size=(1000, 3)) * 3
    t = _sample_labels(rng, special.softmax(x / 2, axis=1))
    parts = calibration_refinement(t, x, from_logits=True, n_bins=10)
    assert parts.score == pytest.approx(parts.calibration + parts.refinement, rel=1e-14)
    assert parts.calibration > 0.05  # overconfident by a factor of 2
    raw = float(log_score(t, x, from_logits=True))
    assert abs(parts.score - raw) < 0.1 * raw


# --------------------------------------------------------------------------- temperature


def test_fit_temperature_recovers_the_factor():
    rng = np.random.default_rng(17)
    x = rng.normal(size=(20000, 4)) * 1.5
    t = _sample_labels(rng, special.softmax(x, axis=1))
    for factor in (0.5, 2.0, 4.0):
        assert fit_temperature(t, factor * x) == pytest.approx(factor, rel=0.05)
    # stationary point: d/dT of the loss is zero at the fitted T
    temp = fit_temperature(t, 3.0 * x)

    def loss(v):
        return float(log_score(t, 3.0 * x / v, from_logits=True))

    slope = (loss(temp * (1 + 1e-5)) - loss(temp * (1 - 1e-5))) / (2e-5 * temp)
    assert abs(slope) < 1e-6
    xb = rng.normal(size=5000) * 2
    tb = (rng.random(5000) < special.expit(xb)).astype(float)
    assert fit_temperature(tb, 3 * xb, binary=True) == pytest.approx(3.0, rel=0.1)
    assert fit_temperature(torch.tensor(t), torch.tensor(2 * x)) == pytest.approx(
        fit_temperature(t, 2 * x), rel=1e-9
    )


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: brier_score([0], [[0.5, 0.6]]), ValueError, "y is not normalised"),
        (lambda: brier_score([3], [[0.5, 0.5]]), ValueError, "t has labels outside"),
        # float labels: the shared categorical validation says what they are (a TypeError)
        (lambda: brier_score([0.0], [[0.5, 0.5]]), TypeError, "t has the shape of labels"),
        (lambda: brier_score([[0.5, 0.5, 0.0]], [[0.5, 0.5]]), ValueError, "t holds prob"),
        (lambda: brier_score([0], [[0.5, 0.5]], binary=1), TypeError, "binary must be"),
        (lambda: brier_score([0], [[0.5, 0.5]], from_logits=None), TypeError, "from_logits"),
        (lambda: brier_score([0], [[0.5, 0.5]], reduction="avg"), ValueError, "reduction"),
        (lambda: brier_score([1.5], [0.5], binary=True), ValueError, "t has targets outside"),
        (lambda: brier_score([1.0], [np.nan], binary=True), ValueError, "y contains NaN"),
        (lambda: brier_score([0], [[1j, 1]]), TypeError, "y must hold real numbers"),
        (lambda: log_score([0], [[0.5, 0.5]], binary="no"), TypeError, "binary must be"),
        (lambda: focal_loss([0], [[0.5, 0.5]], gamma=-1.0), ValueError, "gamma must be"),
        (lambda: focal_loss([0], [[0.5, 0.5]], gamma=math.nan), ValueError, "gamma must be"),
        (lambda: focal_loss([0], [[0.5, 0.5]], gamma="2"), TypeError, "gamma must be"),
        (lambda: focal_loss([0], [[0.5, 0.5]], gamma=True), TypeError, "gamma must be"),
        (lambda: focal_loss([0], [[np.inf, 0.0]], from_logits=True), ValueError, "y contains"),
        (lambda: focal_minimiser([0.5, 0.6], gamma=1.0), ValueError, "p is not normalised"),
        (lambda: focal_minimiser(1.2, gamma=1.0, binary=True), ValueError, "p has a prob"),
        (lambda: focal_minimiser([0.5, 0.5], gamma=-2), ValueError, "gamma must be"),
        (lambda: focal_minimiser(["a"], gamma=1.0), TypeError, "p must"),
        (lambda: expected_calibration_error([0], [[0.5, 0.5]], n_bins=0), ValueError, "n_bins"),
        (lambda: expected_calibration_error([0], [[0.5, 0.5]], n_bins=2.0), TypeError, "n_bins"),
        (lambda: expected_calibration_error([[0.5, 0.5]], [[0.5, 0.5]]), TypeError, "t must"),
        (lambda: expected_calibration_error([0.5], [0.5], binary=True), TypeError, "t must"),
        (lambda: calibration_refinement([0], [[1.0, 0.0]], score="log2"), ValueError, "score"),
        (lambda: calibration_refinement([0], [[1.0, 0.0]], n_bins=-1), ValueError, "n_bins"),
        (lambda: fit_temperature([0], [[1.0, 0.0]], bounds=(0, 1)), ValueError, "bounds"),
        (lambda: fit_temperature([0], [[1.0, 0.0]], bounds=3), TypeError, "bounds"),
        (lambda: fit_temperature([0], [[1.0, np.nan]]), ValueError, "logits contains NaN"),
        (lambda: fit_temperature([2], [[1.0, 0.0]]), ValueError, "t has labels outside"),
        (lambda: fit_temperature([0], [[1.0, 0.0]], binary=0), TypeError, "binary must be"),
    ],
)
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_mixed_numpy_torch_is_refused():
    with pytest.raises(TypeError, match="must all be numpy arrays or all torch tensors"):
        brier_score(torch.tensor([0]), np.array([[0.5, 0.5]]))


# ------------------------------------------------------------------------ celib.nn.focal_loss


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nn_focal_against_autograd_reference(gamma, reduction):
    torch.manual_seed(1)
    x = torch.randn(12, 5, 3, dtype=torch.float64) * 3
    t = torch.randint(0, 5, (12, 3))
    w = torch.rand(5, dtype=torch.float64) + 0.5
    for weight in (None, w):
        a = x.clone().requires_grad_(True)
        b = x.clone().requires_grad_(True)
        got = nn_focal_loss(a, t, gamma=gamma, weight=weight, reduction=reduction)
        p = torch.softmax(b, dim=1).gather(1, t.unsqueeze(1)).squeeze(1)
        ww = torch.ones_like(p) if weight is None else weight[t]
        ref = -ww * (1 - p) ** gamma * torch.log(p)
        if reduction == "sum":
            ref = ref.sum()
        elif reduction == "mean":
            ref = ref.sum() / ww.sum()
        torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-14)
        got.sum().backward()
        ref.sum().backward()
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-13)


def test_nn_focal_gamma_zero_is_cross_entropy_and_gradcheck():
    torch.manual_seed(2)
    x = torch.randn(8, 4, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 4, (8,))
    w = torch.rand(4, dtype=torch.float64)
    torch.testing.assert_close(
        nn_focal_loss(x, t, gamma=0.0, weight=w),
        torch.nn.functional.cross_entropy(x, t, weight=w),
    )
    assert torch.autograd.gradcheck(lambda z: nn_focal_loss(z, t, gamma=2.0), (x,))
    assert torch.autograd.gradcheck(lambda z: nn_focal_loss(z, t, gamma=1.5, weight=w), (x,))
    # float32 and the discrete form agree
    x32 = x.detach().float()
    torch.testing.assert_close(
        nn_focal_loss(x32, t, gamma=2.0),
        focal_loss(t, x32, gamma=2.0, from_logits=True),
        rtol=1e-6,
        atol=1e-7,
    )


def test_nn_focal_keeps_tiny_losses():
    x = torch.tensor([[20.0, 0.0, 0.0]])
    got = nn_focal_loss(x, torch.tensor([0]), gamma=1.0).item()
    r = 2 * math.exp(-20.0)
    assert got == pytest.approx(r * r, rel=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"input": [[1.0, 2.0]]}, TypeError, "input must be a torch.Tensor"),
        ({"target": [0]}, TypeError, "target must be a torch.Tensor"),
        ({"input": torch.tensor([[1, 2]])}, TypeError, "input .logits. must have a floating"),
        ({"target": torch.tensor([0.0])}, TypeError, "target must hold integer"),
        ({"target": torch.tensor([0, 1])}, ValueError, "target must have shape"),
        ({"target": torch.tensor([2])}, ValueError, "target has class indices outside"),
        ({"input": torch.tensor([1.0, 2.0])}, ValueError, "input must have shape"),
        ({"input": torch.tensor([[math.nan, 2.0]])}, ValueError, "input contains NaN"),
        ({"gamma": -0.5}, ValueError, "gamma must be"),
        ({"gamma": "1"}, TypeError, "gamma must be"),
        ({"weight": torch.tensor([1.0])}, ValueError, "weight must have shape"),
        ({"weight": torch.tensor([1.0, -1.0])}, ValueError, "weight must be finite"),
        ({"weight": [1.0, 1.0]}, TypeError, "weight must be a torch.Tensor"),
        ({"reduction": "avg"}, ValueError, "reduction must be"),
    ],
)
def test_nn_focal_bad_input(kwargs, error, match):
    args = {"input": torch.tensor([[1.0, 2.0]]), "target": torch.tensor([0])} | kwargs
    with pytest.raises(error, match=match):
        nn_focal_loss(args.pop("input"), args.pop("target"), **args)


# ------------------------------------------------------------ properties, dtypes, devices


@st.composite
def _two_distributions(draw):
    k = draw(st.integers(2, 6))
    weights = st.floats(0.01, 1.0)
    p = np.array(draw(st.lists(weights, min_size=k, max_size=k)))
    q = np.array(draw(st.lists(weights, min_size=k, max_size=k)))
    return p / p.sum(), q / q.sum()


@given(_two_distributions())
@settings(max_examples=60, deadline=None)
def test_log_and_brier_scores_are_strictly_proper(pq):
    p, q = pq
    excess_log = float(log_score(p, q)) - float(log_score(p, p))
    excess_brier = float(brier_score(p, q)) - float(brier_score(p, p))
    assert excess_log == pytest.approx(float(celib.kl_divergence(p, q)), abs=1e-12)
    assert excess_brier == pytest.approx(float(np.sum((q - p) ** 2)), abs=1e-12)
    if not np.allclose(p, q, rtol=0, atol=1e-6):
        assert excess_log > 0 and excess_brier > 0


def test_float32_torch_keeps_its_dtype():
    x = torch.randn(6, 4, dtype=torch.float32)
    t = torch.randint(0, 4, (6,))
    for fn in (log_score, brier_score, focal_loss):
        out = fn(t, x, from_logits=True)
        assert out.dtype == torch.float32
    np.testing.assert_allclose(
        brier_score(t, x, from_logits=True).item(),
        float(brier_score(t.numpy(), x.double().numpy(), from_logits=True)),
        rtol=1e-6,
    )


def test_fit_temperature_at_a_bound_for_separable_data():
    # every held-out example right with a margin: the loss keeps falling as T -> 0
    x = np.array([[5.0, 0.0], [0.0, 5.0], [4.0, -1.0]])
    t = np.array([0, 1, 0])
    assert fit_temperature(t, x, bounds=(0.1, 10.0)) == pytest.approx(0.1, rel=1e-6)


@pytest.mark.cuda
def test_scores_on_cuda_match_cpu():
    torch.manual_seed(3)
    x = torch.randn(64, 7, dtype=torch.float64)
    t = torch.randint(0, 7, (64,))
    for fn in (log_score, brier_score, focal_loss):
        cpu = fn(t, x, from_logits=True)
        gpu = fn(t.cuda(), x.cuda(), from_logits=True)
        assert gpu.device.type == "cuda"
        torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-12, atol=0)
    gx = x.cuda().requires_grad_(True)
    nn_focal_loss(gx, t.cuda()).backward()
    cx = x.clone().requires_grad_(True)
    nn_focal_loss(cx, t).backward()
    torch.testing.assert_close(gx.grad.cpu(), cx.grad, rtol=1e-10, atol=1e-14)
    assert expected_calibration_error(t.cuda(), x.cuda(), from_logits=True) == pytest.approx(
        expected_calibration_error(t, x, from_logits=True), rel=1e-12
    )
