"""Tests of celib.nn against torch.nn.functional (parity) and mpmath (accuracy)."""

from __future__ import annotations

import itertools
import warnings

import mpmath
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from celib import nn  # noqa: E402
from celib.nn import _ce, functional  # noqa: E402

mpmath.mp.dps = 50
F64 = torch.float64


# ------------------------------------------------------------------ helpers


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors (conftest.py)


def ce(x, target, path="fast", **kw):
    """celib's cross_entropy; path 'general' forces the general kernel."""
    if path == "fast":
        return nn.cross_entropy(x, target, **kw)
    out = _ce.CrossEntropyFunction.apply(
        x,
        target,
        kw.get("weight"),
        kw.get("ignore_index", -100),
        kw.get("reduction", "mean"),
        float(kw.get("label_smoothing", 0.0)),
        path,
        False,
    )
    return functional._output_dtype(out, x)


@pytest.fixture(params=["default", "tiny"])
def blocks(request, monkeypatch):
    """Run with the default block sizes and with tiny blocks (many blocks, ragged ends,
    chunks along the trailing dimensions)."""
    if request.param == "tiny":
        monkeypatch.setattr(_ce, "_CPU_BLOCK_HARD", 7)
        monkeypatch.setattr(_ce, "_CPU_BLOCK_BUFFERED", 7)
        monkeypatch.setattr(_ce, "_CPU_BLOCK_GENERAL", 7)
        monkeypatch.setattr(_ce, "_GPU_BLOCK", 7)
    return request.param


def grads(out, inputs):
    g = torch.ones_like(out) if out.dim() else None
    # A non-trivial upstream gradient, so that its use in backward is tested too.
    if out.dim():
        g = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype, device=out.device)
        g = g.reshape(out.shape)
    else:
        g = torch.tensor(0.75, dtype=out.dtype, device=out.device)
    return torch.autograd.grad(out, inputs, g)


def mp_cross_entropy(x, c):
    """Loss sum_j c_j (lse - x_j) and gradient (sum c) softmax - c, in mpmath, for one row
    of logits x and class coefficients c (Python floats, taken as exact).

    Straight from the definition, so the working precision must absorb the cancellation
    in log(1 + R) with R down to e^-700: 50 digits (mp.dps) plus 320 more for this."""
    with mpmath.workdps(mpmath.mp.dps + 320):
        xs = [mpmath.mpf(v) for v in x]
        cs = [mpmath.mpf(v) for v in c]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in xs))
        loss = mpmath.fsum(cj * (lse - xj) for cj, xj in zip(cs, xs, strict=True))
        s = mpmath.fsum(cs)
        grad = [s * mpmath.exp(xj - lse) - cj for cj, xj in zip(cs, xs, strict=True)]
        return +loss, [+g for g in grad]


def mp_bce(x, t, pw=1.0):
    """(1 - t) sp(x) + pw t sp(-x) and its x-derivative, in mpmath."""
    with mpmath.workdps(mpmath.mp.dps + 320):  # log(1 + e^-700) from the definition
        x, t, pw = mpmath.mpf(x), mpmath.mpf(t), mpmath.mpf(pw)
        sp = lambda z: mpmath.log(1 + mpmath.exp(z))  # noqa: E731
        sig = lambda z: 1 / (1 + mpmath.exp(-z))  # noqa: E731
        return +((1 - t) * sp(x) + pw * t * sp(-x)), +((1 - t) * sig(x) - pw * t * sig(-x))


def rel_err(ours, ref):
    if isinstance(ours, torch.Tensor):
        ours = ours.detach().cpu().double().item()
    ours, ref = mpmath.mpf(ours), mpmath.mpf(ref)
    if ref == 0:
        return abs(ours)
    return float(abs(ours - ref) / abs(ref))


# ------------------------------------------------------------------ parity with torch

SHAPES = [(6, 5), (3, 5, 4), (2, 5, 3, 2), (5,)]
PATHS = ["fast", "general"]


