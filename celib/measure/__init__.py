r"""Cross-entropy, entropy and KL divergence between distributions on a measure space.

Let :math:`P` and :math:`Q` be probability measures dominated by a measure
:math:`\nu`, with densities (Radon–Nikodym derivatives) :math:`p = dP/d\nu` and
:math:`q = dQ/d\nu`. Then

.. math::
    H(P, Q) = -\int p \log q \, d\nu, \qquad
    H(P) = H(P, P), \\
    \mathrm{KL}(P\,\|\,Q) = H(P, Q) - H(P) = \int p \log \frac{p}{q}\, d\nu .

The distributions are frozen ``scipy.stats`` objects: continuous ones have
densities with respect to Lebesgue measure :math:`\lambda`, discrete ones with respect
to the counting measure, and ``stats.multivariate_normal`` with respect to Lebesgue
measure on :math:`\mathbb{R}^k`. :class:`Mixed` laws (point masses plus a continuous
part, such as a zero-inflated model) have densities with respect to
:math:`\nu = \sum_k \delta_{a_k} + \lambda`. For any pair, :math:`\nu` is the sum of
what each of :math:`P` and :math:`Q` needs; when :math:`P` is not dominated by
:math:`Q` (:math:`P(A) > 0` for some :math:`A` with :math:`Q(A) = 0`) the
cross-entropy and the KL divergence are :math:`+\infty`.

Domination is necessary for a finite :math:`H(P, Q)` but not sufficient: under a
normal :math:`Q`, :math:`-\log q(x) = c + x^2/(2\sigma^2)`, so :math:`H(P, Q) = \infty`
whenever :math:`\mathbb{E}_P[X^2] = \infty` (a Student :math:`t_2` law :math:`P`).
Before any quadrature, finiteness is decided at each end of :math:`P`'s support from
the tail index of :math:`P` and the growth of :math:`-\log q` (exact for the families
whose log-density is a combination of sufficient statistics, read off the log-densities
otherwise); a divergent integral gives ``inf`` and a :class:`DivergentIntegralWarning`,
and :func:`describe` says why. When finiteness cannot be decided, a ``ValueError``
says so rather than returning a number.

Conventions: natural logarithm unless ``base`` is given (``base=2``: bits);
:math:`0 \log 0 = 0`; :math:`p > 0 = q` gives :math:`+\infty`.

Methods (the ``method`` argument):

``"closed_form"``
    exact formulas from a registry (:func:`register_closed_form`, dispatching on the
    method resolution order, so subclasses inherit formulas), for normal,
    multivariate normal, exponential, Laplace, uniform and gamma pairs (and Bernoulli,
    geometric, Poisson KL, Zipf entropy and cross-entropy), and for :class:`Mixed`
    laws whose continuous parts have one.
``"quad"``
    tanh-sinh quadrature of the continuous part on log-densities, split at quantiles
    of :math:`P` and at the points where a density is not smooth; series over the
    atoms, in blocks of doubling width until the extrapolated tail is below the
    tolerance (infinite supports such as the Poisson included), within a budget of
    about two million terms or 1.5 s (a ``RuntimeError`` beyond). One-dimensional
    laws only.
``"mc"``
    Monte Carlo from samples of :math:`P`; returns an :class:`Estimate` with its
    standard error and an interval corrected for skewness and kurtosis (or flagged
    when the variance of the terms is infinite). :func:`monte_carlo` does the same
    from your own samples and log-density callables (numpy arrays, or torch tensors on any device).
``"auto"``
    the closed form when there is one, else ``"quad"``.

Exact methods return a Python float.

Note that the top-level :func:`celib.cross_entropy <celib.discrete.cross_entropy>`
takes probability *vectors*; this module takes *distributions*. On the counting
measure they agree.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from celib.measure import _closed, _numeric, _tails
from celib.measure._laws import (
    Law,
    as_law,
    check_has_density,
    check_pair,
    not_dominated_by_parts,
)
from celib.measure._types import (
    DivergentIntegralWarning,
    Estimate,
    Mixed,
    ReferenceMeasure,
    dirac,
    lebesgue,
    real_array,
)

__all__ = [
    "DivergentIntegralWarning",
    "Estimate",
    "Mixed",
    "ReferenceMeasure",
    "cross_entropy",
    "describe",
    "dirac",
    "entropy",
    "kl_divergence",
    "lebesgue",
    "monte_carlo",
    "register_closed_form",
]

_F = TypeVar("_F", bound=Callable[..., Any])

# Docstring fragments shared by the public functions (filled in by _doc).
_FRAGMENTS = {
    "%INF_CE%": r"""``inf`` when the integral diverges, in two ways:

        * :math:`P` is not dominated by :math:`Q` (:math:`P(A) > 0 = Q(A)` for some
          :math:`A`: an atom of :math:`P` that :math:`Q` lacks, a continuous part of
          :math:`P` where :math:`Q` is discrete, or :math:`P`'s support reaching where
          :math:`q = 0`);
        * :math:`P \ll Q` but :math:`\mathbb{E}_P[-\log q(X)] = \infty`: a heavy tail of
          :math:`P` against a fast-growing :math:`-\log q` (a Student :math:`t_2`
          against a normal: :math:`\mathbb{E}_P[X^2] = \infty`), or :math:`q` vanishing
          at an end of :math:`P`'s support faster than :math:`p` compensates. Then a
          :class:`DivergentIntegralWarning` says which moment is infinite, and
          :func:`describe` gives the same account.""",
    "%INF_H%": r"""``inf`` (or ``-inf``) only when :math:`\mathbb{E}_P[-\log p(X)]`
        diverges, which needs tails heavier than every power; a
        :class:`DivergentIntegralWarning` then says why. A law without a density
        (a singular covariance) is refused, not given :math:`-\infty`.""",
    "%RAISES%": r"""TypeError
        If a distribution is not a frozen scipy.stats distribution, a frozen
        ``multivariate_normal`` or a :class:`Mixed` (``None`` included), or one of its
        parameters is not a real number; if ``rng`` is not a Generator or an int.
    ValueError
        If the distributions live on spaces of different dimension, have invalid
        (NaN, infinite, out of range) or array-valued parameters, or a density that
        does not integrate (sum) to 1 within 1e-8 (checked by ``"quad"``); if
        ``method``, ``base``, ``rtol`` or ``n_samples`` is invalid, or
        ``n_samples``/``rng`` is given to an exact method; if the finiteness of the
        integral cannot be decided (the message says where).
    RuntimeError
        If a series converges too slowly to reach ``rtol`` within its budget of
        terms (a heavy-tailed discrete law: use ``method="mc"`` or a larger ``rtol``).
    NotImplementedError
        With ``method="closed_form"`` when no closed form is registered.""",
}


def _doc(fn: _F) -> _F:
    doc = fn.__doc__ or ""
    for key, text in _FRAGMENTS.items():
        doc = doc.replace(key, text)
    fn.__doc__ = doc
    return fn


_METHODS = ("auto", "closed_form", "quad", "mc")
_DEFAULT_N = 100_000


def _log_base(base: float | None) -> float:
    if base is None:
        return 1.0
    if (
        isinstance(base, bool)
        or not isinstance(base, numbers.Real)
        or not math.isfinite(base)
        or base <= 0
        or base == 1
    ):
        raise ValueError(f"base must be a positive number other than 1, got {base!r}")
    return math.log(base)


def _compute(
    quantity: str,
    P: Any,
    Q: Any,
    method: str,
    base: float | None,
    rtol: float,
    n_samples: int | None,
    rng: Any,
) -> float | Estimate:
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, _METHODS))}; got {method!r}")
    scale = _log_base(base)
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not (1e-15 <= rtol < 1):
        raise ValueError(f"rtol must be a number in [1e-15, 1), got {rtol!r}")
    if method != "mc" and (n_samples is not None or rng is not None):
        raise ValueError(f"n_samples and rng apply to method='mc' only (method={method!r})")
    lp = as_law(P, "P")
    lq: Law = lp if quantity == "entropy" else as_law(Q, "Q")
    check_pair(lp, lq)
    check_has_density(lp, "P")
    if method == "mc":
        n = _DEFAULT_N if n_samples is None else n_samples
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
            raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
        gen = _generator(rng)
    if quantity != "entropy" and not_dominated_by_parts(lp, lq):
        return Estimate(math.inf, 0.0, int(n)) if method == "mc" else math.inf
    if method == "mc":
        verdict = _tails.decide(quantity, lp, lq)
        if verdict.finite is False:
            _warn(verdict)
            return Estimate(verdict.value / scale, 0.0, int(n))
        est = _numeric.monte_carlo(quantity, lp, lq, int(n), gen)
        if verdict.variance_finite is False and math.isfinite(est.value):
            return Estimate(est.value / scale, math.inf, est.n, 0.0, 0.0, True)
        return Estimate(est.value / scale, est.stderr / scale, est.n, est.skewness, est.kurtosis)
    value: Any = NotImplemented
    if method in ("auto", "closed_form"):
        value = _closed.closed_form(quantity, lp, None if quantity == "entropy" else lq)
        if value is NotImplemented and method == "closed_form":
            raise NotImplementedError(
                f"no closed form registered for the {quantity} of "
                + (lp.name if quantity == "entropy" else f"P = {lp.name} and Q = {lq.name}")
                + "; use method='quad' or 'mc', or add one with register_closed_form"
            )
    if value is NotImplemented:
        verdict = _tails.decide(quantity, lp, lq)
        if verdict.finite is False:
            _warn(verdict)
            return verdict.value / scale
        if verdict.finite is None:
            raise ValueError(verdict.reason + "; use method='mc' for an estimate")
        value = _numeric.numerical(quantity, lp, lq, float(rtol))
    return float(value) / scale


def _warn(verdict: _tails.Verdict) -> None:
    warnings.warn(
        f"the integral diverges: {verdict.reason}", DivergentIntegralWarning, stacklevel=4
    )


def _generator(rng: Any) -> np.random.Generator:
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        "rng must be a numpy.random.Generator (e.g. np.random.default_rng(0)), an int "
        f"seed or None; got {type(rng).__name__}"
    )


@_doc
def cross_entropy(
    P: Any,
    Q: Any,
    *,
    method: str = "auto",
    base: float | None = None,
    rtol: float = 1e-10,
    n_samples: int | None = None,
    rng: np.random.Generator | int | None = None,
) -> float | Estimate:
    r"""Cross-entropy :math:`H(P, Q) = -\int p \log q \, d\nu = \mathbb{E}_P[-\log q(X)]`.

    Parameters
    ----------
    P, Q : frozen scipy.stats distribution, frozen multivariate_normal, or Mixed
        The law of the data and the model.
    method : {"auto", "closed_form", "quad", "mc"}
        How to compute it (see the module docstring). ``"auto"``: the closed form if
        one is registered, else ``"quad"``.
    base : float, optional
        Logarithm base; default natural (nats). ``base=2`` gives bits.
    rtol : float
        Relative tolerance of ``"quad"`` (quadrature and series).
    n_samples : int, optional
        Number of samples of ``P`` for ``"mc"`` (default 100000).
    rng : numpy.random.Generator or int, optional
        Random generator (or seed) for ``"mc"``.

    Returns
    -------
    float or Estimate
        :math:`H(P, Q)` in nats (or in ``base``); an :class:`Estimate` for
        ``method="mc"``. It is %INF_CE%

    Raises
    ------
    %RAISES%

    See Also
    --------
    entropy, kl_divergence, monte_carlo, celib.discrete.cross_entropy

    Examples
    --------
    >>> from scipy import stats
    >>> from celib import measure
    >>> P, Q = stats.norm(0, 1), stats.norm(1, 2)
    >>> f"{measure.cross_entropy(P, Q):.10f}"  # log(2 sqrt(2 pi)) + 2/8
    '1.8620857138'
    >>> f"{measure.cross_entropy(P, Q, method='quad'):.10f}"
    '1.8620857138'
    >>> est = measure.cross_entropy(P, Q, method="mc", n_samples=10_000, rng=0)
    >>> abs(est.value - 1.8620857138) < 4 * est.stderr
    True
    >>> measure.cross_entropy(stats.uniform(0, 2), stats.uniform(0, 1))  # not P << Q
    inf
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:  # P << Q, E_P[X^2] = inf
    ...     warnings.simplefilter("always")
    ...     measure.cross_entropy(stats.t(2), stats.norm())
    inf
    >>> caught[0].category.__name__
    'DivergentIntegralWarning'
    """
    return _compute("cross_entropy", P, Q, method, base, rtol, n_samples, rng)


@_doc
def entropy(
    P: Any,
    *,
    method: str = "auto",
    base: float | None = None,
    rtol: float = 1e-10,
    n_samples: int | None = None,
    rng: np.random.Generator | int | None = None,
) -> float | Estimate:
    r"""Entropy :math:`H(P) = -\int p \log p \, d\nu` (differential for continuous laws).

    With respect to Lebesgue measure it can be negative, and it depends on the units
    of :math:`X`: :math:`H(aX) = H(X) + \log|a|`.

    Parameters
    ----------
    P : frozen scipy.stats distribution, frozen multivariate_normal, or Mixed
    method : {"auto", "closed_form", "quad", "mc"}
        How to compute it (see the module docstring). ``"auto"``: the closed form if
        one is registered, else ``"quad"``.
    base : float, optional
        Logarithm base; default natural (nats). ``base=2`` gives bits.
    rtol : float
        Relative tolerance of ``"quad"`` (quadrature and series).
    n_samples : int, optional
        Number of samples of ``P`` for ``"mc"`` (default 100000).
    rng : numpy.random.Generator or int, optional
        Random generator (or seed) for ``"mc"``.

    Returns
    -------
    float or Estimate
        :math:`H(P)` in nats (or in ``base``); an :class:`Estimate` for ``"mc"``.
        It is %INF_H%

    Raises
    ------
    %RAISES%

    Examples
    --------
    >>> from scipy import stats
    >>> from celib import measure
    >>> f"{measure.entropy(stats.norm(0, 1)):.10f}"  # log(2 pi e) / 2
    '1.4189385332'
    >>> f"{measure.entropy(stats.binom(1, 0.5), base=2):.6f}"  # a fair coin: 1 bit
    '1.000000'
    """
    return _compute("entropy", P, None, method, base, rtol, n_samples, rng)


@_doc
def kl_divergence(
    P: Any,
    Q: Any,
    *,
    method: str = "auto",
    base: float | None = None,
    rtol: float = 1e-10,
    n_samples: int | None = None,
    rng: np.random.Generator | int | None = None,
) -> float | Estimate:
    r"""KL divergence :math:`\mathrm{KL}(P\,\|\,Q) = \int p \log(p/q)\, d\nu = H(P, Q) - H(P)`.

    It does not depend on the reference measure :math:`\nu` (the Radon–Nikodym
    derivative :math:`dP/dQ = p/q` does not), so it is invariant under a change of
    units. The closed forms and ``"quad"`` integrate :math:`p \log(p/q)` directly,
    so they stay accurate when :math:`P \approx Q`.

    Parameters
    ----------
    P, Q : frozen scipy.stats distribution, frozen multivariate_normal, or Mixed
    method : {"auto", "closed_form", "quad", "mc"}
        How to compute it (see the module docstring). ``"auto"``: the closed form if
        one is registered, else ``"quad"``.
    base : float, optional
        Logarithm base; default natural (nats). ``base=2`` gives bits.
    rtol : float
        Relative tolerance of ``"quad"`` (quadrature and series).
    n_samples : int, optional
        Number of samples of ``P`` for ``"mc"`` (default 100000).
    rng : numpy.random.Generator or int, optional
        Random generator (or seed) for ``"mc"``.

    Returns
    -------
    float or Estimate
        :math:`\mathrm{KL}(P\,\|\,Q) \ge 0`; an :class:`Estimate` for ``"mc"``.
        It is %INF_CE%

    Raises
    ------
    %RAISES%

    Examples
    --------
    >>> from scipy import stats
    >>> from celib import measure
    >>> f"{measure.kl_divergence(stats.norm(0, 1), stats.norm(1e-6, 1)):.6e}"
    '5.000000e-13'
    >>> measure.kl_divergence(stats.poisson(3), stats.binom(5, 0.5))
    inf
    """
    return _compute("kl_divergence", P, Q, method, base, rtol, n_samples, rng)


def monte_carlo(
    samples: Any,
    log_q: Callable[[Any], Any],
    *,
    log_p: Callable[[Any], Any] | None = None,
) -> Estimate:
    r"""Monte Carlo cross-entropy (or KL) from samples of :math:`P`, on any array backend.

    With :math:`X_1, \dots, X_n \sim P` i.i.d.,

    .. math::
        \hat H = \frac1n \sum_{i=1}^n -\log q(X_i), \\
        \widehat{\mathrm{KL}} = \frac1n \sum_{i=1}^n \bigl[\log p(X_i) - \log q(X_i)\bigr]
        \quad (\text{with } \texttt{log\_p}),

    with standard error :math:`s_n/\sqrt n`. Pass ``log_q = log_p`` for the entropy.
    The samples and the callables may be numpy arrays or torch tensors on any device
    (for example on :func:`celib.default_device`, with ``torch.distributions``
    ``log_prob`` methods): the reduction runs where the data are (through the array
    API) and only two scalars come back.

    Parameters
    ----------
    samples : array (numpy or torch), shape (n, ...)
        Draws from :math:`P`; the first axis indexes the samples (n >= 2).
    log_q : callable
        Log-density of :math:`Q` (with respect to the same reference measure as
        :math:`p`), returning shape ``(n,)``.
    log_p : callable, optional
        Log-density of :math:`P`; when given, the estimate is of the KL divergence.

    Returns
    -------
    Estimate
        ``inf`` (with ``stderr`` 0) if :math:`q = 0` at a sample. Samples cannot show
        that an expectation is infinite (a heavy tail of :math:`P`): the estimate is
        then finite but meaningless; :func:`cross_entropy` with ``method="mc"``
        decides finiteness from the laws first.

    Raises
    ------
    TypeError
        If ``log_q`` or ``log_p`` is not callable, or ``samples`` does not hold real
        numbers.
    ValueError
        If there are fewer than 2 samples, a log-density does not return one value
        per sample, returns NaN, or returns :math:`+\infty`.

    Examples
    --------
    >>> import torch, celib
    >>> from celib import measure
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(100_000, generator=g, dtype=torch.float64)  # X ~ N(0, 1)
    >>> Q = torch.distributions.Normal(torch.tensor(1.0, dtype=torch.float64), 2.0)
    >>> est = measure.monte_carlo(x.to(celib.default_device()), Q.log_prob)
    >>> abs(est.value - 1.8620857138) < 4 * est.stderr
    True
    """
    if not callable(log_q):
        raise TypeError(f"log_q must be callable, got {type(log_q).__name__}")
    if log_p is not None and not callable(log_p):
        raise TypeError(f"log_p must be callable, got {type(log_p).__name__}")
    shape = getattr(samples, "shape", None)
    if shape is None:
        samples = real_array(samples, "samples")
        shape = samples.shape
    dtype = str(getattr(samples, "dtype", ""))
    if "complex" in dtype or not any(k in dtype for k in ("float", "int", "bool")):
        raise TypeError(f"samples must hold real numbers, got dtype {dtype or None}")
    if len(shape) == 0 or shape[0] < 2:
        raise ValueError(
            f"samples must hold at least 2 draws along axis 0, got shape {tuple(shape)}"
        )
    y = -log_q(samples)
    if log_p is not None:
        y = log_p(samples) + y
    return _numeric.summarise(y, int(shape[0]))


def register_closed_form(
    quantity: str, family_p: Any, family_q: Any = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    r"""Register an exact formula (a decorator), like ``torch.distributions.kl.register_kl``.

    The formula receives frozen distributions of the given families and returns a
    float, ``math.inf`` (``P`` not dominated by ``Q``), or ``NotImplemented`` to
    decline for these parameters (then ``method="auto"`` integrates numerically).
    Missing quantities are derived: :math:`H(P) = H(P, P)`,
    :math:`H(P, Q) = H(P) + \mathrm{KL}(P\,\|\,Q)` and
    :math:`\mathrm{KL} = H(P, Q) - H(P)`; register the KL divergence itself to keep
    it accurate when :math:`P \approx Q`. :class:`Mixed` laws use the formula of their
    continuous parts. Lookup follows the method resolution order, as
    ``torch.distributions.kl_divergence`` does: a formula registered for ``stats.norm``
    serves every subclass of its generator, and the most specific match wins.
    A formula returns ``math.inf`` when the quantity is infinite; ``celib`` trusts it
    (its tails are not checked again).

    Parameters
    ----------
    quantity : {"cross_entropy", "entropy", "kl_divergence"}
    family_p, family_q : scipy.stats family (unfrozen, e.g. ``stats.logistic``) or class
        ``family_q`` is omitted for ``"entropy"``.

    Returns
    -------
    callable
        The decorator; it returns the formula unchanged.

    Raises
    ------
    ValueError
        If ``quantity`` is unknown, or ``family_q`` is missing (or given for an entropy).
    TypeError
        If a family is not an unfrozen scipy.stats family (or a class).

    Examples
    --------
    >>> from scipy import stats
    >>> from celib import measure
    >>> @measure.register_closed_form("entropy", stats.logistic)
    ... def _h_logistic(P):
    ...     import math  # the formula outlives the doctest's namespace
    ...
    ...     return 2.0 + math.log(P.kwds.get("scale", 1.0))
    >>> f"{measure.entropy(stats.logistic(scale=3.0), method='closed_form'):.10f}"
    '3.0986122887'
    >>> f"{measure.entropy(stats.logistic(scale=3.0), method='quad'):.10f}"
    '3.0986122887'
    """
    return _closed.register(quantity, family_p, family_q)


def describe(P: Any, Q: Any = None, *, quantity: str | None = None) -> str:
    r"""A readable account of a law, or of whether :math:`H(P, Q)` is finite and why.

    With one law, its name (as used in messages) and whether its entropy is finite.
    With two, whether :math:`P \ll Q`, and whether the integral of the quantity
    (default the cross-entropy) converges: when it does not, the sentence names the
    statistic of :math:`-\log q` and the moment of :math:`P` that is infinite. This is
    the explanation behind an ``inf`` (the one :class:`DivergentIntegralWarning`
    carries).

    Parameters
    ----------
    P : frozen scipy.stats distribution, frozen multivariate_normal, or Mixed
    Q : same, optional
    quantity : {"cross_entropy", "entropy", "kl_divergence"}, optional
        Default ``"entropy"`` with one law, ``"cross_entropy"`` with two.

    Returns
    -------
    str

    Raises
    ------
    TypeError, ValueError
        As :func:`cross_entropy`, for an invalid law or ``quantity``.

    Examples
    --------
    >>> from scipy import stats
    >>> from celib import measure
    >>> measure.describe(stats.gamma(2.0, scale=1.5))
    'P = gamma(2, scale=1.5): H(P) is finite'
    >>> print(measure.describe(stats.t(2), stats.norm()))  # doctest: +NORMALIZE_WHITESPACE
    H(P, Q) = inf: P = t(2) is dominated by Q = norm(), but on the right -log q(x) =
    (x - m)^2 / (2 s^2) + const, which grows like |x|^2, while P's tail mass beyond x
    falls like |x|^-2 (t's right tail index is 2): E_P[X^2] = inf
    """
    quantities = ("cross_entropy", "entropy", "kl_divergence")
    if quantity is None:
        quantity = "entropy" if Q is None else "cross_entropy"
    if not isinstance(quantity, str) or quantity not in quantities:
        raise ValueError(f"quantity must be one of {quantities}, got {quantity!r}")
    lp = as_law(P, "P")
    if quantity == "entropy":
        if Q is not None:
            raise ValueError("quantity='entropy' takes one law: Q must be None")
        lq = lp
        head = f"P = {lp.name}: H(P)"
    else:
        if Q is None:
            raise TypeError(f"Q must be a distribution for quantity={quantity!r}, got None")
        lq = as_law(Q, "Q")
        check_pair(lp, lq)
        head = "H(P, Q)" if quantity == "cross_entropy" else "KL(P || Q)"
        if not_dominated_by_parts(lp, lq):
            return (
                f"{head} = inf: P = {lp.name} is not dominated by Q = {lq.name} "
                "(P gives positive mass to a set that Q gives mass 0)"
            )
    check_has_density(lp, "P")
    verdict = _tails.decide(quantity, lp, lq)
    if verdict.finite is False:
        return f"{head} = {verdict.value:g}: {verdict.reason}"
    if verdict.finite is None:
        return f"{head}: {verdict.reason}"
    if quantity == "entropy":
        return f"{head} is finite"
    return f"{head} is finite: P = {lp.name} is dominated by Q = {lq.name}, tails included"
