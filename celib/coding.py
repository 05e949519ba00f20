r"""Cross-entropy as code length: arithmetic coding, perplexity and bits per character.

The chapter *Cross-entropy as code length* of the book. A model :math:`q` of a source
turns into a code whose length for a message :math:`z_1, \dots, z_n` is, up to two bits
for the whole message,

.. math:: L(z_{1:n}) \approx -\sum_{i=1}^{n} \log_2 q(z_i \mid z_{<i}) ,

so that for symbols drawn from :math:`p` the expected length per symbol is the
cross-entropy :math:`H_2(p, q)`. :func:`celib.discrete.shannon_code` (the discrete chapter)
pays up to one bit *per symbol* for rounding each length up to an integer;
:func:`arithmetic_encode` codes the message as one number and pays at most about two
bits *in total*.

This is a module of its own because coding is an idea of its own: it needs exact
integer arithmetic (the coder), a model of the context (:func:`ngram_predictions`), and
unit conversions between the figures language models report (:func:`perplexity`,
:func:`bits_per_character`). The ideal code length is the cross-entropy of
:mod:`celib.discrete`, imported, not written again.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from celib import _checks
from celib.discrete import cross_entropy

__all__ = [
    "arithmetic_decode",
    "arithmetic_encode",
    "bits_per_character",
    "ideal_code_length",
    "ngram_predictions",
    "perplexity",
]

_MIN_PRECISION, _MAX_PRECISION = 16, 64


# --------------------------------------------------------------------------- checks


def _check_int(value: Any, name: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and <= {maximum}"
        raise ValueError(f"{name} must be >= {minimum}{upper}, got {value}")
    return value


def _check_symbols(message: Any, name: str, n_symbols: int | None = None) -> NDArray[np.int64]:
    """A 1-D array of integer symbols (non-negative, below ``n_symbols`` when given)."""
    if isinstance(message, str | bytes):
        raise TypeError(
            f"{name} must be a 1-D array of integer symbols, got {type(message).__name__}; "
            "map characters to integers first"
        )
    try:
        arr = np.asarray(message)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be a 1-D array of integer symbols: {exc}") from exc
    if arr.size == 0:
        arr = arr.astype(np.int64)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer symbols, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} holds a negative symbol ({arr.min()}); symbols are 0, 1, ...")
    if n_symbols is not None and arr.size and arr.max() >= n_symbols:
        raise ValueError(
            f"{name} holds symbol {arr.max()}, but the model has {n_symbols} outcome(s) "
            f"(symbols 0..{n_symbols - 1})"
        )
    return arr.astype(np.int64)


def _check_model(q: Any, n: int) -> NDArray[np.float64]:
    """``q`` as an (n, k) float64 array of probability rows (a 1-D ``q`` is repeated)."""
    xp, arrs = _checks.namespace(q=q)
    arr = _checks.floating(xp, arrs["q"], "q")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"q must be a probability vector (k,) or one row per symbol (n, k), got shape "
            f"{arr.shape}"
        )
    _checks.check_probabilities(np, arr, "q", arr.ndim - 1)
    if arr.ndim == 1:
        return np.broadcast_to(arr, (n, arr.size))
    if arr.shape[0] != n:
        raise ValueError(
            f"q has {arr.shape[0]} row(s) but the message has {n} symbol(s): give one "
            "probability row per symbol, or one vector for all"
        )
    return arr


def _frequencies(q_row: NDArray[np.float64], total: int) -> NDArray[np.int64]:
    """Integer frequencies summing to at most ``total``: 0 where q = 0, else at least 1.

    Each outcome with :math:`q_j > 0` gets :math:`1 + \\lfloor q_j (M - k) \\rfloor`,
    which is positive (every possible symbol stays codable) and sums to at most
    :math:`M`. The model the coder really uses is these counts over their sum.
    """
    positive = q_row > 0
    # Normalised again, and two units of slack per outcome: the floors then sum to at
    # most ``total`` even when q sums to 1 only within the validation tolerance.
    spare = total - 2 * int(positive.sum())
    freq = np.zeros(q_row.size, dtype=np.int64)
    share = q_row[positive] / q_row[positive].sum()
    freq[positive] = 1 + np.floor(share * spare).astype(np.int64)
    return freq


class _Coder:
    """Integer interval arithmetic shared by the encoder and the decoder (one copy).

    The interval ``[low, high]`` lives on ``precision``-bit integers; it is rescaled
    (the E1/E2/E3 steps of Witten, Neal and Cleary) so that it always spans more than
    a quarter of the range, which is why the frequencies must total at most a quarter.
    """

    def __init__(self, precision: int) -> None:
        self.whole = 1 << precision
        self.half = self.whole >> 1
        self.quarter = self.whole >> 2
        self.low, self.high = 0, self.whole - 1

    def narrow(self, cum_lo: int, cum_hi: int, total: int) -> None:
        span = self.high - self.low + 1
        self.high = self.low + span * cum_hi // total - 1
        self.low = self.low + span * cum_lo // total

    def step(self) -> int | None:
        """One rescaling: 0 or 1 for an emitted bit, 2 for a pending (middle) one,
        None when the interval is wide enough to stop."""
        if self.high < self.half:
            bit = 0
        elif self.low >= self.half:
            bit = 1
            self.low -= self.half
            self.high -= self.half
        elif self.low >= self.quarter and self.high < self.half + self.quarter:
            bit = 2
            self.low -= self.quarter
            self.high -= self.quarter
        else:
            return None
        self.low = 2 * self.low
        self.high = 2 * self.high + 1
        return bit


# ------------------------------------------------------------------------ the coder


def arithmetic_encode(message: ArrayLike, q: ArrayLike, *, precision: int = 32) -> str:
    r"""Encode a message of integer symbols with an arithmetic code for the model ``q``.

    The message :math:`z_1, \dots, z_n` is mapped to a sub-interval of :math:`[0, 1)` of
    width :math:`\prod_i \tilde q_i(z_i)`, and the code is the shortest binary fraction
    inside it. With exact integer arithmetic (no floating point), the length is

    .. math:: \ell(z_{1:n}) \le -\sum_{i=1}^{n} \log_2 \tilde q_i(z_i) + 2 ,

    where :math:`\tilde q_i` is ``q`` (or its row ``i``) rounded to integer frequencies
    totalling :math:`2^{\text{precision} - 2}` (each outcome with :math:`q_j > 0` keeps a
    frequency of at least 1, so the rounding costs about :math:`k\,2^{2-\text{precision}}`
    bits per symbol). Summed over symbols drawn from :math:`p`, the length per symbol
    tends to the cross-entropy :math:`H_2(p, q)`.

    Parameters
    ----------
    message : array_like of int, shape (n,)
        The symbols, each in ``0 .. k - 1``.
    q : array_like, shape (k,) or (n, k)
        The model: one probability vector for every symbol, or one row per symbol (the
        predictive distribution of symbol :math:`i` given the ones before it).
    precision : int, optional
        Bits of the coder's integers, 16 to 64 (default 32).

    Returns
    -------
    str
        The code, a string of ``'0'`` and ``'1'``.

    Raises
    ------
    TypeError
        If ``message`` does not hold integers, or ``precision`` is not an int.
    ValueError
        If ``q`` is not a probability vector (or rows), a symbol is out of range, has
        probability 0 under ``q`` (its code length would be infinite), or ``precision``
        is out of range or too small for ``k`` outcomes.

    See Also
    --------
    arithmetic_decode : the inverse.
    ideal_code_length : :math:`-\sum_i \log_2 q_i(z_i)`, the length this code attains.
    celib.discrete.shannon_code : a prefix code, up to one bit per symbol longer.

    References
    ----------
    I. H. Witten, R. M. Neal and J. G. Cleary, "Arithmetic coding for data compression",
    Communications of the ACM 30(6), 1987. T. M. Cover and J. A. Thomas, *Elements of
    Information Theory*, 2nd ed., Wiley, 2006, section 13.3.

    Examples
    --------
    >>> from celib.coding import arithmetic_encode, arithmetic_decode
    >>> code = arithmetic_encode([0, 0, 1, 0], [0.75, 0.25])
    >>> code
    '0111'
    >>> arithmetic_decode(code, [0.75, 0.25], 4).tolist()
    [0, 0, 1, 0]
    """
    precision = _check_int(precision, "precision", _MIN_PRECISION, _MAX_PRECISION)
    symbols = _check_symbols(message, "message")
    rows = _check_model(q, symbols.size)
    k = rows.shape[1]
    total = _total(precision, k)
    if symbols.size and symbols.max() >= k:
        raise ValueError(
            f"message holds symbol {symbols.max()}, but q has {k} outcome(s) (symbols 0..{k - 1})"
        )
    cum_of = _cumulative(rows, total)
    coder, bits, pending = _Coder(precision), [], 0
    for i, s in enumerate(symbols.tolist()):
        cum = cum_of(i)
        if cum[s + 1] == cum[s]:
            raise ValueError(
                f"message[{i}] = {s} has probability 0 under q: it cannot be coded (its "
                "code length, -log2 q, is infinite)"
            )
        coder.narrow(int(cum[s]), int(cum[s + 1]), int(cum[-1]))
        while (bit := coder.step()) is not None:
            if bit == 2:
                pending += 1
            else:
                bits.append(str(bit) + str(1 - bit) * pending)
                pending = 0
    # Two more bits (plus the pending ones) single out a number inside [low, high].
    pending += 1
    bit = 0 if coder.low < coder.quarter else 1
    bits.append(str(bit) + str(1 - bit) * pending)
    return "".join(bits)


def arithmetic_decode(code: str, q: ArrayLike, n: int, *, precision: int = 32) -> NDArray[np.int64]:
    r"""Decode ``n`` symbols from an arithmetic ``code`` made with the same model ``q``.

    The inverse of :func:`arithmetic_encode`: it replays the encoder's integer interval
    arithmetic, so ``arithmetic_decode(arithmetic_encode(z, q), q, len(z))`` returns
    ``z`` exactly, for every message and model.

    Parameters
    ----------
    code : str
        The code, a string of ``'0'`` and ``'1'``.
    q : array_like, shape (k,) or (n, k)
        The model the message was encoded with.
    n : int
        The number of symbols to decode (the code does not store it).
    precision : int, optional
        The encoder's precision (default 32).

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
        The symbols.

    Raises
    ------
    TypeError
        If ``code`` is not a string, or ``n`` or ``precision`` not an int.
    ValueError
        If ``code`` holds characters other than ``0`` and ``1``, ``q`` is not a model of
        ``n`` symbols, or ``n`` is negative.

    Examples
    --------
    >>> from celib.coding import arithmetic_decode
    >>> arithmetic_decode("0111", [0.75, 0.25], 4).tolist()
    [0, 0, 1, 0]
    """
    if not isinstance(code, str):
        raise TypeError(f"code must be a str of '0' and '1', got {type(code).__name__}")
    if set(code) - {"0", "1"}:
        bad = sorted(set(code) - {"0", "1"})
        raise ValueError(f"code must hold only '0' and '1', found {bad[:5]}")
    n = _check_int(n, "n", 0)
    precision = _check_int(precision, "precision", _MIN_PRECISION, _MAX_PRECISION)
    rows = _check_model(q, n)
    total = _total(precision, rows.shape[1])
    stream = iter(code)

    def next_bit() -> int:
        return int(next(stream, "0"))  # past the end of the code, read zeros

    coder = _Coder(precision)
    value = 0
    for _ in range(precision):
        value = 2 * value + next_bit()
    cum_of = _cumulative(rows, total)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        cum = cum_of(i)
        span = coder.high - coder.low + 1
        target = ((value - coder.low + 1) * int(cum[-1]) - 1) // span
        s = int(np.searchsorted(cum, target, side="right")) - 1
        out[i] = s
        coder.narrow(int(cum[s]), int(cum[s + 1]), int(cum[-1]))
        while (bit := coder.step()) is not None:
            shift = {0: 0, 1: coder.half, 2: coder.quarter}[bit]
            value = 2 * (value - shift) + next_bit()
    return out


def _total(precision: int, k: int) -> int:
    """Frequencies total a quarter of the coder's range; each outcome needs room."""
    total = 1 << (precision - 2)
    if k >= total // 2:
        raise ValueError(
            f"precision={precision} is too small for {k} outcomes: the frequencies total "
            f"{total}; use a larger precision"
        )
    return total


