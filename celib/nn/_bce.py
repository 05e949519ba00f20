"""Torch kernel behind :func:`celib.nn.binary_cross_entropy_with_logits` (private).

The formula is :func:`celib.nn._kernel.bce_with_logits`: with
``sp(z) = log(1 + e^z) = max(z, 0) + log1p(exp(-|z|))`` (both terms non-negative, no
cancellation), torch's loss ``(1 - t) x + (1 + (p - 1) t) sp(-x)`` equals

    loss = (1 - t) sp(x) + p t sp(-x),

a sum of non-negative terms for ``0 <= t <= 1`` and ``p >= 0``; its derivatives are
``d/dx = (1 - t) sigma(x) - p t sigma(-x)`` (one term vanishes exactly for ``t`` in
{0, 1}: no ``sigma(x) - 1``) and ``d/dt = -x + (p - 1) sp(-x)``.
"""

from __future__ import annotations

import torch

from celib.nn import _kernel
from celib.nn._ce import _times_upstream, compute_dtype, first_order, no_autocast


def forward(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None,
    pos_weight: torch.Tensor | None,
    reduction: str,
    need_x_grad: bool,
    need_t_grad: bool,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Loss (reduced, in compute dtype) and gradients for a unit upstream gradient."""
    f = compute_dtype(input.dtype)
    x = input.to(f)
    if bool(torch.isnan(x).any()):
        raise ValueError("input: the logits hold NaN; the loss is undefined there")
    pw = None if pos_weight is None else pos_weight.to(f)
    loss, parts = _kernel.bce_with_logits(torch, x, target.to(f), pw)
    w = None if weight is None else weight.to(f)
    if w is not None:
        loss = torch.where(w == 0, torch.zeros((), dtype=f, device=x.device), loss * w)
    out = _kernel.reduce(torch, loss, reduction)
    gx = gt = None
    if need_x_grad or need_t_grad:
        scale = 1.0 / loss.numel() if reduction == "mean" and loss.numel() else 1.0
        factor = scale if w is None else w * scale
    if need_x_grad:
        gx = (_kernel.bce_grad(torch, x, parts) * factor).to(input.dtype)
    if need_t_grad:
        gt = (_kernel.bce_target_grad(torch, x, parts, pw) * factor).to(target.dtype)
    return out, gx, gt


class BCEWithLogitsFunction(torch.autograd.Function):
    """Autograd wrapper of :func:`forward` (gradients computed with the loss)."""

    @staticmethod
    def forward(ctx, input, target, weight, pos_weight, reduction):
        need_x, need_t = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        with no_autocast(input.device.type):
            out, gx, gt = forward(input, target, weight, pos_weight, reduction, need_x, need_t)
        ctx.save_for_backward(input, target, weight, pos_weight)
        ctx.reduction = reduction
        ctx.grads = (gx, gt)
        return out

    @staticmethod
    @first_order("binary_cross_entropy_with_logits")
    def backward(ctx, grad_out):
        gx, gt = ctx.grads
        ctx.grads = (None, None)
        need_x, need_t = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if (need_x and gx is None) or (need_t and gt is None):
            input, target, weight, pos_weight = ctx.saved_tensors
            _, gx, gt = forward(input, target, weight, pos_weight, ctx.reduction, need_x, need_t)
        if ctx.reduction == "none":
            gx = gx.mul_(grad_out) if need_x else None
            gt = gt.mul_(grad_out) if need_t else None
        else:
            gx = _times_upstream(gx, grad_out, ctx.reduction) if need_x else None
            gt = _times_upstream(gt, grad_out, ctx.reduction) if need_t else None
        return gx, gt, None, None, None
