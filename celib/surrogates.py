r"""Margin-based losses of learning theory: the 0-1 loss, its convex surrogates, their risks.

A binary classifier scores an input :math:`a` with a real number :math:`f(a)` and
predicts the label :math:`t = 1` where :math:`f(a) > 0`. Written with the sign label
:math:`s = 2t - 1 \in \{-1, +1\}`, every loss of this module is a function of the
*margin* :math:`m = s\,f(a)` alone:

.. math::

    \begin{aligned}
    \phi_{01}(m) &= \mathbb 1[m \le 0], &
    \phi_{\log}(m) &= \log(1 + e^{-m}), \\
    \phi_{\text{hinge}}(m) &= \max(0, 1 - m), &
    \phi_{\exp}(m) &= e^{-m}, \\
    \phi_{\text{sq}}(m) &= (1 - m)^2 .
    \end{aligned}

The logistic loss :math:`\phi_{\log}` is the binary cross-entropy of the logit
:math:`x = f(a)` (:func:`celib.discrete.binary_cross_entropy` with
``from_logits=True``, which this module calls). With
:math:`\eta(a) = P(t = 1 \mid a)`, the *conditional risk*
:math:`C_\eta(f) = \eta\,\phi(f) + (1 - \eta)\,\phi(-f)`, its minimum
:math:`H_\phi(\eta)`, the excess risks and the :math:`\psi`-transform of Bartlett,
Jordan and McAuliffe (2006) bound the excess 0-1 risk of a classifier by its excess
surrogate risk; :func:`minimize_empirical_risk` fits a linear score by empirical risk
minimisation and :func:`logistic_optimism` measures the optimism of the training
cross-entropy.

These are the losses of statistical learning theory rather than likelihoods of a
model (only the logistic loss is one), which is why they have their own module: the
other modules of celib are about cross-entropies between distributions. Everything
here is numpy (float64).

References
----------
T. Zhang, "Statistical behavior and consistency of classification methods based on
convex risk minimization", Ann. Statist. 32 (2004).
P. L. Bartlett, M. I. Jordan, J. D. McAuliffe, "Convexity, classification, and risk
bounds", J. Amer. Statist. Assoc. 101 (2006).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from celib import _checks
from celib.discrete import binary_cross_entropy

__all__ = [
    "KINDS",
    "Optimism",
    "conditional_risk",
    "empirical_risk",
    "excess_risk",
    "excess_risk_bound",
    "logistic_optimism",
    "margin_loss",
    "minimal_conditional_risk",
    "minimize_empirical_risk",
    "optimal_score",
    "psi_transform",
]

#: The margin losses of this module: the 0-1 loss and four convex surrogates.
KINDS: tuple[str, ...] = ("zero_one", "logistic", "hinge", "exponential", "squared")

_SURROGATES = KINDS[1:]


# ---------------------------------------------------------------------------------------
# private checks (the shared ones are in celib._checks)
# ---------------------------------------------------------------------------------------


def _check_kind(kind: object, allowed: tuple[str, ...] = KINDS) -> str:
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a string, one of {allowed}, got {type(kind).__name__}")
    if kind not in allowed:
        raise ValueError(f"kind must be one of {allowed}, got {kind!r}")
    return kind


def _check_real(value: Any, name: str, *, finite: bool = True) -> NDArray[np.float64]:
    """A float64 array of real numbers; NaN always refused, inf unless ``finite=False``."""
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must hold real numbers, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} contains NaN; every value must be a number")
    if finite and not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].flat[0]
        raise ValueError(f"{name} contains {bad}; every value must be finite")
    return arr


def _check_interval(arr: NDArray[np.float64], name: str, lo: float, hi: float) -> None:
    out = (arr < lo) | (arr > hi)
    if np.any(out):
        raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}], got {arr[out].flat[0]!r}")


def _check_labels(value: Any, name: str = "t") -> NDArray[np.float64]:
    t = _check_real(value, name)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"{name} must be a non-empty vector of labels, got shape {t.shape}")
    bad = (t != 0) & (t != 1)
    if np.any(bad):
        raise ValueError(f"{name} must hold labels 0 or 1, got {t[bad][0]!r}")
    return t


def _scalar(x: NDArray[np.float64]) -> Any:
    return x[()] if x.ndim == 0 else x


# ---------------------------------------------------------------------------------------
# losses and risks
# ---------------------------------------------------------------------------------------


def _phi(m: NDArray[np.float64], kind: str) -> NDArray[np.float64]:
    """The loss at (checked, finite) margins."""
    if kind == "zero_one":
        return (m <= 0).astype(np.float64)
    if kind == "logistic":
        # log(1 + e^{-m}): the binary cross-entropy of target 1 at logit m
        return np.asarray(
            binary_cross_entropy(np.ones_like(m), m, from_logits=True, reduction="none"),
            dtype=np.float64,
        )
    if kind == "hinge":
        return np.maximum(0.0, 1.0 - m)
    if kind == "exponential":
        with np.errstate(over="ignore"):  # e^{-m} above 1.8e308 is +inf, as intended
            return np.exp(-m)
    return (1.0 - m) ** 2


def margin_loss(margin: ArrayLike, kind: str = "logistic") -> Any:
    r"""A margin loss :math:`\phi(m)`: the 0-1 loss or one of its convex surrogates.

    .. math::

        \begin{aligned}
        \phi_{01}(m) &= \mathbb 1[m \le 0], &
        \phi_{\log}(m) &= \log(1 + e^{-m}), \\
        \phi_{\text{hinge}}(m) &= \max(0, 1 - m), &
        \phi_{\exp}(m) &= e^{-m}, \\
        \phi_{\text{sq}}(m) &= (1 - m)^2 ,
        \end{aligned}

    where :math:`m = s\,f(a)` is the margin of a score :math:`f(a)` for the sign label
    :math:`s = 2t - 1`. A margin of exactly 0 counts as a mistake of the 0-1 loss.

    Parameters
    ----------
    margin : array_like
        Finite real margins.
    kind : {'zero_one', 'logistic', 'hinge', 'exponential', 'squared'}, default 'logistic'
        The loss.

    Returns
    -------
    numpy.ndarray or numpy.float64
        :math:`\phi(m)`, elementwise. The logistic loss is
        :func:`celib.discrete.binary_cross_entropy` of target 1 at the logit :math:`m` (exact
        for every finite margin, :math:`4.25 \times 10^{-18}` at :math:`m = 40`); the
        exponential loss is :math:`+\infty` once :math:`e^{-m}` overflows
        (:math:`m < -709.78`).

    Raises
    ------
    TypeError
        ``margin`` not real numbers, ``kind`` not a string.
    ValueError
        ``margin`` with NaN or inf, unknown ``kind``.

    Examples
    --------
    >>> import numpy as np
    >>> from celib.surrogates import margin_loss
    >>> m = np.array([-1.0, 0.0, 2.0])
    >>> for kind in ("zero_one", "logistic", "hinge", "exponential", "squared"):
    ...     print(f"{kind:12}", np.round(margin_loss(m, kind), 6))
    zero_one     [1. 1. 0.]
    logistic     [1.313262 0.693147 0.126928]
    hinge        [2. 1. 0.]
    exponential  [2.718282 1.       0.135335]
    squared      [4. 1. 1.]
    >>> print(f"{margin_loss(40.0):.6e}")
    4.248354e-18
    """
    kind = _check_kind(kind)
    m = _check_real(margin, "margin")
    return _scalar(_phi(m, kind))


def empirical_risk(t: ArrayLike, scores: ArrayLike, kind: str = "logistic") -> float:
    r"""The empirical :math:`\phi`-risk of scores: the mean margin loss over a data set.

    .. math::

        \hat R_\phi(f) = \frac1n \sum_{i=1}^n \phi\big(s_i f(a_i)\big),
        \qquad s_i = 2 t_i - 1 .

    For ``kind='zero_one'`` it is the training error (a score of 0 counts as wrong),
    for ``'logistic'`` the training cross-entropy
    :func:`celib.discrete.binary_cross_entropy` of the logits :math:`f(a_i)`.

    Parameters
    ----------
    t : array_like of shape (n,)
        Labels, 0 or 1.
    scores : array_like of shape (n,)
        Finite scores :math:`f(a_i)`.
    kind : {'zero_one', 'logistic', 'hinge', 'exponential', 'squared'}, default 'logistic'

    Returns
    -------
    float

    Raises
    ------
    TypeError
        Non-numeric ``t`` or ``scores``, ``kind`` not a string.
    ValueError
        ``t`` empty, not a vector or not 0/1; ``scores`` of another shape, NaN or inf;
        unknown ``kind``.

    Examples
    --------
    >>> from celib.surrogates import empirical_risk
    >>> t, scores = [1, 0, 1, 0], [2.0, -1.0, -0.5, 0.5]
    >>> print(f"{empirical_risk(t, scores, 'zero_one'):.2f}")
    0.50
    >>> print(f"{empirical_risk(t, scores, 'hinge'):.6f}")
    0.750000
    """
    kind = _check_kind(kind)
    t = _check_labels(t)
    f = _check_real(scores, "scores")
    if f.shape != t.shape:
        raise ValueError(f"scores must have the shape of t {t.shape}, got {f.shape}")
    return float(np.mean(_phi((2.0 * t - 1.0) * f, kind)))


def conditional_risk(eta: ArrayLike, scores: ArrayLike, kind: str = "logistic") -> Any:
    r"""The conditional :math:`\phi`-risk of a score :math:`f` where :math:`P(t=1) = \eta`.

    .. math::

        C_\eta(f) = \eta\,\phi(f) + (1 - \eta)\,\phi(-f),

    the expected loss at an input :math:`a` with :math:`\eta = \eta(a)`; a term whose
    weight is 0 counts 0 even where its loss is infinite. For the logistic loss it is
    the binary cross-entropy with the soft target :math:`\eta` at the logit :math:`f`.

    Parameters
    ----------
    eta : array_like
        Probabilities :math:`\eta \in [0, 1]` of the label 1.
    scores : array_like
        Finite scores :math:`f`; broadcast against ``eta``.
    kind : {'zero_one', 'logistic', 'hinge', 'exponential', 'squared'}, default 'logistic'

    Returns
    -------
    numpy.ndarray or numpy.float64

    Raises
    ------
    TypeError
        Non-numeric input, ``kind`` not a string.
    ValueError
        ``eta`` outside :math:`[0, 1]` or NaN; ``scores`` NaN or inf; shapes that do
        not broadcast; unknown ``kind``.

    Examples
    --------
    >>> from celib.surrogates import conditional_risk
    >>> print(f"{conditional_risk(0.8, 1.0, 'hinge'):.6f}")   # 0.8 * 0 + 0.2 * 2
    0.400000
    >>> print(f"{conditional_risk(0.8, -1.0, 'zero_one'):.6f}")  # wrong side: 0.8
    0.800000
    """
    kind = _check_kind(kind)
    e = _check_real(eta, "eta")
    _check_interval(e, "eta", 0.0, 1.0)
    f = _check_real(scores, "scores")
    e, f = _checks.broadcast(np, ("eta", "scores"), e, f)
    if kind == "logistic":
        risk = binary_cross_entropy(e, f, from_logits=True, reduction="none")
        return _scalar(np.asarray(risk, dtype=np.float64))
    with np.errstate(invalid="ignore"):  # 0 * inf, replaced by 0 below
        pos = np.where(e > 0, e * _phi(f, kind), 0.0)
        neg = np.where(e < 1, (1.0 - e) * _phi(-f, kind), 0.0)
    return _scalar(pos + neg)


def minimal_conditional_risk(eta: ArrayLike, kind: str = "logistic") -> Any:
    r"""The smallest conditional risk :math:`H_\phi(\eta) = \inf_f C_\eta(f)`.

    .. math::

        \begin{aligned}
        H_{\log}(\eta) &= -\eta \log \eta - (1 - \eta) \log(1 - \eta), \\
        H_{01}(\eta) &= \min(\eta, 1 - \eta), \qquad
        H_{\text{hinge}}(\eta) = 2 \min(\eta, 1 - \eta), \\
        H_{\exp}(\eta) &= 2 \sqrt{\eta (1 - \eta)}, \qquad
        H_{\text{sq}}(\eta) = 4 \eta (1 - \eta) .
        \end{aligned}

    Averaged over the inputs, :math:`\mathbb E\, H(\eta(a))` is the Bayes risk
    :math:`R_\phi^*`; for the logistic loss it is the conditional entropy of the label,
    evaluated as :func:`celib.discrete.binary_cross_entropy` of :math:`\eta` with itself.

    Parameters
    ----------
    eta : array_like
        Probabilities :math:`\eta \in [0, 1]`.
    kind : {'zero_one', 'logistic', 'hinge', 'exponential', 'squared'}, default 'logistic'

    Returns
    -------
    numpy.ndarray or numpy.float64

    Raises
    ------
    TypeError
        Non-numeric ``eta``, ``kind`` not a string.
    ValueError
        ``eta`` outside :math:`[0, 1]` or NaN, unknown ``kind``.

    Examples
    --------
    >>> from celib.surrogates import minimal_conditional_risk
    >>> for kind in ("zero_one", "logistic", "hinge", "exponential", "squared"):
    ...     print(f"{kind:12} {minimal_conditional_risk(0.8, kind):.6f}")
    zero_one     0.200000
    logistic     0.500402
    hinge        0.400000
    exponential  0.800000
    squared      0.640000
    """
    kind = _check_kind(kind)
    e = _check_real(eta, "eta")
    _check_interval(e, "eta", 0.0, 1.0)
    if kind == "logistic":
        return _scalar(np.asarray(binary_cross_entropy(e, e, reduction="none"), np.float64))
    low = np.minimum(e, 1.0 - e)
    if kind == "zero_one":
        return _scalar(low)
    if kind == "hinge":
        return _scalar(2.0 * low)
    if kind == "exponential":
        return _scalar(2.0 * np.sqrt(e * (1.0 - e)))
    return _scalar(4.0 * e * (1.0 - e))


def optimal_score(eta: ArrayLike, kind: str = "logistic") -> Any:
    r"""The score :math:`f^*_\phi(\eta)` that minimises the conditional risk :math:`C_\eta`.

    .. math::

        \begin{aligned}
        f^*_{\log}(\eta) &= \log\frac{\eta}{1 - \eta}, &
        f^*_{\exp}(\eta) &= \frac12 \log\frac{\eta}{1 - \eta}, \\
        f^*_{\text{sq}}(\eta) &= 2\eta - 1, &
        f^*_{\text{hinge}}(\eta) &= f^*_{01}(\eta) = \operatorname{sign}(2\eta - 1) .
        \end{aligned}

    The logistic, exponential and squared scores are increasing in :math:`\eta`, so
    :math:`\eta` can be read back from them (:math:`\eta = \sigma(f^*_{\log})`); the
    hinge score keeps only the side of :math:`\frac12`. At :math:`\eta = \frac12` every
    :math:`f \in [-1, 1]` minimises the hinge risk, and every :math:`f \le 0` the 0-1
    risk; 0 is returned. The logit is :math:`\pm\infty` at :math:`\eta \in \{0, 1\}`.

    Parameters
    ----------
    eta : array_like
        Probabilities :math:`\eta \in [0, 1]`.
    kind : {'zero_one', 'logistic', 'hinge', 'exponential', 'squared'}, default 'logistic'

    Returns
    -------
    numpy.ndarray or numpy.float64

    Raises
    ------
    TypeError
        Non-numeric ``eta``, ``kind`` not a string.
    ValueError
        ``eta`` outside :math:`[0, 1]` or NaN, unknown ``kind``.

    Examples
    --------
    >>> import numpy as np
    >>> from celib.surrogates import optimal_score
    >>> eta = np.array([0.1, 0.5, 0.8])
    >>> for kind in ("logistic", "exponential", "squared", "hinge"):
    ...     print(f"{kind:12}", np.round(optimal_score(eta, kind), 6))
    logistic     [-2.197225  0.        1.386294]
    exponential  [-1.098612  0.        0.693147]
    squared      [-0.8  0.   0.6]
    hinge        [-1.  0.  1.]
    """
    kind = _check_kind(kind)
    e = _check_real(eta, "eta")
    _check_interval(e, "eta", 0.0, 1.0)
    if kind == "logistic":
        with np.errstate(divide="ignore"):
            return _scalar(special.logit(e))
    if kind == "exponential":
        with np.errstate(divide="ignore"):
            return _scalar(0.5 * special.logit(e))
    if kind == "squared":
        return _scalar(2.0 * e - 1.0)
    return _scalar(np.sign(2.0 * e - 1.0))


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(12)


def _logistic_excess(e: NDArray[np.float64], f: NDArray[np.float64]) -> NDArray[np.float64]:
    r"""KL(Bern(eta) || Bern(sigma(f))) = C_eta(f) - H(eta), accurate near its zero.

    Far from the optimum (or at eta in {0, 1}) it is the sum of the two terms of the
    KL divergence, with log sigma(f) and log sigma(-f) from the softplus. Within 1 of
    the optimal logit x = logit(eta) those terms cancel (each is O(f - x), the sum
    O((f - x)^2)); there it is the integral of sigma(u) - sigma(x) from x to f, whose
    integrand sigma(u) (1 - eta) (1 - e^{x - u}) has no cancellation, by 12-point
    Gauss-Legendre quadrature (exact to rounding on an interval of length <= 1).
    """
    inner = (e > 0) & (e < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(inner, special.logit(np.where(inner, e, 0.5)), 0.0)
        delta = f - x
        near = inner & (np.abs(delta) <= 1.0)
        # far: eta log(eta / q) + (1 - eta) log((1 - eta) / (1 - q))
        log_q, log_1mq = -_phi(f, "logistic"), -_phi(-f, "logistic")
        far = np.where(e > 0, e * (np.log(e) - log_q), 0.0) + np.where(
            e < 1, (1.0 - e) * (np.log1p(-e) - log_1mq), 0.0
        )
    d = np.where(near, delta, 0.0)[..., None]
    v = 0.5 * d * (_GL_NODES + 1.0)
    integrand = special.expit(x[..., None] + v) * (-np.expm1(-v))
    close = (1.0 - e) * 0.5 * d[..., 0] * np.sum(_GL_WEIGHTS * integrand, axis=-1)
    return np.maximum(np.where(near, close, far), 0.0)


def excess_risk(
    eta: ArrayLike, scores: ArrayLike, kind: str = "logistic", *, reduction: str = "mean"
) -> Any:
    r"""The excess :math:`\phi`-risk of scores over the best possible ones.

    .. math::

        R_\phi(f) - R_\phi^* = \mathbb E_a\big[C_{\eta(a)}(f(a)) - H(\eta(a))\big],

    with the expectation over the given inputs (``reduction='mean'``): each term is
    computed as a difference before averaging, so small excesses keep their digits.
    For ``kind='zero_one'`` the term is :math:`|2\eta - 1|` where :math:`f` is on the
    wrong side of :math:`\eta = \frac12`, 0 elsewhere; for the logistic loss it is the
    KL divergence from :math:`\mathrm{Bernoulli}(\eta)` to
    :math:`\mathrm{Bernoulli}(\sigma(f))`.

    Parameters
    ----------
    eta : array_like
        The true probabilities :math:`\eta(a_i) \in [0, 1]` of the label 1.
    scores : array_like
        Finite scores :math:`f(a_i)`; broadcast against ``eta``.
    kind : {'zero_one', 'logistic', 'hinge', 'exponential', 'squared'}, default 'logistic'
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'none'`` gives the per-input excess :math:`C_\eta(f) - H_\phi(\eta) \ge 0`.

    Returns
    -------
    float or numpy.ndarray

    Raises
    ------
    TypeError
        Non-numeric input, ``kind`` not a string.
    ValueError
        ``eta`` outside :math:`[0, 1]` or NaN, ``scores`` NaN or inf, shapes that do not
        broadcast, unknown ``kind`` or ``reduction``.

    Examples
    --------
    >>> from celib.surrogates import excess_risk
    >>> eta, scores = [0.9, 0.6, 0.2], [1.0, -0.5, -2.0]   # the second is misclassified
    >>> print(f"{excess_risk(eta, scores, 'zero_one'):.6f}")   # |2 * 0.6 - 1| / 3
    0.066667
    >>> print(f"{excess_risk(eta, scores, 'hinge'):.6f}")   # (0 + 0.3 + 0.2) / 3
    0.166667
    """
    kind = _check_kind(kind)
    reduction = _checks.check_reduction(reduction)
    e = _check_real(eta, "eta")
    _check_interval(e, "eta", 0.0, 1.0)
    f = _check_real(scores, "scores")
    e, f = _checks.broadcast(np, ("eta", "scores"), e, f)
    if kind == "zero_one":
        wrong = np.where(f > 0, e < 0.5, e > 0.5)
        ex = np.where(wrong, np.abs(2.0 * e - 1.0), 0.0)
    elif kind == "logistic":
        ex = _logistic_excess(e, f)
    elif kind == "squared":
        # C - H = eta (1 - f)^2 + (1 - eta)(1 + f)^2 - 4 eta (1 - eta) = (f - (2 eta - 1))^2,
        # a square: no cancellation near the optimum (C - H lost all digits there).
        ex = (f - (2.0 * e - 1.0)) ** 2
    elif kind == "exponential":
        # C - H = eta e^-f + (1 - eta) e^f - 2 sqrt(eta (1 - eta))
        #       = (sqrt(eta) e^(-f/2) - sqrt(1 - eta) e^(f/2))^2, a square again.
        with np.errstate(over="ignore", invalid="ignore"):
            d = np.sqrt(e) * np.exp(-f / 2) - np.sqrt(1.0 - e) * np.exp(f / 2)
            ex = np.where(np.isnan(d), np.inf, d * d)
    else:
        ex = np.maximum(
            np.asarray(conditional_risk(e, f, kind)) - minimal_conditional_risk(e, kind), 0.0
        )
    if reduction == "none":
        return _scalar(np.asarray(ex, dtype=np.float64))
    return float(np.sum(ex) if reduction == "sum" else np.mean(ex))


# ---------------------------------------------------------------------------------------
# the psi-transform and the excess-risk bound
# ---------------------------------------------------------------------------------------


def _psi(th: NDArray[np.float64], kind: str) -> NDArray[np.float64]:
    a = np.abs(th)
    if kind in ("zero_one", "hinge"):
        return a
    if kind == "squared":
        return a * a
    if kind == "exponential":
        return a * a / (1.0 + np.sqrt((1.0 - a) * (1.0 + a)))
    # logistic: ((1 + a) log(1 + a) + (1 - a) log(1 - a)) / 2, as a * atanh(a) +
    # log1p(-a^2) / 2 below a = 1/2 (no cancellation of the two O(a) terms), and with
    # (1 - a) log(1 - a) -> 0 at a = 1 above it
    small = a < 0.5
    s = np.where(small, a, 0.0)
    b = np.where(small, 0.5, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        near = s * np.arctanh(s) + 0.5 * np.log1p(-s * s)
        far = 0.5 * ((1.0 + b) * np.log1p(b) + special.xlogy(1.0 - b, 1.0 - b))
    return np.where(small, near, far)


def psi_transform(theta: ArrayLike, kind: str = "logistic") -> Any:
    r"""The :math:`\psi`-transform of a margin loss (Bartlett, Jordan and McAuliffe 2006).

    For :math:`\theta \in [-1, 1]` and :math:`\eta = (1 + \theta)/2`,
    :math:`\tilde\psi(\theta) = \inf_{f(2\eta-1) \le 0} C_\eta(f) - H_\phi(\eta)`, the least
    excess conditional risk of a score on the wrong side of :math:`\frac12`;
    :math:`\psi` is its convex hull, here :math:`\tilde\psi` itself:

    .. math::

        \begin{aligned}
        \psi_{\log}(\theta) &= \tfrac{1+\theta}{2}\log(1+\theta)
            + \tfrac{1-\theta}{2}\log(1-\theta), \\
        \psi_{\text{hinge}}(\theta) &= |\theta|, \qquad
        \psi_{\exp}(\theta) = 1 - \sqrt{1 - \theta^2}, \qquad
        \psi_{\text{sq}}(\theta) = \theta^2 ,
        \end{aligned}

    and :math:`\psi_{01}(\theta) = |\theta|`. For every score function :math:`f`,
    :math:`\psi\big(R(f) - R^*\big) \le R_\phi(f) - R_\phi^*`. The logistic
    :math:`\psi` is the KL divergence from :math:`\mathrm{Bernoulli}((1+\theta)/2)` to
    :math:`\mathrm{Bernoulli}(\frac12)`, at least :math:`\theta^2/2` (Pinsker).

    Parameters
    ----------
    theta : array_like
        Values in :math:`[-1, 1]`.
    kind : {'zero_one', 'logistic', 'hinge', 'exponential', 'squared'}, default 'logistic'

    Returns
    -------
    numpy.ndarray or numpy.float64
        :math:`\psi(\theta)`, accurate to a few ulp also for tiny :math:`\theta`
        (:math:`\psi_{\log}(\theta) \approx \theta^2/2`, :math:`\psi_{\exp}(\theta)
        \approx \theta^2/2`), where the formulas above cancel.

    Raises
    ------
    TypeError
        Non-numeric ``theta``, ``kind`` not a string.
    ValueError
        ``theta`` outside :math:`[-1, 1]` or NaN, unknown ``kind``.

    Examples
    --------
    >>> import numpy as np
    >>> from celib.surrogates import psi_transform
    >>> theta = np.array([0.0, 0.5, 1.0])
    >>> for kind in ("logistic", "hinge", "exponential", "squared"):
    ...     print(f"{kind:12}", np.round(psi_transform(theta, kind), 6))
    logistic     [0.       0.130812 0.693147]
    hinge        [0.  0.5 1. ]
    exponential  [0.       0.133975 1.      ]
    squared      [0.   0.25 1.  ]
    >>> print(f"{psi_transform(1e-9):.6e}")
    5.000000e-19
    """
    kind = _check_kind(kind)
    th = _check_real(theta, "theta")
    _check_interval(th, "theta", -1.0, 1.0)
    return _scalar(_psi(th, kind))


def excess_risk_bound(excess_surrogate: ArrayLike, kind: str = "logistic") -> Any:
    r"""The bound on the excess 0-1 risk implied by an excess surrogate risk.

    :math:`\psi` is increasing on :math:`[0, 1]`, so
    :math:`\psi(R(f) - R^*) \le R_\phi(f) - R_\phi^* = \Delta` gives

    .. math::

        R(f) - R^* \le \psi^{-1}(\Delta), \qquad
        \psi^{-1}(\Delta) = 1 \text{ for } \Delta \ge \psi(1) ,

    in closed form :math:`\Delta` (hinge, 0-1), :math:`\sqrt\Delta` (squared),
    :math:`\sqrt{\Delta(2 - \Delta)}` (exponential), and for the logistic loss by
    bisection between :math:`\sqrt{2\Delta / (1 + 2\Delta)}` and :math:`\sqrt{2\Delta}`
    (which bracket the root), to full precision.

    Parameters
    ----------
    excess_surrogate : array_like
        Excess surrogate risks :math:`\Delta \ge 0` (finite).
    kind : {'zero_one', 'logistic', 'hinge', 'exponential', 'squared'}, default 'logistic'

    Returns
    -------
    numpy.ndarray or numpy.float64
        :math:`\psi^{-1}(\Delta) \in [0, 1]`.

    Raises
    ------
    TypeError
        Non-numeric ``excess_surrogate``, ``kind`` not a string.
    ValueError
        Negative, NaN or infinite ``excess_surrogate``, unknown ``kind``.

    Examples
    --------
    >>> from celib.surrogates import excess_risk_bound, psi_transform
    >>> bound = excess_risk_bound(0.01, "logistic")
    >>> print(f"{bound:.6f}  {psi_transform(bound, 'logistic'):.6f}")
    0.141185  0.010000
    >>> print(f"{excess_risk_bound(0.01, 'squared'):.6f}")
    0.100000
    """
    kind = _check_kind(kind)
    d = _check_real(excess_surrogate, "excess_surrogate")
    if np.any(d < 0):
        raise ValueError(
            f"excess_surrogate must be >= 0 (an excess risk), got {d[d < 0].flat[0]!r}"
        )
    if kind in ("zero_one", "hinge"):
        return _scalar(np.minimum(d, 1.0))
    if kind == "squared":
        return _scalar(np.minimum(np.sqrt(d), 1.0))
    if kind == "exponential":
        c = np.minimum(d, 1.0)
        return _scalar(np.sqrt(c * (2.0 - c)))
    top = math.log(2.0)  # psi_log(1)
    dd = np.minimum(d, top)
    lo = np.sqrt(2.0 * dd / (1.0 + 2.0 * dd))  # psi(lo) <= dd: psi(a) <= a^2 / (2(1 - a^2))
    hi = np.minimum(np.sqrt(2.0 * dd), 1.0)  # psi(hi) >= dd: psi(a) >= a^2 / 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if not np.any((mid > lo) & (mid < hi)):
            break
        below = _psi(mid, "logistic") < dd
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return _scalar(np.where(d >= top, 1.0, hi))


# ---------------------------------------------------------------------------------------
# empirical risk minimisation of a linear score
# ---------------------------------------------------------------------------------------


def _phi_derivatives(m: NDArray[np.float64], kind: str) -> tuple[NDArray[Any], NDArray[Any]]:
    if kind == "logistic":
        return -special.expit(-m), special.expit(m) * special.expit(-m)
    # exponential
    with np.errstate(over="ignore"):
        e = np.exp(-m)
    return -e, e


def _newton(A: NDArray[np.float64], s: NDArray[np.float64], kind: str, max_iter: int):
    n, d = A.shape
    theta = np.zeros(d)

    def risk(th: NDArray[np.float64]) -> float:
        return float(np.mean(_phi(s * (A @ th), kind)))

    r = risk(theta)
    for _ in range(max_iter):
        m = s * (A @ theta)
        if np.all(m > 0):
            raise ValueError(
                "features, t: the data are linearly separable, so the "
                f"{kind} risk has no minimiser (it decreases to 0 as the score grows)"
            )
        d1, d2 = _phi_derivatives(m, kind)
        grad = A.T @ (d1 * s) / n
        hess = (A * d2[:, None]).T @ A / n
        try:
            step = -np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(hess, grad, rcond=None)[0]
        decrement = float(-grad @ step)  # lambda^2 = g' H^-1 g
        if not math.isfinite(decrement):
            break
        if decrement / 2 <= 1e-15 * max(r, 1e-300):
            return theta + step
        size = 1.0
        while size > 1e-10:
            trial = theta + size * step
            r_trial = risk(trial)
            if r_trial <= r - 0.25 * size * decrement:
                break
            size *= 0.5
        else:
            return theta  # no descent left at the rounding level of the risk
        theta, r = trial, r_trial
    raise ValueError(
        f"features, t: Newton's method did not converge in {max_iter} iterations; the data "
        f"may be (nearly) linearly separable, where the {kind} risk has no minimiser"
    )


def minimize_empirical_risk(
    features: ArrayLike, t: ArrayLike, kind: str = "logistic", *, max_iter: int = 100
) -> NDArray[np.float64]:
    r"""Empirical risk minimisation of a linear score :math:`f(a) = \theta^\top a`.

    .. math::

        \hat\theta \in \operatorname*{arg\,min}_\theta \frac1n \sum_{i=1}^n
        \phi\big(s_i\, \theta^\top a_i\big), \qquad s_i = 2 t_i - 1 .

    The logistic loss gives maximum-likelihood logistic regression (Newton's method
    with a backtracking line search, to full precision), the exponential loss the same
    way; the squared loss is least squares on the targets :math:`s_i` (the
    minimum-norm solution if the features are collinear); the hinge loss is a linear
    program, :math:`\min \frac1n\sum_i \xi_i` subject to :math:`\xi_i \ge 0`,
    :math:`\xi_i \ge 1 - s_i \theta^\top a_i` (``scipy.optimize.linprog``, HiGHS),
    an SVM without its penalty. Minimising the 0-1 loss itself is NP-hard and is
    refused. Add a column of ones to ``features`` for an intercept.

    Parameters
    ----------
    features : array_like of shape (n, d)
        Finite features :math:`a_i`, one row per example.
    t : array_like of shape (n,)
        Labels, 0 or 1.
    kind : {'logistic', 'hinge', 'exponential', 'squared'}, default 'logistic'
        The surrogate loss.
    max_iter : int, default 100
        Newton iterations (logistic and exponential losses).

    Returns
    -------
    numpy.ndarray of shape (d,)
        :math:`\hat\theta`.

    Raises
    ------
    TypeError
        Non-numeric ``features`` or ``t``, ``kind`` not a string, ``max_iter`` not an int.
    ValueError
        ``features`` not 2-D with a row per label, NaN or inf; ``t`` not 0/1;
        ``kind='zero_one'`` or unknown; linearly separable data for the logistic or
        exponential loss (no minimiser exists); no convergence in ``max_iter`` steps.

    Examples
    --------
    >>> import numpy as np
    >>> from celib.datasets import logistic_data
    >>> from celib.surrogates import minimize_empirical_risk
    >>> x, t = logistic_data(2000, [2.0, -1.0], 0.5, rng=0)
    >>> A = np.column_stack([x, np.ones(len(t))])
    >>> print(np.round(minimize_empirical_risk(A, t), 2))
    [ 1.95 -1.1   0.56]
    """
    kind = _check_kind(kind)
    if kind == "zero_one":
        raise ValueError(
            "kind='zero_one': minimising the empirical 0-1 risk over linear scores is "
            "NP-hard (and its gradient is 0 almost everywhere); minimise a convex "
            f"surrogate instead, one of {_SURROGATES}"
        )
    max_iter = _checks.count(max_iter, "max_iter", 1)
    A = _check_real(features, "features")
    if A.ndim != 2 or A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"features must be a non-empty 2-D array (n, d), got shape {A.shape}")
    t = _check_labels(t)
    if t.shape[0] != A.shape[0]:
        raise ValueError(
            f"t must have one label per row of features ({A.shape[0]}), got {t.shape[0]}"
        )
    s = 2.0 * t - 1.0
    if kind == "squared":
        return np.linalg.lstsq(A, s, rcond=None)[0]
    if kind == "hinge":
        n, d = A.shape
        c = np.concatenate([np.zeros(d), np.full(n, 1.0 / n)])
        a_ub = np.hstack([-s[:, None] * A, -np.eye(n)])
        bounds = [(None, None)] * d + [(0.0, None)] * n
        res = optimize.linprog(c, A_ub=a_ub, b_ub=-np.ones(n), bounds=bounds, method="highs")
        if res.status != 0:  # pragma: no cover - the LP is feasible and bounded below
            raise ValueError(f"features, t: the hinge linear program failed: {res.message}")
        return np.asarray(res.x[:d], dtype=np.float64)
    return _newton(A, s, kind, max_iter)


# ---------------------------------------------------------------------------------------
# the optimism of the training cross-entropy
# ---------------------------------------------------------------------------------------


class Optimism(NamedTuple):
    """Per-fit results of :func:`logistic_optimism`, arrays of shape (repeats,)."""

    #: :math:`\hat R_n(\theta^*) - \hat R_n(\hat\theta) \ge 0`: how far the fit's training
    #: cross-entropy falls below the truth's on the same data.
    train_drop: NDArray[np.float64]
    #: :math:`R(\hat\theta) - R(\theta^*) \ge 0`: the fit's excess test cross-entropy,
    #: a KL divergence averaged over the test inputs.
    test_excess: NDArray[np.float64]

    @property
    def gap(self) -> NDArray[np.float64]:
        """The optimism of each fit, ``train_drop + test_excess``."""
        return self.train_drop + self.test_excess


def logistic_optimism(
    n: int,
    weights: ArrayLike,
    bias: float = 0.0,
    *,
    repeats: int = 100,
    n_test: int = 10_000,
    rng: np.random.Generator | int = 0,
) -> Optimism:
    r"""Measure the optimism of the training cross-entropy of a well-specified logistic fit.

    Each of ``repeats`` data sets of ``n`` points is drawn from the logistic model
    :func:`celib.datasets.logistic_data` with the given ``weights`` and ``bias``,
    :math:`\theta^* = (w, b)` with :math:`d = \dim w + 1` parameters, and fitted by
    maximum likelihood (:func:`minimize_empirical_risk`). With :math:`\hat R_n` the
    training cross-entropy and :math:`R` the expected one on new data, the optimism
    :math:`R(\hat\theta) - \hat R_n(\hat\theta)` splits as

    .. math::

        \begin{aligned}
        &\underbrace{R(\hat\theta) - R(\theta^*)}_{\text{test excess}}
        + \underbrace{\hat R_n(\theta^*) - \hat R_n(\hat\theta)}_{\text{train drop}} \\
        &\quad + \big(R(\theta^*) - \hat R_n(\theta^*)\big),
        \end{aligned}

    where the last term has mean 0 (:math:`\theta^*` does not depend on the data) and
    is left out: the first two are both about :math:`d/(2n)`, so the expected optimism
    is about :math:`d/n` (Akaike). The test excess is
    :math:`\mathbb E_a\, \mathrm{KL}(\mathrm{Bern}(\eta(a)) \,\|\,
    \mathrm{Bern}(\sigma(\hat f(a))))` (:func:`excess_risk`), averaged over
    ``n_test`` fresh inputs with their true :math:`\eta(a)`, no labels needed.

    Parameters
    ----------
    n : int
        Training-set size (at least 2).
    weights : array_like of shape (d - 1,)
        True weights :math:`w`.
    bias : float, default 0.0
        True intercept :math:`b`.
    repeats : int, default 100
        Number of data sets (at least 1).
    n_test : int, default 10000
        Number of test inputs (at least 1), shared by all fits.
    rng : numpy.random.Generator or int, default 0
        Source of the data sets' seeds and of the test inputs.

    Returns
    -------
    Optimism
        ``train_drop`` and ``test_excess``, one entry per data set; ``.gap`` is their sum.

    Raises
    ------
    TypeError
        Non-integer ``n``, ``repeats`` or ``n_test``; non-numeric ``weights`` or
        ``bias``; ``rng`` neither a Generator nor an int.
    ValueError
        ``n < 2``, ``repeats < 1``, ``n_test < 1``; ``weights`` not a non-empty
        vector, ``weights`` or ``bias`` not finite; a data set that is linearly
        separable (choose a larger ``n``).

    Examples
    --------
    >>> from celib.surrogates import logistic_optimism
    >>> res = logistic_optimism(200, [1.0, -0.5], repeats=50, rng=0)
    >>> print(f"mean optimism {res.gap.mean():.4f}, d/n = {3 / 200:.4f}")
    mean optimism 0.0148, d/n = 0.0150
    """
    from celib.datasets import logistic_data

    n = _checks.count(n, "n", 2)
    repeats = _checks.count(repeats, "repeats", 1)
    n_test = _checks.count(n_test, "n_test", 1)
    w = _check_real(weights, "weights")
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"weights must be a non-empty vector (shape (d,)), got shape {w.shape}")
    b = _check_real(bias, "bias")
    if b.ndim != 0:
        raise ValueError(f"bias must be a scalar, got shape {b.shape}")
    gen = _checks.rng(rng)
    theta_true = np.append(w, float(b))
    a_test = np.column_stack([gen.standard_normal((n_test, w.size)), np.ones(n_test)])
    eta_test = special.expit(a_test @ theta_true)
    seeds = gen.integers(0, 2**63 - 1, size=repeats)
    drop, excess = np.empty(repeats), np.empty(repeats)
    for r, seed in enumerate(seeds):
        x, t = logistic_data(n, w, float(b), rng=int(seed))
        A = np.column_stack([x, np.ones(n)])
        theta = minimize_empirical_risk(A, t, "logistic")
        drop[r] = empirical_risk(t, A @ theta_true) - empirical_risk(t, A @ theta)
        excess[r] = excess_risk(eta_test, a_test @ theta, "logistic")
    return Optimism(drop, excess)
