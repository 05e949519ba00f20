"""Kernels behind :func:`celib.nn.cross_entropy` (private).

Notation for one position (a row of ``C`` logits ``x``): ``a`` is the index of the
largest logit, ``m = x[a]``, ``R = sum_{j != a} exp(x_j - m)`` (the argmax term left
out, so a tiny ``R`` is not lost against 1). Then

* ``lse = m + log1p(R)``, ``softmax_a = 1 / (1 + R)``, ``softmax_j = exp(x_j - m) / (1 + R)``;
* with target weights ``c_j >= 0`` (one-hot times the class weight, label smoothing or
  class probabilities), ``S = sum_j c_j`` and ``u = sum_{j != a} c_j``:
  ``loss = sum_j c_j (m - x_j) + S log1p(R)`` (a sum of non-negative terms), and
  ``d loss / d x = S softmax - c`` whose argmax entry is computed as
  ``(u - c_a R) / (1 + R)``; for a one-hot target at the argmax this is
  ``-c_a R / (1 + R)``, never ``1 / (1 + R) - 1``.

Two kernels walk the rows in blocks, so that a block's temporaries stay in cache and
the extra memory is O(block) besides the gradient itself:

* :func:`hard_forward`: class-index targets without label smoothing, ``(N, C)`` logits;
  the loss needs only ``m``, ``a``, ``R`` and ``x[target]``.
* :func:`general_forward`: everything else (label smoothing, class probabilities,
  ``(N, C, d1, ...)`` logits), through the ``c`` weights above.

Both can write the gradient during the forward pass (``fused``): the gradient of the
loss with respect to the logits is then computed once, by the same pass that reads the
logits, and the autograd :class:`CrossEntropyFunction` hands that buffer to autograd in
``backward`` (multiplied in place by the incoming gradient unless that is exactly 1).
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

# Elements of one block of logits. On a CPU a block (and the few temporaries the kernel
# makes of it) should stay in the L2 cache; on a GPU large blocks amortise the launches.
_CPU_BLOCK_HARD = 1 << 19
_CPU_BLOCK_GENERAL = 1 << 16
_GPU_BLOCK = 1 << 24


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """float64 stays float64; every other floating dtype is computed in float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _block_elems(device: torch.device, hard: bool) -> int:
    if device.type == "cpu":
        return _CPU_BLOCK_HARD if hard else _CPU_BLOCK_GENERAL
    return _GPU_BLOCK


