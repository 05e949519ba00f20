"""Blocked torch kernels behind :func:`celib.nn.cross_entropy` (private).

The formulas are those of :mod:`celib.nn._kernel`; this module walks the logits in
blocks and computes the gradients with the loss.

Class-index targets without label smoothing, ``(N, C)`` logits (:func:`hard_forward`,
the common case, built for speed): ``p = softmax(x)`` (one fused PyTorch kernel)
becomes the gradient ``p - onehot(y)`` in place (:func:`softmax_minus_onehot_`), with
``p_y - 1 = -T`` exactly and the loss ``-log p_y = log1p(T / p_y)``,
``T = sum_{j != y} p_j``. Its rows are divided by ``p_y + T``: torch.softmax's rows sum
to 1 only within ~1e3 ulp at C = 256k, a common factor of the row that this removes.

Everything else (label smoothing, class probabilities, ``(N, C, d1, ...)`` logits) goes
through :func:`general_forward`, the argmax form of the kernel
(:func:`celib.nn._kernel.softmax_ce`), in blocks of positions, so that the extra memory
is O(block) besides the gradients themselves.

Both compute the gradient during the forward pass, when it is needed: the logits are
read once, and the autograd :class:`CrossEntropyFunction` hands the gradient buffer to
autograd in ``backward``, multiplied in place by the upstream gradient (and, for the
fast kernel, the per-row weights) unless that factor is exactly 1.
"""

from __future__ import annotations

import contextlib
import functools
import math
import mmap

import array_api_compat
import torch
from torch.autograd.function import once_differentiable

from celib.nn import _kernel

# Elements of one block of logits. Each block costs a few operations, each of which
# synchronises torch's intra-op threads: on a busy CPU that costs more than cache misses
# (measured: blocks of 2**18 to 2**22 elements run alike on one thread, and small ones
# several times slower on two busy threads), so blocks are large; on a GPU they amortise
# the launches. The fast kernel writing into the gradient itself needs no buffer and
# takes 2**24; with a float32 block buffer (half precision, inplace_backward), 2**22.
_CPU_BLOCK_HARD = 1 << 24
_CPU_BLOCK_BUFFERED = 1 << 22
_CPU_BLOCK_GENERAL = 1 << 20
_GPU_BLOCK = 1 << 24


# A new CPU gradient of at least this many bytes lives in memory advised to use
# transparent huge pages, where Linux offers them (madvise). A fresh (4096, 32768)
# float32 gradient costs about 0.14 s of 4 KiB page faults, more than the kernel's own
# work (0.07 s); in 2 MiB pages, a few milliseconds. Linux may first have to assemble
# the huge pages (a one-off ~0.5 s measured here, the first time in a process).
_HUGE_PAGES_MIN_BYTES = 1 << 26


