"""celib.discrete against independent references: mpmath (50 digits), scipy, torch."""

from __future__ import annotations

import math

import array_api_compat.numpy
import mpmath
import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import celib
from celib import (
    binary_cross_entropy,
    categorical_cross_entropy,
    cross_entropy,
    entropy,
    kl_divergence,
    shannon_code,
)

mpmath.mp.dps = 50


# --------------------------------------------------------------------------- references


def mp_entropy(p):
    return -sum(mpmath.mpf(x) * mpmath.log(mpmath.mpf(x)) for x in p if x > 0)


def mp_cross_entropy(p, q):
    return -sum(mpmath.mpf(a) * mpmath.log(mpmath.mpf(b)) for a, b in zip(p, q) if a > 0)


def mp_kl(p, q):
    """sum p log(p/q) - p + q in 50 digits (equal to KL for the normalised vectors)."""
    total = mpmath.mpf(0)
    for a, b in zip(p, q):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        total += (a * mpmath.log(a / b) if a > 0 else 0) - a + b
    return total


def mp_softmax_nll(logits, label):
    xs = [mpmath.mpf(x) for x in logits]
    return mpmath.log(sum(mpmath.exp(x - xs[label]) for x in xs))


def rel_err(got, want):
    want = mpmath.mpf(want)
    return float(abs((mpmath.mpf(float(got)) - want) / want)) if want != 0 else abs(float(got))


def random_simplex(rng, shape, zeros=False):
    x = rng.gamma(0.5, size=shape)
    if zeros:
        x[rng.random(shape) < 0.3] = 0
        x[..., 0] += 1e-3  # keep every row non-empty
    return x / x.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------- values


def test_against_mpmath_on_random_vectors():
    rng = np.random.default_rng(1)
    p, q = random_simplex(rng, (20, 7), zeros=True), random_simplex(rng, (20, 7))
    h, hpq, kl = entropy(p), cross_entropy(p, q), kl_divergence(p, q)
    for i in range(20):
        assert rel_err(h[i], mp_entropy(p[i])) < 1e-14
        assert rel_err(hpq[i], mp_cross_entropy(p[i], q[i])) < 1e-14
        assert rel_err(kl[i], mp_kl(p[i], q[i])) < 1e-13


