"""celib.variational against independent references: mpmath, scipy (multivariate normal
densities, quadrature of the ELBO's integral), closed forms."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import celib
from celib import measure, variational
from celib.expfam import normal_m_projection

mpmath.mp.dps = 50


# --------------------------------------------------------------------------- discrete


def mp_lse(values):
    return mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in values))


@pytest.mark.parametrize("seed", range(4))
def test_discrete_identity_for_many_q(seed):
    rng = np.random.default_rng(seed)
    lj = rng.normal(size=4) * 3 - 5
    log_px = variational.discrete_log_evidence(lj)
    assert log_px == pytest.approx(float(mp_lse(lj)), rel=1e-15)
    post = variational.discrete_posterior(lj)
    np.testing.assert_allclose(
        post, [float(mpmath.exp(mpmath.mpf(float(v)) - mp_lse(lj))) for v in lj], rtol=1e-14
    )
    for q in rng.dirichlet(np.ones(4), size=10):
        elbo = variational.discrete_elbo(lj, q)
        kl = float(celib.kl_divergence(q, post))
        assert elbo + kl == pytest.approx(log_px, rel=1e-13)
        assert elbo <= log_px
        # reference ELBO in 50 digits: sum q (log p(x,z) - log q)
        ref = mpmath.fsum(
            mpmath.mpf(float(qk)) * (mpmath.mpf(float(lk)) - mpmath.log(mpmath.mpf(float(qk))))
            for qk, lk in zip(q, lj)
        )
        assert elbo == pytest.approx(float(ref), rel=1e-14)
    assert variational.discrete_elbo(lj, post) == pytest.approx(log_px, rel=1e-14)


def test_discrete_zero_mass_conventions():
    lj = np.array([math.log(0.2), -math.inf, math.log(0.3)])
    assert variational.discrete_log_evidence(lj) == pytest.approx(math.log(0.5), rel=1e-15)
    np.testing.assert_allclose(variational.discrete_posterior(lj), [0.4, 0.0, 0.6], rtol=1e-15)
    assert variational.discrete_elbo(lj, [0.5, 0.0, 0.5]) == pytest.approx(
        0.5 * math.log(0.2) + 0.5 * math.log(0.3) + math.log(2), rel=1e-15
    )
    assert variational.discrete_elbo(lj, [0.5, 0.5, 0.0]) == -math.inf


def test_reconstruction_term_is_a_binary_cross_entropy():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=8)
    y = rng.uniform(0.05, 0.95, size=(3, 8))  # decoder outputs of 3 latent values
    prior = np.array([0.5, 0.3, 0.2])
    loglik = np.array([-celib.binary_cross_entropy(x, yk, reduction="sum") for yk in y])
    direct = np.array([np.sum(stats.bernoulli(yk).logpmf(x)) for yk in y])
    np.testing.assert_allclose(loglik, direct, rtol=1e-14)
    q = np.array([0.2, 0.5, 0.3])
    elbo = variational.discrete_elbo(np.log(prior) + loglik, q)
    vae_form = q @ loglik - float(celib.kl_divergence(q, prior))
    assert elbo == pytest.approx(vae_form, rel=1e-14)


# --------------------------------------------------------------------------- Gaussian

MODEL = {"prior_mean": 0.5, "prior_std": 2.0, "noise_std": 0.7}


def test_gaussian_log_evidence_against_multivariate_normal_and_mpmath():
    x = np.array([1.2, 0.4, 2.0, 1.1])
    n = x.size
    cov = 0.7**2 * np.eye(n) + 2.0**2 * np.ones((n, n))
    ref = stats.multivariate_normal(np.full(n, 0.5), cov).logpdf(x)
    got = variational.gaussian_log_evidence(x, **MODEL)
    assert got == pytest.approx(ref, rel=1e-13)
    # one observation in 50 digits: x ~ N(m0, s0^2 + sigma^2)
    v = mpmath.mpf(2) ** 2 + mpmath.mpf("0.7") ** 2
    mp_ref = -0.5 * mpmath.log(2 * mpmath.pi * v) - (mpmath.mpf("1.2") - mpmath.mpf("0.5")) ** 2 / (
        2 * v
    )
    assert variational.gaussian_log_evidence(1.2, **MODEL) == pytest.approx(
        float(mp_ref), rel=1e-15
    )


def test_gaussian_posterior_by_quadrature():
    x = np.array([1.2, 0.4, 2.0])
    post = variational.gaussian_posterior(x, **MODEL)

    def joint(z):
        return np.exp(stats.norm(z, 0.7).logpdf(x).sum() + stats.norm(0.5, 2.0).logpdf(z))

    ev = integrate.quad(joint, -20, 20, epsabs=0, epsrel=1e-13, points=[1.0])[0]
    mean = (
        integrate.quad(lambda z: z * joint(z), -20, 20, epsabs=0, epsrel=1e-13, points=[1.0])[0]
        / ev
    )
    assert math.log(ev) == pytest.approx(variational.gaussian_log_evidence(x, **MODEL), rel=1e-11)
    assert post.mean() == pytest.approx(mean, rel=1e-11)


@pytest.mark.parametrize("m, s", [(0.0, 1.0), (1.3, 0.2), (-3.0, 5.0), (1.0, 0.35)])
def test_gaussian_elbo_identity_and_quadrature(m, s):
    x = np.array([1.2, 0.4, 2.0])
    q = stats.norm(m, s)
    elbo = variational.gaussian_elbo(x, q, **MODEL)
    post = variational.gaussian_posterior(x, **MODEL)
    log_px = variational.gaussian_log_evidence(x, **MODEL)
    assert elbo + float(measure.kl_divergence(q, post)) == pytest.approx(log_px, rel=1e-13)

    def integrand(z):  # q(z) [log p(x, z) - log q(z)]
        lj = stats.norm(z, 0.7).logpdf(x).sum() + stats.norm(0.5, 2.0).logpdf(z)
        return q.pdf(z) * (lj - q.logpdf(z))

    ref = integrate.quad(integrand, m - 40 * s, m + 40 * s, epsabs=0, epsrel=1e-12, limit=200)[0]
    assert elbo == pytest.approx(ref, rel=1e-9)


def test_gaussian_elbo_maximised_by_the_posterior():
    x = [0.3]
    post = variational.gaussian_posterior(x)
    best = variational.gaussian_elbo(x, post)
    assert best == pytest.approx(variational.gaussian_log_evidence(x), rel=1e-15)
    for dm, ds in [(0.1, 1.0), (0.0, 1.1), (-0.2, 0.9)]:
        q = stats.norm(post.mean() + dm, post.std() * ds)
        assert variational.gaussian_elbo(x, q) < best


# --------------------------------------------------------------------------- mixture, fits


def test_normal_mixture_against_scipy_components():
    w, mu, s = [0.3, 0.7], [-2.0, 1.5], [0.5, 1.0]
    P = variational.normal_mixture(w, mu, s)
    z = np.linspace(-6, 6, 25)
    ref = 0.3 * stats.norm(-2, 0.5).pdf(z) + 0.7 * stats.norm(1.5, 1).pdf(z)
    np.testing.assert_allclose(P.pdf(z), ref, rtol=1e-14)
    np.testing.assert_allclose(
        P.cdf(z),
        0.3 * stats.norm(-2, 0.5).cdf(z) + 0.7 * stats.norm(1.5, 1).cdf(z),
        rtol=1e-14,
        atol=1e-300,
    )
    qs = np.array([1e-12, 0.1, 0.5, 0.9, 1 - 1e-9])
    np.testing.assert_allclose(P.cdf(P.ppf(qs)), qs, rtol=1e-12)
    np.testing.assert_allclose(P.sf(P.isf([1e-300, 1e-12])), [1e-300, 1e-12], rtol=1e-10)
    assert P.mean() == pytest.approx(0.3 * -2 + 0.7 * 1.5, rel=1e-15)
    ref_var = 0.3 * (0.25 + 4) + 0.7 * (1 + 2.25) - P.mean() ** 2
    assert P.var() == pytest.approx(ref_var, rel=1e-14)
    # far tail: log-sum-exp, not log(0)
    far = float(mpmath.log(0.3 * mpmath.npdf(-80, -2, 0.5) + 0.7 * mpmath.npdf(-80, 1.5, 1)))
    assert P.logpdf(-80.0) == pytest.approx(far, rel=1e-14)
    x = P.rvs(size=200_000, random_state=np.random.default_rng(0))
    assert x.mean() == pytest.approx(P.mean(), abs=0.02)
    # celib.measure accepts it
    assert float(measure.entropy(P, method="quad")) == pytest.approx(
        -integrate.quad(
            lambda t: P.pdf(t) * P.logpdf(t), -10, 10, epsabs=0, epsrel=1e-12, points=[-2, 1.5]
        )[0],
        rel=1e-9,
    )


def test_forward_and_reverse_fits_of_a_bimodal_target():
    P = variational.normal_mixture([0.6, 0.4], [-2.0, 2.0], [0.6, 0.6])
    forward = normal_m_projection(P)
    assert forward.mean() == pytest.approx(P.mean(), rel=1e-14)
    left = variational.normal_i_projection(P, stats.norm(-1.0, 0.6))
    right = variational.normal_i_projection(P, stats.norm(1.0, 0.6))
    assert left.mean() == pytest.approx(-2.0, abs=0.05)
    assert right.mean() == pytest.approx(2.0, abs=0.05)
    assert left.std() == pytest.approx(0.6, abs=0.05)
    kl = {
        k: float(measure.kl_divergence(Q, P, method="quad"))
        for k, Q in (("left", left), ("right", right))
    }
    assert kl["left"] == pytest.approx(-math.log(0.6), abs=5e-3)  # nearly a lone component
    assert kl["right"] == pytest.approx(-math.log(0.4), abs=5e-3)
    # the reverse fits are stationary: nearby normals are no better
    for Q, k in ((left, "left"), (right, "right")):
        for dm, ds in [(0.01, 1.0), (-0.01, 1.0), (0.0, 1.02), (0.0, 0.98)]:
            other = stats.norm(Q.mean() + dm, Q.std() * ds)
            assert float(measure.kl_divergence(other, P, method="quad")) > kl[k]


def test_normal_i_projection_of_a_normal_is_itself():
    Q = variational.normal_i_projection(stats.norm(1.0, 2.0), stats.norm(0.0, 1.0))
    assert Q.mean() == pytest.approx(1.0, abs=1e-7)
    assert Q.std() == pytest.approx(2.0, rel=1e-7)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("fn", [variational.discrete_log_evidence, variational.discrete_posterior])
def test_bad_log_joint(fn):
    with pytest.raises(ValueError, match="log_joint must be a 1-D"):
        fn([[0.0]])
    with pytest.raises(ValueError, match="log_joint must be a 1-D"):
        fn([])
    with pytest.raises(ValueError, match="log_joint contains NaN"):
        fn([0.0, np.nan])
    with pytest.raises(ValueError, match=r"log_joint contains \+inf"):
        fn([0.0, np.inf])
    with pytest.raises(ValueError, match="log_joint is -inf everywhere"):
        fn([-np.inf, -np.inf])
    with pytest.raises(TypeError, match="log_joint must hold real numbers"):
        fn([1j])


def test_bad_q_of_discrete_elbo():
    lj = [0.0, -1.0]
    with pytest.raises(ValueError, match="q has 3 entries but log_joint has 2"):
        variational.discrete_elbo(lj, [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="q must be a 1-D"):
        variational.discrete_elbo(lj, [[0.5, 0.5]])
    with pytest.raises(ValueError, match="q is not normalised"):
        variational.discrete_elbo(lj, [0.5, 0.6])
    with pytest.raises(ValueError, match="q has negative mass"):
        variational.discrete_elbo(lj, [1.5, -0.5])
    with pytest.raises(ValueError, match="q contains NaN"):
        variational.discrete_elbo(lj, [np.nan, 1.0])
    with pytest.raises(TypeError, match="q must hold real numbers"):
        variational.discrete_elbo(lj, ["a", "b"])
    with pytest.raises(ValueError, match="log_joint contains NaN"):
        variational.discrete_elbo([np.nan, 0.0], [0.5, 0.5])


@pytest.mark.parametrize("fn", [variational.gaussian_log_evidence, variational.gaussian_posterior])
def test_bad_gaussian_model(fn):
    with pytest.raises(ValueError, match="x must be a scalar or a 1-D"):
        fn([[1.0]])
    with pytest.raises(ValueError, match="x must hold at least one"):
        fn([])
    with pytest.raises(ValueError, match="x contains NaN"):
        fn([np.nan])
    with pytest.raises(TypeError, match="x must hold real numbers"):
        fn(["a"])
    with pytest.raises(ValueError, match="prior_mean must be finite"):
        fn([1.0], prior_mean=np.inf)
    with pytest.raises(TypeError, match="prior_mean must be a real number"):
        fn([1.0], prior_mean="0")
    with pytest.raises(ValueError, match="prior_std must be positive"):
        fn([1.0], prior_std=0.0)
    with pytest.raises(TypeError, match="prior_std must be a real number"):
        fn([1.0], prior_std=None)
    with pytest.raises(ValueError, match="noise_std must be positive"):
        fn([1.0], noise_std=-1.0)
    with pytest.raises(TypeError, match="noise_std must be a real number"):
        fn([1.0], noise_std=[1.0])


def test_bad_q_of_gaussian_elbo():
    with pytest.raises(TypeError, match="q must be a frozen scipy.stats.norm"):
        variational.gaussian_elbo([1.0], stats.laplace(0, 1))
    with pytest.raises(TypeError, match="q must be a frozen scipy.stats.norm"):
        variational.gaussian_elbo([1.0], (0.0, 1.0))
    with pytest.raises(ValueError, match="noise_std must be positive"):
        variational.gaussian_elbo([1.0], stats.norm(0, 1), noise_std=0.0)


def test_bad_normal_mixture():
    with pytest.raises(ValueError, match="weights must be a non-empty 1-D"):
        variational.normal_mixture([], [], [])
    with pytest.raises(ValueError, match="same length"):
        variational.normal_mixture([0.5, 0.5], [0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="weights must sum to 1"):
        variational.normal_mixture([0.5, 0.6], [0.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="weights must be positive"):
        variational.normal_mixture([1.5, -0.5], [0.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="stds must be positive"):
        variational.normal_mixture([0.5, 0.5], [0.0, 1.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="means contains NaN"):
        variational.normal_mixture([0.5, 0.5], [0.0, np.nan], [1.0, 1.0])
    with pytest.raises(TypeError, match="stds must hold real numbers"):
        variational.normal_mixture([1.0], [0.0], ["a"])


def test_bad_normal_i_projection():
    P = variational.normal_mixture([0.5, 0.5], [-1.0, 1.0], [1.0, 1.0])
    with pytest.raises(TypeError, match="init must be a frozen scipy.stats.norm"):
        variational.normal_i_projection(P, stats.laplace())
    with pytest.raises(TypeError, match="P must be a frozen one-dimensional continuous"):
        variational.normal_i_projection("P", stats.norm())
    with pytest.raises(ValueError, match="rtol must be"):
        variational.normal_i_projection(P, stats.norm(), rtol=2.0)


# --------------------------------------------------------------------------- properties


@settings(max_examples=50, deadline=None)
@given(
    # spread below ~700 nats: the posterior (the reference KL takes it as a probability
    # vector) then has no subnormal entries, whose logarithms carry few digits
    log_joint=st.lists(st.floats(-600.0, 50.0), min_size=1, max_size=8),
    seed=st.integers(0, 2**32 - 1),
)
def test_discrete_identity_property(log_joint, seed):
    lj = np.array(log_joint)
    q = np.random.default_rng(seed).dirichlet(np.ones(lj.size))
    log_px = variational.discrete_log_evidence(lj)
    elbo = variational.discrete_elbo(lj, q)
    kl = float(celib.kl_divergence(q, variational.discrete_posterior(lj)))
    assert elbo <= log_px + 1e-12 * max(1.0, abs(log_px))
    assert elbo + kl == pytest.approx(log_px, rel=1e-11, abs=1e-9)
