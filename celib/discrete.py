r"""Entropy, cross-entropy and KL divergence of probability vectors.

The discrete case of the book (chapter *The discrete case*): for probability mass
functions :math:`p, q` on :math:`k` outcomes,

.. math::

   H(p) = -\sum_i p_i \log p_i, \qquad
   H(p, q) = -\sum_i p_i \log q_i, \\
   \mathrm{KL}(p \,\|\, q) = \sum_i p_i \log \frac{p_i}{q_i},

and the two training losses of the source note, binary (Bernoulli) and categorical
(multinomial) cross-entropy, on probabilities or on logits.

Every function takes numpy arrays or torch tensors (on any device) and returns the
same kind, with the dtype kept; torch autograd flows through. Conventions: natural
logarithm unless ``base`` is given; :math:`0 \log 0 = 0`; :math:`p_i > 0 = q_i` gives
:math:`+\infty`; bad input raises ``ValueError`` or ``TypeError`` naming the argument.
The truth comes first: ``(p, q)`` as in :math:`H(p, q)`, and ``(t, y)`` (targets, then
the prediction) for the losses; see "API conventions" on the API page.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from celib import _checks as _a
from celib import _docs
from celib.nn import _kernel  # the one kernel of the losses (imports no torch)

__all__ = [
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "cross_entropy",
    "entropy",
    "kl_divergence",
    "shannon_code",
]

# Docstring fragments shared by this module's functions (see celib._docs).
_FRAGMENTS = {
    "notes_empty_mean": """\
The mean of no losses is 0/0: empty input with ``reduction="mean"`` raises a
    ValueError rather than return NaN (``"sum"`` gives 0, ``"none"`` an empty array).
    The drop-ins of :mod:`celib.nn` return NaN there, as PyTorch does.""",
    "references_losses": """\
C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer (2006),
    sections 4.3.2 and 4.3.4.""",
    "raises_pair": """\
ValueError
        NaN/inf, negative mass, rows not summing to 1 (within :math:`\\sqrt{\\varepsilon}`
        of the dtype), shapes that do not broadcast, arrays on different devices, an
        ``axis`` out of range, a ``base`` that is not positive, finite and not 1.
    TypeError
        Mixed numpy/torch arguments; None, strings, ragged lists, complex input; an
        ``axis`` that is not an int, a ``base`` that is not a number.""",
    "references_it": """\