def _target_shape(shape):
    return shape[:1] + shape[2:] if len(shape) > 1 else ()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_parity_class_indices(blocks, path, shape, ignore_index):
    gen = torch.Generator().manual_seed(1)
    for reduction, use_w, eps in itertools.product(("mean", "sum", "none"), (0, 1), (0.0, 0.15)):
        x = (3 * torch.randn(shape, generator=gen, dtype=F64)).requires_grad_()
        y = torch.randint(0, 5, _target_shape(shape), generator=gen)
        if y.dim():
            y.view(-1)[0] = ignore_index  # at least one ignored position
        w = torch.rand(5, generator=gen, dtype=F64) + 0.1 if use_w else None
        kw = dict(weight=w, ignore_index=ignore_index, reduction=reduction, label_smoothing=eps)
        ours = ce(x, y, path, **kw)
        ref = F.cross_entropy(x, y, **kw)
        assert ours.dtype == ref.dtype and ours.shape == ref.shape
        # (C,) logits whose target is ignore_index: NaN for 'mean', in both.
        torch.testing.assert_close(ours, ref, rtol=1e-13, atol=1e-15, equal_nan=True)
        (g_ours,), (g_ref,) = grads(ours, (x,)), grads(ref, (x,))
        torch.testing.assert_close(g_ours, g_ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("path", ["general", "fast"])
@pytest.mark.parametrize("shape", SHAPES)
def test_cross_entropy_parity_class_probabilities(blocks, path, shape):
    gen = torch.Generator().manual_seed(2)
    dim = 1 if len(shape) > 1 else 0
    for reduction, use_w, eps in itertools.product(("mean", "sum", "none"), (0, 1), (0.0, 0.3)):
        x = (3 * torch.randn(shape, generator=gen, dtype=F64)).requires_grad_()
        t = torch.softmax(2 * torch.randn(shape, generator=gen, dtype=F64), dim)
        t.requires_grad_()
        w = torch.rand(5, generator=gen, dtype=F64) + 0.1 if use_w else None
        kw = dict(weight=w, reduction=reduction, label_smoothing=eps)
        ours = ce(x, t, path, **kw)
        ref = F.cross_entropy(x, t, **kw)
        torch.testing.assert_close(ours, ref, rtol=1e-13, atol=1e-15)
        g_ours, g_ref = grads(ours, (x, t)), grads(ref, (x, t))
        for a, b in zip(g_ours, g_ref, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-15)


def test_cross_entropy_soft_targets_need_not_be_normalised():
    # torch takes any non-negative "probabilities" as they are; so do we.
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(4, 3, generator=gen, dtype=F64)
    t = 2 * torch.rand(4, 3, generator=gen, dtype=F64)
    torch.testing.assert_close(nn.cross_entropy(x, t), F.cross_entropy(x, t), rtol=1e-13, atol=0)


def test_cross_entropy_uint8_targets_and_ties():
    x = torch.tensor([[1.0, 1.0, 0.0], [2.0, 2.0, 2.0]], dtype=F64, requires_grad=True)
    y = torch.tensor([1, 2], dtype=torch.uint8)
    ours, ref = nn.cross_entropy(x, y), F.cross_entropy(x, y)
    torch.testing.assert_close(ours, ref, rtol=1e-15, atol=0)
    torch.testing.assert_close(grads(ours, (x,))[0], grads(ref, (x,))[0], rtol=1e-14, atol=0)


def test_cross_entropy_all_ignored_and_empty_like_torch():
    x = torch.randn(3, 4, dtype=F64, requires_grad=True)
    y = torch.full((3,), -100)
    ours, ref = nn.cross_entropy(x, y), F.cross_entropy(x, y)
    assert torch.isnan(ours) and torch.isnan(ref)
    (g,) = torch.autograd.grad(ours, x)
    assert torch.equal(g, torch.zeros_like(x))
    empty = torch.empty(0, 4, dtype=F64)
    target = torch.empty(0, dtype=torch.long)
    assert torch.isnan(nn.cross_entropy(empty, target))
    assert nn.cross_entropy(empty, target, reduction="sum").item() == 0.0
    assert nn.cross_entropy(empty, target, reduction="none").shape == (0,)


def test_cross_entropy_ignored_rows_may_hold_nan():
    # torch skips ignored rows entirely; so do we (exact zero gradient there).
    x = torch.tensor([[1.0, 2.0, 0.5], [float("nan"), 0.0, 1.0]], dtype=F64, requires_grad=True)
    y = torch.tensor([0, -100])
    for path in PATHS:
        ours = ce(x, y, path)
        torch.testing.assert_close(ours, F.cross_entropy(x, y), rtol=1e-15, atol=0)
        (g,) = torch.autograd.grad(ours, x)
        assert torch.equal(g[1], torch.zeros(3, dtype=F64))


def test_cross_entropy_minus_inf_logits_are_masks():
    x = torch.tensor([[2.0, float("-inf"), 0.0], [float("-inf"), 1.0, 3.0]], dtype=F64)
    x.requires_grad_()
    y = torch.tensor([0, 1])
    for path in PATHS:
        ours = ce(x, y, path)
        torch.testing.assert_close(ours, F.cross_entropy(x, y), rtol=1e-15, atol=0)
        (g,) = torch.autograd.grad(ours, x)
        assert torch.isfinite(g).all() and g[0, 1] == 0 and g[1, 0] == 0
    # The target's logit is -inf: infinite loss, finite gradient.
    loss = nn.cross_entropy(x, torch.tensor([1, 0]), reduction="none")
    assert torch.isinf(loss).all()
    # Zero probability on a masked class adds 0 (0 log 0 = 0), where torch gives NaN.
    t = torch.tensor([[0.5, 0.0, 0.5], [0.0, 0.5, 0.5]], dtype=F64)
    assert torch.isfinite(nn.cross_entropy(x, t))


@pytest.mark.parametrize("path", PATHS)
def test_cross_entropy_gradcheck_class_indices(path):
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(4, 3, 2, generator=gen, dtype=F64, requires_grad=True)
    y = torch.tensor([[0, 2], [1, -100], [2, 2], [0, 1]])
    w = torch.tensor([0.5, 2.0, 1.0], dtype=F64)
    for reduction, eps in itertools.product(("mean", "none"), (0.0, 0.2)):
        if path == "fast":  # the fast kernel takes (N, C)
            x2, y2 = x[:, :, 0].detach().requires_grad_(), y[:, 0]

            def fn(z, y2=y2, reduction=reduction, eps=eps):
                return ce(z, y2, path, weight=w, reduction=reduction, label_smoothing=eps)

            assert torch.autograd.gradcheck(fn, (x2,))
        else:

            def fn(z, reduction=reduction, eps=eps):
                return ce(z, y, path, weight=w, reduction=reduction, label_smoothing=eps)

            assert torch.autograd.gradcheck(fn, (x,))


def test_cross_entropy_gradcheck_class_probabilities():
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(3, 4, generator=gen, dtype=F64, requires_grad=True)
    t = torch.softmax(torch.randn(3, 4, generator=gen, dtype=F64), 1).requires_grad_()
    w = torch.tensor([0.5, 2.0, 1.0, 1.5], dtype=F64)
    for reduction in ("mean", "sum", "none"):

        def fn(z, p, reduction=reduction):
            return nn.cross_entropy(z, p, weight=w, reduction=reduction, label_smoothing=0.1)

        assert torch.autograd.gradcheck(fn, (x, t))


def test_cross_entropy_backward_twice_with_retain_graph():
    x = torch.randn(5, 7, dtype=F64, requires_grad=True)
    y = torch.randint(0, 7, (5,))
    loss = nn.cross_entropy(x, y)
    loss.backward(retain_graph=True)
    first = x.grad.clone()
    loss.backward()
    torch.testing.assert_close(x.grad, 2 * first, rtol=1e-15, atol=0)
    torch.testing.assert_close(first, torch.autograd.grad(F.cross_entropy(x, y), x)[0])


@pytest.mark.parametrize(
    "name", ["cross_entropy", "binary_cross_entropy_with_logits", "linear_cross_entropy"]
)
def test_no_double_backward_raises_not_a_zero_hessian(name):
    """The gradient is computed without a graph: differentiating it again (a Hessian,
    create_graph=True) raises, naming the function, where PyTorch's
    once_differentiable alone would hand back a constant gradient and a zero Hessian."""
    x = torch.randn(2, 3, dtype=F64, requires_grad=True)
    y = torch.tensor([0, 1])
    args = {
        "cross_entropy": (y,),
        "binary_cross_entropy_with_logits": (torch.rand(2, 3, dtype=F64),),
        "linear_cross_entropy": (torch.randn(4, 3, dtype=F64), y),
    }[name]
    fn = getattr(nn, name)
    with pytest.raises(RuntimeError, match=f"celib.nn.{name}: .* differentiated again"):
        torch.autograd.functional.hessian(lambda x: fn(x, *args), x)
    with pytest.raises(RuntimeError, match="differentiated again"):
        torch.autograd.grad(fn(x, *args), x, create_graph=True)
    (g,) = torch.autograd.grad(fn(x, *args), x)  # first order: fine
    assert torch.isfinite(g).all()


def test_focal_loss_is_twice_differentiable():
    """focal_loss is built from differentiable operations: its Hessian is PyTorch's."""
    x = torch.randn(3, 4, dtype=F64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda x: nn.focal_loss(x, torch.tensor([0, 1, 3])), (x,))


@given(
    st.lists(st.floats(-30, 30, allow_nan=False, allow_subnormal=False), min_size=2, max_size=8),
    st.integers(0, 7),
    st.floats(0.0, 1.0),
)
@settings(max_examples=60, deadline=None)
def test_cross_entropy_properties(row, y, eps):
    x = torch.tensor([row], dtype=F64, requires_grad=True)
    y = torch.tensor([y % len(row)])
    loss = nn.cross_entropy(x, y, label_smoothing=eps)
    (g,) = torch.autograd.grad(loss, x)
    assert loss.item() >= 0
    # The gradient softmax - q sums to zero: q and softmax are distributions.
    assert abs(g.sum().item()) <= 1e-14
    torch.testing.assert_close(loss, F.cross_entropy(x, y, label_smoothing=eps))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_parity(reduction):
    gen = torch.Generator().manual_seed(6)
    for use_w, use_pw in itertools.product((0, 1), (0, 1)):
        x = (5 * torch.randn(6, 4, generator=gen, dtype=F64)).requires_grad_()
        t = torch.rand(6, 4, generator=gen, dtype=F64)
        t[0], t[1] = 0.0, 1.0
        t.requires_grad_()
        w = torch.rand(4, generator=gen, dtype=F64) if use_w else None
        pw = 3 * torch.rand(4, generator=gen, dtype=F64) if use_pw else None
        kw = dict(weight=w, reduction=reduction, pos_weight=pw)
        ours = nn.binary_cross_entropy_with_logits(x, t, **kw)
        ref = F.binary_cross_entropy_with_logits(x, t, **kw)
        torch.testing.assert_close(ours, ref, rtol=1e-13, atol=1e-15)
        for a, b in zip(grads(ours, (x, t)), grads(ref, (x, t)), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-15)


def test_bce_with_logits_gradcheck():
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(3, 2, generator=gen, dtype=F64, requires_grad=True)
    t = torch.rand(3, 2, generator=gen, dtype=F64, requires_grad=True)
    w = torch.rand(3, 1, generator=gen, dtype=F64)
    pw = torch.tensor([0.5, 2.0], dtype=F64)
    for reduction in ("mean", "none"):

        def fn(z, p, reduction=reduction):
            return nn.binary_cross_entropy_with_logits(z, p, w, reduction, pw)

        assert torch.autograd.gradcheck(fn, (x, t))


def test_modules_match_torch():
    gen = torch.Generator().manual_seed(8)
    w = torch.rand(4, generator=gen)
    x = torch.randn(5, 4, generator=gen, dtype=F64)
    y = torch.tensor([0, 1, 2, 3, 1])
    ours = nn.CrossEntropyLoss(weight=w, ignore_index=3, label_smoothing=0.1).double()
    ref = torch.nn.CrossEntropyLoss(weight=w, ignore_index=3, label_smoothing=0.1).double()
    assert ours.weight.dtype == F64 and "weight" in ours.state_dict()
    torch.testing.assert_close(ours(x, y), ref(x, y), rtol=1e-13, atol=0)
    t = torch.rand(5, 4, generator=gen, dtype=F64)
    pw = torch.full((4,), 2.0)
    ours = nn.BCEWithLogitsLoss(weight=w, reduction="sum", pos_weight=pw).double()
    ref = torch.nn.BCEWithLogitsLoss(weight=w, reduction="sum", pos_weight=pw).double()
    assert set(ours.state_dict()) == {"weight", "pos_weight"}
    torch.testing.assert_close(ours(x, t), ref(x, t), rtol=1e-13, atol=0)
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(ValueError, match="reduction"):
        nn.BCEWithLogitsLoss(reduction="avg")


# ------------------------------------------------------------------ accuracy (mpmath)


def test_issue_examples():
    """The figures of the issue: PyTorch returns 0, celib the loss to a few ulp."""
    x = torch.tensor([[20.0, 0.0, 0.0]], requires_grad=True)
    loss = nn.cross_entropy(x, torch.tensor([0]))
    (g,) = torch.autograd.grad(loss, x)
    ref_loss, ref_grad = mp_cross_entropy([20.0, 0.0, 0.0], [1.0, 0.0, 0.0])
    assert mpmath.almosteq(ref_loss, mpmath.log1p(2 * mpmath.exp(-20)), 1e-40)
    assert rel_err(loss, ref_loss) <= 1e-6
    for j in range(3):
        assert rel_err(g[0, j], ref_grad[j]) <= 1e-6
    assert F.cross_entropy(x, torch.tensor([0])).item() == 0.0  # what celib fixes

    x = torch.tensor([[40.0, 0.0, 0.0]], dtype=F64)
    ref_loss, _ = mp_cross_entropy([40.0, 0.0, 0.0], [1.0, 0.0, 0.0])
    assert rel_err(nn.cross_entropy(x, torch.tensor([0])), ref_loss) <= 1e-15
    assert abs(float(ref_loss) - 8.4967e-18) < 1e-21

    x = torch.tensor([-17.0], requires_grad=True)
    loss = nn.binary_cross_entropy_with_logits(x, torch.tensor([0.0]))
    (g,) = torch.autograd.grad(loss, x)
    ref_loss, ref_grad = mp_bce(-17.0, 0.0)
    assert rel_err(loss, ref_loss) <= 1e-6 and rel_err(g[0], ref_grad) <= 1e-6


# Largest margins whose softmax entries stay normal numbers in each dtype.
MARGINS = {torch.float32: [0.0, 1.0, 5.0, 17.0, 20.0, 35.0, 60.0, 80.0],
           F64: [0.0, 1.0, 20.0, 40.0, 100.0, 300.0, 700.0]}  # fmt: skip
TOL = {torch.float32: 1e-5, F64: 1e-12}


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("path", PATHS)
def test_cross_entropy_accuracy_extreme_margins(dtype, path):
    gen = torch.Generator().manual_seed(9)
    rows = []
    for margin in MARGINS[dtype]:
        rest = torch.rand(6, generator=gen, dtype=F64) - 0.5
        rows.append(torch.cat([torch.tensor([margin], dtype=F64), rest]) + 3.0)
    x = torch.stack(rows).to(dtype).requires_grad_()
    worst = 0.0
    for target in (0, 3):  # the largest logit, and another one
        y = torch.full((len(rows),), target)
        loss = ce(x, y, path, reduction="none")
        (g,) = torch.autograd.grad(loss.sum(), x)
        for i, row in enumerate(x.detach().tolist()):
            c = [1.0 if j == target else 0.0 for j in range(len(row))]
            ref_loss, ref_grad = mp_cross_entropy(row, c)
            worst = max(worst, rel_err(loss[i], ref_loss))
            worst = max(worst, *(rel_err(g[i, j], ref_grad[j]) for j in range(len(row))))
    assert worst <= TOL[dtype]


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_cross_entropy_accuracy_smoothing_and_probabilities(dtype):
    """Confident rows with label smoothing, weights and class probabilities."""
    margin = 30.0 if dtype == torch.float32 else 300.0
    x = torch.tensor([[margin, 0.0, 1.0], [0.5, margin, -2.0]], dtype=dtype)
    x.requires_grad_()
    w = torch.tensor([2.0, 0.5, 1.0], dtype=dtype)
    t = torch.tensor([[1.0, 0.0, 0.0], [1e-6, 1 - 2e-6, 1e-6]], dtype=dtype)
    y = torch.tensor([0, 1])
    eps = 1e-3
    cases = [("indices", y, None), ("indices+w", y, w), ("probs", t, None), ("probs+w", t, w)]
    for name, target, weight in cases:
        loss = nn.cross_entropy(x, target, weight=weight, label_smoothing=eps, reduction="none")
        (g,) = torch.autograd.grad(loss.sum(), x)
        wl = [1.0] * 3 if weight is None else weight.tolist()
        for i, row in enumerate(x.detach().tolist()):
            if target.dtype.is_floating_point:
                q = [(1 - eps) * v + eps / 3 for v in target[i].tolist()]
                c = [wj * qj for wj, qj in zip(wl, q, strict=True)]
            else:
                c = [eps / 3 * wj for wj in wl]
                c[int(target[i])] += (1 - eps) * wl[int(target[i])]
            ref_loss, ref_grad = mp_cross_entropy(row, c)
            assert rel_err(loss[i], ref_loss) <= TOL[dtype], name
            for j in range(3):
                assert rel_err(g[i, j], ref_grad[j]) <= 10 * TOL[dtype], (name, i, j)


@pytest.mark.parametrize("path", PATHS)
def test_cross_entropy_finite_at_huge_logits(path):
    for dtype in (torch.float32, F64):
        x = torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=dtype, requires_grad=True)
        y = torch.tensor([1, 2])
        loss = ce(x, y, path, reduction="none")
        (g,) = torch.autograd.grad(loss.sum(), x)
        assert torch.isfinite(loss).all() and torch.isfinite(g).all()
        assert loss[0].item() == 2e4 and loss[1].item() == 0.0
        expected = torch.tensor([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]], dtype=dtype)
        assert torch.equal(g, expected)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_bce_with_logits_accuracy(dtype):
    xs = [-80.0, -40.0, -17.0, -5.0, -0.5, 0.0, 0.5, 5.0, 17.0, 40.0, 80.0]
    if dtype == F64:
        xs += [-700.0, 700.0]
    x = torch.tensor(xs, dtype=dtype, requires_grad=True)
    for t_val, pw in ((0.0, 1.0), (1.0, 1.0), (1.0, 3.0), (0.0, 3.0), (0.3, 2.0)):
        t = torch.full_like(x, t_val)
        pos_weight = torch.tensor([pw], dtype=dtype)
        loss = nn.binary_cross_entropy_with_logits(x, t, reduction="none", pos_weight=pos_weight)
        (g,) = torch.autograd.grad(loss.sum(), x)
        for i, xv in enumerate(xs):
            ref_loss, ref_grad = mp_bce(xv, float(t[i]), pw)
            assert rel_err(loss[i], ref_loss) <= TOL[dtype], (xv, t_val, pw)
            if t_val in (0.0, 1.0):  # soft labels: the gradient can be 0 (cancellation)
                assert rel_err(g[i], ref_grad) <= TOL[dtype], (xv, t_val, pw)
    big = torch.tensor([1e4, -1e4, 1e4, -1e4], dtype=dtype, requires_grad=True)
    loss = nn.binary_cross_entropy_with_logits(
        big, torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=dtype), reduction="none"
    )
    (g,) = torch.autograd.grad(loss.sum(), big)
    assert loss.tolist() == [1e4, 1e4, 0.0, 0.0]
    assert g.tolist() == [1.0, -1.0, 0.0, 0.0]


