"""Tests of celib.nn.linear_cross_entropy: parity with the unchunked PyTorch reference
``F.cross_entropy(F.linear(...))`` and accuracy against mpmath."""

from __future__ import annotations

import itertools
import math

import mpmath
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from celib import nn  # noqa: E402
from celib.nn import _linear  # noqa: E402

mpmath.mp.dps = 50
F64 = torch.float64


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny tensors (conftest.py)


def reference(h, w, y, b=None, **kw):
    """The unchunked loss: logits of shape (..., V), then F.cross_entropy on (N, V)."""
    z = F.linear(h, w, b)
    out = F.cross_entropy(z.reshape(-1, w.shape[0]), y.reshape(-1), **kw)
    return out.view(y.shape) if kw.get("reduction") == "none" else out


def _opts(rows):
    """PyTorch's options object asking for chunks of ``rows`` tokens (None: the default)."""
    return torch.nn.LinearCrossEntropyOptions(batch_chunk_size=rows)


def upstream(out):
    """A non-trivial upstream gradient, so that its use in backward is tested too."""
    if out.dim():
        g = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype)
        return g.reshape(out.shape)
    return torch.tensor(0.75, dtype=out.dtype)


def make(shape, v, gen, dtype=F64, bias=True):
    d = shape[-1]
    h = torch.randn(shape, generator=gen, dtype=dtype).requires_grad_()
    w = (torch.randn(v, d, generator=gen, dtype=dtype) / d**0.5 * 3).requires_grad_()
    b = torch.randn(v, generator=gen, dtype=dtype).requires_grad_() if bias else None
    y = torch.randint(0, v, shape[:-1], generator=gen)
    return h, w, b, y


def mp_row(z, y):
    """-log softmax(z)[y] and softmax(z) - e_y in mpmath, for exact float logits."""
    with mpmath.workdps(mpmath.mp.dps + 320):  # log(1 + R) with R down to e^-700
        zs = [mpmath.mpf(v) for v in z]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in zs))
        grad = [mpmath.exp(v - lse) - (1 if j == y else 0) for j, v in enumerate(zs)]
        return +(lse - zs[y]), [+g for g in grad]


def rel_err(ours, ref):
    ours, ref = mpmath.mpf(float(ours)), mpmath.mpf(ref)
    return float(abs(ours - ref) / abs(ref)) if ref != 0 else abs(float(ours))


# ------------------------------------------------------------------ parity with torch


@pytest.fixture(params=[None, 2], ids=["one-vocab-block", "vocab-blocks-of-2"])
def vocab_block(request, monkeypatch):
    """The fused CPU pass with its blocks of classes as they are, and with blocks of 2
    (every product and every next chunk's logits then walk several blocks)."""
    if request.param is not None:
        monkeypatch.setattr(_linear, "_CPU_VOCAB_BLOCK", request.param)
    return request.param


@pytest.mark.parametrize("chunk_size", [1, 3, 7, None])
@pytest.mark.parametrize("shape", [(10, 6), (2, 6)])
def test_parity_float64(shape, chunk_size, vocab_block):
    gen = torch.Generator().manual_seed(2)
    v = 9
    combos = itertools.product(("mean", "sum", "none"), (True, False), (0, 1), (0.0, 0.2))
    for reduction, bias, use_w, eps in combos:
        h, w, b, y = make(shape, v, gen, bias=bias)
        y.view(-1)[1] = -100  # an ignored token
        cw = torch.rand(v, generator=gen, dtype=F64) + 0.1 if use_w else None
        kw = dict(weight=cw, reduction=reduction, label_smoothing=eps)
        ours = nn.linear_cross_entropy(h, w, y, linear_bias=b, options=_opts(chunk_size), **kw)
        theirs = reference(h, w, y, b, **kw)
        assert ours.shape == theirs.shape and ours.dtype == F64
        torch.testing.assert_close(ours, theirs, rtol=1e-13, atol=1e-15)
        params = [p for p in (h, w, b) if p is not None]
        g_ours = torch.autograd.grad(ours, params, upstream(ours))
        g_theirs = torch.autograd.grad(theirs, params, upstream(theirs))
        for a, c in zip(g_ours, g_theirs):
            torch.testing.assert_close(a, c, rtol=1e-12, atol=1e-14)