def test_against_scipy():
    rng = np.random.default_rng(2)
    p, q = random_simplex(rng, (5, 11)), random_simplex(rng, (5, 11))
    np.testing.assert_allclose(entropy(p), scipy.stats.entropy(p, axis=-1), rtol=1e-13)
    np.testing.assert_allclose(kl_divergence(p, q), scipy.stats.entropy(p, q, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(
        entropy(p, base=2), scipy.stats.entropy(p, base=2, axis=-1), rtol=1e-13
    )


def test_kl_keeps_digits_for_nearly_equal_distributions():
    # p and q differ by 1e-9 per outcome: KL is about 1e-18, which the naive
    # sum p*log(p/q) computes as rounding noise of size 1e-17.
    rng = np.random.default_rng(3)
    q = random_simplex(rng, (8,))
    d = rng.normal(size=8) * 1e-9
    d -= d.mean()
    p = q + d
    want = mp_kl(p, q)
    assert rel_err(kl_divergence(p, q), want) < 1e-10
    naive = float(np.sum(p * np.log(p / q)))
    assert rel_err(naive, want) > 1e-3  # the reason the series exists


@pytest.mark.parametrize(
    "x", [-1 + 1e-15, -0.9, -0.5, -0.2, -0.19, -1e-3, -1e-12, 1e-12, 1e-3, 0.19, 0.2, 0.5, 3.0]
)
def test_kl_terms_on_both_branches(x):
    # p = q (1 + x) on the first outcome: the series branch (|x| <= 0.2) and the direct one.
    q = np.array([0.25, 0.75])
    p = np.array([q[0] * (1 + x), 0.0])
    p[1] = 1 - p[0]
    assert rel_err(kl_divergence(p, q), mp_kl(p, q)) < 1e-13


def test_kl_when_ratios_under_or_overflow():
    p, q = np.array([1e-300, 1 - 1e-300]), np.array([0.5, 0.5])
    assert rel_err(kl_divergence(p, q), mp_kl(p, q)) < 1e-14
    p, q = np.array([0.5, 0.5]), np.array([1e-320, 1 - 1e-320])  # p/q overflows
    assert rel_err(kl_divergence(p, q), mp_kl(p, q)) < 1e-14


def test_phi_series_against_mpmath():
    from celib.discrete import _phi_series

    for x in (-0.2, -1e-3, 1e-8, 0.2):
        mx = mpmath.mpf(x)
        want = (1 + mx) * mpmath.log1p(mx) - mx
        assert rel_err(_phi_series(array_api_compat.numpy, np.array(x)), want) < 1e-15


def test_conventions_zero_log_zero_and_infinity():
    assert entropy([1.0, 0.0]) == 0.0
    assert cross_entropy([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert cross_entropy([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2), rel=1e-15)
    assert binary_cross_entropy([1.0], [0.0]) == math.inf
    assert binary_cross_entropy([0.0, 1.0], [0.0, 1.0]) == 0.0


def test_bits_and_other_bases():
    p, q = np.array([0.5, 0.25, 0.25]), np.array([0.25, 0.25, 0.5])
    assert entropy(p, base=2) == pytest.approx(1.5, rel=1e-15)
    assert cross_entropy(p, q, base=2) == pytest.approx(1.75, rel=1e-15)
    assert cross_entropy(p, q, base=math.e) == pytest.approx(cross_entropy(p, q), rel=1e-15)


def test_axis_and_batching():
    rng = np.random.default_rng(4)
    p, q = random_simplex(rng, (3, 4, 5)), random_simplex(rng, (3, 4, 5))
    ref = cross_entropy(p, q)
    moved = cross_entropy(np.moveaxis(p, -1, 0), np.moveaxis(q, -1, 0), axis=0)
    np.testing.assert_allclose(moved, ref, rtol=1e-15)
    assert ref.shape == (3, 4)
    # broadcasting: one q against many p
    np.testing.assert_allclose(
        cross_entropy(p, q[0, 0]), cross_entropy(p, np.broadcast_to(q[0, 0], p.shape))
    )


def test_identity_cross_entropy_is_entropy_plus_kl():
    rng = np.random.default_rng(5)
    p, q = random_simplex(rng, (50, 6), zeros=True), random_simplex(rng, (50, 6))
    np.testing.assert_allclose(cross_entropy(p, q), entropy(p) + kl_divergence(p, q), rtol=1e-13)


# ------------------------------------------------------------------------- properties

prob_vectors = (
    hnp.arrays(
        np.float64,
        st.integers(2, 8),
        elements=st.floats(0, 1e3, allow_nan=False, allow_subnormal=False),
    )
    .filter(lambda w: w.sum() > 1e-3)
    .map(lambda w: w / w.sum())
)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_gibbs_inequality_property(data):
    p = data.draw(prob_vectors)
    w = data.draw(hnp.arrays(np.float64, p.shape, elements=st.floats(1e-6, 1e3)))
    q = w / w.sum()
    h, hpq, kl = entropy(p), cross_entropy(p, q), kl_divergence(p, q)
    assert kl >= 0
    assert hpq >= h - 1e-12 * max(1.0, abs(h))
    assert kl_divergence(p, p) == 0.0


@settings(max_examples=50, deadline=None)
@given(p=prob_vectors)
def test_numpy_and_torch_agree_property(p):
    q = np.roll(p, 1) * 0.5 + 0.5 / p.size
    for f in (cross_entropy, kl_divergence):
        got = f(torch.from_numpy(p), torch.from_numpy(q))
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
        assert float(got) == pytest.approx(float(f(p, q)), rel=1e-14, abs=1e-300)
    assert float(entropy(torch.from_numpy(p))) == pytest.approx(
        float(entropy(p)), rel=1e-14, abs=1e-300
    )


# --------------------------------------------------------------------------- torch


def test_torch_in_torch_out_dtype_kept():
    p = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float32)
    q = torch.tensor([0.3, 0.3, 0.4], dtype=torch.float32)
    for out in (entropy(p), cross_entropy(p, q), kl_divergence(p, q)):
        assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert isinstance(entropy(np.array([0.5, 0.5])), np.floating)


def test_torch_autograd_matches_analytic_gradient():
    p = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    q = torch.tensor([0.1, 0.6, 0.3], dtype=torch.float64, requires_grad=True)
    cross_entropy(p, q).backward()
    torch.testing.assert_close(q.grad, -p / q.detach())
    q.grad = None
    kl_divergence(p, q).backward()
    # d/dq of sum(p log(p/q) - p + q) = 1 - p/q
    torch.testing.assert_close(q.grad, 1 - p / q.detach())


def test_gradients_finite_where_p_and_q_are_zero():
    p = torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([0.25, 0.75, 0.0], dtype=torch.float64, requires_grad=True)
    (entropy(p) + cross_entropy(p, q) + kl_divergence(p, q)).backward()
    assert torch.isfinite(p.grad).all() and torch.isfinite(q.grad).all()
    assert p.grad[2] == 0 or torch.isfinite(p.grad[2])


def test_gradcheck_on_logit_losses():
    torch.manual_seed(0)
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 4, (6,))
    rows = torch.softmax(torch.randn(6, 4, dtype=torch.float64), dim=-1)
    assert torch.autograd.gradcheck(
        lambda z: categorical_cross_entropy(labels, z, from_logits=True), (x,)
    )
    assert torch.autograd.gradcheck(
        lambda z: categorical_cross_entropy(rows, z, from_logits=True, reduction="sum"), (x,)
    )
    t = torch.rand(6, 4, dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda z: binary_cross_entropy(t, z, from_logits=True, reduction="none"), (x,)
    )


def test_categorical_gradient_with_tied_maxima_is_softmax_minus_onehot():
    x = torch.tensor([[2.0, 2.0, 0.0]], dtype=torch.float64, requires_grad=True)
    categorical_cross_entropy(torch.tensor([1]), x, from_logits=True).backward()
    want = torch.softmax(x.detach(), -1) - torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(x.grad, want, rtol=1e-15, atol=1e-15)


def test_binary_logit_gradient_at_zero_and_tiny():
    x = torch.tensor([0.0, 40.0, -17.0], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64)
    binary_cross_entropy(t, x, from_logits=True, reduction="sum").backward()
    want = [
        mpmath.mpf(1) / (1 + mpmath.exp(-mpmath.mpf(v))) - w for v, w in [(0, 1), (40, 1), (-17, 0)]
    ]
    for got, w in zip(x.grad.tolist(), want):
        assert rel_err(got, w) < 1e-14


# ----------------------------------------------------------- the two training losses


@pytest.mark.parametrize("margin", [0.0, 1.0, 17.0, 40.0, 200.0, 700.0])
def test_binary_logits_exact_for_extreme_logits(margin):
    got = binary_cross_entropy([1.0], [margin], from_logits=True)
    want = mpmath.log1p(mpmath.exp(-mpmath.mpf(margin)))
    assert rel_err(got, want) < 1e-14
    got0 = binary_cross_entropy([0.0], [-margin], from_logits=True)
    assert rel_err(got0, want) < 1e-14


def test_binary_issue_example_is_not_zero():
    assert binary_cross_entropy([1], [40], from_logits=True) == pytest.approx(
        4.248354255291589e-18, rel=1e-14
    )


def test_binary_matches_torch_on_ordinary_inputs():
    torch.manual_seed(1)
    x = torch.randn(100, dtype=torch.float64) * 3
    t = torch.rand(100, dtype=torch.float64)
    for reduction in ("mean", "sum", "none"):
        want = torch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction=reduction)
        torch.testing.assert_close(
            binary_cross_entropy(t, x, from_logits=True, reduction=reduction), want
        )
        want_p = torch.nn.functional.binary_cross_entropy(torch.sigmoid(x), t, reduction=reduction)
        got_p = binary_cross_entropy(t, torch.sigmoid(x), reduction=reduction)
        torch.testing.assert_close(got_p, want_p)


@pytest.mark.parametrize("margin", [0.5, 5.0, 20.0, 40.0, 300.0])
def test_categorical_logits_exact_for_extreme_margins(margin):
    logits = [margin, 0.0, 0.0, -1.0]
    got = categorical_cross_entropy([0], [logits], from_logits=True)
    assert rel_err(got, mp_softmax_nll(logits, 0)) < 1e-14


def test_categorical_matches_torch_and_scipy():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(10, 5)) * 4
    labels = rng.integers(0, 5, size=10)
    rows = random_simplex(rng, (10, 5))
    want = torch.nn.functional.cross_entropy(
        torch.from_numpy(x), torch.from_numpy(labels), reduction="none"
    )
    np.testing.assert_allclose(
        categorical_cross_entropy(labels, x, from_logits=True, reduction="none"), want, rtol=1e-13
    )
    want_soft = -(rows * scipy.special.log_softmax(x, axis=-1)).sum(-1)
    np.testing.assert_allclose(
        categorical_cross_entropy(rows, x, from_logits=True, reduction="none"),
        want_soft,
        rtol=1e-13,
    )
    probs = scipy.special.softmax(x, axis=-1)
    np.testing.assert_allclose(
        categorical_cross_entropy(labels, probs), want.mean().item(), rtol=1e-12
    )
    # the class axis can be anywhere
    np.testing.assert_allclose(
        categorical_cross_entropy(rows.T, x.T, from_logits=True, axis=0, reduction="none"),
        want_soft,
        rtol=1e-13,
    )