# ------------------------------------------------------------------ half precision


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("path", PATHS)
def test_half_inputs_accumulate_in_float32(blocks, dtype, path):
    gen = torch.Generator().manual_seed(10)
    x = (4 * torch.randn(16, 300, generator=gen)).to(dtype).requires_grad_()
    y = torch.randint(0, 300, (16,), generator=gen)
    x32 = x.detach().float().requires_grad_()
    for reduction in ("mean", "none"):
        loss = ce(x, y, path, reduction=reduction)
        ref = ce(x32, y, path, reduction=reduction)
        assert loss.dtype == dtype
        # Same float32 computation, rounded once at the end.
        assert torch.equal(loss, ref.to(dtype))
        (g,) = torch.autograd.grad(loss.sum(), x)
        (g32,) = torch.autograd.grad(ref.sum(), x32)
        assert g.dtype == dtype
        # Computed in float32 and rounded once: within one unit in the last place.
        torch.testing.assert_close(g, g32.to(dtype), rtol=torch.finfo(dtype).eps, atol=0.0)
        torch.testing.assert_close(
            loss.float(), F.cross_entropy(x32, y, reduction=reduction), rtol=1e-2, atol=1e-3
        )
    # bfloat16 has float32's range: the tiny loss survives.
    z = torch.tensor([[20.0, 0.0, 0.0]], dtype=torch.bfloat16)
    if dtype == torch.bfloat16:
        assert abs(nn.cross_entropy(z, torch.tensor([0])).item() / 4.1223e-9 - 1) < 1e-2
    b = nn.binary_cross_entropy_with_logits(x, torch.zeros_like(x), reduction="none")
    assert b.dtype == dtype
    torch.testing.assert_close(
        b.float(),
        F.binary_cross_entropy_with_logits(x32, torch.zeros_like(x32), reduction="none"),
        rtol=1e-2,
        atol=1e-3,
    )