C. E. Shannon, "A mathematical theory of communication", *Bell System Technical
    Journal* 27 (1948), 379-423 and 623-656.

    T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd ed., Wiley
    (2006), chapter 2.""",
}

# |x| below which phi(x) = (1 + x) log1p(x) - x is summed as a series (see _phi).
_PHI_SERIES_BOUND = 0.2
_PHI_SERIES_TERMS = 26


def _prepare_pair(p: Any, q: Any, axis: int) -> tuple[Any, Any, Any, int]:
    xp, arrs = _a.namespace(p=p, q=q)
    p = _a.floating(xp, arrs["p"], "p")
    q = _a.floating(xp, arrs["q"], "q")
    p, q = _a.common_float(xp, p, q)
    p, q = _a.broadcast(xp, ("p", "q"), p, q)
    axis = _a.normalize_axis(axis, p.ndim, array="p and q")
    _a.check_probabilities(xp, p, "p", axis)
    _a.check_probabilities(xp, q, "q", axis)
    return xp, p, q, axis


def _in_base(value: Any, base: float | None) -> Any:
    return _a.finish(_a.to_base(value, base))


@_docs.fill(**_FRAGMENTS)
def entropy(p: Any, *, base: float | None = None, axis: int = -1) -> Any:
    r"""Shannon entropy of probability vectors along ``axis``.

    .. math:: H(p) = -\sum_{i=1}^{k} p_i \log p_i, \qquad 0 \log 0 = 0 .

    Parameters
    ----------
    p : array_like or torch.Tensor
        Probabilities along ``axis``: finite, non-negative, summing to 1 (within
        :math:`\sqrt{\varepsilon}` of the dtype). Other axes are a batch.
    %(base)s
    %(axis)s

    Returns
    -------
    numpy.ndarray, numpy scalar or torch.Tensor
        :math:`H(p)`, reduced over ``axis``; same array kind, device and dtype as ``p``.

    Raises
    ------
    ValueError
        NaN or infinite entries, negative mass, rows not summing to 1, bad ``axis``
        or ``base``.
    TypeError
        Non-numeric or complex input.

    See Also
    --------
    celib.discrete.cross_entropy : :math:`H(p, q)`, equal to :math:`H(p)` for :math:`q = p`.
    celib.measure.entropy : the entropy of a distribution (differential for a density).

    References
    ----------
    %(references_it)s

    Examples
    --------
    >>> from celib import entropy
    >>> print(f"{entropy([0.5, 0.5], base=2):.6f}")
    1.000000
    >>> print(f"{entropy([1.0, 0.0]):.6f}")
    0.000000
    """
    xp, arrs = _a.namespace(p=p)
    p = _a.floating(xp, arrs["p"], "p")
    axis = _a.normalize_axis(axis, p.ndim, array="p")
    _a.check_probabilities(xp, p, "p", axis)
    positive = p > 0
    p_safe = xp.where(positive, p, xp.ones_like(p))
    terms = xp.where(positive, p * xp.log(p_safe), xp.zeros_like(p))
    return _in_base(0.0 - xp.sum(terms, axis=axis), base)


@_docs.fill(**_FRAGMENTS)
def cross_entropy(p: Any, q: Any, *, base: float | None = None, axis: int = -1) -> Any:
    r"""Cross-entropy of ``q`` relative to ``p``, along ``axis``.

    .. math:: H(p, q) = -\sum_{i=1}^{k} p_i \log q_i
              = H(p) + \mathrm{KL}(p \,\|\, q) \;\ge\; H(p).

    Terms with :math:`p_i = 0` contribute 0 (also where :math:`q_i = 0`, and their
    gradient is 0, not NaN); a term with :math:`p_i > 0 = q_i` makes the result
    :math:`+\infty`.

    Parameters
    ----------
    p : array_like or torch.Tensor
        The distribution the outcomes come from (probabilities along ``axis``).
    q : array_like or torch.Tensor
        The model distribution; broadcast against ``p``.
    %(base)s
    %(axis)s

    Returns
    -------
    numpy.ndarray, numpy scalar or torch.Tensor
        :math:`H(p, q)` reduced over ``axis``.

    Raises
    ------
    %(raises_pair)s

    See Also
    --------
    celib.discrete.entropy : :math:`H(p)`.
    celib.discrete.kl_divergence : :math:`\mathrm{KL}(p \,\|\, q) = H(p, q) - H(p)`.
    celib.measure.cross_entropy : the same for distributions on a measure space.

    References
    ----------
    %(references_it)s

    Examples
    --------
    >>> from celib import cross_entropy
    >>> print(f"{cross_entropy([0.5, 0.5], [0.25, 0.75], base=2):.6f}")
    1.207519
    >>> cross_entropy([0.5, 0.5], [1.0, 0.0])
    np.float64(inf)
    """
    xp, p, q, axis = _prepare_pair(p, q, axis)
    positive = p > 0
    q_safe = xp.where(positive, q, xp.ones_like(q))
    with np.errstate(divide="ignore"):  # log 0 = -inf is the intended +inf
        terms = xp.where(positive, p * xp.log(q_safe), xp.zeros_like(p))
    return _in_base(0.0 - xp.sum(terms, axis=axis), base)


def _phi_series(xp: Any, x: Any) -> Any:
    r""":math:`\varphi(x) = (1 + x)\log(1 + x) - x` for :math:`|x| \le 0.2`.

    There the direct formula cancels (:math:`\varphi(x) \approx x^2/2`), so we sum
    :math:`\varphi(x) = \sum_{n \ge 2} (-1)^n x^n / (n(n-1))`; with 26 terms the
    truncation error is below :math:`10^{-19}` relative.
    """
    series = xp.zeros_like(x)
    for n in range(_PHI_SERIES_TERMS + 1, 1, -1):
        series = series * x + (1.0 if n % 2 == 0 else -1.0) / (n * (n - 1))
    return series * x * x


@_docs.fill(**_FRAGMENTS)
def kl_divergence(p: Any, q: Any, *, base: float | None = None, axis: int = -1) -> Any:
    r"""Kullback–Leibler divergence :math:`\mathrm{KL}(p \,\|\, q)` along ``axis``.

    .. math:: \mathrm{KL}(p \,\|\, q) = \sum_{i:\, p_i > 0} p_i \log \frac{p_i}{q_i}
              = H(p, q) - H(p) \;\ge\; 0 .

    Since :math:`\sum_i p_i = \sum_i q_i = 1`, it equals
    :math:`\sum_i \big(p_i \log(p_i/q_i) - p_i + q_i\big)`, a sum of non-negative
    terms, and that is what is computed, each term as
    :math:`q_i\,\varphi\big((p_i - q_i)/q_i\big)` with
    :math:`\varphi(x) = (1+x)\log(1+x) - x` summed as a series where
    :math:`|p_i - q_i| \le 0.2\, q_i` (and :math:`q_i` where :math:`p_i = 0`). So the
    result is never negative, and the divergence of two nearly equal distributions
    keeps its digits where the textbook sum of :math:`\pm` terms, or
    :math:`H(p,q) - H(p)`, loses them all. (For inputs normalised only to within the
    tolerance, the two forms differ by at most that tolerance.)

    Parameters
    ----------
    p, q : array_like or torch.Tensor
        Probabilities along ``axis`` (broadcast against each other).
    %(base)s
    %(axis)s

    Returns
    -------
    numpy.ndarray, numpy scalar or torch.Tensor
        :math:`\mathrm{KL}(p \,\|\, q)`; :math:`+\infty` if some :math:`p_i > 0 = q_i`.

    Raises
    ------
    %(raises_pair)s

    See Also
    --------
    celib.discrete.cross_entropy : :math:`H(p, q) = H(p) + \mathrm{KL}(p \,\|\, q)`.
    celib.measure.kl_divergence : the same for distributions on a measure space.

    References
    ----------
    %(references_it)s

    Examples
    --------
    >>> from celib import kl_divergence
    >>> print(f"{kl_divergence([0.5, 0.5], [0.25, 0.75]):.6f}")
    0.143841
    >>> print(f"{kl_divergence([0.5 + 1e-9, 0.5 - 1e-9], [0.5, 0.5]):.6e}")
    2.000000e-18
    """
    xp, p, q, axis = _prepare_pair(p, q, axis)
    positive = p > 0
    finite = positive & (q > 0)
    q_safe = xp.where(finite, q, xp.ones_like(q))
    p_safe = xp.where(finite, p, xp.ones_like(p))
    # Each term is p log(p/q) - p + q >= 0 (and q where p = 0). Where p is within 20 %
    # of q it is q * phi((p - q)/q), summed as a series; elsewhere nothing cancels.
    diff = p_safe - q_safe
    near = xp.abs(diff) <= _PHI_SERIES_BOUND * q_safe
    x = xp.where(near, diff, xp.zeros_like(q)) / q_safe
    p_far = xp.where(near, xp.ones_like(p), p_safe)
    q_far = xp.where(near, xp.ones_like(q), q_safe)
    far = p_far * (xp.log(p_far) - xp.log(q_far)) - (p_far - q_far)
    terms = xp.where(near, q_safe * _phi_series(xp, x), far)
    terms = xp.where(finite, terms, xp.where(positive, xp.zeros_like(q), q))
    kl = xp.sum(terms, axis=axis)
    blows_up = xp.any(positive & (q == 0), axis=axis)
    kl = xp.where(blows_up, xp.full_like(kl, float("inf")), kl)
    return _in_base(kl, base)


def _binary_pair(t: Any, y: Any, *, from_logits: bool) -> tuple[Any, Any, Any]:
    """Binary targets in [0, 1] and probabilities (or finite logits), broadcast together:
    the validation of every binary loss and score (here and in :mod:`celib.scoring`)."""
    xp, arrs = _a.namespace(t=t, y=y)
    t = _a.floating(xp, arrs["t"], "t")
    y = _a.floating(xp, arrs["y"], "y")
    t, y = _a.common_float(xp, t, y)
    t, y = _a.broadcast(xp, ("t", "y"), t, y)
    _a.check_finite(xp, t, "t", "targets")
    if bool(xp.any((t < 0) | (t > 1))):
        raise ValueError("t has targets outside [0, 1]; binary targets are probabilities of 1")
    if from_logits:
        _a.check_finite(xp, y, "y", "logits")
    else:
        _a.check_probabilities(xp, y, "y", axis=None)
    return xp, t, y


@_docs.fill(**_FRAGMENTS)
def binary_cross_entropy(
    t: Any, y: Any, *, from_logits: bool = False, reduction: str = "mean"
) -> Any:
    r"""Binary cross-entropy: the Bernoulli negative log-likelihood.

    With targets :math:`t_i \in [0, 1]` and predicted probabilities :math:`y_i`,

    .. math:: \ell_i = -\big[t_i \log y_i + (1 - t_i) \log(1 - y_i)\big],

    and the result is :math:`\frac1n \sum_i \ell_i` (``"mean"``), :math:`\sum_i \ell_i`
    (``"sum"``) or the :math:`\ell_i` (``"none"``). With ``from_logits=True``, ``y``
    holds logits :math:`x_i` (:math:`y_i = \sigma(x_i)`) and the loss is evaluated as

    .. math:: \ell_i = (1 - t_i)\,x_i + \log\big(1 + e^{-x_i}\big) \;(x_i \ge 0), \\
              \ell_i = -t_i\,x_i + \log\big(1 + e^{x_i}\big) \;(x_i < 0),

    which never forms :math:`\sigma(x)` and so keeps losses like
    :math:`\log(1 + e^{-40}) \approx 4.25 \times 10^{-18}` that :math:`-\log \sigma(40)`
    rounds to 0; the gradient :math:`\sigma(x) - t` keeps them too.

    Parameters
    ----------
    t : array_like or torch.Tensor
        Targets in :math:`[0, 1]` (0/1 labels or soft targets).
    y : array_like or torch.Tensor
        Probabilities in :math:`[0, 1]`, or finite logits if ``from_logits``;
        broadcast against ``t``.
    from_logits : bool, default False
        Whether ``y`` holds logits.
    %(reduction)s

    Returns
    -------
    numpy.ndarray, numpy scalar or torch.Tensor
        The loss; :math:`+\infty` where a probability of 0 is given to an outcome that
        happened.

    Raises
    ------
    ValueError
        NaN/inf, targets or probabilities outside :math:`[0, 1]`, shapes that do not
        broadcast, unknown ``reduction``.
    TypeError
        Mixed numpy/torch arguments; None, strings, ragged lists, complex input;
        a ``from_logits`` that is not a bool, a ``reduction`` that is not a string.

    See Also
    --------
    celib.discrete.categorical_cross_entropy : :math:`k` classes.
    celib.nn.binary_cross_entropy_with_logits : the PyTorch drop-in (``(input, target)``).

    Notes
    -----
    %(notes_empty_mean)s

    References
    ----------
    %(references_losses)s

    Examples
    --------
    >>> from celib import binary_cross_entropy
    >>> print(f"{binary_cross_entropy([1.0, 0.0], [0.8, 0.4]):.6f}")
    0.366985
    >>> print(f"{binary_cross_entropy([1.0], [40.0], from_logits=True):.6e}")
    4.248354e-18
    """
    _a.check_reduction(reduction)
    from_logits = _a.flag(from_logits, "from_logits")
    xp, t, y = _binary_pair(t, y, from_logits=from_logits)
    if from_logits:
        loss, _ = _kernel.bce_with_logits(xp, y, t)
    else:
        hit, miss = t > 0, t < 1
        y_hit = xp.where(hit, y, xp.ones_like(y))
        y_miss = xp.where(miss, y, xp.zeros_like(y))
        with np.errstate(divide="ignore"):  # log 0 = -inf is the intended +inf
            loss = -(
                xp.where(hit, t * xp.log(y_hit), xp.zeros_like(y))
                + xp.where(miss, (1 - t) * xp.log1p(-y_miss), xp.zeros_like(y))
            )
    return _a.finish(_a.reduce(xp, loss, reduction, name="t and y"))


def _categorical_rows(
    t: Any, y: Any, *, from_logits: bool, axis: int
) -> tuple[Any, Any, Any, bool]:
    """Validated target rows and forecasts, the class axis moved last: the validation of
    every categorical loss and score (here and in :mod:`celib.scoring`).

    Returns ``(xp, rows, y, labels)``: ``rows`` has the shape of ``y`` (one-hot rows for
    integer labels ``t``), ``y`` holds probabilities, or finite logits if ``from_logits``.
    """
    xp, arrs = _a.namespace(t=t, y=y)
    y = _a.floating(xp, arrs["y"], "y")
    t = arrs["t"]
    axis = _a.normalize_axis(axis, y.ndim, array="y")
    n_classes = y.shape[axis]
    if n_classes == 0:
        raise ValueError(f"y has no classes: its axis {axis} has length 0")
    y = xp.moveaxis(y, axis, -1)
    labels = xp.isdtype(t.dtype, "integral")
    if labels:
        expected = y.shape[:-1]
        if tuple(t.shape) != tuple(expected):
            raise ValueError(
                f"t holds integer labels, so its shape must be y's shape without axis {axis}: "
                f"expected {tuple(expected)}, got {tuple(t.shape)}"
            )
        _a.check_labels(xp, t, "t", n_classes)
        onehot = xp.expand_dims(t, axis=-1) == xp.arange(
            n_classes, device=array_api_compat.device(t)
        )
        rows = xp.astype(onehot, y.dtype)
    else:
        if xp.isdtype(t.dtype, "bool") or not xp.isdtype(t.dtype, "real floating"):
            raise TypeError(
                f"t must be integer labels or floating probability rows, got dtype {t.dtype}"
            )
        if t.ndim != y.ndim or tuple(xp.moveaxis(t, axis, -1).shape) != tuple(y.shape):
            if t.ndim == y.ndim - 1:
                raise TypeError(
                    "t has the shape of labels but a floating dtype; pass integer class labels"
                )
            raise ValueError(
                f"t holds probability rows, so it must have y's shape {tuple(arrs['y'].shape)}; "
                f"got {tuple(t.shape)}"
            )
        rows = xp.moveaxis(t, axis, -1)
        rows, y = _a.common_float(xp, rows, y)
        _a.check_probabilities(xp, rows, "t", -1)
    if from_logits:
        _a.check_finite(xp, y, "y", "logits")
    else:
        _a.check_probabilities(xp, y, "y", -1)
    return xp, rows, y, bool(labels)


@_docs.fill(**_FRAGMENTS)
def categorical_cross_entropy(
    t: Any, y: Any, *, from_logits: bool = False, axis: int = -1, reduction: str = "mean"
) -> Any:
    r"""Categorical (multiclass) cross-entropy: the multinomial negative log-likelihood.

    With target rows :math:`t_i \in \Delta_k` (or integer labels :math:`c_i`, i.e.
    one-hot rows) and predicted rows :math:`y_i \in \Delta_k` along ``axis``,

    .. math:: \ell_i = -\sum_{j=1}^{k} t_{ij} \log y_{ij} \quad (= -\log y_{i c_i}),

    reduced by ``reduction`` over the rows. With ``from_logits=True``, ``y`` holds
    logits :math:`x_i` (:math:`y_i = \mathrm{softmax}(x_i)`) and, with
    :math:`a = \arg\max_j x_{ij}` and :math:`R = \sum_{j \ne a} e^{x_{ij} - x_{ia}}`,

    .. math:: \ell_i = \sum_j t_{ij}\,(x_{ia} - x_{ij}) + \Big(\sum_j t_{ij}\Big) \log(1 + R),

    a sum of non-negative terms: tiny losses (a confident, correct prediction) keep
    their digits, where :math:`\log\sum_j e^{x_{ij}} - x_{ic}` rounds them to 0.

    Parameters
    ----------
    t : array_like or torch.Tensor
        Integer class labels with the shape of ``y`` without ``axis``, or probability
        rows with the shape of ``y``.
    y : array_like or torch.Tensor
        Probability rows (summing to 1 along ``axis``), or finite logits.
    from_logits : bool, default False
        Whether ``y`` holds logits.
    axis : int, default -1
        The class axis of ``y`` (and of ``t`` when it holds rows).
    %(reduction)s

    Returns
    -------
    numpy.ndarray, numpy scalar or torch.Tensor
        The loss.

    Raises
    ------
    ValueError
        Labels out of range, target or probability rows that are negative, not
        normalised, NaN/inf, shapes that do not match, unknown ``reduction``.
    TypeError
        Float or bool labels, mixed numpy/torch arguments; None, strings, ragged
        lists, complex input; a ``from_logits`` that is not a bool.

    See Also
    --------
    celib.discrete.binary_cross_entropy : two classes, one probability per sample.
    celib.nn.cross_entropy : the PyTorch drop-in (``(input, target)``).

    Notes
    -----
    %(notes_empty_mean)s

    References
    ----------
    %(references_losses)s

    Examples
    --------
    >>> from celib import categorical_cross_entropy
    >>> print(f"{categorical_cross_entropy([0, 2], [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]):.6f}")
    0.289909
    >>> print(f"{categorical_cross_entropy([0], [[40.0, 0.0, 0.0]], from_logits=True):.6e}")
    8.496709e-18
    """
    _a.check_reduction(reduction)
    from_logits = _a.flag(from_logits, "from_logits")
    xp, rows, y, _ = _categorical_rows(t, y, from_logits=from_logits, axis=axis)
    if from_logits:
        loss, _ = _kernel.softmax_ce(xp, y, rows, axis=-1)
    else:
        hit = rows > 0
        y_hit = xp.where(hit, y, xp.ones_like(y))
        with np.errstate(divide="ignore"):  # log 0 = -inf is the intended +inf
            loss = -xp.sum(xp.where(hit, rows * xp.log(y_hit), xp.zeros_like(y)), axis=-1)
    return _a.finish(_a.reduce(xp, loss, reduction, name="t and y"))


@_docs.fill(**_FRAGMENTS)
def shannon_code(q: Any) -> list[str]:
    r"""A binary prefix code with Shannon's lengths for the distribution ``q``.

    Outcome :math:`i` gets a codeword of length :math:`\ell_i = \lceil -\log_2 q_i \rceil`
    (outcomes with :math:`q_i = 0` get none, and a certain outcome, :math:`q_i = 1`,
    needs no bits: both get the empty string). The lengths satisfy
    Kraft's inequality :math:`\sum_i 2^{-\ell_i} \le 1`, so a prefix code with them
    exists; this one is the canonical code (codewords assigned in order of length).
    Used for symbols drawn from :math:`p`, its expected length per symbol satisfies

    .. math:: H_2(p, q) \le \sum_i p_i \ell_i < H_2(p, q) + 1 ,

    the coding reading of cross-entropy (in bits).

    Parameters
    ----------
    q : array_like
        A probability vector (1-D).

    Returns
    -------
    list of str
        ``codes[i]`` is the codeword of outcome ``i``, as a string of ``0`` and ``1``.

    Raises
    ------
    ValueError
        If ``q`` is not a 1-D probability vector.

    See Also
    --------
    celib.discrete.cross_entropy : with ``base=2``, the bound on the expected length.

    References
    ----------
    %(references_it)s

    Examples
    --------
    >>> from celib.discrete import shannon_code
    >>> shannon_code([0.5, 0.25, 0.125, 0.125])
    ['0', '10', '110', '111']
    """
    xp, arrs = _a.namespace(q=q)
    q = _a.floating(xp, arrs["q"], "q")
    if array_api_compat.is_torch_array(q):
        q = q.detach().cpu().numpy()
    if q.ndim != 1:
        raise ValueError(f"q must be a 1-D probability vector, got shape {q.shape}")
    _a.check_probabilities(xp, q, "q", 0)
    q = q.astype(np.float64)
    lengths = np.zeros(q.shape, dtype=np.int64)
    used = q > 0
    lengths[used] = np.ceil(-np.log2(q[used])).astype(np.int64)
    codes = [""] * q.size
    value, previous = 0, 0
    for i in sorted(np.flatnonzero(lengths > 0), key=lambda i: (lengths[i], i)):
        value <<= int(lengths[i]) - previous
        codes[i] = format(value, f"0{lengths[i]}b")
        value, previous = value + 1, int(lengths[i])
    return codes
