"""celib.mle against closed forms, mpmath (50 digits), scipy's fit and torch autograd."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from celib.mle import empirical_cross_entropy, minimize_cross_entropy

mpmath.mp.dps = 50

RNG_SEEDS = [0, 1, 2]


def mp_normal_nll(data, mu, sigma):
    mu, sigma = mpmath.mpf(mu), mpmath.mpf(sigma)
    terms = [
        mpmath.log(2 * mpmath.pi * sigma**2) / 2 + (mpmath.mpf(x) - mu) ** 2 / (2 * sigma**2)
        for x in data
    ]
    return float(mpmath.fsum(terms) / len(terms))


def mp_poisson_nll(data, mu):
    mu = mpmath.mpf(mu)
    terms = [-(int(k) * mpmath.log(mu) - mu - mpmath.loggamma(int(k) + 1)) for k in data]
    return float(mpmath.fsum(terms) / len(terms))


# ------------------------------------------------------------- empirical_cross_entropy


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_normal_matches_mpmath(seed):
    rng = np.random.default_rng(seed)
    data = rng.normal(1.0, 2.0, size=50)
    got = empirical_cross_entropy(stats.norm(0.5, 1.5), data)
    assert isinstance(got, float)
    assert got == pytest.approx(mp_normal_nll(data, 0.5, 1.5), rel=1e-13)


def test_normal_far_tail_matches_mpmath():
    # log-density of points 1e6 standard deviations out: no overflow to inf
    data = np.array([1e6, -1e6, 3.0])
    got = empirical_cross_entropy(stats.norm(0.0, 1.0), data)
    assert got == pytest.approx(mp_normal_nll(data, 0.0, 1.0), rel=1e-13)


def test_poisson_uses_mass_and_matches_mpmath():
    data = np.array([0, 3, 7, 150, 2])
    got = empirical_cross_entropy(stats.poisson(4.2), data)
    assert got == pytest.approx(mp_poisson_nll(data, 4.2), rel=1e-13)


def test_reductions_and_base():
    data = np.array([0.2, 1.5, 3.0])
    model = stats.expon(scale=2.0)
    per = empirical_cross_entropy(model, data, reduction="none")
    np.testing.assert_allclose(per, np.log(2.0) + data / 2.0, rtol=1e-14)
    total = empirical_cross_entropy(model, data, reduction="sum")
    assert total == pytest.approx(float(np.sum(np.log(2.0) + data / 2.0)), rel=1e-14)
    bits = empirical_cross_entropy(model, data, base=2)
    nats = empirical_cross_entropy(model, data)
    assert bits == pytest.approx(nats / math.log(2), rel=1e-14)


def test_outside_support_is_inf():
    # p-hat puts mass where the model has none: H(p-hat, q) = +inf (library convention)
    assert empirical_cross_entropy(stats.expon(), np.array([1.0, -0.5])) == math.inf
    assert empirical_cross_entropy(stats.poisson(2.0), np.array([1, 2.5])) == math.inf
    assert empirical_cross_entropy(stats.bernoulli(1.0), np.array([1, 0])) == math.inf


def test_categorical_decomposition_entropy_plus_kl():
    # J = H(p-hat) + KL(p-hat || q), references from scipy.stats.entropy
    rng = np.random.default_rng(3)
    q = np.array([0.1, 0.2, 0.3, 0.4])
    data = rng.choice(4, size=200, p=[0.25, 0.25, 0.25, 0.25])
    model = stats.rv_discrete(values=(np.arange(4), q))
    p_hat = np.bincount(data, minlength=4) / data.size
    got = empirical_cross_entropy(model, data)
    ref = scipy.stats.entropy(p_hat) + scipy.stats.entropy(p_hat, q)
    assert got == pytest.approx(ref, rel=1e-13)


def test_multivariate_model_and_single_row():
    mvn = stats.multivariate_normal(mean=[0.0, 1.0], cov=[[2.0, 0.3], [0.3, 1.0]])
    rows = np.array([[0.1, 0.2], [1.0, -1.0], [0.0, 3.0]])
    got = empirical_cross_entropy(mvn, rows)
    assert got == pytest.approx(-np.mean([mvn.logpdf(r) for r in rows]), rel=1e-14)
    # one row: scipy returns a 0-d log-density; still one sample
    assert empirical_cross_entropy(mvn, rows[:1]) == pytest.approx(-mvn.logpdf(rows[0]))


def test_new_scipy_discrete_distribution_uses_mass():
    dist = stats.Binomial(n=5, p=0.3)
    data = np.array([0, 1, 5])
    ref = -np.mean(stats.binom.logpmf(data, 5, 0.3))
    assert empirical_cross_entropy(dist, data) == pytest.approx(ref, rel=1e-12)


def test_callable_plain_data():
    data = np.array([0.5, 2.0])
    got = empirical_cross_entropy(lambda z: stats.laplace.logpdf(z), data)
    assert got == pytest.approx(math.log(2) + 1.25, rel=1e-14)


def test_conditional_logistic_model():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, 2))
    y = rng.integers(0, 2, size=30)
    w = np.array([0.7, -1.2])

    def logp(x, y):
        s = x @ w
        return y * np.log(scipy.special.expit(s)) + (1 - y) * np.log(scipy.special.expit(-s))

    got = empirical_cross_entropy(logp, (x, y))
    p = scipy.special.expit(x @ w)
    ref = -np.mean(np.where(y == 1, np.log(p), np.log1p(-p)))
    assert got == pytest.approx(ref, rel=1e-12)


def test_torch_callable_gives_differentiable_loss():
    torch.manual_seed(0)
    x = torch.randn(40, 3, dtype=torch.float64)
    y = torch.randint(0, 2, (40,)).to(torch.float64)
    w = torch.tensor([0.3, -0.5, 1.0], dtype=torch.float64, requires_grad=True)

    def logp(x, y):
        s = x @ w
        return -torch.nn.functional.softplus(-(2 * y - 1) * s)

    loss = empirical_cross_entropy(logp, (x, y))
    assert isinstance(loss, torch.Tensor) and loss.ndim == 0
    loss.backward()
    # gradient of the mean logistic loss: X^T (sigma(Xw) - y) / n
    ref = x.T @ (torch.sigmoid(x @ w.detach()) - y) / 40
    torch.testing.assert_close(w.grad, ref, rtol=1e-12, atol=1e-14)
    ref_loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w.detach(), y)
    assert float(loss.detach()) == pytest.approx(float(ref_loss), rel=1e-12)


@pytest.mark.cuda
def test_torch_callable_on_cuda():
    x = torch.randn(10, 2, dtype=torch.float64, device="cuda")
    y = torch.randint(0, 2, (10,), device="cuda").to(torch.float64)

    def logp(x, y):
        return -torch.nn.functional.softplus(-(2 * y - 1) * x.sum(1))

    loss = empirical_cross_entropy(logp, (x, y))
    assert loss.device.type == "cuda"
    ref = empirical_cross_entropy(logp, (x.cpu(), y.cpu()))
    assert float(loss) == pytest.approx(float(ref), rel=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.integers(1, 40),
        elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
    ),
    st.floats(-10, 10),
    st.floats(0.01, 100),
)
def test_normal_property_closed_form(data, mu, sigma):
    got = empirical_cross_entropy(stats.norm(mu, sigma), data)
    ref = 0.5 * math.log(2 * math.pi * sigma**2) + float(np.mean((data - mu) ** 2)) / (2 * sigma**2)
    assert got == pytest.approx(ref, rel=1e-11)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.int64, st.integers(1, 30), elements=st.integers(0, 5)))
def test_mean_of_nll_equals_cross_entropy_of_empirical_pmf(data):
    # H(p-hat, q) computed from the counts equals the average over the samples
    q = np.array([0.05, 0.1, 0.15, 0.2, 0.2, 0.3])
    model = stats.rv_discrete(values=(np.arange(6), q))
    p_hat = np.bincount(data, minlength=6) / data.size
    ref = -float(np.sum(p_hat * np.log(q)))
    assert empirical_cross_entropy(model, data) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        (np.array([]), ValueError, "data is empty"),
        (np.zeros((0, 2)), ValueError, "data is empty"),
        (np.float64(1.0), ValueError, "data must hold samples.*scalar"),
        (np.array([1.0, np.nan]), ValueError, "data contains NaN"),
        (np.array([1.0, np.inf]), ValueError, "data contains inf"),
        (np.array([1.0, None], dtype=object), TypeError, "data must be real numbers"),
        (np.array(["a", "b"]), TypeError, "data must be real numbers, got dtype <U1"),
        (np.array([1 + 1j]), TypeError, "data must be real numbers, got dtype complex128"),
        ((np.array([1.0]), np.array([1])), TypeError, "conditional data"),
        (torch.tensor([1.0]), TypeError, "numpy"),
    ],
)
def test_bad_data_for_distribution(data, error, match):
    with pytest.raises(error, match=match):
        empirical_cross_entropy(stats.norm(), data)


def _logp(x, y):
    return -np.logaddexp(0.0, -(2 * y - 1) * x)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ((np.array([1.0, 2.0]), np.array([1])), "same number of samples, got 2 and 1"),
        ((np.array([1.0, np.nan]), np.array([1, 0])), "data's inputs a contains NaN"),
        ((np.array([1.0, 2.0]), np.array([1.0, np.nan])), "data's targets t contains NaN"),
        ((np.array([]), np.array([])), "data's inputs a is empty"),
        ((np.array([1.0]), np.array([1]), np.array([2])), "tuple of 3"),
    ],
)
def test_bad_conditional_data(data, match):
    with pytest.raises(ValueError, match=match):
        empirical_cross_entropy(_logp, data)


def test_callable_takes_non_numeric_labels():
    # a callable model may take labels that are not numbers
    words = np.array(["spam", "ham", "ham", "ham"])
    logp = {"spam": math.log(0.25), "ham": math.log(0.75)}
    got = empirical_cross_entropy(lambda w: np.array([logp[v] for v in w]), words)
    assert got == pytest.approx(scipy.stats.entropy([0.25, 0.75]), rel=1e-14)
    with pytest.raises(TypeError, match="data must be numeric, got an array of dtype object"):
        empirical_cross_entropy(lambda w: np.zeros(2), np.array([1.0, None], dtype=object))


def test_bad_torch_data():
    with pytest.raises(ValueError, match="data contains NaN"):
        empirical_cross_entropy(lambda z: -z, torch.tensor([1.0, float("nan")]))


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (lambda z: -np.abs(z).sum(), "one log-probability per sample: expected 3 values"),
        (lambda z: np.array([0.0, np.nan, 0.0]), "NaN log-probabilities"),
        (lambda z: np.array([np.inf, -np.inf, 0.0]), "both \\+inf and -inf"),
    ],
)
def test_bad_model_output(model, match):
    with pytest.raises(ValueError, match=match):
        empirical_cross_entropy(model, np.array([1.0, 2.0, 3.0]))


def test_bad_model_reduction_base():
    with pytest.raises(TypeError, match="model must return real log-probabilities"):
        empirical_cross_entropy(lambda z: z + 0j, np.array([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="model must be a frozen scipy.stats distribution"):
        empirical_cross_entropy(3.0, np.array([1.0]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        empirical_cross_entropy(stats.norm(), np.array([1.0]), reduction="avg")
    for base in (1, 0, -2, math.inf):
        with pytest.raises(ValueError, match="base must be a positive finite number other"):
            empirical_cross_entropy(stats.norm(), np.array([1.0]), base=base)


# -------------------------------------------------------------- minimize_cross_entropy


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.floats(-100, 100), st.floats(0.01, 100))
def test_normal_fit_is_sample_mean_and_population_std(seed, mu, sigma):
    data = np.random.default_rng(seed).normal(mu, sigma, size=40)
    fit = minimize_cross_entropy(stats.norm, data)
    assert fit.dist.name == "norm"
    assert fit.mean() == pytest.approx(np.mean(data), rel=1e-9, abs=1e-9 * sigma)
    assert fit.std() == pytest.approx(np.std(data), rel=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.floats(1e-3, 1e3))
def test_exponential_fit_is_sample_mean(seed, scale):
    data = np.random.default_rng(seed).exponential(scale, size=30)
    fit = minimize_cross_entropy(stats.expon, data)
    assert fit.kwds["loc"] == 0.0
    assert fit.kwds["scale"] == pytest.approx(np.mean(data), rel=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hnp.arrays(np.int64, st.integers(1, 40), elements=st.integers(0, 1000)))
def test_poisson_fit_is_sample_mean(data):
    # J(mu) = mu - mean(z) log mu + mean(log z!) is flat at its minimum (J'' = 1 / mu) and
    # its terms, of size mu log mu, carry rounding noise of eps mu log mu: the optimum
    # is only defined to about sqrt(2 eps log mu) ~ 5e-8 relative (seen: 4.7e-9 at
    # mu = 730 from one observation).
    fit = minimize_cross_entropy(stats.poisson, data)
    assert fit.mean() == pytest.approx(np.mean(data), rel=1e-7, abs=1e-12)


def test_shifted_exponential_with_free_loc():
    data = np.random.default_rng(5).exponential(2.0, size=200) + 3.0
    fit = minimize_cross_entropy(stats.expon, data, fixed={"loc": None})
    # the MLE is on the edge of the region J < inf: loc = min(data), scale = mean - min
    assert fit.kwds["loc"] == pytest.approx(data.min(), rel=1e-9)
    assert fit.kwds["scale"] == pytest.approx(data.mean() - data.min(), rel=1e-8)


@pytest.mark.parametrize(
    ("family", "data", "fixed", "closed_form"),
    [
        (stats.bernoulli, [0, 1, 1, 0, 1, 1, 1], None, {"p": 5 / 7}),
        (stats.bernoulli, [1, 1, 1], None, {"p": 1.0}),  # MLE on the domain's end
        (stats.bernoulli, [True, False, False], None, {"p": 1 / 3}),
        (stats.poisson, [0, 0, 0], None, {"mu": 0.0}),
        (stats.geom, [1, 4, 2, 7, 1], None, {"p": 5 / 15}),
        (stats.binom, [3, 5, 2, 9], {"n": 10}, {"p": 19 / 40}),
        (stats.nbinom, [0, 4, 2, 7], {"n": 3}, {"p": 3 / (3 + 13 / 4)}),
    ],
)
def test_discrete_closed_forms(family, data, fixed, closed_form):
    fit = minimize_cross_entropy(family, data, fixed=fixed)
    names = [s.strip() for s in family.shapes.split(",")]
    got = dict(zip(names, fit.args, strict=True))
    for k, v in closed_form.items():
        assert got[k] == pytest.approx(v, rel=1e-9, abs=1e-10)


def test_fixed_scale_gives_sample_mean_as_loc():
    data = np.array([1.0, 2.0, 6.0])
    fit = minimize_cross_entropy(stats.norm, data, fixed={"scale": 10.0})
    assert fit.kwds == pytest.approx({"loc": 3.0, "scale": 10.0}, rel=1e-9)


def test_x0_alone_reaches_the_closed_form():
    # start far away (no scipy fit as a second start): the optimiser itself must get there
    data = np.random.default_rng(6).normal(5.0, 0.5, size=100)
    fit = minimize_cross_entropy(stats.norm, data, x0={"loc": -50.0, "scale": 30.0})
    assert fit.mean() == pytest.approx(np.mean(data), rel=1e-8)
    assert fit.std() == pytest.approx(np.std(data), rel=1e-9)


@pytest.mark.parametrize(
    ("family", "sample", "fixed", "scipy_fixed"),
    [
        (stats.norm, lambda r: r.normal(1, 2, 300), None, {}),
        (stats.logistic, lambda r: r.logistic(0, 1, 300), None, {}),
        (stats.laplace, lambda r: r.laplace(0, 2, 301), None, {}),
        (stats.t, lambda r: r.standard_t(3, 300), None, {}),
        (stats.cauchy, lambda r: r.standard_cauchy(300), None, {}),
        (stats.uniform, lambda r: r.uniform(1, 3, 100), None, {}),
        (stats.skewnorm, lambda r: stats.skewnorm.rvs(4, size=200, random_state=r), None, {}),
        # one-sided supports: loc = 0 by default, as scipy's floc=0
        (stats.gamma, lambda r: r.gamma(2.5, 1.5, 300), None, {"floc": 0}),
        (stats.lognorm, lambda r: r.lognormal(0.3, 0.8, 300), None, {"floc": 0}),
        (stats.weibull_min, lambda r: r.weibull(1.7, 300), None, {"floc": 0}),
        (stats.expon, lambda r: r.exponential(2.0, 300), None, {"floc": 0}),
        # shapes on [0, 1]: loc = 0 and scale = 1
        (stats.beta, lambda r: r.beta(2, 5, 300), None, {"floc": 0, "fscale": 1}),
        # everything free, as scipy's default
        (stats.gamma, lambda r: r.gamma(2.5, 1.5, 300) + 1, {"loc": None}, {}),
        (stats.expon, lambda r: r.exponential(2.0, 300) - 1, {"loc": None}, {}),
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_never_worse_than_scipy_fit(family, sample, fixed, scipy_fixed, seed):
    data = sample(np.random.default_rng(seed))
    fit = minimize_cross_entropy(family, data, fixed=fixed)
    ours = empirical_cross_entropy(fit, data)
    with np.errstate(all="ignore"):
        est = family.fit(data, **scipy_fixed)
    theirs = empirical_cross_entropy(family(*est), data)
    assert ours <= theirs + 1e-12 * abs(theirs)
    for k, v in scipy_fixed.items():
        assert fit.kwds[k[1:]] == v


def test_never_worse_than_grid_search_on_gamma_shape():
    # an independent check, no scipy fit: J along a fine grid of the shape, scale profiled
    data = np.random.default_rng(7).gamma(0.7, 2.0, size=400)
    fit = minimize_cross_entropy(stats.gamma, data)
    ours = empirical_cross_entropy(fit, data)
    grid = np.linspace(0.5, 0.9, 401)
    # profile likelihood: for shape a the MLE scale is mean / a
    prof = [empirical_cross_entropy(stats.gamma(a, scale=data.mean() / a), data) for a in grid]
    assert ours <= min(prof) + 1e-12
    assert fit.args[0] == pytest.approx(grid[int(np.argmin(prof))], abs=1e-3)


@pytest.mark.parametrize(
    ("family", "data", "kwargs", "error", "match"),
    [
        (stats.norm(), [1.0, 2.0], {}, TypeError, "not a frozen distribution"),
        ("norm", [1.0, 2.0], {}, TypeError, "must be a scipy.stats family"),
        (stats.norm, [], {}, ValueError, "data is empty"),
        (stats.norm, [1.0, np.nan], {}, ValueError, "data contains NaN"),
        (stats.norm, [1.0, -np.inf], {}, ValueError, "data contains inf"),
        (stats.norm, [[1.0, 2.0]], {}, ValueError, "one-dimensional.*shape \\(1, 2\\)"),
        (stats.norm, ["a", "b"], {}, TypeError, "data must be real numbers"),
        (stats.norm, torch.tensor([1.0, 2.0]), {}, TypeError, "numpy"),
        (stats.norm, [2.0, 2.0, 2.0], {}, ValueError, "at least two distinct values"),
        (stats.expon, [1.0, -0.5], {}, ValueError, "must be >= 0, but data\\[1\\] = "),
        (stats.beta, [0.5, 1.5], {}, ValueError, "must be <= 1, but data\\[1\\] = "),
        (stats.poisson, [1, -2], {}, ValueError, "must be >= 0, but data\\[1\\] = "),
        (stats.geom, [0, 1], {}, ValueError, "must be >= 1, but data\\[0\\] = "),
        (stats.binom, [1, 11], {"fixed": {"n": 10}}, ValueError, "must be <= 10"),
        (stats.poisson, [1.0, 2.5], {}, ValueError, "must be integers.*data\\[1\\] = "),
        (stats.binom, [1, 2], {}, ValueError, "integer-valued shape\\(s\\) n"),
        (stats.poisson, [1, 2], {"fixed": {"loc": None}}, ValueError, "loc of the discrete"),
        (stats.norm, [1.0, 2.0], {"fixed": {"sigma": 1}}, ValueError, "unknown parameter"),
        (stats.norm, [1.0, 2.0], {"fixed": {"scale": -1}}, ValueError, "scale=-1.0 is out"),
        (stats.poisson, [1, 2], {"fixed": {"mu": 3}}, ValueError, "nothing to fit"),
        (stats.norm, [1.0, 2.0], {"x0": {"mu": 1}}, ValueError, "x0: unknown parameter"),
        (stats.expon, [1.0, 2.0], {"x0": {"loc": 1}}, ValueError, "x0: 'loc' is fixed"),
        (stats.norm, [1.0, 2.0], {"x0": {"scale": 0}}, ValueError, "x0: scale=0.0 is out"),
        (stats.lognorm, [0.0, 2.0], {}, ValueError, "J is infinite at every starting"),
    ],
)
def test_bad_input(family, data, kwargs, error, match):
    with pytest.raises(error, match=match):
        minimize_cross_entropy(family, data, **kwargs)


# ------------------------------------------------------- issue 11: regression tests


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"base": "2"}, TypeError, "base must be a number .*got '2'"),
        ({"base": [2]}, TypeError, "base must be a number"),
        ({"base": True}, TypeError, "base must be a number"),
        ({"base": np.nan}, ValueError, "base must be a positive finite number"),
        ({"reduction": None}, TypeError, "reduction must be one of"),
        ({"reduction": "avg"}, ValueError, "reduction must be one of"),
    ],
)
def test_empirical_cross_entropy_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        empirical_cross_entropy(stats.norm(), np.array([1.0, 2.0]), **kwargs)


def test_empirical_cross_entropy_bad_models():
    # an unfrozen family with shapes: say which parameters are missing
    with pytest.raises(TypeError, match="model must be a frozen distribution.*stats.gamma.*a"):
        empirical_cross_entropy(stats.gamma, np.array([1.0, 2.0]))
    # a family without shapes is its standard law, as in celib.measure
    got = empirical_cross_entropy(stats.norm, np.array([0.0]))
    assert got == pytest.approx(0.5 * math.log(2 * math.pi), rel=1e-15)
    with pytest.raises(TypeError, match="model's parameter loc must be a real number"):
        empirical_cross_entropy(stats.norm(loc="a"), np.array([1.0]))
    with pytest.raises(ValueError, match="model's parameter scale must be finite"):
        empirical_cross_entropy(stats.norm(scale=np.nan), np.array([1.0]))
    with pytest.raises(ValueError, match="model has parameters outside the domain"):
        empirical_cross_entropy(stats.norm(0, -1), np.array([1.0]))
    # complex data, even for a callable model
    with pytest.raises(TypeError, match="data must be real numbers, got dtype complex128"):
        empirical_cross_entropy(lambda z: -np.abs(z), np.array([1.0 + 1j]))


def test_empirical_cross_entropy_returns_a_numpy_scalar():
    got = empirical_cross_entropy(stats.norm(), np.array([0.0, 1.0]))
    assert isinstance(got, np.float64)
    assert type(empirical_cross_entropy(stats.norm(), [0.0], reduction="sum")) is np.float64


@pytest.mark.parametrize(
    ("family", "kwargs", "error", "match"),
    [
        (stats.norm, {"fixed": ["loc"]}, TypeError, "fixed must be a mapping"),
        (stats.norm, {"fixed": "loc"}, TypeError, "fixed must be a mapping"),
        (stats.norm, {"x0": [1.0]}, TypeError, "x0 must be a mapping"),
        (stats.norm, {"fixed": {"loc": "a"}}, TypeError, r"fixed\['loc'\] must be a real"),
        (stats.norm, {"x0": {"loc": "a"}}, TypeError, r"x0\['loc'\] must be a real number"),
        (stats.norm, {"x0": {"loc": None}}, TypeError, r"x0\['loc'\] must be a real number"),
        (stats.norm, {"fixed": {"loc": np.nan}}, ValueError, r"fixed\['loc'\] must be a fin"),
        (stats.norm, {"fixed": {1: 0.0}}, TypeError, "fixed: parameter names must be str"),
        (stats.binom, {"fixed": {"n": 5.5}}, ValueError, "fixed: n of stats.binom must be an int"),
        (stats.gamma(2.0), {}, TypeError, "not a frozen distribution"),
    ],
)
def test_minimize_bad_fixed_and_x0(family, kwargs, error, match):
    with pytest.raises(error, match=match):
        minimize_cross_entropy(family, [1.0, 2.0, 4.0], **kwargs)


def test_minimize_integer_shape_given_as_float_is_fine():
    fit = minimize_cross_entropy(stats.binom, [1, 2, 4], fixed={"n": 5.0})
    assert fit.args[0] == 5 and isinstance(fit.args[0], int)
    assert fit.args[1] == pytest.approx(7 / 15, rel=1e-8)


@pytest.mark.parametrize("c", [1e307, 1e-300, 3e200])
def test_minimize_rescales_extreme_data(c):
    # the MLE of a normal scale is the population standard deviation sqrt(2/3) c; at
    # 1e307 the squares overflow unless the data are rescaled
    fit = minimize_cross_entropy(stats.norm, [c, -c, 0.0])
    assert fit.kwds["loc"] == pytest.approx(0.0, abs=1e-9 * c)
    assert fit.kwds["scale"] == pytest.approx(math.sqrt(2 / 3) * c, rel=1e-9)
    fixed = minimize_cross_entropy(stats.norm, [c, -c, 0.0], fixed={"loc": 0.0})
    assert fixed.kwds["scale"] == pytest.approx(math.sqrt(2 / 3) * c, rel=1e-9)
    expon = minimize_cross_entropy(stats.expon, [c, 2 * c, 3 * c])
    assert expon.kwds["scale"] == pytest.approx(2 * c, rel=1e-9)