def test_autocast_returns_float32_like_torch():
    gen = torch.Generator().manual_seed(12)
    x = torch.randn(8, 6, generator=gen).bfloat16().requires_grad_()
    y = torch.randint(0, 6, (8,), generator=gen)
    t = torch.rand(8, 6, generator=gen).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = nn.cross_entropy(x, y)
        ref = F.cross_entropy(x, y)
        ours_b = nn.binary_cross_entropy_with_logits(x, t)
        ref_b = F.binary_cross_entropy_with_logits(x, t)
    assert ours.dtype == ref.dtype == torch.float32
    assert ours_b.dtype == ref_b.dtype == torch.float32
    # Same float32 computation on the bfloat16 logits: no rounding to bfloat16 on the way.
    torch.testing.assert_close(ours, F.cross_entropy(x.float(), y), rtol=1e-6, atol=0)
    (g,) = torch.autograd.grad(ours, x)
    assert g.dtype == torch.bfloat16


# ------------------------------------------------------------------ bad input


def test_cross_entropy_rejects_bad_targets():
    x = torch.randn(4, 3)
    with pytest.raises(ValueError, match=r"target holds the class index 5, outside \[0, 3\)"):
        nn.cross_entropy(x, torch.tensor([0, 1, 5, 2]))
    with pytest.raises(ValueError, match="class index -1"):
        nn.cross_entropy(x, torch.tensor([0, -1, 2, 2]))
    with pytest.raises(TypeError, match="target of class indices must have an integer dtype"):
        nn.cross_entropy(x, torch.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(TypeError, match="integer dtype"):
        nn.cross_entropy(x, torch.tensor([True, False, True, True]))
    with pytest.raises(TypeError, match="class probabilities, which need a floating dtype"):
        nn.cross_entropy(x, torch.zeros(4, 3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"target of class indices must have shape \(4,\)"):
        nn.cross_entropy(x, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"shape \(4, 2\)"):
        nn.cross_entropy(torch.randn(4, 3, 2), torch.zeros(4, 3, dtype=torch.long))
    soft = torch.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"target \(class probabilities\) holds NaN"):
        nn.cross_entropy(x, soft.index_fill(0, torch.tensor([1]), float("nan")))
    # Negative "probabilities": torch computes a value, so does celib (drop-in).
    torch.testing.assert_close(nn.cross_entropy(x, soft - 0.5), F.cross_entropy(x, soft - 0.5))
    with pytest.raises(ValueError, match="infinite"):
        nn.cross_entropy(x, soft.index_fill(0, torch.tensor([1]), float("inf")))
    with pytest.raises(ValueError, match="ignore_index=0 cannot be used with class prob"):
        nn.cross_entropy(x, soft, ignore_index=0)
    with pytest.raises(TypeError, match="target must be a torch.Tensor"):
        nn.cross_entropy(x, [0, 1, 2, 0])


def test_cross_entropy_rejects_bad_arguments():
    x = torch.randn(4, 3)
    y = torch.tensor([0, 1, 2, 0])
    with pytest.raises(TypeError, match="input must be a torch.Tensor"):
        nn.cross_entropy([[0.0, 1.0]], torch.tensor([0]))
    with pytest.raises(TypeError, match=r"input \(logits\) must have a floating dtype"):
        nn.cross_entropy(torch.ones(4, 3, dtype=torch.long), y)
    with pytest.raises(ValueError, match="input must have shape"):
        nn.cross_entropy(torch.tensor(1.0), torch.tensor(0))
    with pytest.raises(ValueError, match="at least one class"):
        nn.cross_entropy(torch.empty(4, 0), y)
    with pytest.raises(ValueError, match=r"weight must have shape \(C,\) = \(3,\)"):
        nn.cross_entropy(x, y, weight=torch.ones(4))
    with pytest.raises(ValueError, match=r"weight \(class weights\) holds NaN"):
        nn.cross_entropy(x, y, weight=torch.tensor([1.0, float("nan"), 1.0]))
    w_neg = torch.tensor([1.0, -1.0, 0.5])  # negative class weights: as torch computes
    torch.testing.assert_close(
        nn.cross_entropy(x, y, weight=w_neg), F.cross_entropy(x, y, weight=w_neg)
    )
    with pytest.raises(ValueError, match="weight must not require grad"):
        nn.cross_entropy(x, y, weight=torch.ones(3, requires_grad=True))
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.cross_entropy(x, y, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        nn.cross_entropy(x, y, label_smoothing=1.5)
    with pytest.raises(ValueError, match="label_smoothing must be between"):
        nn.cross_entropy(x, y, label_smoothing=float("nan"))
    with pytest.raises(TypeError, match="label_smoothing must be a real number"):
        nn.cross_entropy(x, y, label_smoothing="0.1")
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        nn.cross_entropy(x, y, ignore_index=1.0)


@pytest.mark.parametrize("path", PATHS)
def test_cross_entropy_rejects_undefined_logits(path):
    y = torch.tensor([0, 1])
    for bad in (float("nan"), float("inf")):
        x = torch.tensor([[0.0, 1.0, 2.0], [1.0, bad, 0.0]])
        with pytest.raises(ValueError, match="input: a row of logits that counts"):
            ce(x, y, path)
    x = torch.tensor([[0.0, 1.0, 2.0], [float("-inf")] * 3])
    with pytest.raises(ValueError, match="only -inf"):
        ce(x, y, path)


def test_bce_with_logits_rejects_bad_input():
    x = torch.randn(4, 3)
    t = torch.rand(4, 3)
    with pytest.raises(ValueError, match=r"target must have the input's shape \(4, 3\)"):
        nn.binary_cross_entropy_with_logits(x, t[:2])
    with pytest.raises(TypeError, match=r"target \(probabilities\) must have a floating dtype"):
        nn.binary_cross_entropy_with_logits(x, (t > 0.5).long())
    with pytest.raises(TypeError, match=r"input \(logits\) must have a floating dtype"):
        nn.binary_cross_entropy_with_logits(x.long(), t)
    # Targets outside [0, 1] and negative pos_weight: torch computes a value, so does celib.
    bce, ref = nn.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits
    torch.testing.assert_close(bce(x, t + 1), ref(x, t + 1))
    torch.testing.assert_close(
        bce(x, t, pos_weight=-torch.ones(3)), ref(x, t, pos_weight=-torch.ones(3))
    )
    with pytest.raises(ValueError, match=r"target \(probabilities\) holds an infinite"):
        bce(x, t.index_fill(0, torch.tensor([0]), float("inf")))
    with pytest.raises(ValueError, match=r"target \(probabilities\) holds NaN"):
        nn.binary_cross_entropy_with_logits(x, t.index_fill(0, torch.tensor([0]), float("nan")))
    with pytest.raises(ValueError, match=r"weight of shape \(2,\) does not broadcast"):
        nn.binary_cross_entropy_with_logits(x, t, weight=torch.ones(2))
    with pytest.raises(ValueError, match=r"pos_weight \(weights\) holds NaN"):
        nn.binary_cross_entropy_with_logits(x, t, pos_weight=torch.full((3,), float("nan")))
    with pytest.raises(ValueError, match="pos_weight must not require grad"):
        nn.binary_cross_entropy_with_logits(x, t, pos_weight=torch.ones(3, requires_grad=True))
    with pytest.raises(ValueError, match="input: the logits hold NaN"):
        nn.binary_cross_entropy_with_logits(x.index_fill(1, torch.tensor([1]), float("nan")), t)
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.binary_cross_entropy_with_logits(x, t, reduction="avg")


# ------------------------------------------------------------------ CUDA


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
class TestCUDA:
    """Parity and accuracy on a GPU (skipped where there is none)."""

    def test_parity(self):
        gen = torch.Generator().manual_seed(11)
        for shape, soft in itertools.product([(64, 1000), (4, 10, 3, 5)], (False, True)):
            x = (3 * torch.randn(shape, generator=gen, dtype=F64)).cuda().requires_grad_()
            if soft:
                y = torch.softmax(torch.randn(shape, generator=gen, dtype=F64), 1).cuda()
            else:
                y = torch.randint(0, shape[1], shape[:1] + shape[2:], generator=gen).cuda()
            w = (torch.rand(shape[1], generator=gen, dtype=F64) + 0.1).cuda()
            for reduction, eps in itertools.product(("mean", "sum", "none"), (0.0, 0.1)):
                kw = dict(weight=w, reduction=reduction, label_smoothing=eps)
                ours, ref = nn.cross_entropy(x, y, **kw), F.cross_entropy(x, y, **kw)
                assert ours.device == x.device
                torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)
                torch.testing.assert_close(grads(ours, (x,))[0], grads(ref, (x,))[0])
        x = torch.randn(8, 5, dtype=F64).cuda().requires_grad_()
        t = torch.rand(8, 5, dtype=F64).cuda()
        ours = nn.binary_cross_entropy_with_logits(x, t, pos_weight=torch.full((5,), 2.0).cuda())
        ref = F.binary_cross_entropy_with_logits(x, t, pos_weight=torch.full((5,), 2.0).cuda())
        torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)

    def test_accuracy(self):
        x = torch.tensor([[20.0, 0.0, 0.0]], device="cuda", requires_grad=True)
        loss = nn.cross_entropy(x, torch.tensor([0], device="cuda"))
        (g,) = torch.autograd.grad(loss, x)
        ref_loss, ref_grad = mp_cross_entropy([20.0, 0.0, 0.0], [1.0, 0.0, 0.0])
        assert rel_err(loss.cpu(), ref_loss) <= 1e-5
        assert all(rel_err(g[0, j].cpu(), ref_grad[j]) <= 1e-5 for j in range(3))
        xb = torch.tensor([-17.0], device="cuda")
        ref_b, _ = mp_bce(-17.0, 0.0)
        loss_b = nn.binary_cross_entropy_with_logits(xb, torch.zeros_like(xb))
        assert rel_err(loss_b.cpu(), ref_b) <= 1e-5
        xh = torch.randn(32, 1000, device="cuda").to(torch.bfloat16)
        yh = torch.randint(0, 1000, (32,), device="cuda")
        assert nn.cross_entropy(xh, yh).dtype == torch.bfloat16
        assert torch.equal(nn.cross_entropy(xh, yh), nn.cross_entropy(xh.float(), yh).bfloat16())

    def test_device_mismatch(self):
        with pytest.raises(ValueError, match="target is on cpu but input is on cuda"):
            nn.cross_entropy(torch.randn(2, 3, device="cuda"), torch.tensor([0, 1]))


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_gradient_accurate_for_large_vocabularies(dtype):
    """torch.softmax's rows do not sum to 1 within a few ulp at C = 256k (about 1e3 ulp
    on CPU); celib divides by the accurately summed row, so the gradient keeps its
    digits. The logits take three values, so the reference is a closed form."""
    c, counts = 256_000, (1, 128_000, 127_999)
    values = (0.0, -1.0, -2.5)  # the target's logit, then two groups
    x = torch.cat([torch.full((k,), v, dtype=dtype) for k, v in zip(counts, values)])
    z = sum(k * mpmath.exp(v) for k, v in zip(counts, values))
    ref = [mpmath.exp(v) / z for v in values]
    ref[0] -= 1  # d loss / d x = softmax - onehot
    y = torch.tensor([0])
    xr = x.view(1, c).requires_grad_()
    (g_ce,) = torch.autograd.grad(nn.cross_entropy(xr, y), xr)
    # linear_cross_entropy with D = 1: the logits are the weight's column, exactly.
    w = x.view(c, 1).clone().requires_grad_()
    h = torch.ones(1, 1, dtype=dtype)
    (g_lin,) = torch.autograd.grad(nn.linear_cross_entropy(h, w, y), w)
    eps = torch.finfo(dtype).eps
    for g in (g_ce.view(c), g_lin.view(c)):
        for idx, r in zip((0, 1, c - 1), ref):
            assert rel_err(g[idx], r) <= 8 * eps, (idx, float(g[idx]), float(r))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_half_gradient_with_weights_and_ignored_rows(blocks, dtype, reduction):
    """The half-precision kernel finishes the gradient in float32 (class weights, the
    mean's divisor, ignored rows) and rounds it once; an ignored row may hold NaN."""
    gen = torch.Generator().manual_seed(11)
    x = (3 * torch.randn(12, 50, generator=gen)).to(dtype)
    y = torch.randint(0, 50, (12,), generator=gen)
    y[[2, 7]] = -100
    x[7, 3] = float("nan")
    w = torch.rand(50, generator=gen) + 0.5
    x16, x32 = x.clone().requires_grad_(), x.float().requires_grad_()
    up = torch.linspace(0.5, 1.5, 12) if reduction == "none" else torch.tensor(0.75)
    (g,) = torch.autograd.grad(
        nn.cross_entropy(x16, y, weight=w, reduction=reduction), x16, up.to(dtype)
    )
    (g32,) = torch.autograd.grad(nn.cross_entropy(x32, y, weight=w, reduction=reduction), x32, up)
    assert g.dtype == dtype
    assert torch.equal(g[[2, 7]], torch.zeros(2, 50, dtype=dtype))
    fi = torch.finfo(dtype)
    # One rounding: within an ulp (absolute 2^-24 among float16's subnormals). With
    # 'none' the per-row upstream gradient is only known in backward and multiplies the
    # rounded gradient: a second rounding.
    rtol = fi.eps * (2 if reduction == "none" else 1)
    torch.testing.assert_close(g, g32.to(dtype), rtol=rtol, atol=fi.tiny * fi.eps)


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("kind", ["smoothing", "probabilities"])
def test_general_kernel_accurate_for_large_vocabularies(dtype, kind):
    """Label smoothing and class probabilities at C = 256k: the loss and the gradient
    keep their digits (the softmax's row is renormalised by its accurate sum)."""
    c, counts = 256_000, (1, 128_000, 127_999)
    values = (0.0, -1.0, -2.5)
    x = torch.cat([torch.full((k,), v, dtype=dtype) for k, v in zip(counts, values)])
    xr = x.view(1, c).requires_grad_()
    if kind == "smoothing":
        eps = 0.1
        loss = nn.cross_entropy(xr, torch.tensor([0]), label_smoothing=eps)
    else:
        q = torch.cat([torch.full((k,), v, dtype=dtype) for k, v in zip(counts, (0.5, 3e-6, 0.0))])
        q[-1] = 1 - float(q[:-1].double().sum())  # one class takes the remaining mass
        loss = nn.cross_entropy(xr, q.view(1, c))
    (g,) = torch.autograd.grad(loss, xr)
    mp = [mpmath.mpf(v) for v in values]
    z = sum(k * mpmath.exp(v) for k, v in zip(counts, mp))
    lse = mpmath.log(z)
    if kind == "smoothing":
        cs = [mpmath.mpf(1 - 0.1) + mpmath.mpf(0.1) / c, mpmath.mpf(0.1) / c, mpmath.mpf(0.1) / c]
        weights = [cs[0], cs[1] * counts[1], cs[2] * counts[2]]
        ref_loss = sum(w * (lse - v) for w, v in zip(weights, mp))
        total = sum(weights)
        ref_g = [total * mpmath.exp(v) / z - cj for v, cj in zip(mp, cs)]
    else:
        qs = [mpmath.mpf(float(q[0])), mpmath.mpf(float(q[1])), mpmath.mpf(float(q[-2]))]
        q_last = mpmath.mpf(float(q[-1]))
        ref_loss = (
            qs[0] * (lse - mp[0]) + counts[1] * qs[1] * (lse - mp[1]) + q_last * (lse - mp[2])
        )
        total = qs[0] + counts[1] * qs[1] + q_last
        ref_g = [total * mpmath.exp(mp[0]) / z - qs[0], total * mpmath.exp(mp[1]) / z - qs[1],
                 total * mpmath.exp(mp[2]) / z - qs[2]]  # fmt: skip
    tol = 8 * torch.finfo(dtype).eps
    assert rel_err(loss, ref_loss) <= tol
    for idx, r in zip((0, 1, c - 2), ref_g):  # one entry of each group
        assert rel_err(g[0, idx], r) <= tol, (idx, float(g[0, idx]), float(r))