def test_categorical_labels_equal_onehot_rows():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(6, 3))
    labels = rng.integers(0, 3, size=6)
    onehot = np.eye(3)[labels]
    assert categorical_cross_entropy(labels, x, from_logits=True) == pytest.approx(
        categorical_cross_entropy(onehot, x, from_logits=True), rel=1e-15
    )


def test_reductions():
    t, y = np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.2, 0.6])
    none = binary_cross_entropy(t, y, reduction="none")
    assert none.shape == (3,)
    assert binary_cross_entropy(t, y, reduction="sum") == pytest.approx(none.sum())
    assert binary_cross_entropy(t, y) == pytest.approx(none.mean())


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: entropy([0.5, float("nan")]), ValueError, "p contains NaN"),
        (lambda: entropy([1.5, float("inf")]), ValueError, "p contains infinite"),
        (lambda: entropy([1.2, -0.2]), ValueError, "p has negative mass"),
        (lambda: entropy([0.5, 0.6]), ValueError, "p is not normalised along axis 0"),
        (lambda: cross_entropy([0.5, 0.5], [0.5, 0.6]), ValueError, "q is not normalised"),
        (
            lambda: cross_entropy([0.5, 0.5], [1 / 3] * 3),
            ValueError,
            r"shapes do not broadcast: p\(2,\), q\(3,\)",
        ),
        (
            lambda: kl_divergence([0.5, 0.5], [0.5, 0.5], axis=3),
            ValueError,
            "axis=3 is out of range",
        ),
        (lambda: entropy([0.5, 0.5], base=1), ValueError, "base must be a positive"),
        (lambda: entropy([0.5, 0.5], base=-2), ValueError, "base must be a positive"),
        (lambda: entropy(1.0), ValueError, "at least one dimension"),
        (lambda: entropy(["a", "b"]), TypeError, "p must hold real numbers"),
        (lambda: entropy(np.array([0.5 + 0j, 0.5])), TypeError, "p must hold real numbers"),
        (
            lambda: cross_entropy(np.array([0.5, 0.5]), torch.tensor([0.5, 0.5])),
            TypeError,
            "must all be numpy arrays or all torch tensors",
        ),
        (lambda: binary_cross_entropy([1.5], [0.5]), ValueError, r"t has targets outside \[0, 1\]"),
        (lambda: binary_cross_entropy([1.0], [1.2]), ValueError, "y has a probability above 1"),
        (
            lambda: binary_cross_entropy([1.0], [float("nan")], from_logits=True),
            ValueError,
            "y contains NaN logits",
        ),
        (
            lambda: binary_cross_entropy([1.0], [0.5], reduction="avg"),
            ValueError,
            "reduction must be one of",
        ),
        (
            lambda: binary_cross_entropy([1.0, 0.0], [0.5, 0.5, 0.5]),
            ValueError,
            "shapes do not broadcast",
        ),
        (
            lambda: categorical_cross_entropy([3], [[0.5, 0.5]]),
            ValueError,
            r"labels outside \[0, 1\]",
        ),
        (lambda: categorical_cross_entropy([-1], [[0.5, 0.5]]), ValueError, "labels outside"),
        (
            lambda: categorical_cross_entropy([0.0], [[0.5, 0.5]]),
            TypeError,
            "pass integer class labels",
        ),
        (
            lambda: categorical_cross_entropy([0, 1], [[0.5, 0.5]]),
            ValueError,
            "expected \\(1,\\), got \\(2,\\)",
        ),
        (
            lambda: categorical_cross_entropy([[0.5, 0.6]], [[0.5, 0.5]]),
            ValueError,
            "t is not normalised",
        ),
        (
            lambda: categorical_cross_entropy([[0.5, 0.5]], [[0.5, 0.5, 0.0]]),
            ValueError,
            "must have y's shape",
        ),
        (lambda: categorical_cross_entropy([0], [[0.7, 0.2]]), ValueError, "y is not normalised"),
        (
            lambda: categorical_cross_entropy([0], [[1.0, float("inf")]], from_logits=True),
            ValueError,
            "y contains infinite logits",
        ),
    ],
)
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_tolerance_is_dtype_aware():
    p32 = np.array([0.1] * 10, dtype=np.float32)  # sums to 1 only within float32 rounding
    assert entropy(p32).dtype == np.float32
    p64 = np.array([0.5, 0.5 + 1e-6])
    with pytest.raises(ValueError, match="within 1.5e-08"):
        entropy(p64)
    entropy(p64.astype(np.float32))  # 1e-6 is within float32's tolerance


