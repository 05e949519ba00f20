r"""The evidence lower bound (ELBO) of latent-variable models that can be solved exactly.

A module of its own because the idea is new to the book: a latent variable :math:`z`,
an observation :math:`x`, and a distribution :math:`q(z)` that stands in for the
posterior. For any :math:`q`,

.. math::

    \log p(x) = \mathrm{ELBO}(q) + \mathrm{KL}\bigl(q(z) \,\|\, p(z \mid x)\bigr), \\
    \mathrm{ELBO}(q) = \mathbb{E}_q[\log p(x, z)] + H(q),

and :math:`\mathrm{ELBO}(q) = \mathbb{E}_q[\log p(x \mid z)] - \mathrm{KL}(q \,\|\,
p(z))`: a reconstruction term, which is minus a cross-entropy, and a KL penalty. The
functions here compute both sides for two models in which everything is exact:

* a finite latent variable :math:`z \in \{1, \dots, K\}`, given the vector
  :math:`\log p(x, z)` (:func:`discrete_elbo`, :func:`discrete_log_evidence`,
  :func:`discrete_posterior`);
* the conjugate normal model :math:`z \sim \mathcal{N}(m_0, s_0^2)`,
  :math:`x_i \mid z \sim \mathcal{N}(z, \sigma^2)` with a normal :math:`q`
  (:func:`gaussian_elbo`, :func:`gaussian_log_evidence`, :func:`gaussian_posterior`),
  its expectations taken by :mod:`celib.measure`.

For the direction of the KL divergence, :func:`normal_mixture` is a bimodal target (a
scipy.stats law that :mod:`celib.measure` accepts) and :func:`normal_i_projection`
fits a normal by minimising the reverse divergence :math:`\mathrm{KL}(Q \,\|\, P)`,
as variational inference does; :func:`celib.expfam.normal_m_projection` is the forward
fit.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from scipy import optimize, special
from scipy import stats as scipy_stats

from celib import _checks as _a
from celib import measure
from celib.discrete import entropy as _entropy

__all__ = [
    "discrete_elbo",
    "discrete_log_evidence",
    "discrete_posterior",
    "gaussian_elbo",
    "gaussian_log_evidence",
    "gaussian_posterior",
    "normal_i_projection",
    "normal_mixture",
]


# --------------------------------------------------------------------------- checks


def _real_array(value: Any, name: str) -> np.ndarray:
    """A float64 array of real numbers (NaN and inf are checked by the caller)."""
    return _a.real_array(value, name, nonempty=False, finite=False)


def _check_log_joint(log_joint: Any) -> np.ndarray:
    lj = _real_array(log_joint, "log_joint")
    if lj.ndim != 1 or lj.shape[0] < 1:
        raise ValueError(
            f"log_joint must be a 1-D array with one entry per latent value, got shape {lj.shape}"
        )
    if np.any(np.isnan(lj)) or np.any(lj == np.inf):
        bad = "NaN" if np.any(np.isnan(lj)) else "+inf"
        raise ValueError(f"log_joint contains {bad}; log-probabilities must be < +inf")
    if not np.any(np.isfinite(lj)):
        raise ValueError("log_joint is -inf everywhere: the observation has probability 0")
    return lj


def _check_scale(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return value


def _check_loc(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _check_data(x: Any) -> np.ndarray:
    arr = _real_array(x, "x")
    if arr.ndim > 1:
        raise ValueError(
            f"x must be a scalar or a 1-D array of observations, got shape {arr.shape}"
        )
    arr = np.atleast_1d(arr)
    if arr.shape[0] < 1:
        raise ValueError("x must hold at least one observation")
    if not np.all(np.isfinite(arr)):
        raise ValueError("x contains NaN or infinite values; observations must be finite")
    return arr


def _check_normal(q: Any, name: str) -> tuple[float, float]:
    dist = getattr(q, "dist", None)
    if not isinstance(dist, type(scipy_stats.norm)):
        raise TypeError(
            f"{name} must be a frozen scipy.stats.norm (e.g. stats.norm(0.0, 1.0)), "
            f"got {type(q).__name__}"
        )
    m, v = (float(t) for t in q.stats(moments="mv"))
    if not (math.isfinite(m) and math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must have a finite mean and positive finite variance")
    return m, math.sqrt(v)


# --------------------------------------------------------------------------- discrete


def discrete_log_evidence(log_joint: Any) -> float:
    r"""Log-evidence of a finite latent model: :math:`\log p(x) = \operatorname{lse}`.

    .. math:: \log p(x) = \log \sum_{k=1}^{K} p(x, z = k) .

    Parameters
    ----------
    log_joint : array_like, shape (K,)
        :math:`\log p(x, z = k)` for each latent value (``-inf`` allowed, not ``+inf``
        or NaN, not all ``-inf``).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        ``log_joint`` not 1-D and non-empty, with NaN or ``+inf``, or ``-inf``
        everywhere.
    TypeError
        Non-numeric input.

    Examples
    --------
    >>> import numpy as np
    >>> from celib.variational import discrete_log_evidence
    >>> print(f"{discrete_log_evidence(np.log([0.1, 0.2, 0.1])):.6f}")  # log 0.4
    -0.916291
    """
    return float(special.logsumexp(_check_log_joint(log_joint)))


def discrete_posterior(log_joint: Any) -> np.ndarray:
    r"""Posterior of a finite latent model, by Bayes' rule.

    .. math:: p(z = k \mid x) = \exp\bigl(\log p(x, z = k) - \log p(x)\bigr) .

    Parameters
    ----------
    log_joint : array_like, shape (K,)
        :math:`\log p(x, z = k)`, as in :func:`discrete_log_evidence`.

    Returns
    -------
    numpy.ndarray, shape (K,)

    Raises
    ------
    ValueError, TypeError
        As :func:`discrete_log_evidence`.

    Examples
    --------
    >>> import numpy as np
    >>> from celib.variational import discrete_posterior
    >>> print(np.round(discrete_posterior(np.log([0.1, 0.2, 0.1])), 6))
    [0.25 0.5  0.25]
    """
    lj = _check_log_joint(log_joint)
    return np.exp(lj - special.logsumexp(lj))


def discrete_elbo(log_joint: Any, q: Any) -> float:
    r"""Evidence lower bound of a finite latent model for a distribution ``q`` of :math:`z`.

    .. math::

        \mathrm{ELBO}(q) = \sum_{k=1}^{K} q_k \log p(x, z = k) + H(q) \\
        = \log p(x) - \mathrm{KL}\bigl(q \,\|\, p(z \mid x)\bigr) \le \log p(x),

    with :math:`0 \cdot \log p = 0` where :math:`q_k = 0`, and :math:`-\infty` when
    :math:`q` gives mass to a :math:`z` with :math:`p(x, z) = 0`.

    Parameters
    ----------
    log_joint : array_like, shape (K,)
        :math:`\log p(x, z = k)`, as in :func:`discrete_log_evidence`.
    q : array_like, shape (K,)
        A probability vector (finite, non-negative, summing to 1 within
        :math:`\sqrt{\varepsilon}`).

    Returns
    -------
    float
        The ELBO in nats.

    Raises
    ------
    ValueError
        Bad ``log_joint`` (see :func:`discrete_log_evidence`); ``q`` not a probability
        vector; lengths that differ.
    TypeError
        Non-numeric input.

    See Also
    --------
    discrete_log_evidence, discrete_posterior, celib.discrete.kl_divergence

    Examples
    --------
    >>> import numpy as np
    >>> from celib.variational import discrete_elbo
    >>> lj = np.log([0.1, 0.2, 0.1])  # log p(x) = log 0.4
    >>> print(f"{discrete_elbo(lj, [0.25, 0.5, 0.25]):.6f}")  # q = posterior: equality
    -0.916291
    >>> print(f"{discrete_elbo(lj, [1.0, 0.0, 0.0]):.6f}")  # log 0.1 = log 0.4 - log 4
    -2.302585
    """
    lj = _check_log_joint(log_joint)
    qa = _real_array(q, "q")
    if qa.ndim != 1:
        raise ValueError(f"q must be a 1-D probability vector, got shape {qa.shape}")
    if qa.shape != lj.shape:
        raise ValueError(
            f"q has {qa.shape[0]} entries but log_joint has {lj.shape[0]}: one each per "
            "latent value"
        )
    _a.check_probabilities(np, qa, "q", 0)
    h = float(_entropy(qa))
    positive = qa > 0
    if np.any(positive & np.isneginf(lj)):
        return -math.inf
    return math.fsum((qa[positive] * lj[positive]).tolist()) + h


# --------------------------------------------------------------------------- Gaussian


def _model(x: Any, prior_mean: Any, prior_std: Any, noise_std: Any) -> tuple:
    return (
        _check_data(x),
        _check_loc(prior_mean, "prior_mean"),
        _check_scale(prior_std, "prior_std"),
        _check_scale(noise_std, "noise_std"),
    )


def _posterior(xs: np.ndarray, m0: float, s0: float, sigma: float) -> Any:
    precision = 1.0 / s0**2 + xs.shape[0] / sigma**2
    mean = (m0 / s0**2 + math.fsum(xs.tolist()) / sigma**2) / precision
    return scipy_stats.norm(mean, 1.0 / math.sqrt(precision))


def gaussian_posterior(
    x: Any, *, prior_mean: float = 0.0, prior_std: float = 1.0, noise_std: float = 1.0
) -> Any:
    r"""Posterior of the conjugate normal model: a normal distribution.

    With :math:`z \sim \mathcal{N}(m_0, s_0^2)` and independent
    :math:`x_i \mid z \sim \mathcal{N}(z, \sigma^2)`, :math:`i = 1, \dots, n`,

    .. math::

        z \mid x \sim \mathcal{N}(m_n, s_n^2), \qquad
        \frac{1}{s_n^2} = \frac{1}{s_0^2} + \frac{n}{\sigma^2}, \\
        m_n = s_n^2 \Bigl(\frac{m_0}{s_0^2} + \frac{1}{\sigma^2}\sum_{i=1}^n x_i\Bigr).

    Parameters
    ----------
    x : float or array_like, shape (n,)
        The observations (finite).
    prior_mean, prior_std : float
        :math:`m_0` (finite) and :math:`s_0 > 0`.
    noise_std : float
        :math:`\sigma > 0`.

    Returns
    -------
    frozen scipy.stats.norm

    Raises
    ------
    ValueError
        Empty, non-finite or 2-D ``x``; a non-finite ``prior_mean``; a standard
        deviation that is not positive and finite.
    TypeError
        Non-numeric arguments.

    Examples
    --------
    >>> from celib.variational import gaussian_posterior
    >>> post = gaussian_posterior([2.0], prior_mean=0.0, prior_std=1.0, noise_std=1.0)
    >>> print(f"{post.mean():.6f} {post.var():.6f}")
    1.000000 0.500000
    """
    return _posterior(*_model(x, prior_mean, prior_std, noise_std))


def gaussian_log_evidence(
    x: Any, *, prior_mean: float = 0.0, prior_std: float = 1.0, noise_std: float = 1.0
) -> float:
    r"""Log-evidence :math:`\log p(x)` of the conjugate normal model.

    By Bayes' rule at any :math:`z` (here the posterior mean :math:`m_n`),

    .. math::

        \log p(x) = \sum_{i=1}^{n} \log \mathcal{N}(x_i; z, \sigma^2) \\
        + \log \mathcal{N}(z; m_0, s_0^2) - \log \mathcal{N}(z; m_n, s_n^2),

    the same as the density of :math:`x \sim \mathcal{N}(m_0 \mathbf 1,
    \sigma^2 I + s_0^2 \mathbf 1 \mathbf 1^\top)`.

    Parameters
    ----------
    x : float or array_like, shape (n,)
        The observations (finite).
    prior_mean, prior_std : float
        :math:`m_0` (finite) and :math:`s_0 > 0`.
    noise_std : float
        :math:`\sigma > 0`.

    Returns
    -------
    float

    Raises
    ------
    ValueError, TypeError
        As :func:`gaussian_posterior`.

    Examples
    --------
    >>> from scipy import stats
    >>> from celib.variational import gaussian_log_evidence
    >>> print(f"{gaussian_log_evidence([2.0], prior_std=1.0, noise_std=1.0):.10f}")
    -2.2655121235
    >>> print(f"{stats.norm(0.0, 2.0 ** 0.5).logpdf(2.0):.10f}")  # x ~ N(0, 1 + 1)
    -2.2655121235
    """
    xs, m0, s0, sigma = _model(x, prior_mean, prior_std, noise_std)
    post = _posterior(xs, m0, s0, sigma)
    z = float(post.mean())
    terms = [*scipy_stats.norm(z, sigma).logpdf(xs).tolist()]
    terms += [float(scipy_stats.norm(m0, s0).logpdf(z)), -float(post.logpdf(z))]
    return math.fsum(terms)


def gaussian_elbo(
    x: Any,
    q: Any,
    *,
    prior_mean: float = 0.0,
    prior_std: float = 1.0,
    noise_std: float = 1.0,
) -> float:
    r"""ELBO of the conjugate normal model for a normal :math:`q(z)`.

    .. math::

        \mathrm{ELBO}(q) = \mathbb{E}_q[\log p(x \mid z)] + \mathbb{E}_q[\log p(z)]
        + h(q) \\
        = -\sum_{i=1}^{n} H\bigl(q, \mathcal{N}(x_i, \sigma^2)\bigr)
        - H\bigl(q, \mathcal{N}(m_0, s_0^2)\bigr) + h(q),

    since :math:`\mathcal{N}(x_i; z, \sigma^2) = \mathcal{N}(z; x_i, \sigma^2)`: every
    term is a (differential) cross-entropy or entropy, computed by
    :mod:`celib.measure` in closed form. It equals :math:`\log p(x) -
    \mathrm{KL}(q \,\|\, p(z \mid x))`.

    Parameters
    ----------
    x : float or array_like, shape (n,)
        The observations (finite).
    q : frozen scipy.stats.norm
        The variational distribution of :math:`z`.
    prior_mean, prior_std : float
        :math:`m_0` (finite) and :math:`s_0 > 0`.
    noise_std : float
        :math:`\sigma > 0`.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        ``q`` is not a frozen ``scipy.stats.norm``; non-numeric arguments.
    ValueError
        As :func:`gaussian_posterior`.

    Examples
    --------
    >>> from scipy import stats
    >>> from celib.variational import gaussian_elbo, gaussian_posterior
    >>> post = gaussian_posterior([2.0])
    >>> print(f"{gaussian_elbo([2.0], post):.10f}")  # q = posterior: the log-evidence
    -2.2655121235
    >>> print(f"{gaussian_elbo([2.0], stats.norm(0.0, 1.0)):.10f}")  # q = prior: -log(2 pi)/2 - 5/2
    -3.4189385332
    """
    xs, m0, s0, sigma = _model(x, prior_mean, prior_std, noise_std)
    _check_normal(q, "q")
    terms = [-float(measure.cross_entropy(q, scipy_stats.norm(xi, sigma))) for xi in xs]
    terms += [
        -float(measure.cross_entropy(q, scipy_stats.norm(m0, s0))),
        float(measure.entropy(q)),
    ]
    return math.fsum(terms)


# --------------------------------------------------------------------------- direction of KL


class _NormalMixtureGen(scipy_stats.rv_continuous):
    """A finite mixture of normals as a scipy.stats law (see :func:`normal_mixture`)."""

    def __init__(self, weights: Any = (1.0,), means: Any = (0.0,), stds: Any = (1.0,), **kw):
        super().__init__(**kw)
        self._w = np.asarray(weights, dtype=float)
        self._m = np.asarray(means, dtype=float)
        self._s = np.asarray(stds, dtype=float)

    def _updated_ctor_param(self) -> dict:
        # Freezing rebuilds the generator from these: keep the components.
        params = super()._updated_ctor_param()
        params.update(weights=self._w, means=self._m, stds=self._s)
        return params

    def _components(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, dtype=float)[..., None] - self._m) / self._s
        return np.log(self._w) - 0.5 * z * z - np.log(self._s) - 0.5 * math.log(2 * math.pi)

    def _logpdf(self, x: np.ndarray) -> np.ndarray:
        return special.logsumexp(self._components(x), axis=-1)

    def _pdf(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self._logpdf(x))

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, dtype=float)[..., None] - self._m) / self._s
        return np.sum(self._w * special.ndtr(z), axis=-1)

    def _sf(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, dtype=float)[..., None] - self._m) / self._s
        return np.sum(self._w * special.ndtr(-z), axis=-1)

    def _invert(self, fn: Any, prob: float, lower: bool) -> float:
        # The mixture quantile lies between the components' quantiles.
        if lower:
            ends = self._m + self._s * special.ndtri(prob)
        else:
            ends = self._m - self._s * special.ndtri(prob)
        lo, hi = float(np.min(ends)) - 1e-9, float(np.max(ends)) + 1e-9
        return optimize.brentq(lambda t: fn(t) - prob, lo, hi, xtol=1e-300, rtol=1e-15)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=float)
        out = [self._invert(self._cdf, float(v), True) for v in q.ravel()]
        return np.asarray(out).reshape(q.shape)

    def _isf(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=float)
        out = [self._invert(self._sf, float(v), False) for v in q.ravel()]
        return np.asarray(out).reshape(q.shape)

    def _stats(self) -> tuple:
        mean = float(self._w @ self._m)
        var = float(self._w @ (self._s**2 + (self._m - mean) ** 2))
        return mean, var, None, None

    def _rvs(self, size: Any = None, random_state: Any = None) -> np.ndarray:
        k = random_state.choice(self._w.shape[0], size=size, p=self._w)
        return self._m[k] + self._s[k] * random_state.standard_normal(size)


def normal_mixture(weights: Any, means: Any, stds: Any) -> Any:
    r"""A mixture of normal distributions, as a frozen scipy.stats law.

    .. math:: p(x) = \sum_{c=1}^{C} w_c\, \mathcal{N}(x; \mu_c, s_c^2), \qquad
              \mathbb{E}X = \sum_c w_c \mu_c, \\
              \operatorname{Var} X = \sum_c w_c \bigl(s_c^2 + (\mu_c - \mathbb{E}X)^2\bigr).

    The log-density is a log-sum-exp of the components' (accurate far in the tails),
    the quantiles are found by root-finding on the CDF; :mod:`celib.measure` accepts
    the result as ``P`` or ``Q`` (``method="quad"`` or ``"mc"``).

    Parameters
    ----------
    weights : array_like, shape (C,)
        Positive weights summing to 1 (within 1e-12).
    means : array_like, shape (C,)
        Finite component means.
    stds : array_like, shape (C,)
        Positive finite component standard deviations.

    Returns
    -------
    frozen scipy.stats.rv_continuous distribution
        With ``pdf``, ``logpdf``, ``cdf``, ``ppf``, ``mean``, ``var``, ``rvs``, ...

    Raises
    ------
    ValueError
        Lengths that differ or are 0; non-finite entries; a weight that is not positive
        or weights that do not sum to 1; a standard deviation that is not positive.
    TypeError
        Non-numeric input.

    Examples
    --------
    >>> from celib.variational import normal_mixture
    >>> P = normal_mixture([0.5, 0.5], [-2.0, 2.0], [1.0, 1.0])
    >>> print(f"{P.mean():.6f} {P.var():.6f} {P.cdf(0.0):.6f}")
    0.000000 5.000000 0.500000
    >>> print(f"{P.logpdf(-60.0):.6f}")  # log(0.5) + log N(-60; -2, 1)
    -1683.612086
    """
    arrays = {}
    for name, value in (("weights", weights), ("means", means), ("stds", stds)):
        arr = _real_array(value, name)
        if arr.ndim != 1 or arr.shape[0] < 1:
            raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values; they must be finite")
        arrays[name] = arr
    lengths = {name: arr.shape[0] for name, arr in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"weights, means and stds must have the same length, got {lengths}")
    w, s = arrays["weights"], arrays["stds"]
    if np.any(w <= 0):
        raise ValueError(f"weights must be positive, got minimum {w.min():.6g}")
    if abs(math.fsum(w.tolist()) - 1.0) > 1e-12:
        raise ValueError(f"weights must sum to 1 (within 1e-12), got {math.fsum(w.tolist())!r}")
    if np.any(s <= 0):
        raise ValueError(f"stds must be positive, got minimum {s.min():.6g}")
    gen = _NormalMixtureGen(weights=w, means=arrays["means"], stds=s, name="normal_mixture")
    return gen()


def normal_i_projection(P: Any, init: Any, *, rtol: float = 1e-10) -> Any:
    r"""The normal :math:`Q` that minimises the reverse KL divergence to ``P``, from ``init``.

    .. math:: Q^\star = \arg\min_{Q = \mathcal{N}(\mu, s^2)}
              \mathrm{KL}(Q \,\|\, P) \\
              = \arg\min_Q \bigl[H(Q, P) - h(Q)\bigr],

    the direction of variational inference (the I-projection). The divergence is
    evaluated by :func:`celib.measure.kl_divergence` (``method="quad"``) and minimised
    over :math:`(\mu, \log s)` by BFGS from ``init``, with central-difference
    gradients (to about 1e-8 in :math:`\mu` and :math:`\log s`). For a multimodal ``P``
    the objective has several local minima: the one found depends on ``init`` (the
    fit seeks a mode), unlike the forward fit
    :func:`celib.expfam.normal_m_projection`.

    Parameters
    ----------
    P : frozen scipy.stats continuous distribution
        The target, with a density positive on the whole line (e.g.
        :func:`normal_mixture`).
    init : frozen scipy.stats.norm
        The starting :math:`Q`.
    rtol : float, default 1e-10
        Relative tolerance of the quadrature.

    Returns
    -------
    frozen scipy.stats.norm
        A local minimiser of :math:`\mathrm{KL}(Q \,\|\, P)`.

    Raises
    ------
    TypeError
        ``init`` is not a frozen ``scipy.stats.norm``, or ``P`` is not a law
        :mod:`celib.measure` accepts.
    ValueError
        Bad ``rtol``; ``P`` not one-dimensional; an infinite divergence at ``init``.

    Examples
    --------
    >>> from scipy import stats
    >>> from celib.variational import normal_i_projection
    >>> Q = normal_i_projection(stats.norm(1.0, 2.0), stats.norm(0.0, 1.0))
    >>> print(f"{Q.mean():.5f} {Q.std():.5f}")  # P itself
    1.00000 2.00000
    """
    m0, s0 = _check_normal(init, "init")
    if not isinstance(getattr(P, "dist", None), scipy_stats.rv_continuous):
        raise TypeError(
            "P must be a frozen one-dimensional continuous scipy.stats distribution (e.g. "
            f"normal_mixture(...)), got {type(P).__name__}"
        )

    def objective(u: np.ndarray) -> float:
        return float(
            measure.kl_divergence(
                scipy_stats.norm(u[0], math.exp(u[1])), P, method="quad", rtol=rtol
            )
        )

    start = objective(np.array([m0, math.log(s0)]))
    if not math.isfinite(start):
        raise ValueError(f"KL(init || P) is {start!r} at init: start from a normal P dominates")
    res = optimize.minimize(
        objective,
        np.array([m0, math.log(s0)]),
        method="BFGS",
        jac="3-point",
        options={"gtol": 1e-9, "finite_diff_rel_step": 1e-4},
    )
    return scipy_stats.norm(float(res.x[0]), math.exp(float(res.x[1])))