# ------------------------------------------------------------------ regressions


@pytest.mark.parametrize("shape", [(2, 3, 1), (4, 3, 1), (2, 3, 1, 1), (1, 3, 1)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_backward_with_size_one_spatial_dimension(shape, reduction):
    """(N, C, 1) logits take the fast kernel; its (N, C) gradient must come back in the
    input's shape (backward used to crash: size of tensor a (6) must match b (2))."""
    gen = torch.Generator().manual_seed(21)
    x = torch.randn(shape, generator=gen, dtype=F64, requires_grad=True)
    y = torch.randint(0, 3, shape[:1] + shape[2:], generator=gen)
    ours = nn.cross_entropy(x, y, reduction=reduction)
    ref = F.cross_entropy(x, y, reduction=reduction)
    torch.testing.assert_close(ours, ref, rtol=1e-13, atol=0)
    (g,), (g_ref,) = grads(ours, (x,)), grads(ref, (x,))
    assert g.shape == x.shape
    torch.testing.assert_close(g, g_ref, rtol=1e-12, atol=1e-15)
    x32 = x.detach().float().requires_grad_()
    nn.cross_entropy(x32, y).backward()  # float32 and the default reduction
    assert x32.grad.shape == x.shape


def test_negative_class_weights_and_pos_weight_as_torch():
    gen = torch.Generator().manual_seed(22)
    x = torch.randn(6, 4, generator=gen, dtype=F64, requires_grad=True)
    y = torch.randint(0, 4, (6,), generator=gen)
    w = torch.tensor([1.0, -2.0, 0.5, -0.25], dtype=F64)
    for kw in (
        dict(weight=w),
        dict(weight=w, label_smoothing=0.2),
        dict(weight=w, reduction="sum"),
    ):
        ours, ref = nn.cross_entropy(x, y, **kw), F.cross_entropy(x, y, **kw)
        torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)
        (g,), (g_ref,) = grads(ours, (x,)), grads(ref, (x,))
        torch.testing.assert_close(g, g_ref, rtol=1e-12, atol=1e-14)
    t = torch.rand(6, 4, generator=gen, dtype=F64)
    pw = torch.tensor([2.0, -1.0, 0.0, -0.5], dtype=F64)
    ours = nn.binary_cross_entropy_with_logits(x, t, pos_weight=pw, weight=w)
    ref = F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, weight=w)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)
    (g,), (g_ref,) = grads(ours, (x,)), grads(ref, (x,))
    torch.testing.assert_close(g, g_ref, rtol=1e-12, atol=1e-14)