def test_parity_ignore_index_and_only_some_grads(vocab_block):
    gen = torch.Generator().manual_seed(3)
    h, w, b, y = make((12, 4), 7, gen)
    y[::3] = 5  # ignore_index = 5 is also a valid class: every third token ignored
    for need in ((h,), (w,), (b,), (h, b)):
        ours = nn.linear_cross_entropy(h, w, y, linear_bias=b, ignore_index=5, options=_opts(5))
        theirs = reference(h, w, y, b, ignore_index=5)
        torch.testing.assert_close(ours, theirs, rtol=1e-13, atol=0)
        for a, c in zip(torch.autograd.grad(ours, need), torch.autograd.grad(theirs, need)):
            torch.testing.assert_close(a, c, rtol=1e-12, atol=1e-15)


def test_unbatched_input_and_no_grad():
    gen = torch.Generator().manual_seed(4)
    h, w, b, _ = make((5,), 6, gen)
    y = torch.tensor(2)
    for reduction in ("mean", "none"):
        ours = nn.linear_cross_entropy(h, w, y, linear_bias=b, reduction=reduction)
        theirs = F.cross_entropy(F.linear(h, w, b), y, reduction=reduction)
        assert ours.shape == theirs.shape == ()
        torch.testing.assert_close(ours, theirs, rtol=1e-13, atol=0)
    with torch.no_grad():
        out = nn.linear_cross_entropy(h, w, y, linear_bias=b)
    assert not out.requires_grad
    torch.testing.assert_close(out, F.cross_entropy(F.linear(h, w, b), y).detach())


def test_all_ignored_mean_is_nan_with_zero_gradient_like_torch():
    gen = torch.Generator().manual_seed(5)
    h, w, b, y = make((4, 3), 5, gen)
    y.fill_(-100)
    ours = nn.linear_cross_entropy(h, w, y, linear_bias=b)
    theirs = reference(h, w, y, b)
    assert torch.isnan(ours) and torch.isnan(theirs)
    for a, c in zip(torch.autograd.grad(ours, (h, w, b)), torch.autograd.grad(theirs, (h, w, b))):
        assert torch.equal(a, c) and not a.any()
    # No tokens at all: 'mean' is NaN, 'sum' 0, 'none' empty, as in PyTorch.
    h0 = torch.zeros(0, 3, dtype=F64, requires_grad=True)
    y0 = torch.zeros(0, dtype=torch.long)
    for reduction in ("mean", "sum", "none"):
        ours = nn.linear_cross_entropy(h0, w, y0, reduction=reduction)
        theirs = reference(h0, w, y0, reduction=reduction)
        torch.testing.assert_close(ours, theirs, equal_nan=True)
        assert not torch.autograd.grad(ours.sum(), w)[0].any()