def new_buffer(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``torch.empty(shape, dtype=dtype, device=device)``; on a CPU with transparent huge
    pages, a large buffer is an anonymous private mapping advised to use them (an
    ordinary tensor, whose mapping is freed with it)."""
    nbytes = dtype.itemsize * math.prod(shape)
    if device.type == "cpu" and nbytes >= _HUGE_PAGES_MIN_BYTES and hasattr(mmap, "MADV_HUGEPAGE"):
        try:
            m = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            m.madvise(mmap.MADV_HUGEPAGE)
            return torch.frombuffer(m, dtype=dtype).view(shape)
        except (OSError, ValueError):  # no such mapping here: an ordinary allocation
            pass
    return torch.empty(shape, dtype=dtype, device=device)


def first_order(name: str):
    """Decorator of an autograd backward that cannot be differentiated again.

    ``torch.autograd.function.once_differentiable`` raises on a second backward only if
    the upstream gradient itself requires grad; a Hessian (``create_graph=True`` with a
    constant upstream gradient) would silently see a constant gradient and come out
    zero. This raises instead, naming the function.
    """

    def wrap(backward):
        inner = once_differentiable(backward)

        @functools.wraps(backward)
        def checked(ctx, *grads):
            if torch.is_grad_enabled():
                raise RuntimeError(
                    f"celib.nn.{name}: its gradient cannot be differentiated again (no "
                    "double backward, Hessians or create_graph=True); use "
                    f"torch.nn.functional.{name} for that"
                )
            return inner(ctx, *grads)

        return checked

    return wrap


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """float64 stays float64; every other floating dtype is computed in float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _block_elems(device: torch.device, kind: str) -> int:
    if device.type == "cpu":
        return {"hard": _CPU_BLOCK_HARD, "buffered": _CPU_BLOCK_BUFFERED}.get(
            kind, _CPU_BLOCK_GENERAL
        )
    return _GPU_BLOCK


def softmax_minus_onehot_(
    p: torch.Tensor, y: torch.Tensor, dim: int = 1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One block of softmax rows ``p`` (R, C), overwritten with ``p - onehot(y)``.

    Returns the per-row loss ``-log p_y = log1p(T / p_y)`` (:func:`_kernel.neg_log_softmax`,
    with ``T = sum_{j != y} p_j``, a sum of positive terms), ``p_y`` itself and ``T``,
    shaped like ``y`` (R, 1); the target entry of the gradient is ``p_y - 1 = -T``
    exactly. With ``dim=0`` the block is stored transposed, (C, R), and ``y`` is (1, R).
    Shared by :func:`hard_forward` and the linear kernel.
    """
    py = p.gather(dim, y)
    p.scatter_(dim, y, 0.0)
    tail = p.sum(dim, keepdim=True)
    p.scatter_(dim, y, -tail)  # softmax_y - 1 = -sum_{j != y} softmax_j
    raw = _kernel.neg_log_softmax(torch, py, tail)
    return raw, py, tail


def fix_underflow_(raw, py, valid, y, logits_of) -> None:
    """Rows whose ``p_y`` is too small for ``T / p_y`` (a loss beyond ~70 nats in float32):
    their loss from the argmax form of the kernel, on the rows' logits ``logits_of(rows)``."""
    f = raw.dtype
    small = (py < torch.finfo(f).tiny / torch.finfo(f).eps) & valid
    rows = small.view(-1).nonzero().view(-1)
    if rows.numel():
        z = logits_of(rows).to(f)
        onehot = torch.zeros_like(z).scatter_(1, y.index_select(0, rows), 1.0)
        loss, _ = _kernel.softmax_ce(_xp(z), z, onehot, axis=1)
        raw.index_copy_(0, rows, loss.view(-1, 1))


def hard_forward(
    x: torch.Tensor,
    y: torch.Tensor,
    valid: torch.Tensor,
    row_factor: torch.Tensor | float | None,
    block_elems: int | None = None,
    inplace: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Per-row ``-log softmax(x)[y]`` of class-index targets and, if ``row_factor`` is
    given, the gradient ``row_factor * (softmax(x) - onehot(y))``.

    The rows are taken in blocks small enough to stay in cache: for each block the
    softmax is computed (in float32 for half precision), turned into ``p - onehot(y)``
    (:func:`softmax_minus_onehot_`), divided by its accurately summed row ``p_y + T``
    (torch.softmax's rows sum to 1 only within ~1e3 ulp at C = 256k, a common factor
    this removes) and multiplied by ``row_factor`` before it is written out, rounded
    once: the gradient is read and written once, in the forward pass.

    Parameters
    ----------
    x : (N, C) logits (any floating dtype).
    y : (N, 1) int64 class indices, all in range (ignored rows hold any valid index).
    valid : (N, 1) bool, False for an ignored row (its gradient row is exactly 0).
    row_factor : each row's factor in the reduction (a float, a 0-d or an (N, 1)
        tensor), or None for no gradient.
    inplace : write the gradient into ``x`` itself (its logits are lost).

    Returns
    -------
    raw : (N, 1) per-row loss in compute dtype (whatever it is on ignored rows).
    bad : 0-d bool, True if a valid row has a NaN or +inf logit, or only -inf logits.
    grad : (N, C) gradient in ``x.dtype`` (``x`` itself if ``inplace``), or None.
    """
    n, c = x.shape
    f = compute_dtype(x.dtype)
    dev = x.device
    raw = torch.empty(n, 1, dtype=f, device=dev)
    py = torch.empty(n, 1, dtype=f, device=dev)
    need_grad = row_factor is not None
    if not need_grad:
        grad = None
    elif inplace:
        grad = x.detach()
    else:
        grad = new_buffer((n, c), x.dtype, dev)
    # Softmax blocks go straight into the gradient where they can (float32, float64 and
    # not in place); else into one block buffer, reused (it stays in cache).
    direct = need_grad and not inplace and x.dtype == f
    kind = "hard" if direct else "buffered"
    rows = max(1, min(n, (block_elems or _block_elems(dev, kind=kind)) // max(c, 1)))
    buf = None if direct else torch.empty(rows, c, dtype=f, device=dev)
    xbuf = None if x.dtype == f else torch.empty(rows, c, dtype=f, device=dev)  # half
    all_valid = bool(valid.all())
    per_row = isinstance(row_factor, torch.Tensor) and row_factor.dim() > 0
    for i in range(0, n, rows):
        j = min(i + rows, n)
        pb = grad[i:j] if direct else buf[: j - i]
        xb = x[i:j] if x.dtype == f else xbuf[: j - i].copy_(x[i:j])
        torch.ops.aten._softmax.out(xb, 1, False, out=pb)
        raw[i:j], py[i:j], tail = softmax_minus_onehot_(pb, y[i:j])
        if inplace:  # rows whose p_y underflows, while their logits are still there
            fix_underflow_(raw[i:j], py[i:j], valid[i:j], y[i:j], lambda r, xb=x[i:j]: xb[r])
        if not need_grad:
            continue
        fac = row_factor[i:j] if per_row else row_factor
        pb.mul_(fac / (py[i:j] + tail))
        if not all_valid:
            pb.masked_fill_(~valid[i:j], 0.0)  # exact zeros, whatever the logits are
        if not direct:
            grad[i:j].copy_(pb)
    if not inplace:  # rows whose p_y underflows: their loss from the argmax form
        fix_underflow_(raw, py, valid, y, lambda r: x.index_select(0, r))
    bad = (torch.isnan(raw) & valid).any()
    return raw, bad, grad


def _xp(x: torch.Tensor):
    return array_api_compat.array_namespace(x)


def _target_weights(target, soft, w3, eps, c, coef, valid, sl):
    """The weight ``c_j`` of each class in each position's loss, for one block ``sl``."""
    f = w3.dtype if w3 is not None else (target.dtype if soft else coef.dtype)
    if soft:
        cw = target[sl]
        if eps:
            cw = cw * (1.0 - eps) + eps / c
        return cw * w3 if w3 is not None else cw.clone()
    yb = target[sl[0], sl[2]].unsqueeze(1)
    cb = coef[sl[0], sl[2]].unsqueeze(1)
    vb = valid[sl[0], sl[2]].unsqueeze(1)
    shape = (yb.shape[0], c, yb.shape[2])
    if eps:
        base = w3 if w3 is not None else torch.ones((), dtype=f, device=yb.device)
        cw = (base * (eps / c)) * vb  # ignored positions lose the smoothing too
        cw = cw.expand(shape).contiguous()
        return cw.scatter_add_(1, yb, (1.0 - eps) * cb)
    return torch.zeros(shape, dtype=f, device=yb.device).scatter_(1, yb, cb)


def general_forward(
    x3: torch.Tensor,
    target: torch.Tensor,
    soft: bool,
    weight: torch.Tensor | None,
    label_smoothing: float,
    coef: torch.Tensor | None,
    valid: torch.Tensor | None,
    scale: torch.Tensor | None,
    need_target_grad: bool,
    block_elems: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Per-position loss for any target, and optionally the gradients.

    The argmax form of the kernel (:func:`_kernel.softmax_ce`, exact everywhere,
    including rows whose softmax underflows), over blocks of positions.

    Parameters
    ----------
    x3 : (N, C, D) logits.
    target : (N, D) int64 class indices (hard; ignored positions hold a valid index) or
        (N, C, D) class probabilities in compute dtype (soft).
    weight : (C,) class weights in compute dtype, or None.
    coef : (N, D) for hard targets: ``weight[target]`` (or 1), 0 at ignored positions.
    valid : (N, D) bool for hard targets: False at ignored positions.
    scale : (N, D) or None: the reduction's factor at each position (0 at ignored
        positions); if given, the gradient with respect to the logits is computed.
    need_target_grad : soft targets only: also compute the gradient with respect to the
        class probabilities (multiplied by ``scale``).

    Returns
    -------
    loss : (N, D) in compute dtype; bad : 0-d bool, True if a counted position has a NaN
    or +inf logit or only -inf logits; grad_x : (N, C, D) in ``x3.dtype`` or None;
    grad_t : (N, C, D) in compute dtype or None.
    """
    n, c, d = x3.shape
    f = compute_dtype(x3.dtype)
    dev = x3.device
    eps = float(label_smoothing)
    need_grad = scale is not None
    xp = _xp(x3)
    loss = torch.empty(n, d, dtype=f, device=dev)
    bad = torch.zeros((), dtype=torch.bool, device=dev)
    grad = torch.empty(n, c, d, dtype=x3.dtype, device=dev) if need_grad else None
    grad_t = torch.empty(n, c, d, dtype=f, device=dev) if need_target_grad else None
    w3 = None if weight is None else weight.view(1, c, 1)
    zero = torch.zeros((), dtype=f, device=dev)
    for sl in _blocks(n, c, d, block_elems or _block_elems(dev, kind="general")):
        xb = x3[sl].to(f)
        cw = _target_weights(target, soft, w3, eps, c, coef, valid, sl)
        lb, split = _kernel.softmax_ce(xp, xb, cw, axis=1)
        loss[sl[0], sl[2]] = lb
        counts = ~torch.isfinite(split[0])
        if not soft:
            counts &= valid[sl[0], sl[2]].unsqueeze(1)
        bad |= counts.any()
        if need_grad:
            sb = scale[sl[0], sl[2]].unsqueeze(1)
            g = _kernel.softmax_ce_grad(xp, cw, split, axis=1).mul_(sb)
            grad[sl] = torch.where(sb == 0, zero, g)
        if need_target_grad:
            coeft = (1.0 - eps) * (w3 if w3 is not None else 1.0)
            st = scale[sl[0], sl[2]].unsqueeze(1)
            grad_t[sl] = _kernel.softmax_neg_log(xp, xb, split) * coeft * st
    return loss, bad, grad, grad_t


def _blocks(n: int, c: int, d: int, block_elems: int):
    """Slices ``(rows, :, positions)`` of (N, C, D) holding about ``block_elems`` each."""
    per_n = c * d
    if per_n <= block_elems:
        bn, bd = max(1, block_elems // max(per_n, 1)), d
    else:
        bn, bd = 1, max(1, block_elems // c)
    for i in range(0, n, bn):
        for k in range(0, d, bd):
            yield (slice(i, min(i + bn, n)), slice(None), slice(k, min(k + bd, d)))


def _prepare_hard(target, valid_shape, c, weight, ignore_index, f):
    """(N, D) int64 indices (ignored ones replaced by 0), validity mask and coefficient."""
    t = target.reshape(valid_shape).long()
    valid = t != ignore_index
    y = torch.where(valid, t, torch.zeros((), dtype=torch.long, device=t.device))
    if weight is None:
        coef = valid.to(f)
    else:
        coef = weight.gather(0, y.reshape(-1)).view(valid_shape) * valid
    return y, valid, coef


def _dims(input: torch.Tensor) -> tuple[int, int, int]:
    """``(N, C, D)``: positions, classes and spatial size of (C,), (N, C) or (N, C, d...)."""
    if input.dim() == 1:
        return 1, input.shape[0], 1
    d = 1
    for s in input.shape[2:]:
        d *= s
    return input.shape[0], input.shape[1], d


def forward(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    need_x_grad: bool,
    need_t_grad: bool,
    path: str = "auto",
    block_elems: int | None = None,
    inplace: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Loss (reduced, in compute dtype) and its gradients for a unit upstream gradient.

    Arguments are already validated. Returns ``(out, grad_input, grad_target)`` with
    the gradients shaped like ``input`` and ``target`` (or None). ``path`` is
    ``'auto'``, or ``'general'`` to force the general kernel. ``inplace``: the fast
    kernel writes the gradient into ``input`` itself (the general one ignores it).
    """
    n, c, d = _dims(input)
    soft = target.dtype.is_floating_point
    f = compute_dtype(input.dtype)
    w = None if weight is None else weight.to(dtype=f)
    eps = float(label_smoothing)
    gt = None
    if not soft and eps == 0.0 and d == 1 and path == "auto":
        loss, divisor, gx = _hard_path(
            input.reshape(n, c), target, w, ignore_index, reduction, need_x_grad, block_elems,
            inplace,
        )  # fmt: skip
        gx = None if gx is None else gx.view(input.shape)
    else:
        loss, divisor, gx, gt = _general_path(
            input.reshape(n, c, d), target, soft, w, ignore_index, reduction, eps,
            need_x_grad, need_t_grad, block_elems,
        )  # fmt: skip
        gx = None if gx is None else gx.view(input.shape)
    if reduction == "none":
        loss = loss.reshape(input.shape[:1] + input.shape[2:] if input.dim() > 1 else ())
    out = _kernel.reduce(torch, loss, reduction, divisor)
    if gt is not None:
        gt = gt.view(target.shape).to(target.dtype)
    return out, gx, gt


def _raise_if_bad(bad: torch.Tensor) -> None:
    if bool(bad):
        raise ValueError(
            "input: a row of logits that counts (target not ignore_index) holds NaN or "
            "+inf, or only -inf; the loss is undefined there"
        )


def _hard_path(x2, target, w, ignore_index, reduction, need_x_grad, block_elems, inplace):
    """Class indices, no smoothing, (N, C) logits: the fast kernel. Returns the per-row
    losses, the 'mean' divisor and the (N, C) gradient for a unit upstream gradient."""
    n, c = x2.shape
    f = compute_dtype(x2.dtype)
    y, valid, coef = _prepare_hard(target, (n, 1), c, w, ignore_index, f)
    divisor = coef.sum() if reduction == "mean" else None
    row_factor = None
    if need_x_grad:
        row_factor = _row_scale(reduction, divisor, coef, w is None and bool(valid.all()))
    raw, bad, gx = hard_forward(x2, y, valid, row_factor, block_elems, inplace)
    _raise_if_bad(bad)
    zero = torch.zeros((), dtype=f, device=x2.device)
    loss = torch.where(coef != 0, coef * raw, zero).view(n)
    return loss, divisor, gx


def _general_path(
    x3, target, soft, w, ignore_index, reduction, eps, need_x_grad, need_t_grad, block_elems
):
    """Any target on (N, C, D) logits: the argmax form of the kernel. Returns the
    per-position losses, the 'mean' divisor and the final gradients."""
    n, c, d = x3.shape
    f = compute_dtype(x3.dtype)
    zero = torch.zeros((), dtype=f, device=x3.device)
    if soft:
        t3 = target.to(dtype=f).reshape(n, c, d)
        ones = torch.ones((n, d), dtype=f, device=x3.device)
        divisor, scale = _scales(reduction, ones, ones, need_x_grad or need_t_grad, zero)
        loss, bad, gx, gt = general_forward(
            x3, t3, True, w, eps, None, None, scale, need_t_grad, block_elems
        )
    else:
        y, valid, coef = _prepare_hard(target, (n, d), c, w, ignore_index, f)
        divisor, scale = _scales(reduction, coef, valid.to(f), need_x_grad, zero)
        loss, bad, gx, gt = general_forward(
            x3, y, False, w, eps, coef, valid, scale, False, block_elems
        )
    _raise_if_bad(bad)
    return loss, divisor, gx, gt


def _row_scale(reduction, divisor, coef, uniform):
    """Factor of each row of the fast kernel's gradient: the row's class weight (0 when
    ignored), over the divisor for 'mean'; a scalar when all rows count alike."""
    if reduction == "mean":
        inv = torch.where(divisor == 0, torch.zeros_like(divisor), torch.reciprocal(divisor))
        return inv if uniform else coef * inv
    return 1.0 if uniform else coef


def _scales(reduction, coef, valid_f, need_grad, zero):
    """Divisor of the 'mean' and each position's factor in the gradient.

    ``coef`` is the weight of each position in the divisor (the class weight of its
    target, 0 if ignored; 1 for class probabilities) and ``valid_f`` the factor the
    gradient kernel expects besides the divisor (``coef`` for the hard kernel, which
    folds the class weight into ``scale``; the validity mask for the general kernel).
    """
    if reduction == "mean":
        divisor = coef.sum()
    else:
        divisor = None
    if not need_grad:
        return divisor, None
    if reduction == "mean":
        # torch: a 'mean' over zero total weight is NaN, with a zero gradient.
        inv = torch.where(divisor == 0, zero, torch.reciprocal(divisor))
        scale = valid_f * inv
    else:
        scale = valid_f
    return divisor, scale


class CrossEntropyFunction(torch.autograd.Function):
    """Autograd wrapper of :func:`forward`: the gradient is written during the forward
    pass and handed to autograd (no second pass over the logits, no second N x C buffer).
    With ``retain_graph=True`` a second backward recomputes it from the saved input
    (impossible after ``inplace``, whose logits are gone: that raises)."""

    @staticmethod
    def forward(
        ctx, input, target, weight, ignore_index, reduction, label_smoothing, path, inplace
    ):
        need_x = ctx.needs_input_grad[0]
        need_t = ctx.needs_input_grad[1]
        with no_autocast(input.device.type):
            out, gx, gt = forward(
                input, target, weight, ignore_index, reduction, label_smoothing,
                need_x, need_t, path, inplace=inplace and need_x,
            )  # fmt: skip
        ctx.save_for_backward(input, target, weight)
        ctx.args = (ignore_index, reduction, label_smoothing, path, inplace and need_x)
        ctx.grads = (gx, gt)
        return out

    @staticmethod
    @first_order("cross_entropy")
    def backward(ctx, grad_out):
        gx, gt = ctx.grads
        ctx.grads = (None, None)  # hand the buffers over: autograd may keep them
        need_x, need_t = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        ignore_index, reduction, label_smoothing, path, inplace = ctx.args
        if (need_x and gx is None) or (need_t and gt is None):
            if inplace:
                raise RuntimeError(
                    "cross_entropy(..., inplace_backward=True) overwrote the logits with "
                    "their gradient: it can be backpropagated once only"
                )
            input, target, weight = ctx.saved_tensors
            _, gx, gt = forward(
                input, target, weight, ignore_index, reduction, label_smoothing,
                need_x, need_t, path,
            )  # fmt: skip
        gx = _times_upstream(gx, grad_out, reduction) if need_x else None
        gt = _times_upstream(gt, grad_out, reduction) if need_t else None
        return gx, gt, None, None, None, None, None, None


def _mul_rows_(g: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """``g *= factor`` (``factor`` broadcasts along the rows of ``g``), in blocks of rows
    when their dtypes differ: PyTorch would otherwise compute the product in the wider
    dtype in a temporary the size of ``g``."""
    if factor.dtype == g.dtype or factor.dim() == 0 or g.dim() == 0 or factor.shape[0] == 1:
        return g.mul_(factor)
    rows = max(1, _CPU_BLOCK_HARD // max(1, g[0].numel()))
    for i in range(0, g.shape[0], rows):
        g[i : i + rows].mul_(factor[i : i + rows])
    return g


def no_autocast(device_type: str):
    """The kernels choose their own precision: no autocast inside them."""
    if torch.is_autocast_enabled(device_type):
        return torch.autocast(device_type, enabled=False)
    return contextlib.nullcontext()


def _times_upstream(g, grad_out, reduction):
    """``g * grad_out`` in place, broadcasting a per-position ``grad_out`` over classes
    (dimension 1 of ``g``, or 0 for unbatched (C,) logits)."""
    if reduction == "none":
        if g.dim() == 1:  # unbatched (C,)
            return g.mul_(grad_out)
        return _mul_rows_(g, grad_out.unsqueeze(1))
    # Skip the pass over g for the usual loss.backward(); on an accelerator, reading
    # the value would synchronise, so multiply.
    if grad_out.device.type == "cpu" and float(grad_out) == 1.0:
        return g
    return g.mul_(grad_out)