def test_integer_input_is_promoted():
    assert entropy(np.array([1, 0])) == 0.0
    out = entropy(torch.tensor([1, 0]))
    assert out.dtype == torch.get_default_dtype()


# ------------------------------------------------------------------------ devices


def test_default_device_override(monkeypatch):
    monkeypatch.setenv("CELIB_DEVICE", "cpu")
    assert celib.default_device() == torch.device("cpu")
    monkeypatch.setenv("CELIB_DEVICE", "not-a-device")
    with pytest.raises(ValueError, match="CELIB_DEVICE='not-a-device' is not a torch device"):
        celib.default_device()
    monkeypatch.delenv("CELIB_DEVICE")
    expected = (
        "cuda"
        if torch.cuda.is_available()
        else "mps"
        if torch.backends.mps.is_available()
        else "cpu"
    )
    assert celib.default_device().type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_default_device_cuda_request_without_cuda(monkeypatch):
    monkeypatch.setenv("CELIB_DEVICE", "cuda")
    with pytest.raises(ValueError, match="no CUDA device is available"):
        celib.default_device()


@pytest.mark.cuda
def test_cuda_tensors_stay_on_device_and_match_cpu():
    rng = np.random.default_rng(9)
    p, q = random_simplex(rng, (4, 5)), random_simplex(rng, (4, 5))
    pc, qc = torch.from_numpy(p).cuda(), torch.from_numpy(q).cuda()
    for f in (cross_entropy, kl_divergence):
        out = f(pc, qc)
        assert out.device.type == "cuda"
        np.testing.assert_allclose(out.cpu().numpy(), f(p, q), rtol=1e-13)
    x = torch.tensor([[40.0, 0.0, 0.0]], device="cuda", dtype=torch.float64)
    got = categorical_cross_entropy(torch.tensor([0], device="cuda"), x, from_logits=True)
    assert rel_err(got.item(), mp_softmax_nll([40.0, 0.0, 0.0], 0)) < 1e-14
    with pytest.raises(ValueError, match="same device"):
        cross_entropy(pc, torch.from_numpy(q))


