r"""Synthetic data and calibration bins for the book's worked examples.

The Bernoulli and multinomial chapters fit models whose truth is known:

* :func:`logistic_data` draws labelled points from a logistic-regression model, so
  that the maximum-likelihood fit can be compared with the parameters that made the
  data;
* :func:`gaussian_blobs` draws labelled points from Gaussian clusters in the plane, the
  classic toy problem for softmax regression;
* :func:`calibration_bins` sorts predicted probabilities into bins and compares each
  bin's mean prediction with the observed frequency, the numbers behind a reliability
  diagram and the expected calibration error.

Everything here is numpy; random draws come from the ``rng`` argument (a
``numpy.random.Generator`` or an int seed), so the same call with the same seed returns
the same arrays on every machine.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from celib import _checks, _docs

__all__ = ["CalibrationBins", "calibration_bins", "gaussian_blobs", "logistic_data"]


@_docs.fill()
def logistic_data(
    n: int,
    weights: ArrayLike,
    bias: float = 0.0,
    *,
    rng: np.random.Generator | int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Draw a data set from a logistic-regression model.

    Features are standard normal, :math:`a_i \sim \mathcal{N}(0, I_d)`, and labels are
    Bernoulli with the logistic link,

    .. math:: t_i \mid a_i \sim \mathrm{Bernoulli}\big(\sigma(w^\top a_i + b)\big),
              \qquad \sigma(z) = \frac{1}{1 + e^{-z}} .

    Parameters
    ----------
    n : int
        Number of points (at least 1).
    weights : array_like of shape (d,)
        The true weight vector :math:`w` (finite, :math:`d \ge 1`).
    bias : float, default 0.0
        The true intercept :math:`b`.
    %(rng)s

    Returns
    -------
    a : ndarray of shape (n, d), float64
        The features :math:`a_i` (the book's notation; :math:`x` is a logit).
    t : ndarray of shape (n,), float64
        The labels, 0.0 or 1.0.

    Raises
    ------
    TypeError
        ``n`` is not an int (a float, a bool, None), ``weights`` not real numbers
        (None, strings, a ragged list, complex), ``bias`` not a real number (a list),
        ``rng`` neither a Generator nor an int.
    ValueError
        ``n < 1``, ``weights`` not a non-empty vector, non-finite ``weights`` or ``bias``,
        a negative seed.

    See Also
    --------
    celib.discrete.binary_cross_entropy : the loss whose minimiser recovers :math:`w, b`.

    Examples
    --------
    >>> from celib.datasets import logistic_data
    >>> a, t = logistic_data(5, [2.0, -1.0], 0.5, rng=0)
    >>> a.shape, t.shape
    ((5, 2), (5,))
    >>> sorted(set(t.tolist())) <= [0.0, 1.0]
    True
    """
    n = _checks.count(n, "n", 1)
    w = _checks.real_array(weights, "weights", ndim=1)
    b = _checks.real_scalar(bias, "bias")
    rng = _checks.rng(rng)
    x = rng.standard_normal((n, w.size))
    logits = x @ w + b
    # P(t = 1) = sigmoid(logit); compare uniforms on the log scale-free form
    # u < sigmoid(z)  <=>  log(u) - log1p(-u) < z, which never overflows.
    u = rng.random(n)
    t = (np.log(u) - np.log1p(-u) < logits).astype(np.float64)
    return x, t