def test_backward_twice_with_retain_graph():
    gen = torch.Generator().manual_seed(6)
    h, w, b, y = make((6, 4), 5, gen)
    loss = nn.linear_cross_entropy(h, w, y, linear_bias=b, options=_opts(4))
    first = torch.autograd.grad(loss, (h, w, b), retain_graph=True)
    second = torch.autograd.grad(loss, (h, w, b), torch.tensor(2.0, dtype=F64))
    for a, c in zip(first, second):
        torch.testing.assert_close(2 * a, c, rtol=1e-14, atol=0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck(reduction):
    gen = torch.Generator().manual_seed(7)
    h, w, b, y = make((5, 3), 4, gen)
    y[0] = -100
    cw = torch.rand(4, generator=gen, dtype=F64) + 0.5

    def fn(h, w, b):
        return nn.linear_cross_entropy(
            h, w, y, linear_bias=b, weight=cw, reduction=reduction,
            label_smoothing=0.1, options=_opts(2),
        )  # fmt: skip

    assert torch.autograd.gradcheck(fn, (h, w, b))


# ------------------------------------------------------------------ accuracy


@pytest.mark.parametrize(
    ("dtype", "margin"),
    [(torch.float32, 20.0), (torch.float32, 46.0), (torch.float32, 80.0), (F64, 46.0),
     (F64, 400.0)],
)  # fmt: skip
def test_accuracy_tiny_losses(dtype, margin):
    """Logits (m, 0, -1) with the target at m: the loss is about 1.4 e^-m (2e-20 for
    m = 46, where PyTorch's float32 loss is 0). With h = (1, 0) the logits are exact."""
    z = [margin, 0.0, -1.0]
    w = torch.tensor([[v, 3.0] for v in z], dtype=dtype, requires_grad=True)
    h = torch.tensor([[1.0, 0.0]], dtype=dtype, requires_grad=True)
    y = torch.tensor([0])
    loss = nn.linear_cross_entropy(h, w, y)
    (gw,) = torch.autograd.grad(loss, w)
    ref_loss, ref_grad = mp_row(z, 0)
    tol = 4 * torch.finfo(dtype).eps
    assert loss.item() > 0
    assert rel_err(loss.item(), ref_loss) < tol
    for j in range(3):  # d loss / d W[j, 0] = (softmax - e_y)_j * h_0
        assert rel_err(gw[j, 0].item(), ref_grad[j]) < tol
    assert not gw[:, 1].any()


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_accuracy_huge_losses(dtype):
    """The target logit far below the others: p_y underflows, the logsumexp fallback."""
    z = [-300.0, 0.0, 2.0, 1.0]
    w = torch.tensor([[v] for v in z], dtype=dtype, requires_grad=True)
    h = torch.ones(3, 1, dtype=dtype)
    y = torch.tensor([0, 2, 0])
    loss = nn.linear_cross_entropy(h, w, y, reduction="none")
    (gw,) = torch.autograd.grad(loss, w, torch.tensor([1.0, 0.0, 0.0], dtype=dtype))
    ref_loss, ref_grad = mp_row(z, 0)
    tol = 4 * torch.finfo(dtype).eps
    assert rel_err(loss[0].item(), ref_loss) < tol
    assert rel_err(loss[2].item(), ref_loss) < tol
    for j in range(4):
        assert rel_err(gw[j, 0].item(), ref_grad[j]) < tol


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_is_computed_in_float32(dtype):
    gen = torch.Generator().manual_seed(8)
    h32, w32, b32, y = make((14, 16), 50, gen, dtype=torch.float32)
    h, w, b = (t.detach().to(dtype).requires_grad_() for t in (h32, w32, b32))
    hf, wf, bf = (t.detach().float().requires_grad_() for t in (h, w, b))
    kw = dict(label_smoothing=0.05, options=_opts(4))
    out = nn.linear_cross_entropy(h, w, y, linear_bias=b, **kw)
    out32 = nn.linear_cross_entropy(hf, wf, y, linear_bias=bf, **kw)
    assert out.dtype == dtype
    # The same float32 computation on the same values, rounded once at the end.
    assert torch.equal(out, out32.to(dtype))
    grads = torch.autograd.grad(out, (h, w, b))
    grads32 = torch.autograd.grad(out32, (hf, wf, bf))
    for g, g32 in zip(grads, grads32):
        assert g.dtype == dtype
        assert torch.equal(g, g32.to(dtype))
    # And close to the float64 reference on those values.
    ref = reference(h.double(), w.double(), y, b.double(), label_smoothing=0.05)
    torch.testing.assert_close(out32.double(), ref, rtol=1e-6, atol=0)


@pytest.fixture(params=[None, (2, 3), (4, 5)], ids=["one-block", "blocks-2x3", "blocks-4x5"])
def half_blocks(request, monkeypatch):
    """The two passes of the half-precision kernel with their blocks as they are, and
    with blocks of 2 or 4 classes and chunks of 3 or 5 tokens."""
    if request.param is not None:
        monkeypatch.setattr(_linear, "_half_blocks", lambda n, d, v, size: request.param)
    return request.param


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_class_indices_without_a_float32_weight(dtype, half_blocks):
    """Class indices without smoothing in half precision (the two-pass kernel, no
    float32 copy of the weight): the float32 result on the same values, rounded once,
    within one unit in the last place of the half dtype."""
    gen = torch.Generator().manual_seed(9)
    combos = itertools.product(("mean", "sum", "none"), (True, False), (False, True))
    for reduction, bias, use_w in combos:
        h32, w32, b32, y = make((13, 6), 11, gen, dtype=torch.float32, bias=bias)
        y[4] = -100
        leaves = [t for t in (h32, w32, b32) if t is not None]
        half = [t.detach().to(dtype).requires_grad_() for t in leaves]
        full = [t.detach().float().requires_grad_() for t in half]
        cw = torch.rand(11, generator=gen) + 0.1 if use_w else None
        kw = dict(reduction=reduction, weight=cw)
        out = nn.linear_cross_entropy(half[0], half[1], y, linear_bias=_third(half), **kw)
        out32 = nn.linear_cross_entropy(full[0], full[1], y, linear_bias=_third(full), **kw)
        assert out.dtype == dtype
        ulp = dict(rtol=torch.finfo(dtype).eps, atol=torch.finfo(dtype).tiny)
        torch.testing.assert_close(out, out32.to(dtype), **ulp)
        up = upstream(out)  # the same upstream values for both
        grads = torch.autograd.grad(out, half, up)
        grads32 = torch.autograd.grad(out32, full, up.float())
        for g, g32 in zip(grads, grads32):
            assert g.dtype == dtype
            torch.testing.assert_close(g, g32.to(dtype), **ulp)
        assert not grads[0][4].any()  # the ignored token


def _third(ts):
    return ts[2] if len(ts) == 3 else None


def test_half_precision_extremes(half_blocks):
    """The two-pass kernel where naive formulas fail: a loss of ~2e-12 (kept, where
    1 - p_y rounds to 0), the target's logit far below the others (p_y underflows in
    float32), a target logit of -inf (loss +inf, the others' unchanged), NaN logits in
    an ignored row (no effect) and in a row that counts (ValueError)."""
    # The logits of token r are (h_r0, h_r1, h_r2, -1), exact in bfloat16.
    w = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    b = torch.tensor([0.0, 0.0, 0.0, -1.0])
    h = torch.tensor([[30.0, 3.0, 0.0], [-300.0, 0.0, 2.0], [-300.0, 0.0, 2.0]])
    z = [[*row, -1.0] for row in h.tolist()]
    y = torch.tensor([0, 0, 2])
    hb, wb, bb = (t.to(torch.bfloat16).requires_grad_() for t in (h, w, b))
    loss = nn.linear_cross_entropy(hb, wb, y, linear_bias=bb, reduction="none")
    tol = 2 * torch.finfo(torch.bfloat16).eps
    for r in range(3):
        assert rel_err(loss[r].float().item(), mp_row(z[r], int(y[r]))[0]) < tol
    assert loss[0].item() > 0
    b_inf = bb.detach().clone()
    b_inf[0] = -math.inf  # class 0, the target of tokens 0 and 1, impossible
    out = nn.linear_cross_entropy(hb.detach(), wb.detach(), y, linear_bias=b_inf, reduction="none")
    assert out[:2].tolist() == [math.inf, math.inf]
    torch.testing.assert_close(out[2], loss[2].detach())
    h_nan = hb.detach().clone()
    h_nan[1, 1] = math.nan
    h_nan.requires_grad_()
    y_ign = torch.tensor([0, -100, 2])
    out = nn.linear_cross_entropy(h_nan, wb, y_ign, linear_bias=bb)
    (gh,) = torch.autograd.grad(out, h_nan)
    assert torch.isfinite(out) and not gh[1].any() and torch.isfinite(gh).all()
    with pytest.raises(ValueError, match="NaN"):
        nn.linear_cross_entropy(h_nan, wb, y, linear_bias=bb)


def test_rest_mass_kernel_against_mpmath():
    """The online form of the loss (running maximum and mass of the other logits, in
    blocks) against mpmath, in float64, from a loss of e^-40 to one of 700 nats."""
    import array_api_compat

    from celib.nn import _kernel

    xp = array_api_compat.array_namespace(torch.zeros(1))
    rows = [
        ([40.0, 0.0, -1.0, -3.0, 2.0], 0),
        ([-700.0, 0.0, 1.0, 5.0, 2.0], 0),
        ([1.0, 1.0, 1.0, 1.0, 1.0], 3),
        ([3.0, -math.inf, 2.5, -math.inf, 0.0], 2),
        ([0.5, 7.0, -2.0, 7.0, 6.5], 1),
    ]
    for z, y in rows:
        ref_loss, ref_grad = mp_row(z, y)
        for block in (1, 2, 5):
            m = torch.tensor(-math.inf, dtype=F64)
            a = torch.tensor(0.0, dtype=F64)
            others = torch.tensor(z, dtype=F64)
            others[y] = -math.inf
            for k in range(0, len(z), block):
                m, a = _kernel.rest_mass_update(xp, m, a, others[k : k + block], axis=0)
            zy = torch.tensor(z[y], dtype=F64)
            loss, big, s, t = _kernel.rest_mass_loss(xp, zy, m, a)
            assert rel_err(loss.item(), ref_loss) < 4 * torch.finfo(F64).eps
            assert rel_err(-t.item(), ref_grad[y]) < 4 * torch.finfo(F64).eps
            for j, v in enumerate(z):
                if j != y:
                    p = (torch.exp(torch.tensor(v, dtype=F64) - big) / s).item()
                    assert rel_err(p, ref_grad[j]) < 4 * torch.finfo(F64).eps


def test_default_chunk_rows():
    cpu = torch.device("cpu")
    rows = _linear.default_chunk_rows(4096, 1024, 32768, cpu)
    # The chunk of logits within the cap and an eighth of the gradients' size.
    assert 1 <= rows * 32768 <= min(_linear._CPU_CHUNK_ELEMS, (4096 + 32768) * 1024 // 12)
    assert _linear.default_chunk_rows(3, 4, 10, cpu) == 3
    assert _linear.default_chunk_rows(100, 4, 10**8, cpu) == 1


# ------------------------------------------------------------------ bad input


def test_rejects_bad_input():
    gen = torch.Generator().manual_seed(9)
    h, w, b, y = make((4, 3), 5, gen)
    lce = nn.linear_cross_entropy
    with pytest.raises(ValueError, match=r"linear_weight's last dimension must be D = 3"):
        lce(h, w[:, :2], y)
    with pytest.raises(ValueError, match=r"linear_weight must have shape"):
        lce(h, w[0], y)
    with pytest.raises(TypeError, match="linear_weight must have the input's dtype"):
        lce(h, w.float(), y)
    with pytest.raises(ValueError, match=r"linear_bias must have shape \(5,\)"):
        lce(h, w, y, linear_bias=b[:4])
    with pytest.raises(TypeError, match="linear_bias must have the input's dtype"):
        lce(h, w, y, linear_bias=b.float())
    with pytest.raises(ValueError, match=r"target holds the class index 5, outside \[0, 5\)"):
        lce(h, w, torch.tensor([0, 1, 5, 2]))
    with pytest.raises(ValueError, match="outside"):
        lce(h, w, torch.tensor([0, -1, 2, 2]))
    with pytest.raises(TypeError, match="integer dtype"):
        lce(h, w, y.double())
    with pytest.raises(ValueError, match=r"target of class indices must have shape \(4,\)"):
        lce(h, w, y[:3])
    with pytest.raises(ValueError, match="weight must have shape"):
        lce(h, w, y, weight=torch.ones(4, dtype=F64))
    with pytest.raises(ValueError, match="weight .* holds NaN"):
        lce(h, w, y, weight=torch.full((5,), float("nan"), dtype=F64))
    with pytest.raises(TypeError, match="options must be a torch.nn.LinearCrossEntropyOptions"):
        lce(h, w, y, options={"batch_chunk_size": 2})
    with pytest.raises(ValueError, match="3 dimensions"):
        lce(h.unsqueeze(0), w, y.unsqueeze(0))
    with pytest.raises(ValueError, match="ignore_index=-100 cannot be used with class prob"):
        lce(h, w, torch.full((4, 5), 0.2, dtype=F64), ignore_index=-100)
    with pytest.raises(ValueError, match="reduction must be one of"):
        lce(h, w, y, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing must be between"):
        lce(h, w, y, label_smoothing=1.5)
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        lce(h, w, y, ignore_index=1.0)
    with pytest.raises(TypeError, match="input must be a torch.Tensor"):
        lce(h.tolist(), w, y)
    with pytest.raises(TypeError, match="input .* must have a floating dtype"):
        lce(y, w, y)
    with pytest.raises(ValueError, match="input must have shape"):
        lce(h[0, 0], w, y)
    with pytest.raises(ValueError, match="at least one class"):
        lce(h, w[:0], y)
    with pytest.raises(ValueError, match="meta but input is on cpu"):
        lce(h, w.to("meta"), y)
    bad = h.detach().clone()
    bad[1, 0] = float("nan")
    with pytest.raises(ValueError, match="holds NaN"):
        lce(bad, w, y)
    # ... unless that token is ignored (its gradient rows are zeros).
    y_ign = y.clone()
    y_ign[1] = -100
    out = lce(bad.requires_grad_(), w, y_ign)
    assert torch.isfinite(out)
    (gh,) = torch.autograd.grad(out, bad)
    assert torch.isfinite(gh).all() and not gh[1].any()


# ------------------------------------------------------------------ CUDA


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
class TestCUDA:
    """Parity on a GPU (two buffers per chunk there: no in-place softmax)."""

    def test_parity(self):
        gen = torch.Generator().manual_seed(12)
        for reduction, eps, chunk in itertools.product(("mean", "none"), (0.0, 0.1), (7, None)):
            h, w, b, y = make((27, 16), 1000, gen)
            y[0, 0] = -100
            h, w, b, y = (t.detach().cuda() for t in (h, w, b, y))
            for t in (h, w, b):
                t.requires_grad_()
            kw = dict(reduction=reduction, label_smoothing=eps)
            ours = nn.linear_cross_entropy(h, w, y, linear_bias=b, options=_opts(chunk), **kw)
            theirs = reference(h, w, y, b, **kw)
            assert ours.device == h.device
            torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)
            up = upstream(ours.cpu()).cuda()
            g_ours = torch.autograd.grad(ours, (h, w, b), up)
            g_theirs = torch.autograd.grad(theirs, (h, w, b), up)
            for a, c in zip(g_ours, g_theirs):
                torch.testing.assert_close(a, c, rtol=1e-10, atol=1e-13)

    def test_bfloat16_and_device_mismatch(self):
        gen = torch.Generator().manual_seed(13)
        h, w, _, y = make((64, 32), 500, gen, dtype=torch.float32, bias=False)
        hb, wb = (t.detach().cuda().bfloat16().requires_grad_() for t in (h, w))
        out = nn.linear_cross_entropy(hb, wb, y.cuda())  # the two-pass kernel
        hf, wf = (t.detach().float().requires_grad_() for t in (hb, wb))
        ref = nn.linear_cross_entropy(hf, wf, y.cuda())
        assert out.dtype == torch.bfloat16
        ulp = dict(rtol=torch.finfo(torch.bfloat16).eps, atol=0)
        torch.testing.assert_close(out, ref.bfloat16(), **ulp)
        for g, g32 in zip(torch.autograd.grad(out, (hb, wb)), torch.autograd.grad(ref, (hf, wf))):
            assert g.dtype == torch.bfloat16
            torch.testing.assert_close(
                g, g32.bfloat16(), rtol=torch.finfo(torch.bfloat16).eps, atol=1e-30
            )
        with pytest.raises(ValueError, match="target is on cpu but input is on cuda"):
            nn.linear_cross_entropy(hb, wb, y)