def _cumulative(rows: NDArray[np.float64], total: int) -> Any:
    """``cum(i)``: the cumulative frequencies of row ``i`` (computed once for one vector)."""

    def one(row: NDArray[np.float64]) -> NDArray[np.int64]:
        cum = np.zeros(row.size + 1, dtype=np.int64)
        np.cumsum(_frequencies(row, total), out=cum[1:])
        return cum

    if rows.shape[0] and rows.strides[0] == 0:  # one vector, broadcast to every symbol
        shared = one(rows[0])
        return lambda i: shared
    return lambda i: one(rows[i])


# ----------------------------------------------------------------- lengths and units


def ideal_code_length(message: ArrayLike, q: ArrayLike, *, base: float | None = 2) -> float:
    r"""The ideal code length of a message under the model ``q``, in bits by default.

    .. math:: L_q(z_{1:n}) = -\sum_{i=1}^{n} \log_2 q_i(z_i) = n \, H_2(\hat p_n, q)

    for a single vector ``q``, where :math:`\hat p_n` is the message's empirical
    distribution: the cross-entropy of :func:`celib.discrete.cross_entropy`, times :math:`n`.
    It is :math:`+\infty` when a symbol of the message has :math:`q = 0`. An arithmetic
    code attains it within two bits (:func:`arithmetic_encode`).

    Parameters
    ----------
    message : array_like of int, shape (n,)
        The symbols.
    q : array_like, shape (k,) or (n, k)
        The model: one vector, or one predictive row per symbol.
    base : float or None, optional
        Logarithm base: 2 (bits, the default); None or ``math.e`` give nats.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        As :func:`arithmetic_encode`, naming the argument; and for a bad ``base``.

    Examples
    --------
    >>> from celib.coding import ideal_code_length
    >>> round(ideal_code_length([0, 0, 1, 0], [0.75, 0.25]), 6)
    3.245112
    """
    symbols = _check_symbols(message, "message")
    rows = _check_model(q, symbols.size)
    k = rows.shape[1]
    if symbols.size and symbols.max() >= k:
        raise ValueError(f"message holds symbol {symbols.max()}, but q has {k} outcome(s)")
    if symbols.size == 0:
        _checks.log_base(base)
        return 0.0
    # One row per symbol: its one-hot "truth" against the row, summed (the same
    # cross-entropy kernel, with 0 log 0 = 0 and +inf where q = 0).
    onehot = np.zeros_like(rows)
    onehot[np.arange(symbols.size), symbols] = 1.0
    return float(np.sum(cross_entropy(onehot, rows, base=base)))


