"""celib.coding: the arithmetic coder round-trips and attains the ideal length; units.

References: the ideal length -sum log2 q(z_i) in exact rational arithmetic (fractions /
mpmath), the integer frequencies the coder really uses, and closed forms for the units.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import celib
from celib.coding import (
    _frequencies,
    arithmetic_decode,
    arithmetic_encode,
    bits_per_character,
    ideal_code_length,
    ngram_predictions,
    perplexity,
)


def _quantised_length(z, q, precision=32):
    """-sum log2 of the integer model the coder uses, with mpmath at 50 digits."""
    mpmath.mp.dps = 50
    q = np.asarray(q, dtype=float)
    rows = np.broadcast_to(q, (len(z), q.shape[-1])) if q.ndim == 1 else q
    total = mpmath.mpf(0)
    for i, s in enumerate(z):
        f = _frequencies(rows[i], 1 << (precision - 2))
        total -= mpmath.log(mpmath.mpf(int(f[s])) / int(f.sum()), 2)
    return float(total)


@pytest.mark.parametrize("precision", [16, 32, 64])
def test_round_trip_and_length_bound(precision):
    rng = np.random.default_rng(1)
    p = np.array([0.6, 0.25, 0.1, 0.05])
    z = rng.choice(4, size=3000, p=p)
    code = arithmetic_encode(z, p, precision=precision)
    assert np.array_equal(arithmetic_decode(code, p, z.size, precision=precision), z)
    ideal = _quantised_length(z, p, precision)
    # Witten-Neal-Cleary: at most two bits over the ideal length of the integer model.
    assert ideal <= len(code) <= ideal + 2
    # ... which is the ideal length of q itself to a few bits at these precisions.
    slack = 4 * 3000 * 2.0 ** (4 - precision) / math.log(2) + 1e-9
    assert abs(ideal - ideal_code_length(z, p)) <= slack


def test_length_tends_to_n_times_cross_entropy():
    rng = np.random.default_rng(2)
    p, q = np.array([0.7, 0.2, 0.1]), np.array([0.4, 0.4, 0.2])
    n = 20000
    z = rng.choice(3, size=n, p=p)
    code = arithmetic_encode(z, q)
    h2 = float(celib.cross_entropy(p, q, base=2))
    # The per-symbol information has standard deviation sd; n * H is within 4 sd * sqrt(n).
    info = -np.log2(q)
    sd = math.sqrt(float(p @ info**2) - h2**2)
    assert abs(len(code) - n * h2) < 4 * sd * math.sqrt(n) + 2
    assert len(code) <= ideal_code_length(z, q) + 2 + 1e-3


def test_beats_shannon_code_by_up_to_a_bit_per_symbol():
    p = np.array([0.95, 0.05])
    z = np.random.default_rng(3).choice(2, size=2000, p=p)
    shannon = celib.shannon_code(p)
    shannon_len = sum(len(shannon[s]) for s in z)
    arith_len = len(arithmetic_encode(z, p))
    # ceil(-log2 0.95) = 1 bit and ceil(-log2 0.05) = 5 bits per symbol
    assert shannon_len == np.sum(np.where(z == 0, 1, 5))
    # Shannon: 1.2 bits/symbol expected; arithmetic: H_2(p) = 0.286 bits/symbol + 2 bits.
    assert arith_len <= ideal_code_length(z, p) + 2 < 0.35 * shannon_len


def test_per_symbol_rows_and_adaptive_model_round_trip():
    rng = np.random.default_rng(4)
    train = rng.integers(0, 5, size=400)
    test = rng.integers(0, 5, size=300)
    rows = ngram_predictions(train, test, order=2, n_symbols=5)
    code = arithmetic_encode(test, rows)
    assert np.array_equal(arithmetic_decode(code, rows, test.size), test)
    assert len(code) <= _quantised_length(test, rows) + 2


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=0, max_size=60),
    st.lists(st.floats(1e-6, 1.0), min_size=4, max_size=4),
)
@example([], [1.0, 1.0, 1.0, 1.0])
@example([3, 3, 3], [1.0, 1e-6, 1e-6, 1e-6])
def test_round_trip_property(z, w):
    q = np.asarray(w) / np.sum(w)
    code = arithmetic_encode(z, q)
    assert arithmetic_decode(code, q, len(z)).tolist() == z
    assert len(code) <= _quantised_length(z, q) + 2


def test_certain_symbol_costs_at_most_two_bits():
    # q = (1, 0): every message of zeros has ideal length 0; the code adds <= 2 bits.
    assert len(arithmetic_encode(np.zeros(1000, dtype=int), [1.0, 0.0])) <= 2


def test_zero_probability_symbol_is_refused_and_ideal_length_is_inf():
    with pytest.raises(ValueError, match=r"message\[1\] = 1 has probability 0"):
        arithmetic_encode([0, 1], [1.0, 0.0])
    assert ideal_code_length([0, 1], [1.0, 0.0]) == math.inf


def test_ideal_code_length_is_n_times_cross_entropy_of_the_empirical_law():
    z = np.array([0, 0, 1, 2, 2, 2])
    q = np.array([0.5, 0.25, 0.25])
    counts = np.bincount(z, minlength=3) / z.size
    expected = z.size * float(celib.cross_entropy(counts, q, base=2))
    assert ideal_code_length(z, q) == pytest.approx(expected, rel=1e-15)
    assert ideal_code_length(z, q, base=math.e) == pytest.approx(expected * math.log(2))
    assert ideal_code_length([], q) == 0.0


def test_ngram_predictions_against_counting_by_hand():
    train = [0, 1, 0, 1, 1]
    # order 0: counts (2, 3) -> q0 = ((2 + 1/2) / 6, (3 + 1/2) / 6) with alpha = 1, k = 2
    q0 = np.array([2.5, 3.5]) / 6
    order0 = ngram_predictions(train, [0], order=0, n_symbols=2, alpha=1.0)
    np.testing.assert_allclose(order0, [q0], rtol=1e-15)
    # order 1, contexts of the test symbols [1, 0, 1]: start, 1, 0. In train: start->0
    # once; 1->0 once and 1->1 once; 0->1 twice.
    rows = ngram_predictions(train, [1, 0, 1], order=1, n_symbols=2, alpha=1.0)
    expected = [
        (np.array([1, 0]) + q0) / 2,
        (np.array([1, 1]) + q0) / 3,
        (np.array([0, 2]) + q0) / 3,
    ]
    np.testing.assert_allclose(rows, expected, rtol=1e-15)
    # an unseen context falls back to the shorter one
    unseen = ngram_predictions([0, 0, 0], [1, 1], order=1, n_symbols=2, alpha=2.0)
    q0 = (np.array([3, 0]) + 1.0) / 5
    np.testing.assert_allclose(unseen[1], q0, rtol=1e-15)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_adaptive_ngram_equals_refitting_on_what_was_decoded(order):
    rng = np.random.default_rng(6)
    train, test = rng.integers(0, 3, size=40), rng.integers(0, 3, size=25)
    rows = ngram_predictions(train, test, order=order, n_symbols=3, adaptive=True)
    for i in range(test.size):
        np.testing.assert_allclose(rows[i], _brute_adaptive(train, test, i, order, 3))


def _brute_adaptive(train, test, i, order, k, alpha=1.0):
    def ctx(seq, t, j):
        return tuple([k] * max(0, j - t) + list(seq[max(0, t - j) : t]))

    row = np.full(k, 1.0 / k)
    for j in range(order + 1):
        counts = np.zeros(k)
        c = ctx(test, i, j)
        for t, s in enumerate(train):
            if ctx(train, t, j) == c:
                counts[s] += 1
        for t in range(i):
            if ctx(test, t, j) == c:
                counts[test[t]] += 1
        row = (counts + alpha * row) / (counts.sum() + alpha)
    return row


def test_ngram_training_cross_entropy_falls_with_the_order():
    rng = np.random.default_rng(5)
    text = rng.choice(6, size=3000, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1])
    text[1::2] = (text[::2] + 1) % 6  # every second symbol follows from the one before
    ce = [
        ideal_code_length(text, ngram_predictions(text, text, order=o, n_symbols=6))
        for o in range(4)
    ]
    assert all(a > b for a, b in zip(ce, ce[1:]))


def test_units():
    assert perplexity(0.0) == 1.0
    assert perplexity(math.log(10)) == pytest.approx(10.0, rel=1e-15)
    assert perplexity(3.0, base=2) == pytest.approx(8.0, rel=1e-15)
    assert perplexity(math.inf) == math.inf
    assert perplexity(800.0) == math.inf
    assert bits_per_character(math.log(2), 10, 40) == pytest.approx(0.25, rel=1e-15)


@pytest.mark.parametrize(
    ("call", "exc", "name"),
    [
        (lambda: arithmetic_encode("abc", [0.5, 0.5]), TypeError, "message"),
        (lambda: arithmetic_encode([0.5], [0.5, 0.5]), TypeError, "message"),
        (lambda: arithmetic_encode([[0]], [0.5, 0.5]), ValueError, "message"),
        (lambda: arithmetic_encode([-1], [0.5, 0.5]), ValueError, "message"),
        (lambda: arithmetic_encode([2], [0.5, 0.5]), ValueError, "message"),
        (lambda: arithmetic_encode([0], [0.5, 0.6]), ValueError, "q"),
        (lambda: arithmetic_encode([0], [np.nan, 1.0]), ValueError, "q"),
        (lambda: arithmetic_encode([0], [0.5j, 0.5]), TypeError, "q"),
        (lambda: arithmetic_encode([0, 1], [[0.5, 0.5]]), ValueError, "q"),
        (lambda: arithmetic_encode([0], [0.5, 0.5], precision=8), ValueError, "precision"),
        (lambda: arithmetic_encode([0], [0.5, 0.5], precision=32.0), TypeError, "precision"),
        (
            lambda: arithmetic_encode([0], np.full(1 << 15, 2.0**-15), precision=16),
            ValueError,
            "precision",
        ),
        (lambda: arithmetic_decode(101, [0.5, 0.5], 3), TypeError, "code"),
        (lambda: arithmetic_decode("012", [0.5, 0.5], 3), ValueError, "code"),
        (lambda: arithmetic_decode("01", [0.5, 0.5], -1), ValueError, "n"),
        (lambda: arithmetic_decode("01", [0.5, 0.5], None), TypeError, "n"),
        (lambda: ideal_code_length([0], [0.5, 0.5], base=1), ValueError, "base"),
        (lambda: perplexity("2"), TypeError, "cross_entropy_value"),
        (lambda: perplexity(-1.0), ValueError, "cross_entropy_value"),
        (lambda: perplexity(math.nan), ValueError, "cross_entropy_value"),
        (lambda: perplexity(1.0, base=0), ValueError, "base"),
        (lambda: bits_per_character(1.0, 0, 5), ValueError, "n_tokens"),
        (lambda: bits_per_character(1.0, 5, 2.5), TypeError, "n_characters"),
        (lambda: ngram_predictions([0], [0], order=-1, n_symbols=2), ValueError, "order"),
        (lambda: ngram_predictions([0], [0], order=9, n_symbols=2), ValueError, "order"),
        (lambda: ngram_predictions([0], [0], order=1, n_symbols=0), ValueError, "n_symbols"),
        (lambda: ngram_predictions([0], [3], order=1, n_symbols=2), ValueError, "test"),
        (lambda: ngram_predictions([0.5], [0], order=1, n_symbols=2), TypeError, "train"),
        (lambda: ngram_predictions([0], [0], order=1, n_symbols=2, alpha=0), ValueError, "alpha"),
        (lambda: ngram_predictions([0], [0], order=8, n_symbols=1000), ValueError, "order"),
        (
            lambda: ngram_predictions([0], [0], order=1, n_symbols=2, adaptive=1),
            TypeError,
            "adaptive",
        ),
    ],
)
def test_bad_input_names_the_argument(call, exc, name):
    with pytest.raises(exc, match=name):
        call()
