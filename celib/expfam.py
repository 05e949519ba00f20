r"""Exponential families on a finite support, and the maximum-entropy distributions they are.

A module of its own because the idea is new to the book: not a loss or a divergence but
the family of distributions that cross-entropy minimisation produces. On a finite
support :math:`x_1, \dots, x_m` with sufficient statistics :math:`\phi(x_j) \in
\mathbb{R}^d` (the rows of the ``stats`` matrix :math:`S`), the exponential family
with natural parameter :math:`\theta \in \mathbb{R}^d` is

.. math::

    p_\theta(x_j) = \exp\bigl(\theta^\top \phi(x_j) - A(\theta)\bigr), \\
    A(\theta) = \log \sum_{j=1}^{m} e^{\theta^\top \phi(x_j)}
    = \operatorname{lse}(S\theta),

so :math:`p_\theta = \operatorname{softmax}(S\theta)` and the log-partition
:math:`A` is a log-sum-exp. Its gradient is the mean of the statistics and its Hessian
their covariance (:func:`mean`, :func:`covariance`):

.. math::

    \nabla A(\theta) = \mathbb{E}_{p_\theta}[\phi], \qquad
    \nabla^2 A(\theta) = \operatorname{Cov}_{p_\theta}[\phi] .

The distribution of largest entropy among those with prescribed moments
:math:`\mathbb{E}_p[\phi] = \mu` is the member of this family with
:math:`\nabla A(\theta) = \mu`, found by minimising the convex dual
:math:`A(\theta) - \theta^\top \mu` (:func:`maxent_distribution`). That dual is the
cross-entropy :math:`H(\tilde p, p_\theta)` from any :math:`\tilde p` with moments
:math:`\mu` (for example an empirical distribution), which is why maximum likelihood in
an exponential family matches moments. :func:`normal_m_projection` is the continuous
case for the normal family: the normal that minimises :math:`H(P, Q)` over :math:`Q`.

The functions :func:`log_partition`, :func:`probabilities`, :func:`mean` and
:func:`covariance` take numpy arrays or torch tensors (autograd flows through);
:func:`maxent_distribution` works in numpy float64.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

import array_api_compat
import numpy as np
from scipy import optimize, special
from scipy import stats as scipy_stats

from celib import _checks as _a
from celib.discrete import entropy as _entropy

__all__ = [
    "MaxEntResult",
    "covariance",
    "log_partition",
    "maxent_distribution",
    "mean",
    "normal_m_projection",
    "probabilities",
]

# A point of the convex hull is treated as on its boundary when no distribution with
# these moments gives every support point a mass above this (the linear program below).
_INTERIOR_MARGIN = 1e-10


def _prepare(theta: Any, stats: Any) -> tuple[Any, Any, Any]:
    """Check ``theta`` (d,) and ``stats`` (m, d); return the namespace and both arrays."""
    xp, arrs = _a.namespace(theta=theta, stats=stats)
    theta = _a.floating(xp, arrs["theta"], "theta")
    S = _a.floating(xp, arrs["stats"], "stats")
    theta, S = _a.common_float(xp, theta, S)
    if S.ndim != 2 or S.shape[0] < 1 or S.shape[1] < 1:
        raise ValueError(
            "stats must be a 2-D array (m, d): one row of d >= 1 statistics per support "
            f"point, m >= 1; got shape {tuple(S.shape)}"
        )
    if theta.ndim != 1 or theta.shape[0] != S.shape[1]:
        raise ValueError(
            f"theta must be a 1-D array of length d = {S.shape[1]} (the columns of stats), "
            f"got shape {tuple(theta.shape)}"
        )
    _a.check_finite(xp, theta, "theta")
    _a.check_finite(xp, S, "stats")
    return xp, theta, S


def _lse(xp: Any, s: Any) -> Any:
    if array_api_compat.is_torch_namespace(xp):
        import torch

        return torch.logsumexp(s, dim=0)
    return special.logsumexp(s)


def log_partition(theta: Any, stats: Any) -> Any:
    r"""Log-partition function of a finite exponential family: a log-sum-exp.

    .. math:: A(\theta) = \log \sum_{j=1}^{m} \exp\bigl(\theta^\top \phi(x_j)\bigr)
              = \operatorname{lse}(S\theta) .

    Parameters
    ----------
    theta : array_like or torch.Tensor, shape (d,)
        Natural parameter.
    stats : array_like or torch.Tensor, shape (m, d)
        Sufficient statistics, one row :math:`\phi(x_j)` per support point.

    Returns
    -------
    numpy scalar or 0-d torch.Tensor
        :math:`A(\theta)`, computed after shifting by the largest score (no overflow).

    Raises
    ------
    ValueError
        ``stats`` not 2-D with at least one row and column; ``theta`` not of length
        :math:`d`; NaN or infinite entries.
    TypeError
        Non-numeric or complex input; numpy and torch mixed.

    See Also
    --------
    mean, covariance : its gradient and Hessian.

    Examples
    --------
    >>> import numpy as np
    >>> from celib.expfam import log_partition
    >>> die = np.arange(1.0, 7.0)[:, None]  # a die: phi(x) = x on {1, ..., 6}
    >>> print(f"{log_partition([0.0], die):.6f}")  # log 6
    1.791759
    >>> print(f"{log_partition([1000.0], die):.6f}")  # 6000 + log(1 + e^-1000 + ...)
    6000.000000
    """
    xp, theta, S = _prepare(theta, stats)
    return _a.finish(_lse(xp, S @ theta))


def probabilities(theta: Any, stats: Any) -> Any:
    r"""The distribution :math:`p_\theta = \operatorname{softmax}(S\theta)` on the support.

    .. math:: p_\theta(x_j) = \exp\bigl(\theta^\top \phi(x_j) - A(\theta)\bigr) .

    Parameters
    ----------
    theta : array_like or torch.Tensor, shape (d,)
        Natural parameter.
    stats : array_like or torch.Tensor, shape (m, d)
        Sufficient statistics, one row per support point.

    Returns
    -------
    numpy.ndarray or torch.Tensor, shape (m,)
        The probabilities (they sum to 1).

    Raises
    ------
    ValueError, TypeError
        As :func:`log_partition`.

    Examples
    --------
    >>> import numpy as np
    >>> from celib.expfam import probabilities
    >>> p = probabilities([np.log(2.0)], [[0.0], [1.0]])  # odds 1 : 2
    >>> print(np.round(p, 6))
    [0.333333 0.666667]
    """
    xp, theta, S = _prepare(theta, stats)
    s = S @ theta
    return xp.exp(s - _lse(xp, s))


def mean(theta: Any, stats: Any) -> Any:
    r"""Mean of the statistics, the gradient of the log-partition.

    .. math:: \nabla A(\theta) = \sum_{j=1}^{m} p_\theta(x_j)\, \phi(x_j)
              = \mathbb{E}_{p_\theta}[\phi] = S^\top p_\theta .

    Parameters
    ----------
    theta : array_like or torch.Tensor, shape (d,)
        Natural parameter.
    stats : array_like or torch.Tensor, shape (m, d)
        Sufficient statistics, one row per support point.

    Returns
    -------
    numpy.ndarray or torch.Tensor, shape (d,)
        The mean parameter :math:`\mu(\theta)`.

    Raises
    ------
    ValueError, TypeError
        As :func:`log_partition`.

    Examples
    --------
    >>> import numpy as np
    >>> from celib.expfam import mean
    >>> print(f"{mean([0.0], np.arange(1.0, 7.0)[:, None])[0]:.6f}")  # a fair die
    3.500000
    """
    xp, theta, S = _prepare(theta, stats)
    s = S @ theta
    return xp.exp(s - _lse(xp, s)) @ S


def covariance(theta: Any, stats: Any) -> Any:
    r"""Covariance matrix of the statistics, the Hessian of the log-partition.

    .. math:: \nabla^2 A(\theta) = \operatorname{Cov}_{p_\theta}[\phi] \\
              = \sum_{j=1}^{m} p_\theta(x_j)\,
                \bigl(\phi(x_j) - \mu\bigr)\bigl(\phi(x_j) - \mu\bigr)^\top ,
              \qquad \mu = \nabla A(\theta),

    computed from the centred statistics (no cancellation in
    :math:`\mathbb{E}[\phi\phi^\top] - \mu\mu^\top`). Positive semi-definite: :math:`A`
    is convex.

    Parameters
    ----------
    theta : array_like or torch.Tensor, shape (d,)
        Natural parameter.
    stats : array_like or torch.Tensor, shape (m, d)
        Sufficient statistics, one row per support point.

    Returns
    -------
    numpy.ndarray or torch.Tensor, shape (d, d)
        :math:`\operatorname{Cov}_{p_\theta}[\phi]`, the Fisher information of
        :math:`\theta`.

    Raises
    ------
    ValueError, TypeError
        As :func:`log_partition`.

    Examples
    --------
    >>> import numpy as np
    >>> from celib.expfam import covariance
    >>> print(f"{covariance([0.0], np.arange(1.0, 7.0)[:, None])[0, 0]:.6f}")  # 35/12
    2.916667
    """
    xp, theta, S = _prepare(theta, stats)
    s = S @ theta
    p = xp.exp(s - _lse(xp, s))
    centred = S - (p @ S)
    return centred.T @ (p[:, None] * centred)


class MaxEntResult(NamedTuple):
    """The maximum-entropy distribution under moment constraints (:func:`maxent_distribution`)."""

    #: :math:`p^\star` on the support points, shape (m,).
    probabilities: np.ndarray
    #: A natural parameter with :math:`p^\star = p_\theta`, shape (d,) (the Newton
    #: solution; not unique when the statistics are affinely dependent).
    theta: np.ndarray
    #: :math:`H(p^\star)` in nats, the largest entropy the constraints allow.
    entropy: float
    #: Newton iterations used.
    n_iter: int


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def _check_tol(tol: Any) -> float:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a real number, got {type(tol).__name__}")
    if not 1e-15 <= tol < 1:
        raise ValueError(f"tol must be in [1e-15, 1), got {tol!r}")
    return float(tol)


def _float_array(value: Any, name: str) -> np.ndarray:
    if array_api_compat.is_torch_array(value):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or arr.dtype == bool
    ):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = "NaN" if np.any(np.isnan(arr)) else "infinite"
        raise ValueError(f"{name} contains {bad} values; they must be finite")
    return arr


def _check_interior(S: np.ndarray, mu: np.ndarray) -> None:
    """``mu`` must be a mean of a distribution that gives every support point mass > 0.

    That is the relative interior of the convex hull of the rows of ``S``: a linear
    program maximises the smallest mass ``t`` over the distributions with mean ``mu``.
    """
    m, d = S.shape
    c = np.zeros(m + 1)
    c[-1] = -1.0  # maximise t
    a_eq = np.zeros((d + 1, m + 1))
    a_eq[:d, :m] = S.T
    a_eq[d, :m] = 1.0
    b_eq = np.concatenate([mu, [1.0]])
    a_ub = np.hstack([-np.eye(m), np.ones((m, 1))])  # t - p_j <= 0
    res = optimize.linprog(
        c, A_ub=a_ub, b_ub=np.zeros(m), A_eq=a_eq, b_eq=b_eq, bounds=[(0, 1)] * (m + 1)
    )
    shown = np.array2string(mu, precision=6)
    if res.status == 2:
        raise ValueError(
            f"moments {shown} are infeasible: they lie outside the convex hull of the rows "
            "of support_stats, so no distribution on the support has them"
        )
    if res.status != 0:  # pragma: no cover - HiGHS failing on a tiny bounded LP
        raise RuntimeError(f"the feasibility check of the moments failed: {res.message}")
    if -res.fun <= _INTERIOR_MARGIN:
        raise ValueError(
            f"moments {shown} lie on the boundary of the convex hull of the rows of "
            "support_stats: every distribution with them gives some support points zero "
            "mass, and no finite theta reaches them; drop those points from the support"
        )


def maxent_distribution(
    support_stats: Any, moments: Any, *, tol: float = 1e-10, max_iter: int = 200
) -> MaxEntResult:
    r"""The distribution of maximum entropy on a finite support with prescribed moments.

    Solves Jaynes' maximum-entropy problem (Jaynes, 1957)

    .. math::

        \max_{p \in \Delta_m} H(p) \quad \text{subject to} \quad
        \sum_{j=1}^{m} p_j\, \phi(x_j) = \mu

    through its convex dual: the solution is :math:`p_\theta =
    \operatorname{softmax}(S\theta)` with :math:`\theta` the minimiser of

    .. math:: g(\theta) = A(\theta) - \theta^\top \mu, \\
              \nabla g = \mathbb{E}_{p_\theta}[\phi] - \mu, \qquad
              \nabla^2 g = \operatorname{Cov}_{p_\theta}[\phi],

    found by Newton's method with a backtracking line search from :math:`\theta = 0`
    (the uniform distribution); steps are least-squares solutions, so affinely
    dependent statistics are fine. At the optimum :math:`g(\theta^\star) = H(p^\star)`
    (strong duality).

    With ``moments = p @ support_stats`` for a distribution ``p``, the result is the
    M-projection of ``p`` on the family: the :math:`p_\theta` that minimises
    :math:`H(p, p_\theta)`, and :math:`\mathrm{KL}(p \,\|\, p_\theta)`.

    Parameters
    ----------
    support_stats : array_like, shape (m, d)
        :math:`\phi(x_j)` for each support point, one row each (finite).
    moments : array_like, shape (d,)
        The prescribed means :math:`\mu`.
    tol : float, default 1e-10
        Stop when :math:`\max_i |\mathbb{E}_{p_\theta}[\phi_i] - \mu_i|` is at most
        ``tol`` times :math:`\max(1, \max_{j,i} |\phi_i(x_j)|)`.
    max_iter : int, default 200
        Most Newton iterations.

    Returns
    -------
    MaxEntResult
        ``probabilities``, ``theta``, ``entropy`` (nats) and ``n_iter``.

    Raises
    ------
    ValueError
        ``support_stats`` not 2-D (m, d) with :math:`m, d \ge 1`, or ``moments`` not of
        length :math:`d`; NaN or infinite entries; moments outside the convex hull of
        the rows (infeasible) or on its boundary (the maximiser puts zero mass on some
        points and has no finite :math:`\theta`); ``tol`` or ``max_iter`` out of range;
        no convergence in ``max_iter`` iterations.
    TypeError
        Non-numeric input; ``tol`` not a real number or ``max_iter`` not an int.

    References
    ----------
    E. T. Jaynes, "Information theory and statistical mechanics", Physical Review
    106(4), 620--630, 1957.

    Examples
    --------
    Jaynes' Brandeis dice: a die whose average roll is 4.5 instead of 3.5.

    >>> import numpy as np
    >>> from celib.expfam import maxent_distribution
    >>> faces = np.arange(1.0, 7.0)
    >>> res = maxent_distribution(faces[:, None], [4.5])
    >>> print(np.round(res.probabilities, 5))
    [0.05435 0.07877 0.11416 0.16545 0.23977 0.34749]
    >>> print(f"{res.theta[0]:.6f} {res.entropy:.6f}")
    0.371049 1.613581
    >>> print(f"{res.probabilities @ faces:.10f}")
    4.5000000000
    """
    S = _float_array(support_stats, "support_stats")
    mu = _float_array(moments, "moments")
    if S.ndim != 2 or S.shape[0] < 1 or S.shape[1] < 1:
        raise ValueError(
            "support_stats must be a 2-D array (m, d): one row of d >= 1 statistics per "
            f"support point, m >= 1; got shape {S.shape}"
        )
    if mu.ndim != 1 or mu.shape[0] != S.shape[1]:
        raise ValueError(
            f"moments must be a 1-D array of length d = {S.shape[1]} (the columns of "
            f"support_stats), got shape {mu.shape}"
        )
    tol = _check_tol(tol)
    max_iter = _positive_int(max_iter, "max_iter")
    _check_interior(S, mu)
    scale = max(1.0, float(np.max(np.abs(S))))
    theta = np.zeros(S.shape[1])

    def dual(th: np.ndarray) -> float:
        return float(special.logsumexp(S @ th) - th @ mu)

    value = dual(theta)
    for it in range(max_iter + 1):
        s = S @ theta
        p = np.exp(s - special.logsumexp(s))
        grad = p @ S - mu
        centred = S - p @ S
        hess = centred.T @ (p[:, None] * centred)
        step = np.linalg.lstsq(hess, -grad, rcond=None)[0]
        if np.max(np.abs(grad)) <= tol * scale:
            # converged: one more full Newton step (quadratic convergence) if it helps
            s2 = S @ (theta + step)
            p2 = np.exp(s2 - special.logsumexp(s2))
            if np.max(np.abs(p2 @ S - mu)) < np.max(np.abs(grad)):
                theta, p = theta + step, p2
            return MaxEntResult(p, theta, float(_entropy(p)), it)
        if it == max_iter:
            break
        slope = float(grad @ step)
        if not slope < 0:  # pragma: no cover - a PSD Hessian gives a descent step
            step, slope = -grad, -float(grad @ grad)
        # Armijo backtracking; near the optimum the decrease (about slope / 2) is below
        # the rounding of the dual value, so a few ulps of slack let Newton finish
        slack = 8 * np.finfo(float).eps * max(1.0, abs(value))
        t = 1.0
        while True:
            cand = theta + t * step
            new = dual(cand)
            if new <= value + 1e-4 * t * slope + slack or t < 1e-12:
                break
            t *= 0.5
        theta, value = cand, new
    raise ValueError(
        f"maxent_distribution did not converge in max_iter={max_iter} Newton iterations "
        f"(moments {np.array2string(mu, precision=6)} may lie very close to the boundary "
        "of the convex hull); raise max_iter or tol"
    )


def normal_m_projection(P: Any) -> Any:
    r"""The normal distribution closest to ``P`` in cross-entropy: moment matching.

    For a law :math:`P` on :math:`\mathbb{R}` with mean :math:`m` and variance
    :math:`v < \infty`, and :math:`Q = \mathcal{N}(\mu, \sigma^2)`,

    .. math::

        H(P, Q) = \tfrac12 \log(2\pi\sigma^2) + \frac{v + (m - \mu)^2}{2\sigma^2},

    which depends on :math:`P` through :math:`m` and :math:`v` only and is smallest at
    :math:`\mu = m, \sigma^2 = v`. Minimising :math:`H(P, Q)` and
    :math:`\mathrm{KL}(P \,\|\, Q)` over the normal family (the M-projection, or
    forward KL fit) therefore matches the first two moments.

    Parameters
    ----------
    P : frozen scipy.stats continuous distribution
        A one-dimensional law with a density and finite variance.

    Returns
    -------
    frozen scipy.stats.norm
        :math:`\mathcal{N}(m, v)`.

    Raises
    ------
    TypeError
        ``P`` is not a frozen one-dimensional continuous scipy.stats distribution.
    ValueError
        ``P``'s mean or variance is not finite (then :math:`H(P, Q) = \infty` for every
        normal :math:`Q`).

    Examples
    --------
    >>> from scipy import stats
    >>> from celib.expfam import normal_m_projection
    >>> Q = normal_m_projection(stats.gamma(3.0))  # mean 3, variance 3
    >>> print(f"{Q.mean():.6f} {Q.var():.6f}")
    3.000000 3.000000
    """
    dist = getattr(P, "dist", None)
    if not isinstance(dist, scipy_stats.rv_continuous) or not hasattr(P, "args"):
        raise TypeError(
            "P must be a frozen one-dimensional continuous scipy.stats distribution "
            f"(e.g. stats.gamma(3.0)), got {type(P).__name__}"
        )
    m, v = (float(x) for x in P.stats(moments="mv"))
    if not (math.isfinite(m) and math.isfinite(v)) or v <= 0:
        raise ValueError(
            f"P must have a finite mean and a finite positive variance, got mean {m!r} and "
            f"variance {v!r}: the cross-entropy to every normal is then infinite"
        )
    return scipy_stats.norm(m, math.sqrt(v))