def perplexity(cross_entropy_value: float, *, base: float | None = None) -> float:
    r"""Perplexity of a model with the given cross-entropy per token.

    .. math:: \mathrm{PPL} = e^{H} = 2^{H_2} ,

    the size of a uniform distribution that is as hard to predict: a model with a
    perplexity of 10 is, on average, as uncertain as a fair choice among 10 tokens.

    Parameters
    ----------
    cross_entropy_value : float
        Cross-entropy per token, :math:`\ge 0`, in nats (or in the unit of ``base``).
    base : float, optional
        The logarithm base of ``cross_entropy_value``; None means nats.

    Returns
    -------
    float
        ``inf`` for an infinite cross-entropy.

    Raises
    ------
    TypeError
        If ``cross_entropy_value`` is not a real number.
    ValueError
        If it is NaN or negative, or ``base`` is not a valid base.

    Examples
    --------
    >>> from celib.coding import perplexity
    >>> perplexity(3.0, base=2)
    8.0
    """
    h = _check_rate(cross_entropy_value, "cross_entropy_value")
    scale = _checks.log_base(base)
    try:
        return math.exp(h) if scale is None else float(base) ** h
    except OverflowError:
        return math.inf


def bits_per_character(nats_per_token: float, n_tokens: int, n_characters: int) -> float:
    r"""Convert a language model's loss in nats per token into bits per character.

    .. math:: \mathrm{bpc} = \frac{H}{\log 2} \cdot \frac{n_{\mathrm{tokens}}}
              {n_{\mathrm{characters}}}

    The total code length of a text does not depend on how it is cut into tokens; only
    the unit does. Bits per character compare models with different tokenisers.

    Parameters
    ----------
    nats_per_token : float
        Mean cross-entropy per token in nats, :math:`\ge 0` (``inf`` gives ``inf``).
    n_tokens, n_characters : int
        How many tokens and characters the same text has (both :math:`\ge 1`).

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        For a non-number, NaN or negative loss, or counts that are not positive ints.

    Examples
    --------
    >>> from celib.coding import bits_per_character
    >>> round(bits_per_character(2.0, 1000, 4000), 4)
    0.7213
    """
    h = _check_rate(nats_per_token, "nats_per_token")
    tokens = _check_int(n_tokens, "n_tokens", 1)
    chars = _check_int(n_characters, "n_characters", 1)
    return h / math.log(2) * tokens / chars


