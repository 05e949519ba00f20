r"""Scoring rules and calibration: how to judge, and repair, stated probabilities.

A *scoring rule* :math:`S(q, j)` is the loss of the forecast :math:`q` (a probability
vector) when outcome :math:`j` happens. Its expected value under the truth :math:`p`,

.. math:: S(p, q) = \sum_j p_j\, S(q, j),

is minimised at :math:`q = p`, and only there, when the rule is *strictly proper*: a
forecaster does best by stating what they believe. The log score is cross-entropy,
:math:`S(p, q) = H(p, q)`; the Brier score is the squared distance to the one-hot outcome.
This module holds the scores the book's chapter *Proper scoring rules and calibration*
compares, the tools that measure calibration, and the one-parameter repair:

* :func:`log_score` and :func:`brier_score`, strictly proper; :func:`focal_loss`, not
  proper, and :func:`focal_minimiser`, the forecast it rewards instead of the truth;
* :func:`expected_calibration_error` and :func:`calibration_refinement`, the split of a
  score into a calibration part (how far the stated probabilities are from the observed
  frequencies) and a refinement part (how far those frequencies are from certainty);
* :func:`fit_temperature`, temperature scaling fitted by cross-entropy on held-out data.

It is a module of its own because these functions judge probabilities that a model has
already produced; the losses that train the model live in :mod:`celib.discrete` and
:mod:`celib.nn`. The log score *is* :func:`~celib.discrete.categorical_cross_entropy` (and
:func:`~celib.discrete.binary_cross_entropy`): it is called here, never written again.

Conventions are those of :mod:`celib.discrete`: targets first, ``(t, y)``; integer labels
or probability rows along ``axis``; ``binary=True`` for a probability of the event (or a
logit) per example; reductions ``'mean' | 'sum' | 'none'``; numpy arrays or torch tensors
(:func:`log_score`, :func:`brier_score`, :func:`focal_loss`, with autograd). The functions
that bin or fit (:func:`expected_calibration_error`, :func:`calibration_refinement`,
:func:`fit_temperature`, :func:`focal_minimiser`) compute in numpy float64 and accept
tensors too.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import array_api_compat
import numpy as np
from numpy.typing import NDArray

from celib import _checks as _a
from celib.datasets import _bin_index, calibration_bins
from celib.discrete import (
    _binary_pair,
    _categorical_rows,
    binary_cross_entropy,
    categorical_cross_entropy,
    entropy,
    kl_divergence,
)

__all__ = [
    "CalibrationRefinement",
    "brier_score",
    "calibration_refinement",
    "expected_calibration_error",
    "fit_temperature",
    "focal_loss",
    "focal_minimiser",
    "log_score",
]

_SCORES = ("log", "brier")


# --------------------------------------------------------------------------- checks
# The shared checks are in celib._checks; these name this module's own arguments.


def _check_flag(value: object, name: str) -> bool:
    return _a.flag(value, name)


def _check_gamma(gamma: object) -> float:
    return _a.real_scalar(gamma, "gamma", nonnegative=True)


def _check_n_bins(n_bins: object, name: str = "n_bins") -> int:
    return _a.count(n_bins, name, 1)


def _check_score(score: object) -> str:
    return _a.choice(score, "score", _SCORES)


def _check_bounds(bounds: object) -> tuple[float, float]:
    if not isinstance(bounds, tuple | list) or len(bounds) != 2:
        raise TypeError(f"bounds must be a pair of numbers (low, high), got {_a.describe(bounds)}")
    lo, hi = (_a.real_scalar(b, "bounds", finite=False) for b in bounds)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise ValueError(f"bounds must satisfy 0 < low < high (finite), got ({lo}, {hi})")
    return lo, hi


# --------------------------------------------------------------------------- helpers


def _to_numpy(value: Any, name: str) -> Any:
    """Tensors to numpy float64 on the host (for the functions that bin or fit)."""
    if array_api_compat.is_torch_array(value):
        import torch

        if value.is_complex():
            raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
        if value.is_floating_point():
            value = value.to(torch.float64)
        return value.detach().cpu().numpy()
    return value


def _softmax(xp: Any, x: Any) -> Any:
    """Softmax along the last axis, shifted by the row maximum (no overflow)."""
    e = xp.exp(x - xp.max(x, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


def _rows(t: Any, y: Any, *, from_logits: bool, axis: int) -> tuple[Any, Any, Any, bool]:
    """Validated target rows and forecasts, the class axis moved last (see
    :func:`celib.discrete._categorical_rows`)."""
    return _categorical_rows(t, y, from_logits=from_logits, axis=axis)


def _binary(t: Any, y: Any, *, from_logits: bool) -> tuple[Any, Any, Any]:
    """Validated binary targets in [0, 1] and probabilities (or finite logits)."""
    return _binary_pair(t, y, from_logits=from_logits)


def _focal_weight(xp: Any, nll: Any, gamma: float) -> Any:
    r""":math:`(1 - q)^\gamma` from :math:`-\log q`, as :math:`(-\mathrm{expm1}(\log q))^\gamma`.

    Exact for :math:`q` near 1, where :math:`1 - q` would cancel; 1 for ``gamma == 0``.
    """
    if gamma == 0:
        return xp.ones_like(nll)
    return (-xp.expm1(-nll)) ** gamma


# --------------------------------------------------------------------------- scores


def log_score(
    t: Any,
    y: Any,
    *,
    binary: bool = False,
    from_logits: bool = False,
    axis: int = -1,
    reduction: str = "mean",
) -> Any:
    r"""The logarithmic score: cross-entropy of the forecast, the negative log-likelihood.

    .. math:: S_{\log}(q, j) = -\log q_j, \qquad
              \sum_j p_j\, S_{\log}(q, j) = H(p, q) = H(p) + \mathrm{KL}(p \,\|\, q),

    strictly proper (the expectation is smallest at :math:`q = p` only) and the only
    strictly proper score that is *local*, depending on :math:`q` only through the
    probability :math:`q_j` of the outcome that happened (for three or more outcomes).
    This is :func:`~celib.discrete.categorical_cross_entropy` (``binary=True``:
    :func:`~celib.discrete.binary_cross_entropy`) under its scoring-rule name; soft target rows
    ``t = p`` give the expected score :math:`H(p, q)`.

    Parameters
    ----------
    t : array_like or torch.Tensor
        Integer labels, or target probability rows (``binary=True``: targets in
        :math:`[0, 1]`).
    y : array_like or torch.Tensor
        Forecast probability rows along ``axis`` (``binary=True``: probabilities of the
        event), or logits if ``from_logits``.
    binary : bool, default False
        One probability (or logit) of the event per example.
    from_logits : bool, default False
        Whether ``y`` holds logits.
    axis : int, default -1
        Class axis (ignored when ``binary``).
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    numpy.ndarray, numpy scalar or torch.Tensor
        The score, in nats; :math:`+\infty` for an outcome the forecast called impossible.

    Raises
    ------
    TypeError, ValueError
        As :func:`~celib.discrete.categorical_cross_entropy` or
        :func:`~celib.discrete.binary_cross_entropy`; ``binary`` not a bool.

    References
    ----------
    T. Gneiting and A. E. Raftery, "Strictly proper scoring rules, prediction, and
    estimation", JASA 102 (2007). J. M. Bernardo, "Expected information as expected
    utility", Ann. Statist. 7 (1979).

    Examples
    --------
    >>> from celib.scoring import log_score
    >>> print(f"{log_score([0, 2], [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]):.6f}")
    0.289909
    >>> print(f"{log_score([1.0, 0.0], [0.8, 0.4], binary=True):.6f}")
    0.366985
    """
    if _check_flag(binary, "binary"):
        return binary_cross_entropy(t, y, from_logits=from_logits, reduction=reduction)
    return categorical_cross_entropy(t, y, from_logits=from_logits, axis=axis, reduction=reduction)


def brier_score(
    t: Any,
    y: Any,
    *,
    binary: bool = False,
    from_logits: bool = False,
    axis: int = -1,
    reduction: str = "mean",
) -> Any:
    r"""The Brier (quadratic) score: squared distance of the forecast to the outcome.

    For a forecast row :math:`q` and outcome :math:`j` (one-hot :math:`e_j`), and its
    expectation under the target row :math:`t`,

    .. math:: S_{\mathrm B}(q, j) = \sum_i (q_i - [i = j])^2, \qquad
              \sum_j t_j\, S_{\mathrm B}(q, j) = \|q - t\|^2 + 1 - \|t\|^2 ,

    strictly proper: the expectation is smallest at :math:`q = t` only. Integer labels
    (one-hot rows) give the usual Brier score, which lies in :math:`[0, 2]`; soft target
    rows give the expected score, linear in ``t`` like :func:`log_score`. With
    ``binary=True`` the forecast is the probability :math:`y` of the event and the score
    :math:`(y - t)^2 + t(1 - t)`, which is :math:`(y - t)^2` for 0/1 labels (scikit-learn's
    ``brier_score_loss``): half the two-class row form.

    Parameters
    ----------
    t : array_like or torch.Tensor
        Integer labels or target probability rows (``binary=True``: targets in
        :math:`[0, 1]`).
    y : array_like or torch.Tensor
        Forecast probability rows along ``axis`` (``binary=True``: probabilities of the
        event), or logits if ``from_logits`` (softmax, or sigmoid, is applied).
    binary : bool, default False
        One probability (or logit) of the event per example.
    from_logits : bool, default False
        Whether ``y`` holds logits.
    axis : int, default -1
        Class axis (ignored when ``binary``).
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    numpy.ndarray, numpy scalar or torch.Tensor
        The score.

    Raises
    ------
    TypeError
        Float labels of label shape, non-numeric or complex input, mixed numpy/torch,
        ``binary`` or ``from_logits`` not a bool.
    ValueError
        Labels out of range, rows that are not probability vectors, NaN/inf, shapes
        that do not match, unknown ``reduction``.

    References
    ----------
    G. W. Brier, "Verification of forecasts expressed in terms of probability", Monthly
    Weather Review 78 (1950).

    Examples
    --------
    >>> from celib.scoring import brier_score
    >>> print(f"{brier_score([0, 2], [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]):.6f}")
    0.100000
    >>> print(f"{brier_score([1.0, 0.0], [0.8, 0.4], binary=True):.6f}")
    0.100000
    """
    _a.check_reduction(reduction)
    binary = _check_flag(binary, "binary")
    from_logits = _check_flag(from_logits, "from_logits")
    if binary:
        xp, t, y = _binary(t, y, from_logits=from_logits)
        if from_logits:
            # sigmoid(x) = exp(-log(1 + exp(-x))), the log from binary cross-entropy
            y = xp.exp(
                -binary_cross_entropy(xp.ones_like(y), y, from_logits=True, reduction="none")
            )
        score = (y - t) ** 2 + t * (1 - t)
    else:
        xp, rows, y, _ = _rows(t, y, from_logits=from_logits, axis=axis)
        q = _softmax(xp, y) if from_logits else y
        score = xp.sum((q - rows) ** 2 + rows * (1 - rows), axis=-1)
    return _a.finish(_a.reduce(xp, score, reduction))


def focal_loss(
    t: Any,
    y: Any,
    *,
    gamma: float = 2.0,
    binary: bool = False,
    from_logits: bool = False,
    axis: int = -1,
    reduction: str = "mean",
) -> Any:
    r"""Focal loss: cross-entropy down-weighted on examples the model already gets right.

    For a forecast row :math:`q`, outcome :math:`j` and focusing parameter
    :math:`\gamma \ge 0` (Lin et al., 2017),

    .. math:: S_\gamma(q, j) = -(1 - q_j)^\gamma \log q_j ,

    and for target rows :math:`t` the expectation :math:`\sum_j t_j S_\gamma(q, j)`.
    :math:`\gamma = 0` is the log score. For :math:`\gamma > 0` the rule is *not*
    proper: the expected loss under :math:`p` is smallest at a forecast pulled towards
    the uniform one (:func:`focal_minimiser`). With ``binary=True``,
    :math:`\ell = -t (1 - y)^\gamma \log y - (1 - t)\, y^\gamma \log(1 - y)`.

    Each :math:`-\log q_j` comes from :func:`~celib.discrete.categorical_cross_entropy` (or
    :func:`~celib.discrete.binary_cross_entropy`), exact on logits, and :math:`1 - q_j` is computed
    as :math:`-\mathrm{expm1}(\log q_j)`, without cancellation when :math:`q_j \approx 1`.
    Soft target rows need :math:`-\log q_j` for every class: :math:`k^2` numbers per row.

    Parameters
    ----------
    t : array_like or torch.Tensor
        Integer labels or target probability rows (``binary=True``: targets in
        :math:`[0, 1]`).
    y : array_like or torch.Tensor
        Forecast probability rows along ``axis`` (``binary=True``: probabilities of the
        event), or logits if ``from_logits``.
    gamma : float, default 2.0
        Focusing parameter :math:`\gamma \ge 0`.
    binary : bool, default False
        One probability (or logit) of the event per example.
    from_logits : bool, default False
        Whether ``y`` holds logits.
    axis : int, default -1
        Class axis (ignored when ``binary``).
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    numpy.ndarray, numpy scalar or torch.Tensor
        The loss; torch autograd flows through it.

    Raises
    ------
    TypeError
        ``gamma`` not a real number, non-numeric input, float labels, flags not bool.
    ValueError
        ``gamma`` negative or not finite, and as :func:`brier_score`.

    See Also
    --------
    focal_minimiser : the forecast focal loss rewards in expectation.

    References
    ----------
    T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal loss for dense object
    detection", ICCV 2017.

    Examples
    --------
    >>> from celib.scoring import focal_loss
    >>> print(f"{focal_loss([0], [[0.7, 0.2, 0.1]], gamma=2.0):.6f}")
    0.032101
    >>> print(f"{focal_loss([0], [[0.7, 0.2, 0.1]], gamma=0.0):.6f}")
    0.356675
    """
    _a.check_reduction(reduction)
    gamma = _check_gamma(gamma)
    binary = _check_flag(binary, "binary")
    from_logits = _check_flag(from_logits, "from_logits")
    if binary:
        xp, t, y = _binary(t, y, from_logits=from_logits)
        # Feed a harmless value where a branch is unused: no inf * 0, no NaN gradient.
        fill = xp.full_like(y, 0.0 if from_logits else 0.5)
        hit, miss = t > 0, t < 1
        nll1 = binary_cross_entropy(
            xp.ones_like(y), xp.where(hit, y, fill), from_logits=from_logits, reduction="none"
        )
        nll0 = binary_cross_entropy(
            xp.zeros_like(y), xp.where(miss, y, fill), from_logits=from_logits, reduction="none"
        )
        zero = xp.zeros_like(y)
        loss = xp.where(hit, t * _focal_weight(xp, nll1, gamma) * nll1, zero) + xp.where(
            miss, (1 - t) * _focal_weight(xp, nll0, gamma) * nll0, zero
        )
        return _a.finish(_a.reduce(xp, loss, reduction))
    xp, rows, y, labels = _rows(t, y, from_logits=from_logits, axis=axis)
    if labels:
        t_arr = _a.namespace(t=t, y=y)[1]["t"]
        nll = categorical_cross_entropy(t_arr, y, from_logits=from_logits, reduction="none")
        loss = _focal_weight(xp, nll, gamma) * nll
        return _a.finish(_a.reduce(xp, loss, reduction))
    # Soft rows: -log q_j for every class j, one row per class (k copies of each row);
    # the rows of classes with t_j = 0 are replaced by a uniform one (masked out later).
    k = y.shape[-1]
    device = array_api_compat.device(y)
    used = xp.expand_dims(rows > 0, axis=-1)
    fill = xp.zeros_like(y) if from_logits else xp.full_like(y, 1.0 / k)
    y_rep = xp.where(used, xp.expand_dims(y, axis=-2), xp.expand_dims(fill, axis=-2))
    classes = xp.broadcast_to(xp.arange(k, device=device), rows.shape)
    nll = categorical_cross_entropy(classes, y_rep, from_logits=from_logits, reduction="none")
    terms = xp.where(rows > 0, rows * _focal_weight(xp, nll, gamma) * nll, xp.zeros_like(nll))
    return _a.finish(_a.reduce(xp, xp.sum(terms, axis=-1), reduction))


# --------------------------------------------------------------------------- focal minimiser


_Q_LO, _Q_HI = 1e-300, 1.0 - 2.0**-53  # the search interval for a probability


def _focal_log_h(q: float, gamma: float) -> float:
    r""":math:`\log h(q)`, :math:`h(q) = -\frac{d}{dq}\big[-(1-q)^\gamma \log q\big]
    = (1-q)^{\gamma-1}\big((1-q)/q - \gamma \log q\big)`, positive and decreasing on (0, 1).

    In logarithms, so that large ``gamma`` does not underflow :math:`(1-q)^\gamma`.
    """
    return (gamma - 1.0) * math.log1p(-q) + math.log((1.0 - q) / q - gamma * math.log(q))


def _focal_log_h_complement(x: float, gamma: float) -> float:
    r""":math:`\log h(1 - x)`, accurate for tiny ``x`` (where ``1 - x`` rounds to 1)."""
    return (gamma - 1.0) * math.log(x) + math.log(x / (1.0 - x) - gamma * math.log1p(-x))


def _focal_h(q: float, gamma: float) -> float:
    return math.exp(_focal_log_h(q, gamma))


def _focal_h_inverse(log_v: float, gamma: float) -> float:
    """The q in (0, 1) with log h(q) = log_v (clipped to the search interval)."""
    from scipy.optimize import brentq

    if _focal_log_h(_Q_HI, gamma) >= log_v:
        return _Q_HI
    if _focal_log_h(_Q_LO, gamma) <= log_v:
        return _Q_LO
    # in u = log q, so that roots near 0 are found to full relative precision too
    u = brentq(
        lambda u: _focal_log_h(math.exp(u), gamma) - log_v,
        math.log(_Q_LO),
        math.log(_Q_HI),
        xtol=1e-18,
        rtol=1e-15,
    )
    return math.exp(u)


def _focal_minimiser_row(p: NDArray[np.float64], gamma: float) -> NDArray[np.float64]:
    from scipy.optimize import brentq

    q = np.zeros_like(p)
    support = np.flatnonzero(p > 0)
    if support.size == 1:
        q[support] = 1.0
        return q
    ps = p[support]
    if support.size == 2:
        # One unknown, the probability x <= 1/2 of the less likely class s (the order is
        # kept): p_s h(x) = p_b h(1 - x), and the gap of the logs decreases in x.
        small = int(np.argmin(ps))
        log_ratio = math.log(ps[small]) - math.log(ps[1 - small])

        def gap(x: float) -> float:
            return log_ratio + _focal_log_h(x, gamma) - _focal_log_h_complement(x, gamma)

        if gap(0.5) >= 0:
            x = 0.5
        else:  # in u = log x, as x may be as small as 1e-300
            u = brentq(
                lambda u: gap(math.exp(u)), math.log(_Q_LO), math.log(0.5), xtol=1e-18, rtol=1e-15
            )
            x = math.exp(u)
        pair = np.empty(2)
        pair[small], pair[1 - small] = x, 1.0 - x
        q[support] = pair
        return q

    # Stationarity: p_j h(q_j) = lam for every j in the support, with sum_j q_j = 1.
    log_p = np.log(ps)

    def excess(log_lam: float) -> float:
        return sum(_focal_h_inverse(log_lam - lp, gamma) for lp in log_p) - 1.0

    lo, hi = -1.0, 1.0
    while excess(lo) < 0:
        lo -= 2.0
    while excess(hi) > 0:
        hi += 2.0
    log_lam = brentq(excess, lo, hi, xtol=1e-15, rtol=1e-15)
    qs = np.array([_focal_h_inverse(log_lam - lp, gamma) for lp in log_p])
    q[support] = qs / qs.sum()
    return q


def focal_minimiser(
    p: Any, *, gamma: float, binary: bool = False, axis: int = -1
) -> NDArray[np.float64]:
    r"""The forecast that minimises the expected focal loss when outcomes follow ``p``.

    .. math:: q^\star(p) = \argmin_{q \in \Delta_k}\;
              -\sum_j p_j\, (1 - q_j)^\gamma \log q_j .

    For :math:`\gamma = 0` (the log score) :math:`q^\star = p`; for :math:`\gamma > 0`
    the minimiser differs from :math:`p`: it is pulled towards the uniform forecast,
    while the order of the classes is kept (so is the arg max). Classes with
    :math:`p_j = 0` get :math:`q_j^\star = 0`. On the support the minimiser solves the
    stationarity conditions :math:`p_j h(q_j) = \lambda` with
    :math:`h(q) = (1-q)^\gamma / q - \gamma (1-q)^{\gamma-1} \log q`, positive and
    decreasing, and :math:`\sum_j q_j = 1`: one root in :math:`\log\lambda` (scipy's
    ``brentq``), each :math:`q_j` again by ``brentq``; with two classes, one root.

    Parameters
    ----------
    p : array_like or torch.Tensor
        Probability vectors along ``axis`` (``binary=True``: probabilities of the
        event, any shape).
    gamma : float
        Focusing parameter :math:`\gamma \ge 0`.
    binary : bool, default False
        ``p`` holds probabilities of the event; the result too.
    axis : int, default -1
        Class axis (ignored when ``binary``).

    Returns
    -------
    numpy.ndarray or numpy.float64
        :math:`q^\star`, the shape of ``p`` (a scalar for a scalar ``p`` when ``binary``).

    Raises
    ------
    TypeError
        Non-numeric ``p``, ``gamma`` not a real number, ``binary`` not a bool.
    ValueError
        ``p`` not probability vectors (``binary``: outside :math:`[0, 1]`), ``gamma``
        negative or not finite.

    Examples
    --------
    >>> from celib.scoring import focal_minimiser
    >>> print(f"{focal_minimiser(0.7, gamma=1.0, binary=True):.4f}")
    0.6172
    >>> print(f"{focal_minimiser(0.7, gamma=2.0, binary=True):.4f}")
    0.5785
    >>> focal_minimiser([0.5, 0.3, 0.2], gamma=0.0).round(6).tolist()
    [0.5, 0.3, 0.2]
    """
    gamma = _check_gamma(gamma)
    binary = _check_flag(binary, "binary")
    p_np = _to_numpy(p, "p")
    xp, arrs = _a.namespace(p=p_np)
    arr = np.asarray(_a.floating(xp, arrs["p"], "p"), dtype=np.float64)
    if binary:
        _a.check_probabilities(np, arr, "p", axis=None)
        rows = np.stack([1.0 - arr, arr], axis=-1)
    else:
        axis = _a.normalize_axis(axis, arr.ndim, array="p")
        _a.check_probabilities(np, arr, "p", axis)
        rows = np.moveaxis(arr, axis, -1)
        rows = rows / rows.sum(axis=-1, keepdims=True)
    flat = rows.reshape(-1, rows.shape[-1])
    if gamma == 0:
        out = flat.copy()
    else:
        out = np.stack([_focal_minimiser_row(row, gamma) for row in flat])
    out = out.reshape(rows.shape)
    if binary:
        return _a.finish(out[..., 1])
    return np.moveaxis(out, -1, axis)


# --------------------------------------------------------------------------- calibration


def _forecast_rows(
    t: Any, y: Any, *, binary: bool, from_logits: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64] | None]:
    """Numpy float64 target rows, forecast probability rows (n, k), integer labels or None."""
    t, y = _to_numpy(t, "t"), _to_numpy(y, "y")
    if binary:
        xp, tt, yy = _binary(t, y, from_logits=from_logits)
        tt = np.asarray(tt, dtype=np.float64).reshape(-1)
        yy = np.asarray(yy, dtype=np.float64).reshape(-1)
        if from_logits:
            yy = np.exp(
                -binary_cross_entropy(np.ones_like(yy), yy, from_logits=True, reduction="none")
            )
        rows = np.stack([1.0 - tt, tt], axis=-1)
        q = np.stack([1.0 - yy, yy], axis=-1)
        hard = np.all((tt == 0) | (tt == 1))
        return rows, q, tt.astype(np.int64) if hard else None
    xp, rows, yy, labels = _rows(t, y, from_logits=from_logits, axis=-1)
    rows = np.asarray(rows, dtype=np.float64)
    yy = np.asarray(yy, dtype=np.float64)
    q = _softmax(np, yy) if from_logits else yy / yy.sum(axis=-1, keepdims=True)
    k = q.shape[-1]
    rows, q = rows.reshape(-1, k), q.reshape(-1, k)
    lab = np.argmax(rows, axis=-1).astype(np.int64) if labels else None
    return rows, q, lab


def expected_calibration_error(
    t: Any,
    y: Any,
    *,
    n_bins: int = 10,
    binary: bool = False,
    from_logits: bool = False,
) -> float:
    r"""Expected calibration error of a classifier's confidence (Guo et al., 2017).

    Multiclass: the *confidence* of example :math:`i` is its largest probability
    :math:`\max_j q_{ij}`, and the event is that this arg max is the label. Binary: the
    probability of the event and the 0/1 label. The confidences are cut into ``n_bins``
    equal-width bins :math:`B_b` by :func:`celib.datasets.calibration_bins`, and

    .. math:: \mathrm{ECE} = \sum_b \frac{|B_b|}{n}\,
              \big|\,\mathrm{acc}(B_b) - \mathrm{conf}(B_b)\,\big| .

    Parameters
    ----------
    t : array_like or torch.Tensor
        Integer labels of shape (n,) (``binary=True``: 0/1 labels).
    y : array_like or torch.Tensor
        Probability rows of shape (n, k) (``binary=True``: shape (n,)), or logits if
        ``from_logits``.
    n_bins : int, default 10
        Number of equal-width bins.
    binary : bool, default False
        One probability (or logit) of the event per example.
    from_logits : bool, default False
        Whether ``y`` holds logits.

    Returns
    -------
    float
        The ECE, in :math:`[0, 1]`.

    Raises
    ------
    TypeError
        Soft (floating) targets, non-numeric input, ``n_bins`` not an integer, flags not
        bool.
    ValueError
        As :func:`celib.datasets.calibration_bins`; labels out of range; ``n_bins < 1``.

    Examples
    --------
    >>> from celib.scoring import expected_calibration_error
    >>> y = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]]
    >>> print(f"{expected_calibration_error([0, 1, 1, 1], y, n_bins=5):.4f}")
    0.3500
    """
    n_bins = _check_n_bins(n_bins)
    binary = _check_flag(binary, "binary")
    from_logits = _check_flag(from_logits, "from_logits")
    rows, q, labels = _forecast_rows(t, y, binary=binary, from_logits=from_logits)
    if labels is None:
        raise TypeError("t must hold class labels (0/1 when binary), not soft targets")
    if binary:
        return calibration_bins(q[:, 1], labels, n_bins).ece
    conf = q.max(axis=-1)
    correct = (np.argmax(q, axis=-1) == labels).astype(np.float64)
    return calibration_bins(conf, correct, n_bins).ece


class CalibrationRefinement(NamedTuple):
    r"""The calibration-refinement split of a mean score, from :func:`calibration_refinement`.

    ``score == calibration + refinement`` and ``refinement == uncertainty - resolution``
    (up to rounding).
    """

    #: Mean score of the grouped forecasts (each replaced by its group's mean forecast).
    score: float
    #: Mean divergence from the observed frequencies to the forecasts (0 if calibrated).
    calibration: float
    #: Mean entropy (generalised: the score's minimum) of the observed frequencies.
    refinement: float
    #: Entropy of the overall frequencies: the score of the constant base-rate forecast.
    uncertainty: float
    #: Mean divergence from the overall frequencies to the groups' frequencies.
    resolution: float


def calibration_refinement(
    t: Any,
    y: Any,
    *,
    score: str = "log",
    n_bins: int | None = None,
    binary: bool = False,
    from_logits: bool = False,
) -> CalibrationRefinement:
    r"""Split a mean score into calibration and refinement (DeGroot and Fienberg, 1983).

    The examples are grouped by their forecast. In group :math:`b` (with :math:`n_b`
    examples) let :math:`\bar q_b` be the mean forecast and :math:`c_b` the observed
    frequencies of the classes; :math:`\bar c` are the overall frequencies. For a proper
    score with divergence :math:`d` and entropy :math:`G(c) = S(c, c)` (log score:
    :math:`d = \mathrm{KL}`, :math:`G = H`; Brier: :math:`d(c, q) = \|c - q\|^2`,
    :math:`G(c) = 1 - \|c\|^2`),

    .. math::
        \frac1n \sum_b n_b\, S(c_b, \bar q_b)
        = \underbrace{\sum_b \tfrac{n_b}{n}\, d(c_b, \bar q_b)}_{\text{calibration}}
        + \underbrace{G(\bar c) - \sum_b \tfrac{n_b}{n}\, d(c_b, \bar c)}_{
          \text{refinement} \,=\, \text{uncertainty} - \text{resolution}} .

    With ``n_bins=None`` the groups are the distinct forecasts, and the left side is the
    mean score itself: exact for forecasts that take a few values. Continuous forecasts
    need ``n_bins``: binary forecasts are grouped by equal-width bins of :math:`y`,
    multiclass ones by their arg max and the bin of their largest probability (the bins of
    :func:`celib.datasets.calibration_bins`); ``score`` is then the mean score of the
    binned forecasts :math:`\bar q_b`, close to but not equal to the raw one.

    Parameters
    ----------
    t : array_like or torch.Tensor
        Integer labels or target probability rows (``binary=True``: targets in
        :math:`[0, 1]`).
    y : array_like or torch.Tensor
        Forecast probability rows (n, k) (``binary=True``: shape (n,)), or logits.
    score : {"log", "brier"}, default "log"
        The proper score to split.
    n_bins : int, optional
        Group by bins instead of by distinct forecasts.
    binary : bool, default False
        One probability (or logit) of the event per example; the Brier terms are then
        those of :math:`(y - t)^2`, half the two-class row form.
    from_logits : bool, default False
        Whether ``y`` holds logits.

    Returns
    -------
    CalibrationRefinement
        ``score``, ``calibration``, ``refinement``, ``uncertainty``, ``resolution`` (nats
        for the log score).

    Raises
    ------
    TypeError
        Non-numeric input, ``n_bins`` not an integer, flags not bool.
    ValueError
        Unknown ``score``, ``n_bins < 1``, and as :func:`brier_score`.

    References
    ----------
    M. H. DeGroot and S. E. Fienberg, "The comparison and evaluation of forecasters",
    The Statistician 32 (1983). J. Bröcker, "Reliability, sufficiency, and the
    decomposition of proper scores", Q. J. R. Meteorol. Soc. 135 (2009).

    Examples
    --------
    >>> from celib.scoring import calibration_refinement
    >>> parts = calibration_refinement([1, 0, 1, 1], [0.5, 0.5, 0.9, 0.9], binary=True)
    >>> print(f"{parts.score:.6f} = {parts.calibration:.6f} + {parts.refinement:.6f}")
    0.399254 = 0.052680 + 0.346574
    """
    score = _check_score(score)
    binary = _check_flag(binary, "binary")
    from_logits = _check_flag(from_logits, "from_logits")
    rows, q, _ = _forecast_rows(t, y, binary=binary, from_logits=from_logits)
    n, k = q.shape
    if n_bins is None:
        _, groups = np.unique(q, axis=0, return_inverse=True)
        groups = groups.reshape(-1)
    else:
        n_bins = _check_n_bins(n_bins)
        if binary:
            groups = _bin_index(q[:, 1], n_bins)
        else:
            groups = np.argmax(q, axis=-1) * n_bins + _bin_index(q.max(axis=-1), n_bins)
    _, groups = np.unique(groups, return_inverse=True)
    m = int(groups.max()) + 1
    size = np.bincount(groups, minlength=m).astype(np.float64)
    weight = size / n
    c = np.stack([np.bincount(groups, weights=rows[:, j], minlength=m) for j in range(k)], -1)
    qbar = np.stack([np.bincount(groups, weights=q[:, j], minlength=m) for j in range(k)], -1)
    c, qbar = c / size[:, None], qbar / size[:, None]
    cbar = rows.mean(axis=0)
    c = c / c.sum(axis=-1, keepdims=True)
    qbar = qbar / qbar.sum(axis=-1, keepdims=True)
    cbar = cbar / cbar.sum()
    if score == "log":
        cal = kl_divergence(c, qbar)
        res = kl_divergence(c, np.broadcast_to(cbar, c.shape))
        unc = float(entropy(cbar))
        ref_b = entropy(c)
    else:
        half = 0.5 if binary else 1.0
        cal = half * np.sum((c - qbar) ** 2, axis=-1)
        res = half * np.sum((c - cbar) ** 2, axis=-1)
        unc = half * float(1.0 - np.sum(cbar**2))
        ref_b = half * (1.0 - np.sum(c**2, axis=-1))
    calibration = float(np.sum(weight * cal))
    refinement = float(np.sum(weight * ref_b))
    resolution = float(np.sum(weight * res))
    return CalibrationRefinement(calibration + refinement, calibration, refinement, unc, resolution)


# --------------------------------------------------------------------------- temperature


def fit_temperature(
    t: Any,
    logits: Any,
    *,
    binary: bool = False,
    bounds: tuple[float, float] = (0.01, 100.0),
) -> float:
    r"""Temperature scaling: the one :math:`T > 0` that minimises held-out cross-entropy.

    .. math:: \hat T = \argmin_{T > 0}\; \frac1n \sum_{i=1}^n
              -\log \operatorname{softmax}(x_i / T)_{t_i} ,

    minimised over :math:`\log T` by scipy's bounded ``minimize_scalar`` (the loss is
    computed by :func:`~celib.discrete.categorical_cross_entropy`, or
    :func:`~celib.discrete.binary_cross_entropy` for one logit per example). Dividing the logits by
    :math:`\hat T` leaves every arg max, so the accuracy, unchanged; it fixes the
    model's confidence (Guo et al., 2017). Fit it on data the model was not trained on.

    Parameters
    ----------
    t : array_like or torch.Tensor
        Integer labels of shape (n,) or target rows (n, k) (``binary=True``: targets in
        :math:`[0, 1]` of shape (n,)).
    logits : array_like or torch.Tensor
        Logits of shape (n, k) (``binary=True``: shape (n,)).
    binary : bool, default False
        One logit per example.
    bounds : (float, float), default (0.01, 100.0)
        Search interval for :math:`T`; a result at a bound means the optimum lies
        beyond it (for instance, held-out data that every logit already separates).

    Returns
    -------
    float
        :math:`\hat T`; above 1 for an overconfident model.

    Raises
    ------
    TypeError
        Non-numeric input, ``bounds`` not a pair of numbers, ``binary`` not a bool.
    ValueError
        ``bounds`` not :math:`0 < \text{low} < \text{high}`, and as
        :func:`~celib.discrete.categorical_cross_entropy` with ``from_logits=True``.

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of modern neural
    networks", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from celib.scoring import fit_temperature
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(4000, 3))
    >>> q = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    >>> labels = (rng.random((4000, 1)) > q.cumsum(axis=1)).sum(axis=1)
    >>> print(f"{fit_temperature(labels, 3.0 * x):.2f}")
    3.02
    """
    binary = _check_flag(binary, "binary")
    lo, hi = _check_bounds(bounds)
    t_np, x_np = _to_numpy(t, "t"), _to_numpy(logits, "logits")
    xp, arrs = _a.namespace(t=t_np, logits=x_np)
    x = np.asarray(_a.floating(xp, arrs["logits"], "logits"), dtype=np.float64)
    _a.check_finite(np, x, "logits", "logits")
    if x.ndim == 0 or (not binary and x.shape[-1] == 0) or x.size == 0:
        raise ValueError(
            f"logits must hold one row of class scores per example (or one score per "
            f"example with binary=True), got shape {x.shape}"
        )
    tt = arrs["t"]
    if np.issubdtype(tt.dtype, np.floating):
        tt = tt.astype(np.float64)

    def loss(log_temp: float) -> float:
        scaled = x / math.exp(log_temp)
        return float(log_score(tt, scaled, binary=binary, from_logits=True))

    loss(0.0)  # validates t against the logits before the search
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(
        loss,
        bounds=(math.log(lo), math.log(hi)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return float(min(max(math.exp(res.x), lo), hi))