def hard_forward(
    x: torch.Tensor,
    y: torch.Tensor,
    wy: torch.Tensor,
    valid: torch.Tensor,
    scale: torch.Tensor | None,
    block_elems: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Per-row loss of class-index targets, and optionally the gradient.

    Parameters
    ----------
    x : (N, C) logits (any floating dtype).
    y : (N, 1) int64 class indices, all in range (ignored rows hold any valid index).
    wy : (N, 1) coefficient of each row in compute dtype: the class weight of the target
        (1 without weights), 0 for an ignored row.
    valid : (N, 1) bool, False for an ignored row.
    scale : (N, 1) or None. If given, the gradient ``scale * (softmax - onehot)`` is
        computed (``scale`` already holds ``wy`` and the reduction's divisor).

    Returns
    -------
    loss : (N,) ``wy * (lse - x[y])`` in compute dtype (0 where ``wy == 0``).
    bad : 0-d bool, True if a counted row has a NaN or +inf logit, or only -inf logits.
    grad : (N, C) in ``x.dtype``, or None.
    """
    n, c = x.shape
    f = compute_dtype(x.dtype)
    dev = x.device
    m = torch.empty(n, 1, dtype=f, device=dev)
    a = torch.empty(n, 1, dtype=torch.long, device=dev)
    r = torch.empty(n, 1, dtype=f, device=dev)
    need_grad = scale is not None
    same = x.dtype == f
    grad = torch.empty(n, c, dtype=x.dtype, device=dev) if need_grad else None
    if block_elems is None:
        block_elems = _block_elems(dev, hard=True)
    rows = min(max(1, block_elems // max(c, 1)), max(n, 1))
    # Without a gradient to write into (or when the logits are half precision), the
    # exponentials go to a block-sized scratch buffer.
    tmp = None if (same and need_grad) else torch.empty(rows, c, dtype=f, device=dev)
    xf_buf = None if same else torch.empty(rows, c, dtype=f, device=dev)
    for i in range(0, n, rows):
        j = min(i + rows, n)
        xb = x[i:j]
        if not same:
            xb = xf_buf[: j - i].copy_(xb)
        mb, ab, rb = m[i:j], a[i:j], r[i:j]
        torch.max(xb, 1, keepdim=True, out=(mb, ab))
        eb = grad[i:j] if (same and need_grad) else tmp[: j - i]
        torch.sub(xb, mb, out=eb)
        eb.exp_()
        eb.scatter_(1, ab, 0.0)
        torch.sum(eb, 1, keepdim=True, out=rb)
        if need_grad:
            eb.mul_(scale[i:j] / (rb + 1.0))
            if not same:
                grad[i:j].copy_(eb)
    # Per-row quantities, vectorised over all rows.
    zero = torch.zeros((), dtype=f, device=dev)
    xy = x.gather(1, y).to(f)
    raw = (m - xy) + torch.log1p(r)
    loss = torch.where(wy != 0, wy * raw, zero)
    bad = (~torch.isfinite(m) & valid).any()
    if need_grad:
        inv = torch.reciprocal(r + 1.0)
        grad.scatter_(1, a, (scale * inv).to(grad.dtype))  # softmax_a * scale
        gy = grad.gather(1, y).to(f)
        # target at the argmax: scale * (1/(1+R) - 1) = -scale * R / (1+R), no cancellation;
        # elsewhere softmax_y <= 1/2, so softmax_y - 1 loses nothing.
        gy = torch.where(y == a, -(scale * r) * inv, gy - scale)
        grad.scatter_(1, y, gy.to(grad.dtype))
        # Rows that do not count (ignored, or weight 0) get an exact zero gradient, even
        # where their logits are not finite.
        zero_rows = (scale == 0).view(-1).nonzero().view(-1)
        if zero_rows.numel():
            grad.index_fill_(0, zero_rows, 0.0)
    return loss.view(n), bad, grad


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
    loss = torch.empty(n, d, dtype=f, device=dev)
    bad = torch.zeros((), dtype=torch.bool, device=dev)
    grad = torch.empty_like(x3, memory_format=torch.contiguous_format) if need_grad else None
    grad_t = torch.empty(n, c, d, dtype=f, device=dev) if need_target_grad else None
    w3 = None if weight is None else weight.view(1, c, 1)
    if block_elems is None:
        block_elems = _block_elems(dev, hard=False)
    per_n = c * d
    if per_n <= block_elems:
        bn, bd = max(1, block_elems // per_n), d
    else:
        bn, bd = 1, max(1, block_elems // c)
    zero = torch.zeros((), dtype=f, device=dev)
    for i in range(0, n, bn):
        i2 = min(i + bn, n)
        for k in range(0, d, bd):
            k2 = min(k + bd, d)
            xb = x3[i:i2, :, k:k2].to(f)
            m, a = torch.max(xb, 1, keepdim=True)
            dist = m - xb  # >= 0 where finite
            e = torch.exp(-dist)
            e.scatter_(1, a, 0.0)
            r = e.sum(1, keepdim=True)
            inv = torch.reciprocal(r + 1.0)
            l1p = torch.log1p(r)
            # cw[j]: the weight class j gets in this position's loss.
            if soft:
                cw = target[i:i2, :, k:k2]
                if eps:
                    cw = cw * (1.0 - eps) + eps / c
                cw = cw * w3 if w3 is not None else cw.clone()
                bad_b = ~torch.isfinite(m)
            else:
                yb = target[i:i2, k:k2].unsqueeze(1)
                cb = coef[i:i2, k:k2].unsqueeze(1)
                vb = valid[i:i2, k:k2].unsqueeze(1)
                if eps:
                    base = w3 if w3 is not None else torch.ones((), dtype=f, device=dev)
                    cw = (base * (eps / c)) * vb  # ignored positions lose the smoothing too
                    cw = cw.expand(i2 - i, c, k2 - k).contiguous()
                    cw.scatter_add_(1, yb, (1.0 - eps) * cb)
                else:
                    cw = torch.zeros(i2 - i, c, k2 - k, dtype=f, device=dev)
                    cw.scatter_(1, yb, cb)
                bad_b = ~torch.isfinite(m) & vb
            bad |= bad_b.any()
            ca = cw.gather(1, a)
            cw.scatter_(1, a, 0.0)
            u = cw.sum(1, keepdim=True)
            s_tot = u + ca
            cd = torch.where(cw == 0, zero, cw * dist)
            raw = cd.sum(1, keepdim=True) + torch.where(s_tot == 0, zero, s_tot * l1p)
            loss[i:i2, k:k2] = raw.squeeze(1)
            if need_grad:
                sb = scale[i:i2, k:k2].unsqueeze(1)
                g = e.mul_(s_tot * inv * sb)
                g.sub_(cw * sb)
                g.scatter_(1, a, sb * (u - ca * r) * inv)
                grad[i:i2, :, k:k2] = torch.where(sb == 0, zero, g)
            if need_target_grad:
                coeft = (1.0 - eps) * (w3 if w3 is not None else 1.0)
                st = scale[i:i2, k:k2].unsqueeze(1)
                grad_t[i:i2, :, k:k2] = (dist + l1p) * coeft * st
    return loss, bad, grad, grad_t


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


def forward(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    need_x_grad: bool,
    need_t_grad: bool,
    force_general: bool = False,
    block_elems: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Loss (reduced, in ``input.dtype``) and gradients scaled for a unit upstream gradient.

    Arguments are already validated. Returns ``(out, grad_input, grad_target)`` with the
    gradients shaped like ``input`` and ``target`` (or None).
    """
    f = compute_dtype(input.dtype)
    dev = input.device
    soft = target.dtype.is_floating_point
    if input.dim() == 1:
        c, n, d = input.shape[0], 1, 1
    else:
        n, c = input.shape[0], input.shape[1]
        d = 1
        for s in input.shape[2:]:
            d *= s
    w = None if weight is None else weight.to(dtype=f)
    eps = float(label_smoothing)
    zero = torch.zeros((), dtype=f, device=dev)

    if not soft and eps == 0.0 and d == 1 and not force_general:
        x2 = input.reshape(n, c)
        y, valid, coef = _prepare_hard(target, (n, 1), c, w, ignore_index, f)
        divisor, scale = _scales(reduction, coef, coef, need_x_grad, zero)
        loss, bad, gx = hard_forward(x2, y, coef, valid, scale, block_elems)
        gt = None
    else:
        x3 = input.reshape(n, c, d)
        if soft:
            t3 = target.to(dtype=f).reshape(n, c, d)
            ones = torch.ones((n, d), dtype=f, device=dev)
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
    if bool(bad):
        raise ValueError(
            "input: a row of logits that counts (target not ignore_index) holds NaN or "
            "+inf, or only -inf; the loss is undefined there"
        )
    if reduction == "none":
        out = loss.reshape(input.shape[:1] + input.shape[2:] if input.dim() > 1 else ())
    elif reduction == "sum":
        out = loss.sum()
    else:
        out = loss.sum() / divisor
    out = out.to(input.dtype)
    if gx is not None:
        gx = gx.view(input.shape)
    if gt is not None:
        gt = gt.view(target.shape).to(target.dtype)
    return out, gx, gt


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
    With ``retain_graph=True`` a second backward recomputes it from the saved input."""

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, label_smoothing, force):
        need_x = ctx.needs_input_grad[0]
        need_t = ctx.needs_input_grad[1]
        out, gx, gt = forward(
            input, target, weight, ignore_index, reduction, label_smoothing, need_x, need_t, force
        )
        ctx.save_for_backward(input, target, weight)
        ctx.args = (ignore_index, reduction, label_smoothing, force)
        ctx.grads = (gx, gt)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        gx, gt = ctx.grads
        ctx.grads = (None, None)
        need_x, need_t = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if (need_x and gx is None) or (need_t and gt is None):
            input, target, weight = ctx.saved_tensors
            ignore_index, reduction, label_smoothing, force = ctx.args
            _, gx, gt = forward(
                input,
                target,
                weight,
                ignore_index,
                reduction,
                label_smoothing,
                need_x,
                need_t,
                force,
            )
        reduction = ctx.args[1]
        gx = _times_upstream(gx, grad_out, reduction, 1) if need_x else None
        gt = _times_upstream(gt, grad_out, reduction, 1) if need_t else None
        return gx, gt, None, None, None, None, None


def _times_upstream(g, grad_out, reduction, class_dim):
    """``g * grad_out`` in place, broadcasting a per-position ``grad_out`` over classes."""
    if reduction == "none":
        if g.dim() == 1:  # unbatched (C,)
            return g.mul_(grad_out)
        return g.mul_(grad_out.unsqueeze(class_dim))
    # Skip the pass over g for the usual loss.backward(); on an accelerator, reading
    # the value would synchronise, so multiply.
    if grad_out.device.type == "cpu" and float(grad_out) == 1.0:
        return g
    return g.mul_(grad_out)