# ------------------------------------------------------------------ Shannon code


def _is_prefix_free(words):
    words = [w for w in words if w]
    return not any(a != b and b.startswith(a) for a in words for b in words)


def test_shannon_code_lengths_kraft_and_prefix_free():
    rng = np.random.default_rng(10)
    for _ in range(50):
        q = random_simplex(rng, (int(rng.integers(2, 12)),), zeros=True)
        codes = celib.shannon_code(q)
        lengths = np.array([len(c) for c in codes])
        used = q > 0
        # l_i = ceil(-log2 q_i), computed independently with mpmath
        want = [int(mpmath.ceil(-mpmath.log(mpmath.mpf(x), 2))) for x in q[used]]
        assert lengths[used].tolist() == want
        assert np.sum(2.0 ** -lengths[used]) <= 1 + 1e-12  # Kraft
        assert _is_prefix_free(codes)
        assert all(c == "" for c in np.array(codes, dtype=object)[~used])


def test_shannon_code_expected_length_brackets_cross_entropy():
    rng = np.random.default_rng(11)
    for _ in range(100):
        p, q = random_simplex(rng, (6,)), random_simplex(rng, (6,))
        lengths = np.array([len(c) for c in celib.shannon_code(q)])
        expected = float(p @ lengths)
        h = cross_entropy(p, q, base=2)
        assert h <= expected < h + 1


