"""celib.datasets: synthetic data of the worked examples and calibration bins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import optimize, special, stats

from celib.datasets import calibration_bins, gaussian_blobs, logistic_data

# ----------------------------------------------------------------------- logistic_data


def test_logistic_data_shapes_and_determinism():
    x, t = logistic_data(50, [1.0, -2.0, 0.5], 0.3, rng=7)
    assert x.shape == (50, 3) and t.shape == (50,)
    assert x.dtype == np.float64 and t.dtype == np.float64
    assert set(np.unique(t)) <= {0.0, 1.0}
    x2, t2 = logistic_data(50, [1.0, -2.0, 0.5], 0.3, rng=7)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(t, t2)
    x3, _ = logistic_data(50, [1.0, -2.0, 0.5], 0.3, rng=8)
    assert not np.array_equal(x, x3)


def test_logistic_data_follows_the_sigmoid():
    # Within bins of the true logit, the frequency of t = 1 matches the mean of
    # sigmoid(logit) (scipy's expit), within 4 binomial standard errors.
    w, b = np.array([1.5, -0.5]), 0.25
    x, t = logistic_data(200_000, w, b, rng=1)
    z = x @ w + b
    edges = np.quantile(z, np.linspace(0, 1, 21))
    which = np.clip(np.searchsorted(edges, z, side="right") - 1, 0, 19)
    for k in range(20):
        sel = which == k
        p = special.expit(z[sel])
        se = np.sqrt(np.sum(p * (1 - p))) / sel.sum()
        assert abs(t[sel].mean() - p.mean()) < 4 * se + 1e-12


def test_logistic_data_mle_recovers_the_parameters():
    w, b = np.array([2.0, -1.0]), 0.5
    x, t = logistic_data(20_000, w, b, rng=2)
    a = np.column_stack([x, np.ones(len(x))])

    def nll(theta):  # scipy's log_expit, independent of celib
        z = a @ theta
        return -np.mean(t * special.log_expit(z) + (1 - t) * special.log_expit(-z))

    fit = optimize.minimize(nll, np.zeros(3), method="BFGS")
    np.testing.assert_allclose(fit.x, [2.0, -1.0, 0.5], atol=0.1)


def test_logistic_data_extreme_logits_do_not_overflow():
    with np.errstate(all="raise"):
        x, t = logistic_data(1000, [1e4], 0.0, rng=3)
    # P(t = 1) = sigmoid(1e4 x) is 0 or 1 unless |x| < ~4e-3
    decided = np.abs(x[:, 0]) > 0.01
    np.testing.assert_array_equal(t[decided], (x[decided, 0] > 0).astype(float))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 0, "weights": [1.0]}, ValueError, "n must be >= 1"),
        ({"n": 2.0, "weights": [1.0]}, TypeError, "n must be an integer"),
        ({"n": True, "weights": [1.0]}, TypeError, "n must be an integer"),
        ({"n": 5, "weights": []}, ValueError, "weights is empty"),
        ({"n": 5, "weights": [[1.0]]}, ValueError, "weights must be 1-D"),
        ({"n": 5, "weights": [np.nan]}, ValueError, "weights must be finite"),
        ({"n": 5, "weights": ["a"]}, TypeError, "weights must hold real numbers"),
        ({"n": 5, "weights": [1.0], "bias": np.inf}, ValueError, "bias must be a finite number"),
    ],
)
def test_logistic_data_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        logistic_data(**kwargs)


# ---------------------------------------------------------------------- gaussian_blobs


def test_gaussian_blobs_moments_and_labels():
    centers = np.array([[0.0, 0.0], [4.0, 1.0], [-2.0, 3.0]])
    x, labels = gaussian_blobs(5000, centers, scale=0.7, rng=0)
    assert x.shape == (15000, 2) and labels.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(labels), [5000, 5000, 5000])
    assert not np.array_equal(labels[:100], np.sort(labels[:100]))  # shuffled
    for c, mu in enumerate(centers):
        pts = x[labels == c]
        # means within 5 standard errors, standard deviations within 5%
        np.testing.assert_allclose(pts.mean(axis=0), mu, atol=5 * 0.7 / np.sqrt(5000))
        np.testing.assert_allclose(pts.std(axis=0, ddof=1), 0.7, rtol=0.05)
        # each coordinate is normal (Kolmogorov-Smirnov against scipy.stats.norm)
        assert stats.kstest(pts[:, 0], stats.norm(mu[0], 0.7).cdf).pvalue > 1e-3


def test_gaussian_blobs_deterministic():
    a = gaussian_blobs(3, [[0.0], [1.0]], rng=4)
    b = gaussian_blobs(3, [[0.0], [1.0]], rng=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_per_class": 0, "centers": [[0.0]]}, ValueError, "n_per_class must be >= 1"),
        ({"n_per_class": 1.5, "centers": [[0.0]]}, TypeError, "n_per_class must be an integer"),
        ({"n_per_class": 2, "centers": [0.0, 1.0]}, ValueError, "centers must be 2-D"),
        ({"n_per_class": 2, "centers": [[np.inf]]}, ValueError, "centers must be finite"),
        ({"n_per_class": 2, "centers": [[0.0]], "scale": 0.0}, ValueError, "scale must be > 0"),
        (
            {"n_per_class": 2, "centers": [[0.0]], "scale": np.nan},
            ValueError,
            "scale must be a finite number",
        ),
    ],
)
def test_gaussian_blobs_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        gaussian_blobs(**kwargs)


# -------------------------------------------------------------------- calibration_bins


def _bins_by_loop(p, t, n_bins):
    """Reference: a plain loop over half-open bins [k/n, (k+1)/n), the last one closed."""
    count, conf, freq, gap = [], [], [], 0.0
    for k in range(n_bins):
        lo, hi = k / n_bins, (k + 1) / n_bins
        sel = [i for i in range(len(p)) if lo <= p[i] < hi or (k == n_bins - 1 and p[i] == 1)]
        count.append(len(sel))
        if sel:
            mp = sum(p[i] for i in sel) / len(sel)
            mt = sum(t[i] for i in sel) / len(sel)
            conf.append(mp)
            freq.append(mt)
            gap += len(sel) / len(p) * abs(mt - mp)
        else:
            conf.append(np.nan)
            freq.append(np.nan)
    return count, conf, freq, gap


def test_calibration_bins_small_example():
    bins = calibration_bins([0.0, 0.05, 0.5, 1.0, 1.0], [0, 1, 0, 1, 1], n_bins=4)
    np.testing.assert_allclose(bins.edges, [0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(bins.count, [2, 0, 1, 2])
    np.testing.assert_allclose(bins.confidence, [0.025, np.nan, 0.5, 1.0])
    np.testing.assert_allclose(bins.frequency, [0.5, np.nan, 0.0, 1.0])
    # ECE = (2 * 0.475 + 1 * 0.5 + 2 * 0) / 5
    assert bins.ece == pytest.approx(0.29, abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    p=hnp.arrays(np.float64, st.integers(1, 40), elements=st.floats(0, 1)),
    n_bins=st.integers(1, 12),
    data=st.data(),
)
def test_calibration_bins_match_a_loop(p, n_bins, data):
    t = data.draw(hnp.arrays(np.int64, p.shape, elements=st.integers(0, 1)))
    # bin boundaries that p * n_bins rounds across are ambiguous; keep clear of them
    frac = p * n_bins - np.floor(p * n_bins)
    p = np.where((np.minimum(frac, 1 - frac) < 1e-9) & (p < 1) & (p > 0), p + 1e-6, p)
    p = np.clip(p, 0, 1)
    bins = calibration_bins(p, t, n_bins)
    count, conf, freq, gap = _bins_by_loop(p.tolist(), t.tolist(), n_bins)
    np.testing.assert_array_equal(bins.count, count)
    np.testing.assert_allclose(bins.confidence, conf, rtol=1e-12)
    np.testing.assert_allclose(bins.frequency, freq, rtol=1e-12)
    assert bins.ece == pytest.approx(gap, rel=1e-12, abs=1e-15)
    assert 0.0 <= bins.ece <= 1.0
    assert bins.count.sum() == p.size


def test_calibration_of_a_calibrated_and_an_overconfident_model():
    rng = np.random.default_rng(0)
    p = rng.random(200_000)
    t = rng.random(p.size) < p  # t ~ Bernoulli(p): calibrated by construction
    assert calibration_bins(p, t, 10).ece < 0.01
    # pushing probabilities towards 0 and 1 (logits times 3) is overconfident
    sharp = special.expit(3 * special.logit(p))
    assert calibration_bins(sharp, t, 10).ece > 0.1


def test_calibration_constant_prediction():
    t = np.array([1, 0, 0, 1, 1])
    bins = calibration_bins(np.full(5, 0.3), t, 10)
    assert bins.ece == pytest.approx(abs(t.mean() - 0.3), abs=1e-15)
    assert np.isnan(bins.confidence).sum() == 9


@pytest.mark.parametrize(
    ("probs", "targets", "n_bins", "error", "match"),
    [
        ([0.5, 1.5], [0, 1], 10, ValueError, r"probs must lie in \[0, 1\]"),
        ([0.5, np.nan], [0, 1], 10, ValueError, "probs must be finite"),
        ([0.5, 0.5], [0, 2], 10, ValueError, "targets must be 0 or 1"),
        ([0.5, 0.5], [0, 1, 1], 10, ValueError, "targets must have the shape of probs"),
        ([], [], 10, ValueError, "probs is empty"),
        ([[0.5]], [[1]], 10, ValueError, "probs must be 1-D"),
        ([0.5], [1], 0, ValueError, "n_bins must be >= 1"),
        ([0.5], [1], 2.5, TypeError, "n_bins must be an integer"),
        (["x"], [1], 2, TypeError, "probs must hold real numbers"),
    ],
)
def test_calibration_bins_bad_input(probs, targets, n_bins, error, match):
    with pytest.raises(error, match=match):
        calibration_bins(probs, targets, n_bins)


# ------------------------------------------------------- issue 11: regression tests


def test_rng_accepts_a_generator_or_an_int():
    x1, t1 = logistic_data(20, [1.0, -1.0], rng=np.random.default_rng(3))
    x2, t2 = logistic_data(20, [1.0, -1.0], rng=3)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(t1, t2)
    g = np.random.default_rng(0)
    a, _ = gaussian_blobs(2, [[0.0], [1.0]], rng=g)
    b, _ = gaussian_blobs(2, [[0.0], [1.0]], rng=g)  # the generator advanced
    assert not np.array_equal(a, b)
    for bad in (None, 1.5, "0", np.random.RandomState(0)):
        with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an int"):
            logistic_data(5, [1.0], rng=bad)
    with pytest.raises(ValueError, match="rng must be a non-negative int seed"):
        gaussian_blobs(2, [[0.0]], rng=-1)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: logistic_data(5, [1.0], bias=[0.5]), TypeError, "bias must be a real number"),
        (lambda: logistic_data(5, [1.0], bias="1"), TypeError, "bias must be a real number"),
        (lambda: logistic_data(5, [1.0], bias=True), TypeError, "bias must be a real number"),
        (lambda: logistic_data(5, [1 + 1j]), TypeError, "weights must hold real numbers"),
        (lambda: logistic_data(5, np.array([1 + 0j])), TypeError, "weights must hold real"),
        (lambda: logistic_data(5, [[1.0], [1.0, 2.0]]), TypeError, "weights must be array-like"),
        (lambda: logistic_data(None, [1.0]), TypeError, "n must be an integer, got None"),
        (lambda: gaussian_blobs(2, [[0.0]], scale=[1.0]), TypeError, "scale must be a real"),
        (lambda: gaussian_blobs(2, [[0.0]], scale=-1.0), ValueError, "scale must be > 0"),
        (lambda: gaussian_blobs(2, np.array([[1j]])), TypeError, "centers must hold real"),
        (lambda: gaussian_blobs(2, None), TypeError, "centers must be array-like"),
        (
            lambda: calibration_bins(np.array([0.5 + 0j]), [1]),
            TypeError,
            "probs must hold real numbers",
        ),
        (lambda: calibration_bins([0.5], [1 + 0j]), TypeError, "targets must hold real"),
        (lambda: calibration_bins([0.5], [1], n_bins=np.nan), TypeError, "n_bins must be an"),
        (lambda: calibration_bins([0.5], [1], n_bins="3"), TypeError, "n_bins must be an"),
    ],
)
def test_bad_types_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------------------- load_digits


def test_load_digits_matches_sklearn_and_is_deterministic():
    from sklearn.datasets import load_digits as sk_load_digits

    from celib.datasets import load_digits

    digits = load_digits(test_fraction=0.2, validation_fraction=0.1, rng=3)
    sizes = [labels.size for _, labels in digits]
    assert sizes == [1797 - 359 - 180, 180, 359]
    features = np.concatenate([f for f, _ in digits])
    labels = np.concatenate([t for _, t in digits])
    assert features.dtype == np.float64 and labels.dtype == np.int64
    # the split is a permutation of scikit-learn's arrays, pixels divided by 16
    ref = sk_load_digits()
    key = np.lexsort(np.column_stack([ref.data / 16.0, ref.target]).T)
    got = np.lexsort(np.column_stack([features, labels]).T)
    np.testing.assert_array_equal(features[got], ref.data[key] / 16.0)
    np.testing.assert_array_equal(labels[got], ref.target[key])
    again = load_digits(test_fraction=0.2, validation_fraction=0.1, rng=np.random.default_rng(3))
    for (fa, ta), (fb, tb) in zip(digits, again):
        np.testing.assert_array_equal(fa, fb)
        np.testing.assert_array_equal(ta, tb)
    other = load_digits(test_fraction=0.2, validation_fraction=0.1, rng=4)
    assert not np.array_equal(other.test[1], digits.test[1])
    assert load_digits().validation[1].size == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"test_fraction": 1.0}, ValueError, "test_fraction must lie in"),
        ({"test_fraction": -0.1}, ValueError, "test_fraction must lie in"),
        ({"test_fraction": float("nan")}, ValueError, "test_fraction must lie in"),
        ({"test_fraction": "0.2"}, TypeError, "test_fraction must be a number"),
        ({"validation_fraction": True}, TypeError, "validation_fraction must be a number"),
        ({"test_fraction": 0.6, "validation_fraction": 0.5}, ValueError, "leave training"),
        ({"rng": 1.5}, TypeError, "rng must be"),
        ({"rng": -1}, ValueError, "rng must be a non-negative seed"),
    ],
)
def test_load_digits_bad_input(kwargs, error, match):
    from celib.datasets import load_digits

    with pytest.raises(error, match=match):
        load_digits(**kwargs)