@_docs.fill()
def gaussian_blobs(
    n_per_class: int,
    centers: ArrayLike,
    *,
    scale: float = 1.0,
    rng: np.random.Generator | int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""Draw labelled points from isotropic Gaussian clusters, one per class.

    Class :math:`c` contributes ``n_per_class`` points
    :math:`a \sim \mathcal{N}(\mu_c, s^2 I)` with :math:`\mu_c` the row ``centers[c]``
    and :math:`s` = ``scale``; the points are returned shuffled.

    Parameters
    ----------
    n_per_class : int
        Points per class (at least 1).
    centers : array_like of shape (k, d)
        The cluster means, one row per class (:math:`k \ge 1`, :math:`d \ge 1`).
    scale : float, default 1.0
        Standard deviation :math:`s > 0` of every coordinate.
    %(rng)s

    Returns
    -------
    a : ndarray of shape (k * n_per_class, d), float64
        The points.
    labels : ndarray of shape (k * n_per_class,), int64
        Their classes, in ``0 .. k - 1``.

    Raises
    ------
    TypeError
        ``n_per_class`` is not an int, ``centers`` not real numbers (complex, strings,
        a ragged list), ``scale`` not a real number, ``rng`` neither a Generator nor an
        int.
    ValueError
        ``n_per_class < 1``, ``centers`` not a non-empty 2-D array, non-finite
        ``centers``, ``scale`` not positive and finite, a negative seed.

    See Also
    --------
    celib.discrete.categorical_cross_entropy : the loss of softmax regression.
    celib.plotting.decision_regions : draws a classifier of such points.

    Examples
    --------
    >>> from celib.datasets import gaussian_blobs
    >>> a, labels = gaussian_blobs(4, [[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]], rng=0)
    >>> a.shape, labels.tolist().count(2)
    ((12, 2), 4)
    """
    n = _checks.count(n_per_class, "n_per_class", 1)
    mu = _checks.real_array(centers, "centers", ndim=2)
    s = _checks.real_scalar(scale, "scale", positive=True)
    rng = _checks.rng(rng)
    k, d = mu.shape
    labels = np.repeat(np.arange(k, dtype=np.int64), n)
    x = mu[labels] + s * rng.standard_normal((k * n, d))
    order = rng.permutation(k * n)
    return x[order], labels[order]


class CalibrationBins(NamedTuple):
    """Per-bin calibration statistics, returned by :func:`calibration_bins`."""

    #: Bin edges, shape (n_bins + 1,), from 0 to 1.
    edges: NDArray[np.float64]
    #: Number of predictions in each bin, shape (n_bins,).
    count: NDArray[np.int64]
    #: Mean predicted probability in each bin (NaN where ``count == 0``).
    confidence: NDArray[np.float64]
    #: Observed frequency of the event in each bin (NaN where ``count == 0``).
    frequency: NDArray[np.float64]
    #: Expected calibration error: the count-weighted mean of
    #: ``|frequency - confidence|`` over the non-empty bins.
    ece: float


def calibration_bins(probs: ArrayLike, targets: ArrayLike, n_bins: int = 10) -> CalibrationBins:
    r"""Bin predicted probabilities and compare them with observed frequencies.

    The interval :math:`[0, 1]` is cut into ``n_bins`` equal bins :math:`B_b` (the last
    one closed). For the predictions :math:`p_i` that fall into :math:`B_b` the bin's
    *confidence* is their mean and its *frequency* the mean of the targets
    :math:`t_i \in \{0, 1\}`; a calibrated model has the two equal in every bin. The
    expected calibration error (Guo et al., 2017) weighs the gaps by the bins' sizes:

    .. math:: \mathrm{ECE} = \sum_b \frac{|B_b|}{n}\,
              \Big|\frac{1}{|B_b|}\sum_{i \in B_b} t_i
              - \frac{1}{|B_b|}\sum_{i \in B_b} p_i\Big| .

    For a binary model pass :math:`p_i = P(t_i = 1)` and the 0/1 labels. For a
    multiclass model's *confidence* calibration pass the largest probability of each
    row and whether that class was right.

    Parameters
    ----------
    probs : array_like of shape (n,)
        Predicted probabilities, in :math:`[0, 1]`.
    targets : array_like of shape (n,)
        Outcomes, 0 or 1 (bool or numbers).
    n_bins : int, default 10
        Number of equal-width bins (at least 1).

    Returns
    -------
    CalibrationBins
        ``edges``, ``count``, ``confidence``, ``frequency`` (one entry per bin; the
        last two are NaN for empty bins, whose count is 0) and ``ece``.

    Raises
    ------
    TypeError
        ``n_bins`` is not an int; ``probs`` or ``targets`` not real numbers (complex,
        strings, None, a ragged list).
    ValueError
        ``probs`` and ``targets`` are not 1-D of the same non-zero length,
        probabilities outside :math:`[0, 1]` or NaN, targets other than 0 and 1,
        ``n_bins < 1``.

    See Also
    --------
    celib.plotting.reliability_diagram : draws these numbers.

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of modern neural
    networks", *Proceedings of the 34th International Conference on Machine Learning*
    (2017), 1321-1330.

    Examples
    --------
    >>> from celib.datasets import calibration_bins
    >>> bins = calibration_bins([0.1, 0.2, 0.8, 0.9], [0, 1, 1, 1], n_bins=2)
    >>> bins.count.tolist(), bins.frequency.tolist()
    ([2, 2], [0.5, 1.0])
    >>> print(f"{bins.ece:.3f}")
    0.250
    """
    n_bins = _checks.count(n_bins, "n_bins", 1)
    p = _checks.real_array(probs, "probs", ndim=1)
    t = _checks.real_array(targets, "targets", ndim=1)
    if t.shape != p.shape:
        raise ValueError(f"targets must have the shape of probs {p.shape}, got {t.shape}")
    if np.any((p < 0) | (p > 1)):
        bad = p[(p < 0) | (p > 1)][0]
        raise ValueError(f"probs must lie in [0, 1], got {float(bad)}")
    if np.any((t != 0) & (t != 1)):
        bad = t[(t != 0) & (t != 1)][0]
        raise ValueError(f"targets must be 0 or 1 (the event happened or not), got {float(bad)}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = _bin_index(p, n_bins)
    count = np.bincount(which, minlength=n_bins).astype(np.int64)
    sum_p = np.bincount(which, weights=p, minlength=n_bins)
    sum_t = np.bincount(which, weights=t, minlength=n_bins)
    full = count > 0
    confidence = np.full(n_bins, np.nan)
    frequency = np.full(n_bins, np.nan)
    confidence[full] = sum_p[full] / count[full]
    frequency[full] = sum_t[full] / count[full]
    ece = float(np.sum(np.abs(sum_t[full] - sum_p[full])) / p.size)
    return CalibrationBins(edges, count, confidence, frequency, ece)


def _bin_index(p: NDArray[np.float64], n_bins: int) -> NDArray[np.int64]:
    """Equal-width bin of each probability in [0, 1] (1 falls in the last bin)."""
    return np.minimum((p * n_bins).astype(np.int64), n_bins - 1)


# --------------------------------------------------------------------------- real data


class DigitsSplit(NamedTuple):
    """The digits data cut into train, validation and test sets, by :func:`load_digits`.

    Each field is a pair ``(features, labels)``: features of shape (m, 64), float64 in
    :math:`[0, 1]`, and labels of shape (m,), int64 in ``0 .. 9``.
    """

    #: Training examples.
    train: tuple[NDArray[np.float64], NDArray[np.int64]]
    #: Held-out examples for choices made after training (empty when not asked for).
    validation: tuple[NDArray[np.float64], NDArray[np.int64]]
    #: Test examples.
    test: tuple[NDArray[np.float64], NDArray[np.int64]]


def _digits_rng(rng: object) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer):
        raise TypeError(f"rng must be a numpy.random.Generator or an int seed, got {rng!r}")
    if rng < 0:
        raise ValueError(f"rng must be a non-negative seed, got {rng}")
    return np.random.default_rng(int(rng))


def _digits_fraction(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not 0.0 <= value < 1.0:  # also rejects NaN
        raise ValueError(f"{name} must lie in [0, 1), got {value}")
    return value


def load_digits(
    *,
    test_fraction: float = 0.25,
    validation_fraction: float = 0.0,
    rng: np.random.Generator | int = 0,
) -> DigitsSplit:
    r"""The handwritten digits of scikit-learn: 1797 images of 8x8 pixels, 10 classes.

    A thin wrapper around ``sklearn.datasets.load_digits`` (the data ship inside the
    scikit-learn wheel: nothing is downloaded). The pixel values, integers from 0 to 16,
    are divided by 16, so the features lie in :math:`[0, 1]`; the examples are shuffled
    by ``rng`` and cut into test, validation and training sets, in that order, of
    ``round(test_fraction * 1797)``, ``round(validation_fraction * 1797)`` and the
    remaining examples. The same ``rng`` gives the same split on every machine.

    Parameters
    ----------
    test_fraction : float, default 0.25
        Share of the examples kept for the test set, in :math:`[0, 1)`.
    validation_fraction : float, default 0.0
        Share kept for a validation set (for instance to fit a temperature), in
        :math:`[0, 1)`.
    rng : numpy.random.Generator or int, default 0
        The generator, or its seed, that shuffles the examples.

    Returns
    -------
    DigitsSplit
        ``train``, ``validation`` and ``test``, each ``(features, labels)``.

    Raises
    ------
    ImportError
        scikit-learn is not installed (it comes with the ``dev`` extra,
        ``pip install celib[dev]``, or ``pip install scikit-learn``).
    TypeError
        A fraction that is not a number, ``rng`` not a Generator or an int.
    ValueError
        A fraction outside :math:`[0, 1)`, fractions that leave no training example,
        a negative seed.

    References
    ----------
    E. Alpaydin and C. Kaynak, "Optical recognition of handwritten digits", UCI Machine
    Learning Repository (1998).

    Examples
    --------
    >>> from celib.datasets import load_digits
    >>> digits = load_digits(test_fraction=0.25, validation_fraction=0.25, rng=0)
    >>> [features.shape for features, labels in digits]
    [(899, 64), (449, 64), (449, 64)]
    >>> features, labels = digits.train
    >>> float(features.min()), float(features.max()), sorted(set(labels.tolist()))[-1]
    (0.0, 1.0, 9)
    """
    test_fraction = _digits_fraction(test_fraction, "test_fraction")
    validation_fraction = _digits_fraction(validation_fraction, "validation_fraction")
    generator = _digits_rng(rng)
    try:
        from sklearn.datasets import load_digits as _sklearn_load_digits
    except ImportError as exc:  # pragma: no cover - scikit-learn is in the dev extra
        raise ImportError(
            "celib.datasets.load_digits needs scikit-learn, which ships the data: install "
            "the 'dev' extra (pip install 'celib[dev]') or scikit-learn itself"
        ) from exc
    bunch = _sklearn_load_digits()
    features = np.asarray(bunch.data, dtype=np.float64) / 16.0
    labels = np.asarray(bunch.target, dtype=np.int64)
    n = labels.size
    n_test = round(test_fraction * n)
    n_val = round(validation_fraction * n)
    if n_test + n_val >= n:
        raise ValueError(
            f"test_fraction + validation_fraction must leave training examples, got "
            f"{test_fraction} + {validation_fraction}"
        )
    order = generator.permutation(n)
    test, val, train = np.split(order, [n_test, n_test + n_val])
    return DigitsSplit(
        (features[train], labels[train]),
        (features[val], labels[val]),
        (features[test], labels[test]),
    )


__all__ += ["DigitsSplit", "load_digits"]
