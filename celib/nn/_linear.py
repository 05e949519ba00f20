"""Kernel behind :func:`celib.nn.linear_cross_entropy` (private).

The loss of ``F.cross_entropy(F.linear(x, W, b), y)`` for ``x`` of shape ``(N, D)``
and ``W`` of shape ``(V, D)``, without the ``(N, V)`` logits: the tokens are walked in
chunks of ``R`` rows, and for each chunk

1. the logits ``z = x_c W^T + b`` (``(R, V)``, in the compute dtype) are written into
   one buffer reused by every chunk;
2. the per-row loss and ``g = d loss / d z`` are computed by the kernels of
   :mod:`celib.nn._ce` (the formulas of :mod:`celib.nn._kernel`): for class indices
   without smoothing, ``p = softmax(z)`` in place (on CPU) becomes ``p - onehot(y)``
   with ``-log p_y = log1p(T / p_y)`` and ``p_y - 1 = -T``,
   ``T = sum_{j != y} p_j`` (the argmax form where ``p_y`` underflows); anything else
   (label smoothing, class probabilities, a weight of shape ``(V, d1, ..., dK, D)``,
   whose logits are viewed as ``(R, V, d1 ... dK)``) goes to the general kernel;
3. the chunk's share of the gradients is accumulated at once: ``grad_x[c] = g W``,
   ``grad_W += g^T x_c`` (``addmm_`` into one ``(V, D)`` buffer), ``grad_b += g^T 1``.
   Each row's factor in the reduction (its class weight, ``1 / divisor`` for
   ``'mean'``) multiplies the ``(R, D)`` side of these products (``grad_x[c]`` and
   ``x_c``), not the ``(R, V)`` one.

So the extra memory is the gradients themselves plus one ``(R, V)`` block on CPU
(two on other devices, where the softmax is not computed in place).
For ``'mean'`` and ``'sum'`` the gradients are computed in the forward pass for a unit
upstream gradient and only scaled in backward; for ``'none'`` the upstream gradient
weighs each row differently, so backward runs the chunked pass again with it (the
forward pass then computes the losses only).

Two layouts of this walk are tuned for the common case, class indices without
smoothing:

* on CPU in float32 and float64 (:func:`_fused_pass`), the chunk's logits are stored
  transposed, ``(V, R)``, and steps 1 and 3 walk the weight in blocks of
  :data:`_CPU_VOCAB_BLOCK` classes: each block's two gradient products and the next
  chunk's logits of that block run while the block is in cache, so each chunk reads
  ``W`` from memory once, not twice. With chunks of ~100 rows (the memory budget),
  the products then run within about a fifth of three whole matrix products;
* in float16 and bfloat16 (:func:`_half_passes`), two passes over blocks of classes,
  each block converted to float32 once per pass: no float32 copy of the weight or
  of its gradient, whose float32 sizes (twice the lower bound each) would dominate.

Everything else in float16 and bfloat16 is computed in float32 with a ``(V, D)``
float32 copy of the weight, the gradients accumulated in float32 and rounded once.
"""

from __future__ import annotations

import math

import torch

from celib.nn import _ce, _kernel
from celib.nn._ce import _times_upstream, compute_dtype, first_order, no_autocast

# Elements of one chunk of logits: at most 2**23 (32 MiB of float32) on CPU, and at most
# a twelfth of the gradients' own size (the lower bound of the extra memory), so that
# the chunk adds little to it. Larger chunks make the rank-R updates of grad_W (one
# read and write of a (V, D) buffer per chunk) fewer and the products more efficient.
_CPU_CHUNK_ELEMS = 1 << 23
_GPU_CHUNK_ELEMS = 1 << 26
_MIN_CHUNK_ELEMS = 1 << 16
# Classes per block of the fused CPU pass (:func:`_fused_pass`): a block of W and of
# grad_W (4 MiB each in float32 at D = 1024) stays in cache between its products.
_CPU_VOCAB_BLOCK = 1024