def _check_rate(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be >= 0 (a cross-entropy), got {value}")
    return value


# --------------------------------------------------------------------- context model


def ngram_predictions(
    train: ArrayLike,
    test: ArrayLike,
    *,
    order: int,
    n_symbols: int,
    alpha: float = 1.0,
    adaptive: bool = False,
) -> NDArray[np.float64]:
    r"""Predictive distributions of an order-``order`` Markov model, one row per symbol.

    The model is fitted on ``train`` by counting, each order smoothed toward the next
    shorter context (a hierarchical Dirichlet prior, as in interpolated Markov models):

    .. math::

       q_0(s) = \frac{N(s) + \alpha / k}{N + \alpha}, \qquad
       q_j(s \mid c_j) = \frac{N(c_j, s) + \alpha\, q_{j-1}(s \mid c_{j-1})}
                               {N(c_j) + \alpha} ,

    where :math:`c_j` is the context of the :math:`j` symbols before :math:`s` (padded
    at the start of a sequence with a start symbol), :math:`N` counts in ``train`` and
    :math:`k` = ``n_symbols``. Every symbol keeps a positive probability, and a context
    never seen falls back to the shorter one. Row :math:`i` of the result is
    :math:`q_{\text{order}}(\cdot \mid c_i)` for the context of ``test[i]``: the model an
    arithmetic coder needs to code ``test`` (a decoder knows the context, since it has
    decoded the symbols before).

    Parameters
    ----------
    train, test : array_like of int, shape (n_train,), (n_test,)
        Symbols in ``0 .. n_symbols - 1``.
    order : int
        Context length, 0 (no context) to 8.
    n_symbols : int
        Alphabet size :math:`k \ge 1`.
    alpha : float, optional
        Weight :math:`\alpha > 0` of the prior, in counts (default 1).
    adaptive : bool, optional
        If True, the counts for ``test[i]`` also include ``test[:i]``: the model keeps
        learning while it codes, as a decoder can too (it has decoded ``test[:i]``).
        This is how adaptive compressors (PPM, and ``zlib``'s window) work.

    Returns
    -------
    numpy.ndarray, shape (n_test, n_symbols)
        Probability rows.

    Raises
    ------
    TypeError, ValueError
        Naming the argument: non-integer or out-of-range symbols, a bad ``order``,
        ``n_symbols`` or ``alpha``.

    Examples
    --------
    >>> from celib.coding import ngram_predictions
    >>> ngram_predictions([0, 1, 0, 1], [0, 1], order=1, n_symbols=2, alpha=1.0)
    array([[0.75      , 0.25      ],
           [0.16666667, 0.83333333]])
    """
    k = _check_int(n_symbols, "n_symbols", 1)
    order = _check_int(order, "order", 0, 8)
    if (k + 1) ** order * k >= 2**62:
        raise ValueError(
            f"order={order} with n_symbols={k} makes more contexts than int64 codes can "
            "index; use a smaller order"
        )
    train_s = _check_symbols(train, "train", k)
    test_s = _check_symbols(test, "test", k)
    alpha = _check_rate(alpha, "alpha")
    if alpha == 0 or math.isinf(alpha):
        raise ValueError(f"alpha must be positive and finite, got {alpha}")
    if not isinstance(adaptive, bool | np.bool_):
        raise TypeError(f"adaptive must be a bool, got {type(adaptive).__name__}")
    rows = np.full((test_s.size, k), 1.0 / k)
    for j in range(order + 1):
        counts = _context_counts(train_s, test_s, j, k)
        if adaptive:
            counts += _running_counts(test_s, j, k)
        rows = (counts + alpha * rows) / (counts.sum(axis=1, keepdims=True) + alpha)
    return rows


def _context_counts(
    train: NDArray[np.int64], test: NDArray[np.int64], order: int, k: int
) -> NDArray[np.float64]:
    """``N(c_i, s)`` for the order-``order`` context ``c_i`` of each test symbol."""
    pair_codes, pair_counts = np.unique(_contexts(train, order, k) * k + train, return_counts=True)
    uniq, inverse = np.unique(_contexts(test, order, k), return_inverse=True)
    wanted = (uniq[:, None] * k + np.arange(k)[None, :]).ravel()
    counts = np.zeros(wanted.size)
    if pair_codes.size:
        pos = np.minimum(np.searchsorted(pair_codes, wanted), pair_codes.size - 1)
        hit = pair_codes[pos] == wanted
        counts[hit] = pair_counts[pos[hit]]
    return counts.reshape(-1, k)[inverse.ravel()]


def _running_counts(symbols: NDArray[np.int64], order: int, k: int) -> NDArray[np.float64]:
    """``N_{<i}(c_i, s)``: counts of each context's symbols before position ``i``."""
    n = symbols.size
    ctx = _contexts(symbols, order, k)
    by_ctx = np.argsort(ctx, kind="stable")  # grouped by context, positions in order
    onehot = np.zeros((n, k))
    onehot[np.arange(n), symbols[by_ctx]] = 1.0
    before = np.cumsum(onehot, axis=0) - onehot  # exclusive running sums
    sorted_ctx = ctx[by_ctx]
    first = np.searchsorted(sorted_ctx, sorted_ctx, side="left")  # start of each group
    before -= before[first]
    out = np.empty_like(before)
    out[by_ctx] = before
    return out


def _contexts(symbols: NDArray[np.int64], order: int, k: int) -> NDArray[np.int64]:
    """Context codes: sum_j c_j (k + 1)^j over the ``order`` previous symbols, with the
    start symbol ``k`` before the sequence."""
    padded = np.concatenate([np.full(order, k, dtype=np.int64), symbols])
    code = np.zeros(symbols.size, dtype=np.int64)
    for j in range(1, order + 1):
        code = code * (k + 1) + padded[order - j : order - j + symbols.size]
    return code