def test_shannon_code_bad_input():
    with pytest.raises(ValueError, match="1-D probability vector"):
        celib.shannon_code([[0.5, 0.5]])
    with pytest.raises(ValueError, match="q is not normalised"):
        celib.shannon_code([0.5, 0.6])


# ------------------------------------------------------- issue 11: regression tests


def test_mean_of_no_terms_is_an_error():
    for call in (
        lambda r: binary_cross_entropy([], [], reduction=r),
        lambda r: binary_cross_entropy([], [], from_logits=True, reduction=r),
        lambda r: categorical_cross_entropy(np.zeros(0, dtype=int), np.zeros((0, 3)), reduction=r),
        lambda r: categorical_cross_entropy(np.zeros((0, 3)), np.zeros((0, 3)), reduction=r),
    ):
        with pytest.raises(ValueError, match="reduction='mean' of no terms is 0/0.*t and y"):
            call("mean")
        assert call("sum") == 0.0
        assert call("none").shape == (0,)
    with pytest.raises(ValueError, match="no terms"):
        binary_cross_entropy(torch.zeros(0), torch.zeros(0))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: entropy([0.5, 0.5], base="2"), TypeError, "base must be a number"),
        (lambda: entropy([0.5, 0.5], base=[2]), TypeError, "base must be a number"),
        (lambda: cross_entropy([0.5, 0.5], [0.5, 0.5], axis=0.0), TypeError, "axis must be an"),
        (lambda: cross_entropy([0.5, 0.5], None), TypeError, "q must be array-like"),
        (lambda: cross_entropy([0.5, 0.5], "ab"), TypeError, "q must be array-like"),
        (lambda: kl_divergence([[0.5], [0.5, 0.5]], [0.5, 0.5]), TypeError, "p must be array"),
        (lambda: kl_divergence(np.array([0.5 + 0j, 0.5]), [0.5, 0.5]), TypeError, "p must hold"),
        (lambda: binary_cross_entropy([1.0], [0.5], from_logits="no"), TypeError, "from_logits"),
        (lambda: binary_cross_entropy([1.0], [0.5], reduction=None), TypeError, "reduction"),
        (lambda: categorical_cross_entropy([0], [[0.5, 0.5]], from_logits=1), TypeError, "from_"),
        (lambda: categorical_cross_entropy([True], [[0.5, 0.5]]), TypeError, "t must be integer"),
        (lambda: shannon_code([[0.5], [0.5, 0.5]]), TypeError, "q must be array-like"),
        (lambda: shannon_code(None), TypeError, "q must be array-like"),
    ],
)
def test_wrong_types_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_default_device_without_torch_says_which_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ModuleNotFoundError
    with pytest.raises(ImportError, match=r"pip install celib\[torch\]"):
        celib.default_device()