def default_chunk_rows(n: int, d: int, v: int, device: torch.device) -> int:
    """Rows per chunk: ``min(cap, (N + V) D / 12)`` logits (at least ``2**16``)."""
    cap = _CPU_CHUNK_ELEMS if device.type == "cpu" else _GPU_CHUNK_ELEMS
    elems = max(_MIN_CHUNK_ELEMS, min(cap, (n + v) * d // 12))
    return max(1, min(max(n, 1), elems // max(v, 1)))


def forward(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None,
    target: torch.Tensor,
    class_weight: torch.Tensor | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    need: tuple[bool, bool, bool, bool],
    chunk_rows: int | None,
    classes: tuple[int, int],
    upstream: torch.Tensor | None = None,
    stats: dict | None = None,
) -> tuple[torch.Tensor, ...]:
    """Loss (reduced, compute dtype) and the gradients w.r.t. ``x``, ``w``, ``b``, target.

    Arguments are validated. ``x`` is ``(N, D)``, ``w`` ``(V P, D)`` and ``b``
    ``(V P,)`` for ``classes = (V, P)``: ``V`` classes at each of ``P`` positions (a
    K-dimensional loss, ``P = d1 ... dK``; ``P = 1`` otherwise). ``target`` holds class
    indices ``(N, P)`` or class probabilities ``(N, V, P)`` (floating). ``need`` says
    which gradients to compute; they are for the upstream gradient ``upstream`` (one
    value per position for ``'none'``) or for a unit upstream gradient if it is None.
    Gradients are returned in the compute dtype, except the weight's of the two-pass
    half-precision kernel (:func:`two_pass_half`), in the weight's dtype; ``stats``
    (a dict) keeps that kernel's per-row statistics from one call to the next.
    """
    n, d = x.shape
    v, p = classes
    f = compute_dtype(x.dtype)
    soft = target.dtype.is_floating_point
    eps = float(label_smoothing)
    fast = not soft and eps == 0.0 and p == 1
    cw = None if class_weight is None else class_weight.to(f)
    tg = _Targets(target, soft, n, v, p, cw, ignore_index, f)
    divisor, row_scale = _row_scales(tg, reduction, fast, upstream, any(need))
    loss = torch.empty(n, p, dtype=f, device=x.device)
    if two_pass_half(x, target, eps, classes):  # no float32 copy of the weight
        bad, grads = _half_passes(x, w, b, tg, loss, row_scale, need, stats)
        return _finish(bad, loss, reduction, divisor, grads)
    wf = w if w.dtype == f else w.to(f)
    bf = None if b is None else b.to(f)
    grads = _Grads(need, n, d, v * p, f, x.device, target.shape if need[3] else None)
    bad = torch.zeros((), dtype=torch.bool, device=x.device)
    rows = chunk_rows if chunk_rows is not None else default_chunk_rows(n, d, v * p, x.device)
    rows = min(rows, max(n, 1))
    if fast and x.device.type == "cpu" and x.dtype == f:
        bad = _fused_pass(x, wf, bf, tg, loss, row_scale, grads, rows)
        return _finish(bad, loss, reduction, divisor, grads.result())
    # One buffer of logits for every chunk (fresh buffers would cost page faults); the
    # softmax is computed in place on CPU, into a second buffer elsewhere.
    zbuf = torch.empty(rows, v * p, dtype=f, device=x.device)
    pbuf = zbuf if x.device.type == "cpu" or not fast else torch.empty_like(zbuf)
    for i in range(0, n, rows):
        j = min(i + rows, n)
        xc = x[i:j] if x.dtype == f else x[i:j].to(f)
        z = _logits(xc, wf, bf, out=zbuf[: j - i])
        if fast:
            g, bad_c, rs = _fast_chunk(z, pbuf[: j - i], xc, wf, bf, tg, i, j, loss, row_scale)
        else:
            g, bad_c = _general_chunk(z, tg, i, j, cw, eps, loss, row_scale, grads)
            rs = None
        bad |= bad_c
        grads.accumulate(g, xc, wf, rs, i, j)
    return _finish(bad, loss, reduction, divisor, grads.result())


def _finish(bad, loss, reduction, divisor, grads):
    """The reduced loss and the gradients, or the error of a row without a loss."""
    if bool(bad):
        raise ValueError(
            "input, linear_weight or linear_bias: a row of logits that counts (target not "
            "ignore_index) holds NaN or +inf, or only -inf; the loss is undefined there"
        )
    out = _kernel.reduce(torch, loss, reduction, divisor)
    return (out, *grads)


def two_pass_half(x, target, label_smoothing, classes) -> bool:
    """float16 or bfloat16 input, class indices, no smoothing, one position per token:
    the two-pass kernel :func:`_half_passes`."""
    return (
        x.dtype in (torch.float16, torch.bfloat16)
        and not target.dtype.is_floating_point
        and float(label_smoothing) == 0.0
        and classes[1] == 1
    )


def _half_blocks(n: int, d: int, v: int, itemsize: int) -> tuple[int, int]:
    """Classes per block and tokens per chunk of :func:`_half_passes`: a block of the
    weight and of its gradient in float32 (``2 Vb D``), one chunk's logits (``R Vb``)
    and its input in float32 (``R D``) within a quarter of the gradients' size."""
    elems = max(_MIN_CHUNK_ELEMS, (n + v) * d * itemsize // 16)
    vb = max(1, min(v, elems // (4 * max(d, 1))))
    rows = max(1, min(max(n, 1), (elems - 2 * vb * d) // (vb + d)))
    return vb, rows


def _half_passes(x, w, b, tg, loss, row_scale, need, stats=None):
    """The fast kernel for float16 and bfloat16, without a float32 copy of the weight
    or of its gradient: the weight is walked in blocks of classes, each converted to
    float32 once per pass, the tokens in chunks, in two passes.

    1. Each row's running maximum and mass of the logits other than the target's
       (:func:`_kernel.rest_mass_update`), then its loss, softmax shift and sum
       (:func:`_kernel.rest_mass_loss`).
    2. If gradients are needed: the logits again, ``g = e^{z - M} / S`` (``-T`` at the
       target) times the row's factor; ``grad_x += g W_b`` (float32, ``(N, D)``) and
       ``grad_W[b] = sum_c g^T x_c``, accumulated in float32 for one block and rounded
       once into the weight's dtype.

    The extra memory is the gradients in the input's dtype, ``grad_x`` in float32 and
    the blocks (:func:`_half_blocks`); the work, four products in float32 instead of
    three. The first pass's results go into ``stats`` (if given), and are taken from
    there when present, so that backward runs the second pass alone. Returns ``bad``
    and the gradients (``grad_W`` in the weight's dtype).
    """
    n, d = x.shape
    v, f, dev = w.shape[0], torch.float32, x.device
    vb, rows = _half_blocks(n, d, v, x.element_size())
    blocks = [(k, min(k + vb, v)) for k in range(0, v, vb)]
    chunks = [(i, min(i + rows, n)) for i in range(0, n, rows)]
    zbuf = torch.empty(rows * vb, dtype=f, device=dev)
    y, valid = tg.y.view(-1), tg.valid.view(-1)

    def logits(i, j, wb, bb, b0, b1):
        """The chunk's logits of the block, the input in float32, and the rows and
        columns of the targets that fall in the block."""
        xc = x[i:j].to(f)
        z = _logits(xc, wb, bb, out=zbuf[: (j - i) * (b1 - b0)].view(j - i, b1 - b0))
        hit = ((y[i:j] >= b0) & (y[i:j] < b1)).nonzero().view(-1)
        return z, xc, hit, y[i:j].index_select(0, hit) - b0

    def block(b0, b1):
        return w[b0:b1].to(f), None if b is None else b[b0:b1].to(f)

    if stats and "shift" in stats:
        raw, big, s, t, bad = (stats[k] for k in ("raw", "shift", "sum", "rest", "bad"))
    else:
        raw, big, s, t, bad = _half_first_pass(x, tg, blocks, chunks, block, logits)
        if stats is not None:
            stats.update(raw=raw, shift=big, sum=s, rest=t, bad=bad)
    coef = tg.coef.view(-1)
    loss.view(-1).copy_(torch.where(coef != 0, coef * raw, torch.zeros((), dtype=f, device=dev)))
    if row_scale is None or bool(bad):
        return bad, (None, None, None, None)
    zero = torch.zeros((), dtype=f, device=dev)
    rs = torch.where(valid, row_scale.view(-1), zero)
    big = torch.where(valid, big, zero)  # ignored rows: any finite shift
    scale, on_target = rs / s, -t * rs
    gx = torch.zeros(n, d, dtype=f, device=dev) if need[0] else None
    gw = _ce.new_buffer(tuple(w.shape), w.dtype, dev) if need[1] else None
    gb = torch.zeros(v, dtype=f, device=dev) if need[2] else None
    for b0, b1 in blocks:
        wb, bb = block(b0, b1)
        gwb = torch.zeros(b1 - b0, d, dtype=f, device=dev) if need[1] else None
        for i, j in chunks:
            z, xc, hit, col = logits(i, j, wb, bb, b0, b1)
            g = z.sub_(big[i:j, None]).exp_().mul_(scale[i:j, None])
            g[hit, col] = on_target[i:j].index_select(0, hit)
            if tg.ignored is not None:  # exact zeros, whatever the logits are
                g.masked_fill_(~valid[i:j, None], 0.0)
            if gx is not None:
                gx[i:j].addmm_(g, wb)
            if gwb is not None:
                gwb.addmm_(g.t(), xc)
            if gb is not None:
                gb[b0:b1] += g.sum(0)
        if gw is not None:
            gw[b0:b1].copy_(gwb)
    return bad, (gx, gw, gb, None)


def _half_first_pass(x, tg, blocks, chunks, block, logits):
    """Pass 1 of :func:`_half_passes`: each row's loss, softmax shift ``M``, sum ``S``
    and others' share ``T``, and ``bad``."""
    n, f, dev = x.shape[0], torch.float32, x.device
    m = torch.full((n,), -math.inf, dtype=f, device=dev)
    a = torch.zeros(n, dtype=f, device=dev)
    zy = torch.zeros(n, dtype=f, device=dev)
    for b0, b1 in blocks:
        wb, bb = block(b0, b1)
        for i, j in chunks:
            z, _, hit, col = logits(i, j, wb, bb, b0, b1)
            zy[i:j].index_copy_(0, hit, z[hit, col])
            z[hit, col] = -math.inf
            m[i:j], a[i:j] = _kernel.rest_mass_update(_ce._xp(z), m[i:j], a[i:j], z, axis=1)
    raw, big, s, t = _kernel.rest_mass_loss(_ce._xp(zy), zy, m, a)
    bad = ((torch.isnan(raw) | (zy == math.inf)) & tg.valid.view(-1)).any()
    return raw, big, s, t, bad


class _Targets:
    """Class indices as ``y`` (N, P) (ignored ones replaced by 0), ``valid`` and ``coef``
    (the class weight of each position, 0 where ignored); or class probabilities ``t3``
    (N, V, P) in the compute dtype, every position counting 1."""

    def __init__(self, target, soft, n, v, p, cw, ignore_index, f):
        dev = target.device
        self.soft = soft
        if soft:
            self.t3 = target.to(f).reshape(n, v, p)
            self.valid = torch.ones(n, p, dtype=torch.bool, device=dev)
            self.coef = torch.ones(n, p, dtype=f, device=dev)
            self.ignored = None
            return
        t = target.reshape(n, p).long()
        self.valid = t != ignore_index
        self.y = torch.where(self.valid, t, torch.zeros((), dtype=torch.long, device=dev))
        if cw is None:
            self.coef = self.valid.to(f)
        else:
            self.coef = cw.gather(0, self.y.view(-1)).view(n, p) * self.valid
        all_valid = bool(self.valid.all())
        self.ignored = None if all_valid else (~self.valid).any(1)


def _row_scales(tg, reduction, fast, upstream, any_grad):
    """The 'mean' divisor and each position's factor in the gradient (N, P): the class
    weight (fast kernel, whose gradient is softmax - onehot) or the validity (the
    general kernel folds the weight in itself), over the divisor, times the upstream
    gradient if given (of each position for 'none')."""
    f = tg.coef.dtype
    divisor = tg.coef.sum() if reduction == "mean" else None
    if not any_grad:
        return divisor, None
    scale = tg.coef if fast else tg.valid.to(f)
    if reduction == "mean":
        # torch: a 'mean' over zero total weight is NaN, with a zero gradient.
        zero = torch.zeros((), dtype=f, device=scale.device)
        scale = scale * torch.where(divisor == 0, zero, torch.reciprocal(divisor))
    if upstream is not None:  # per position for 'none', one value otherwise
        up = upstream.to(f)
        scale = scale * (up.reshape(scale.shape) if reduction == "none" else up)
    return divisor, scale


def _logits(xc, wf, bf, out):
    """``z = x_c W^T + b`` into ``out``."""
    if bf is None:
        return torch.mm(xc, wf.t(), out=out)
    return torch.addmm(bf, xc, wf.t(), out=out)


def _fast_chunk(z, pb, xc, wf, bf, tg, i, j, loss, row_scale, dim=1):
    """Class indices without smoothing, one chunk: the softmax in place of ``z``, turned
    into ``softmax - onehot(y)`` by :func:`celib.nn._ce.softmax_minus_onehot_`; the loss
    of each row into ``loss``. Rows whose ``p_y`` underflows get their loss from the
    argmax form, their logits recomputed from ``xc`` (``z`` is overwritten). Returns the
    gradient block, ``bad`` and the row factors (R, 1) for the (R, D) side of the
    products: ``row_scale / (p_y + T)`` (the accurately summed row of the softmax).
    ``dim=0``: the block is stored transposed, (V, R)."""
    y, valid, coef = tg.y[i:j], tg.valid[i:j], tg.coef[i:j]
    torch.ops.aten._softmax.out(z, dim, False, out=pb)
    raw, py, tail = _ce.softmax_minus_onehot_(pb, y if dim == 1 else y.view(1, -1), dim)
    raw, py, tail = raw.view(-1, 1), py.view(-1, 1), tail.view(-1, 1)
    _ce.fix_underflow_(raw, py, valid, y, lambda r: _logits(xc.index_select(0, r), wf, bf, None))
    bad = (torch.isnan(raw) & valid).any()
    zero = torch.zeros((), dtype=z.dtype, device=z.device)
    loss[i:j] = torch.where(coef != 0, coef * raw, zero)
    rs = None
    if row_scale is not None:
        rs = torch.where(valid, row_scale[i:j] / (py + tail), zero)
        if tg.ignored is not None:  # exact zeros on ignored rows, whatever their logits
            pb.index_fill_(1 - dim, (~valid).view(-1).nonzero().view(-1), 0.0)
    return pb, bad, rs


def _fused_pass(x, wf, bf, tg, loss, row_scale, grads, rows):
    """The fast kernel on CPU (float32, float64): every chunk in one ``(V, R)`` buffer,
    the logits stored transposed, ``z^T = W x_c^T + b``, and the weight walked in blocks
    of :data:`_CPU_VOCAB_BLOCK` classes. For each block, while its rows of ``W`` and
    ``grad_W`` are in cache: ``grad_x[c] += g_b W_b``, ``grad_W[b] += g_b^T x_c``, and
    the next chunk's logits of that block, into the rows of ``g`` just used. Each
    chunk then reads ``W`` once from memory, not twice. Returns ``bad``."""
    n, v = x.shape[0], wf.shape[0]
    buf = torch.empty(rows * v, dtype=x.dtype, device=x.device)
    blocks = [(b, min(b + _CPU_VOCAB_BLOCK, v)) for b in range(0, v, _CPU_VOCAB_BLOCK)]
    bad = torch.zeros((), dtype=torch.bool, device=x.device)

    def chunk(i):
        j = min(i + rows, n)
        return j, buf[: v * (j - i)].view(v, j - i)

    def logits(i, zt, b0, b1):
        """Rows ``b0:b1`` of the transposed logits of the chunk starting at ``i``."""
        xt = x[i : i + zt.shape[1]].t()
        if bf is None:
            torch.mm(wf[b0:b1], xt, out=zt[b0:b1])
        else:
            torch.addmm(bf[b0:b1, None], wf[b0:b1], xt, out=zt[b0:b1])

    if n:
        for b0, b1 in blocks:
            logits(0, chunk(0)[1], b0, b1)
    for i in range(0, n, rows):
        j, zt = chunk(i)
        xc = x[i:j]
        g, bad_c, rs = _fast_chunk(zt, zt, xc, wf, bf, tg, i, j, loss, row_scale, dim=0)
        bad |= bad_c
        fused = j < n and chunk(j)[0] - j == j - i  # the next chunk fits the same view
        gx = grads.gx[i:j] if grads.gx is not None and rs is not None else None
        xs = xc * rs if grads.gw is not None and rs is not None else None
        for k, (b0, b1) in enumerate(blocks):
            if rs is not None:
                _accumulate_block(grads, g[b0:b1], wf[b0:b1], xs, rs, gx, k == 0, b0, b1)
            if fused:
                logits(j, zt, b0, b1)
        if j < n and not fused:
            for b0, b1 in blocks:
                logits(j, chunk(j)[1], b0, b1)
        if gx is not None:
            gx.mul_(rs)
    return bad


def _accumulate_block(grads, g, w, xs, rs, gx, first, b0, b1):
    """One block of classes ``b0:b1`` of a transposed chunk ``g`` (its rows of
    ``softmax - onehot``): ``grad_x[c] += g^T W_b`` (the row factors applied later),
    ``grad_W[b] += g x_c'`` (``x_c' = rs * x_c``), ``grad_b[b] += g rs``."""
    if gx is not None:
        if first:
            torch.mm(g.t(), w, out=gx)
        else:
            gx.addmm_(g.t(), w)
    if xs is not None:
        grads.gw[b0:b1].addmm_(g, xs)
    if grads.gb is not None:
        grads.gb[b0:b1].addmv_(g, rs.view(-1))


def _general_chunk(z, tg, i, j, cw, eps, loss, row_scale, grads):
    """Any other target, one chunk: the general kernel of :mod:`celib.nn._ce` on the
    logits viewed as (R, V, P); the target's gradient goes straight into ``grads``."""
    r, p = j - i, loss.shape[1]
    v = z.shape[1] // p
    need_t = grads.gt is not None
    if tg.soft:
        target, coef, valid = tg.t3[i:j], None, None
    else:
        target, coef, valid = tg.y[i:j], tg.coef[i:j], tg.valid[i:j]
    lc, bad, g3, gt3 = _ce.general_forward(
        z.view(r, v, p), target, tg.soft, cw, eps, coef, valid,
        None if row_scale is None else row_scale[i:j], need_t,
    )  # fmt: skip
    loss[i:j] = lc
    if need_t:
        grads.gt[i:j] = gt3.reshape(r, v * p)
    return (None if g3 is None else g3.view(r, v * p)), bad


class _Grads:
    """The gradients, accumulated chunk by chunk: ``grad_x[c] = g W``,
    ``grad_W += g^T x_c`` (``addmm_`` into one buffer), ``grad_b += g^T 1``; row
    factors ``rs`` multiply the (R, D) side of the products, not the (R, V) one."""

    def __init__(self, need, n, d, vp, f, dev, target_shape):
        self.need = need
        self.gx = torch.empty(n, d, dtype=f, device=dev) if need[0] else None
        self.gw = _ce.new_buffer((vp, d), f, dev).zero_() if need[1] else None
        self.gb = torch.zeros(vp, dtype=f, device=dev) if need[2] else None
        self.gt = None
        if target_shape is not None:  # class probabilities that require grad
            self.gt = torch.empty(n, vp, dtype=f, device=dev)
        self.target_shape = target_shape

    def accumulate(self, g, xc, wf, rs, i, j):
        if g is None:
            return
        if self.gx is not None:
            torch.mm(g, wf, out=self.gx[i:j])
            if rs is not None:
                self.gx[i:j].mul_(rs)
        if self.gw is not None:
            self.gw.addmm_(g.t(), xc if rs is None else xc * rs)
        if self.gb is not None:
            if rs is None:
                self.gb.add_(g.sum(0))
            else:
                self.gb.addmv_(g.t(), rs.view(-1))

    def result(self):
        gt = None if self.gt is None else self.gt.reshape(self.target_shape)
        return self.gx, self.gw, self.gb, gt


def _as(g: torch.Tensor | None, like: torch.Tensor | None) -> torch.Tensor | None:
    """The gradient in the dtype of the tensor it belongs to (rounded once)."""
    if g is None or like is None or g.dtype == like.dtype:
        return g
    return g.to(like.dtype)


class LinearCrossEntropyFunction(torch.autograd.Function):
    """Autograd wrapper of :func:`forward`.

    ``'mean'`` / ``'sum'``: the gradients are computed in the forward pass and handed to
    autograd in backward, scaled by the upstream gradient (a second backward with
    ``retain_graph=True`` recomputes them). ``'none'``: backward recomputes them with
    the upstream gradient of each position. The two-pass half-precision kernel runs its
    first pass in forward and its second in backward, with the upstream gradient (the
    gradients are then rounded once).
    """

    @staticmethod
    def forward(ctx, x, w, b, target, class_weight, ignore_index, reduction, eps, rows, classes):
        need = tuple(bool(k) for k in ctx.needs_input_grad[:4])
        two_pass = two_pass_half(x, target, eps, classes)
        early = need if reduction != "none" and not two_pass else (False,) * 4
        stats = {} if two_pass else None
        with no_autocast(x.device.type):
            out, *grads = forward(
                x, w, b, target, class_weight, ignore_index, reduction, eps, early, rows,
                classes, stats=stats,
            )  # fmt: skip
        ctx.save_for_backward(x, w, b, target, class_weight)
        ctx.args = (ignore_index, reduction, eps, rows, classes)
        ctx.grads = grads if any(early) else None
        ctx.stats = stats
        return out

    @staticmethod
    @first_order("linear_cross_entropy")
    def backward(ctx, grad_out):
        need = tuple(bool(k) for k in ctx.needs_input_grad[:4])
        ignore_index, reduction, eps, rows, classes = ctx.args
        x, w, b, target, class_weight = ctx.saved_tensors
        grads = ctx.grads
        ctx.grads = None  # hand the buffers over: autograd may keep them
        in_pass = reduction == "none" or ctx.stats is not None  # upstream in the pass
        if grads is None or in_pass:
            with no_autocast(x.device.type):
                _, *grads = forward(
                    x, w, b, target, class_weight, ignore_index, reduction, eps, need, rows,
                    classes, upstream=grad_out if in_pass else None, stats=ctx.stats,
                )  # fmt: skip
        if not in_pass:
            grads = [None if g is None else _times_upstream(g, grad_out, reduction) for g in grads]
        gx, gw, gb, gt = grads
        return (
            _as(gx, x) if need[0] else None,
            _as(gw, w) if need[1] else None,
            _as(gb, b) if need[2] else None,
            _as(gt, target) if need[3] else None,
            None, None, None, None, None, None,
        )  # fmt: skip