def test_linear_cross_entropy_loss_module_matches_torch():
    torch.manual_seed(23)
    kw = dict(out_features=(2, 3), bias=True, dtype=F64, label_smoothing=0.1)
    ref = torch.nn.LinearCrossEntropyLoss(5, 4, **kw)
    ours = nn.LinearCrossEntropyLoss(5, 4, **kw)
    ours.load_state_dict(ref.state_dict())
    h = torch.randn(7, 5, dtype=F64)
    y = torch.randint(0, 4, (7, 2, 3))
    torch.testing.assert_close(ours(h, y), ref(h, y), rtol=1e-12, atol=0)
    g = torch.autograd.grad(ours(h, y), ours.linear.weight)[0]
    g_ref = torch.autograd.grad(ref(h, y), ref.linear.weight)[0]
    torch.testing.assert_close(g, g_ref, rtol=1e-12, atol=1e-15)
    assert "num_classes=4" in repr(ours)


# ------------------------------------------------------------------ inplace_backward


@pytest.mark.parametrize("dtype", [F64, torch.float32, torch.bfloat16])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_inplace_backward_writes_the_gradient_into_the_logits(dtype, reduction):
    gen = torch.Generator().manual_seed(31)
    x0 = (4 * torch.randn(9, 7, generator=gen, dtype=F64)).to(dtype)
    x0[2, 3] = 300.0  # a row whose target probability underflows (target 0 below)
    y = torch.randint(0, 7, (9,), generator=gen)
    y[2], y[4] = 0, -100  # ... and an ignored row
    w = torch.rand(7, generator=gen, dtype=F64).to(dtype) + 0.5
    ref_x = x0.clone().requires_grad_()
    ref = nn.cross_entropy(ref_x, y, weight=w, reduction=reduction)
    (ref_g,) = grads(ref, (ref_x,))
    x = x0.clone().requires_grad_()
    out = nn.cross_entropy(x, y, weight=w, reduction=reduction, inplace_backward=True)
    assert torch.equal(out, ref)
    (g,) = grads(out, (x,))
    assert torch.equal(g, ref_g)
    assert g.data_ptr() == x.data_ptr()  # the logits' own storage
    assert not g[4].any()


