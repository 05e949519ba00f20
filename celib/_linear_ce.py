"""Kernel behind :func:`celib.nn.linear_cross_entropy` (private).

The loss of ``F.cross_entropy(F.linear(x, W, b), y)`` for ``x`` of shape ``(N, D)``
and ``W`` of shape ``(V, D)``, without the ``(N, V)`` logits: the tokens are walked in
chunks of ``R`` rows, and for each chunk

1. the logits ``z = x_c W^T + b`` (``(R, V)``, in the compute dtype) are written into
   one buffer reused by every chunk;
2. the per-row loss and ``g = d loss / d z`` are computed with the formulas of
   :mod:`celib._nn_ce`: for class indices without smoothing, ``p = softmax(z)`` in
   place (on CPU), ``-log p_y = log1p(T / p_y)`` and ``p_y - 1 = -T`` with
   ``T = sum_{j != y} p_j``, and ``logsumexp(z) - z_y`` where ``p_y`` underflows;
   with label smoothing, the general kernel of :mod:`celib._nn_ce`;
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

float16 and bfloat16 are computed in float32: the weight is converted once (a
``(V, D)`` float32 copy, alive during the pass) and the gradients are accumulated in
float32, rounded once to the input's dtype at the end.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from celib._nn_ce import compute_dtype, general_forward, no_autocast

# Elements of one chunk of logits: at most 2**23 (32 MiB of float32) on CPU, and at most
# an eighth of the gradients' own size (the lower bound of the extra memory), so that
# the chunk adds little to it. Larger chunks make the rank-R updates of grad_W (one
# read and write of a (V, D) buffer per chunk) fewer and the products more efficient.
_CPU_CHUNK_ELEMS = 1 << 23
_GPU_CHUNK_ELEMS = 1 << 26
_MIN_CHUNK_ELEMS = 1 << 16


def default_chunk_rows(n: int, d: int, v: int, device: torch.device) -> int:
    """Rows per chunk: ``min(cap, (N + V) D / 8)`` logits (at least ``2**16``)."""
    cap = _CPU_CHUNK_ELEMS if device.type == "cpu" else _GPU_CHUNK_ELEMS
    elems = max(_MIN_CHUNK_ELEMS, min(cap, (n + v) * d // 8))
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
    need: tuple[bool, bool, bool],
    chunk_rows: int | None,
    upstream: torch.Tensor | None = None,
) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    """Loss (reduced, compute dtype) and the gradients w.r.t. ``x``, ``w``, ``b``.

    Arguments are validated. ``x`` is ``(N, D)``, ``target`` ``(N,)``. ``need`` says which
    gradients to compute; they are for the upstream gradient ``upstream`` (one value
    per row for ``'none'``, in which case the loss is not returned) or for a unit
    upstream gradient if it is None. Gradients are returned in the compute dtype.
    """
    n, d = x.shape
    v = w.shape[0]
    f = compute_dtype(x.dtype)
    dev = x.device
    eps = float(label_smoothing)
    need_x, need_w, need_b = need
    any_grad = need_x or need_w or need_b
    zero = torch.zeros((), dtype=f, device=dev)

    wf = w if w.dtype == f else w.to(f)
    bf = None if b is None else b.to(f)
    cw = None if class_weight is None else class_weight.to(f)

    t = target.reshape(n, 1).long()
    valid = t != ignore_index
    y = torch.where(valid, t, torch.zeros((), dtype=torch.long, device=dev))
    coef = valid.to(f) if cw is None else cw.gather(0, y.view(-1)).view(n, 1) * valid

    divisor = coef.sum() if reduction == "mean" else None
    inv = None
    if reduction == "mean":
        # torch: a 'mean' over zero total weight is NaN, with a zero gradient.
        inv = torch.where(divisor == 0, zero, torch.reciprocal(divisor))
    # Factor of each row in the gradient: for the hard kernel it includes the class
    # weight (its gradient is softmax - onehot); the general kernel folds it in itself.
    hard = eps == 0.0
    base = coef if hard else valid.to(f)
    if reduction == "mean":
        row_scale = base * inv
    elif reduction == "sum":
        row_scale = base
    else:
        row_scale = base if upstream is None else base * upstream.reshape(n, 1).to(f)
    zero_rows = None
    if any_grad and not bool(valid.all()):
        zero_rows = ~valid  # ignored rows get exact zeros, whatever their logits are

    gx = torch.empty(n, d, dtype=f, device=dev) if need_x else None
    gw = torch.zeros(v, d, dtype=f, device=dev) if need_w else None
    gb = torch.zeros(v, dtype=f, device=dev) if need_b else None
    loss = torch.empty(n, dtype=f, device=dev)
    bad = torch.zeros((), dtype=torch.bool, device=dev)

    rows = chunk_rows if chunk_rows is not None else default_chunk_rows(n, d, v, dev)
    rows = min(rows, max(n, 1))
    starts = list(range(0, n, rows))
    # Ignored rows, per chunk (one synchronisation): their gradient rows are set to 0.
    ignored = [None] * len(starts)
    if any_grad and zero_rows is not None:
        idx = zero_rows.view(-1).nonzero().view(-1)
        cuts = torch.searchsorted(idx, torch.tensor(starts + [n], device=dev)).tolist()
        for k, i in enumerate(starts):
            if cuts[k + 1] > cuts[k]:
                ignored[k] = idx[cuts[k] : cuts[k + 1]] - i
    # One buffer of logits for every chunk (fresh buffers would cost page faults).
    zbuf = torch.empty(rows, v, dtype=f, device=dev)
    pbuf = zbuf if dev.type == "cpu" else torch.empty_like(zbuf)
    for k, i in enumerate(starts):
        j = min(i + rows, n)
        xc = x[i:j] if x.dtype == f else x[i:j].to(f)
        z = zbuf[: j - i]
        if bf is None:
            torch.mm(xc, wf.t(), out=z)
        else:
            torch.addmm(bf, xc, wf.t(), out=z)
        if hard:
            g, bad_c, total = _hard_chunk(
                z, pbuf[: j - i], xc, wf, bf, y[i:j], valid[i:j], coef[i:j], loss[i:j]
            )
            bad |= bad_c
            # The row factors go to the (R, D) side of the products, not the (R, V) one;
            # they include 1 / (p_y + T), the accurately summed row of the softmax (see
            # _nn_ce.hard_forward), and are 0 for ignored rows.
            rs = torch.where(valid[i:j], row_scale[i:j] / total, zero)
        else:
            lc, bad_c, g3, _ = general_forward(
                z.view(j - i, v, 1),
                y[i:j],
                False,
                cw,
                eps,
                coef[i:j],
                valid[i:j],
                row_scale[i:j] if any_grad else None,
                False,
            )
            loss[i:j] = lc.view(-1)
            bad |= bad_c
            g = None if g3 is None else g3.view(j - i, v)
            rs = None
        if not any_grad:
            continue
        if ignored[k] is not None:
            g.index_fill_(0, ignored[k], 0.0)
        if need_x:
            torch.mm(g, wf, out=gx[i:j])
            if rs is not None:
                gx[i:j].mul_(rs)
        if need_w:
            gw.addmm_(g.t(), xc if rs is None else xc * rs)
        if need_b:
            if rs is None:
                gb.add_(g.sum(0))
            else:
                gb.addmv_(g.t(), rs.view(-1))
        del g
    if bool(bad):
        raise ValueError(
            "input, linear_weight or linear_bias: a row of logits that counts (target not "
            "ignore_index) holds NaN or +inf, or only -inf; the loss is undefined there"
        )
    if reduction == "none":
        out = loss
    elif reduction == "sum":
        out = loss.sum()
    else:
        out = loss.sum() / divisor
    return out, gx, gw, gb


def _hard_chunk(z, p, xc, wf, bf, y, valid, coef, loss):
    """Class indices without smoothing, one chunk: the loss of each row into ``loss``,
    and ``softmax(z) - onehot(y)`` (unscaled) written into ``p`` (which may be ``z``).

    ``-log p_y = log1p(T / p_y)`` and ``p_y - 1 = -T`` with ``T = sum_{j != y} p_j``;
    rows whose ``p_y`` is too small for ``T / p_y`` (losses above ~70 in float32) take
    ``logsumexp(z) - z_y``, their logits recomputed from ``xc`` (``z`` is overwritten).
    Returns ``(p, bad, total)``: ``bad`` True where a row that counts has no finite
    loss, ``total = p_y + T`` (R, 1), by which the caller divides the rows of ``p``.
    """
    f = z.dtype
    torch.ops.aten._softmax.out(z, 1, False, out=p)
    py = p.gather(1, y)
    p.scatter_(1, y, 0.0)
    t = p.sum(1, keepdim=True)
    p.scatter_(1, y, -t)  # softmax_y - 1 = -sum_{j != y} softmax_j
    raw = torch.log1p(t / py)
    small = (py < torch.finfo(f).tiny / torch.finfo(f).eps) & valid
    total = py + t
    rows_small = small.view(-1).nonzero().view(-1)
    if rows_small.numel():
        xs = xc.index_select(0, rows_small)
        zs = torch.mm(xs, wf.t()) if bf is None else torch.addmm(bf, xs, wf.t())
        raw.index_copy_(
            0, rows_small, torch.logsumexp(zs, 1, keepdim=True) - zs.gather(1, y[rows_small])
        )
    bad = (torch.isnan(raw) & valid).any()
    loss.copy_(
        torch.where(coef != 0, coef * raw, torch.zeros((), dtype=f, device=z.device)).view(-1)
    )
    return p, bad, total


def _times_upstream(g: torch.Tensor | None, grad_out: torch.Tensor) -> torch.Tensor | None:
    """``g * grad_out`` in place; skipped for the usual ``loss.backward()`` on CPU (on an
    accelerator, reading the value would synchronise, so multiply)."""
    if g is None:
        return None
    if grad_out.device.type == "cpu" and float(grad_out) == 1.0:
        return g
    return g.mul_(grad_out)


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
    the upstream gradient of each row.
    """

    @staticmethod
    def forward(ctx, x, w, b, target, class_weight, ignore_index, reduction, eps, chunk_rows):
        need = tuple(bool(k) for k in ctx.needs_input_grad[:3])
        early = need if reduction != "none" else (False, False, False)
        with no_autocast(x.device.type):
            out, gx, gw, gb = forward(
                x, w, b, target, class_weight, ignore_index, reduction, eps, early, chunk_rows
            )
        ctx.save_for_backward(x, w, b, target, class_weight)
        ctx.args = (ignore_index, reduction, eps, chunk_rows)
        ctx.grads = (gx, gw, gb) if any(early) else None
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        need = tuple(bool(k) for k in ctx.needs_input_grad[:3])
        ignore_index, reduction, eps, chunk_rows = ctx.args
        x, w, b, target, class_weight = ctx.saved_tensors
        grads = ctx.grads
        ctx.grads = None  # hand the buffers over: autograd may keep them
        if reduction == "none":
            with no_autocast(x.device.type):
                _, gx, gw, gb = forward(
                    x, w, b, target, class_weight, ignore_index, reduction, eps, need,
                    chunk_rows, upstream=grad_out,
                )  # fmt: skip
        else:
            if grads is None:
                with no_autocast(x.device.type):
                    _, gx, gw, gb = forward(
                        x, w, b, target, class_weight, ignore_index, reduction, eps, need,
                        chunk_rows,
                    )  # fmt: skip
            else:
                gx, gw, gb = grads
            gx, gw, gb = (_times_upstream(g, grad_out) for g in (gx, gw, gb))
        return (
            _as(gx, x) if need[0] else None,
            _as(gw, w) if need[1] else None,
            _as(gb, b) if need[2] else None,
            None,
            None,
            None,
            None,
            None,
            None,
        )