def test_inplace_backward_once_only_and_checked():
    x = torch.randn(3, 4, requires_grad=True)
    y = torch.tensor([0, 1, 2])
    loss = nn.cross_entropy(x, y, inplace_backward=True)
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="backpropagated once only"):
        loss.backward()
    with pytest.raises(TypeError, match="inplace_backward must be True or False"):
        nn.cross_entropy(x, y, inplace_backward=1)
    # Without a gradient to compute, the logits are left alone.
    x2 = torch.randn(3, 4)
    before = x2.clone()
    nn.cross_entropy(x2, y, inplace_backward=True)
    assert torch.equal(x2, before)


# ------------------------------------------------------------------ any bad argument

_BAD = {
    "None": None,
    "str": "a",
    "complex": torch.ones(4, 3, dtype=torch.complex64),
    "nested list": [[1.0, 2.0], [3.0]],
    "nan": float("nan"),
    "inf": float("inf"),
    "negative": -1,
    "negative float": -0.5,
    "empty": torch.empty(0),
    "bool": True,
}


def _calls():
    x = torch.randn(4, 3, dtype=F64, requires_grad=True)
    y = torch.tensor([0, 1, 2, 1])
    t = torch.rand(4, 3, dtype=F64)
    h, w = torch.randn(4, 5, dtype=F64), torch.randn(3, 5, dtype=F64)
    return {
        "cross_entropy": (
            nn.cross_entropy,
            F.cross_entropy,
            dict(input=x, target=y, weight=None, ignore_index=-100, reduction="mean"),
            dict(label_smoothing=0.0),
        ),
        "binary_cross_entropy_with_logits": (
            nn.binary_cross_entropy_with_logits,
            F.binary_cross_entropy_with_logits,
            dict(input=x, target=t, weight=None, reduction="mean", pos_weight=None),
            {},
        ),
        "linear_cross_entropy": (
            nn.linear_cross_entropy,
            F.linear_cross_entropy,
            dict(input=h, linear_weight=w, target=y, linear_bias=None, weight=None),
            dict(reduction="mean", ignore_index=None, label_smoothing=0.0, options=None),
        ),
    }


@pytest.mark.parametrize(
    "name", ["cross_entropy", "binary_cross_entropy_with_logits", "linear_cross_entropy"]
)
def test_any_bad_argument_raises_naming_it_or_matches_torch(name):
    """Each argument, given a wrong type or value: a TypeError / ValueError whose message
    names it, or, where torch computes a value, that value."""
    ours, theirs, kw, more = _calls()[name]
    kw = {**kw, **more}
    positional = (
        ["input", "linear_weight", "target"] if "linear_weight" in kw else ["input", "target"]
    )
    for arg in kw:
        for label, bad in _BAD.items():
            k = {**kw, arg: bad}
            args = [k.pop(p) for p in positional]
            try:
                out = ours(*args, **k)
            except (TypeError, ValueError) as e:
                assert arg in str(e), f"{arg}={label}: {e}"
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = theirs(*args, **k)  # torch computes a value: so must celib
            torch.testing.assert_close(out, ref, equal_nan=True, msg=f"{arg}={label}")


def test_gradient_in_a_huge_page_buffer(monkeypatch):
    """Large CPU gradients live in an mmap advised to use huge pages (here every one)."""
    monkeypatch.setattr(_ce, "_HUGE_PAGES_MIN_BYTES", 0)
    gen = torch.Generator().manual_seed(41)
    for dtype in (F64, torch.bfloat16):
        x = torch.randn(6, 5, generator=gen, dtype=F64).to(dtype).requires_grad_()
        y = torch.randint(0, 5, (6,), generator=gen)
        nn.cross_entropy(x, y).backward()
        ref = x.detach().clone().requires_grad_()
        F.cross_entropy(ref.float() if dtype != F64 else ref, y).backward()
        assert x.grad.dtype == dtype and x.grad.shape == x.shape
        torch.testing.assert_close(x.grad.double(), ref.grad.double(), rtol=1e-2, atol=1e-3)
        x.grad.add_(1.0)  # an ordinary, writable tensor
    buf = _ce.new_buffer((3, 4), torch.float32, torch.device("cpu"))
    assert buf.shape == (3, 4) and buf.is_contiguous()
    assert _ce.new_buffer((0, 4), torch.float32, torch.device("cpu")).shape == (0, 4)


def test_gradient_buffer_without_huge_pages(monkeypatch):
    """Where the mapping fails, the gradient is an ordinary allocation."""

    def refuse(*args, **kwargs):
        raise OSError("no anonymous mappings here")

    monkeypatch.setattr(_ce, "_HUGE_PAGES_MIN_BYTES", 0)
    monkeypatch.setattr(_ce.mmap, "mmap", refuse)
    x = torch.randn(4, 3, dtype=F64, requires_grad=True)
    y = torch.tensor([0, 2, 1, 1])
    nn.cross_entropy(x, y).backward()
    ref = x.detach().clone().requires_grad_()
    F.cross_entropy(ref, y).backward()
    torch.testing.assert_close(x.grad, ref.grad, rtol=1e-12, atol=1e-15)
