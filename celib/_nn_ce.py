"""Kernels behind :func:`celib.nn.cross_entropy` (private).

Class-index targets without label smoothing, ``(N, C)`` logits (:func:`hard_forward`,
the common case, built for speed): with ``p = softmax(x)`` (one fused PyTorch kernel)
and ``T = sum_{j != y} p_j`` (a sum of positive terms, the target left out),

* the loss is ``-log p_y = log1p(T / p_y)``: ``T / p_y = sum_{j != y} exp(x_j - x_y)``
  keeps a tiny loss that ``1 - p_y`` would round away;
* the gradient is ``p - onehot(y)`` with ``p_y - 1 = -T`` exactly, never ``p_y - 1``
  rounded. The softmax tensor becomes the gradient: no other array of the logits' size.
  Its rows are divided by ``p_y + T``: torch.softmax's rows sum to 1 only within ~1e3
  ulp at C = 256k, a common factor of the row that this removes (the general kernel
  renormalises the same way).

Everything else (label smoothing, class probabilities, ``(N, C, d1, ...)`` logits) goes
through :func:`general_forward`. Notation for one position (a row of ``C`` logits
``x``): ``a`` is the index of the largest logit, ``m = x[a]``,
``R = sum_{j != a} exp(x_j - m)`` (the argmax term left out, so a tiny ``R`` is not
lost against 1). Then

* ``lse = m + log1p(R)``, ``softmax_a = 1 / (1 + R)``, ``softmax_j = exp(x_j - m) / (1 + R)``;
* with target weights ``c_j >= 0`` (one-hot times the class weight, label smoothing or
  class probabilities), ``S = sum_j c_j`` and ``u = sum_{j != a} c_j``:
  ``loss = sum_j c_j (m - x_j) + S log1p(R)`` (a sum of non-negative terms), and
  ``d loss / d x = S softmax - c`` whose argmax entry is computed as
  ``(u - c_a R) / (1 + R)``; for a one-hot target at the argmax this is
  ``-c_a R / (1 + R)``, never ``1 / (1 + R) - 1``.

It walks the logits in blocks of positions, so that the extra memory is O(block)
besides the gradients themselves.

Both kernels compute the gradient during the forward pass, when it is needed: the logits
are read once, and the autograd :class:`CrossEntropyFunction` hands the gradient buffer
to autograd in ``backward``, multiplied in place by the upstream gradient (and, for the
fast kernel, the per-row weights) unless that factor is exactly 1.
"""

from __future__ import annotations

import contextlib

import torch
from torch.autograd.function import once_differentiable

# Elements of one block of logits. Each block costs a dozen operations, each of which
# synchronises torch's intra-op threads: on a busy CPU that costs more than cache misses,
# so blocks are large (a few MB of temporaries); on a GPU they amortise the launches.
_CPU_BLOCK_HARD = 1 << 22
_CPU_BLOCK_GENERAL = 1 << 24
_CPU_BLOCK_EXACT = 1 << 18
_GPU_BLOCK = 1 << 24


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """float64 stays float64; every other floating dtype is computed in float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _block_elems(device: torch.device, kind: str) -> int:
    if device.type == "cpu":
        return {"hard": _CPU_BLOCK_HARD, "general": _CPU_BLOCK_GENERAL}.get(kind, _CPU_BLOCK_EXACT)
    return _GPU_BLOCK


def hard_forward(
    x: torch.Tensor,
    y: torch.Tensor,
    valid: torch.Tensor,
    need_grad: bool,
    chunk_elems: int | None = None,
    row_factor: torch.Tensor | float | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Per-row ``-log softmax(x)[y]`` of class-index targets, and ``softmax(x) - onehot``.

    With ``p = softmax(x)`` and ``T = sum_{j != y} p_j`` (a sum of positive terms):
    ``p_y - 1 = -T`` exactly, and ``-log p_y = log1p(T / p_y)`` (``T / p_y`` is
    ``sum_{j != y} exp(x_j - x_y)``), accurate when the loss is tiny. Where ``p_y`` is
    not a normal number with room to spare (loss above ~70 in float32), the loss is
    ``logsumexp(x) - x_y`` instead, computed on those rows only.

    Parameters
    ----------
    x : (N, C) logits (any floating dtype).
    y : (N, 1) int64 class indices, all in range (ignored rows hold any valid index).
    valid : (N, 1) bool, False for an ignored row.
    need_grad : also return the gradient of the unweighted, unreduced per-row losses
        (the caller scales its rows).
    row_factor : for float16/bfloat16 logits only: each row's factor in the reduction
        (a float, a 0-d or an (N, 1) tensor). The gradient is then finished here, in
        float32, before its one rounding to the logits' dtype: divided by ``total``,
        times ``row_factor``, exactly 0 on ignored rows. (A float32 or float64 softmax
        becomes the gradient itself and is scaled by the caller: no copy.)

    Returns
    -------
    raw : (N, 1) per-row loss in compute dtype (whatever it is on ignored rows).
    bad : 0-d bool, True if a valid row has a NaN or +inf logit, or only -inf logits.
    grad : (N, C) ``softmax(x) - onehot(y)`` in ``x.dtype``, or None; its rows still
        have to be divided by ``total``.
    total : (N, 1) ``p_y + T``, the row sum of the computed softmax, summed accurately.
    """
    n, c = x.shape
    f = compute_dtype(x.dtype)
    dev = x.device
    py = torch.empty(n, 1, dtype=f, device=dev)
    tail = torch.empty(n, 1, dtype=f, device=dev)
    grad = None
    if need_grad and x.dtype == f:
        # One chunk: the softmax is computed into a new tensor that becomes the gradient.
        rows = max(n, 1)
    else:
        if chunk_elems is None:
            chunk_elems = _block_elems(dev, kind="hard")
        rows = max(1, chunk_elems // max(c, 1))
        if need_grad:
            grad = torch.empty(n, c, dtype=x.dtype, device=dev)
    all_valid = row_factor is None or bool(valid.all())
    for i in range(0, n, rows):
        j = min(i + rows, n)
        yb = y[i:j]
        pb = torch.softmax(x[i:j], 1, dtype=f)
        torch.gather(pb, 1, yb, out=py[i:j])
        pb.scatter_(1, yb, 0.0)
        tb = torch.sum(pb, 1, keepdim=True, out=tail[i:j])
        if need_grad:
            pb.scatter_(1, yb, -tb)  # softmax_y - 1 = -sum_{j != y} softmax_j
            if grad is None:
                grad = pb
            else:
                if row_factor is None:
                    grad[i:j].copy_(pb)
                else:
                    fac = row_factor
                    if isinstance(fac, torch.Tensor) and fac.dim():
                        fac = fac[i:j]
                    vb = valid[i:j]
                    # Scaled in float32 and written with the one rounding to the logits'
                    # dtype; ignored rows get exact zeros, whatever their logits are.
                    pb.mul_(torch.where(vb, fac / (py[i:j] + tb), 0.0))
                    if not all_valid:
                        pb.masked_fill_(~vb, 0.0)
                    grad[i:j].copy_(pb)
    raw = torch.log1p(tail / py)
    # The rows of torch.softmax do not sum to 1 within a few ulp (about 1e3 ulp at
    # C = 256k on CPU: its normaliser is summed less accurately than torch.sum), a
    # common factor of the row: the caller divides each gradient row by the accurately
    # summed total p_y + T, which removes it.
    small = (py < torch.finfo(f).tiny / torch.finfo(f).eps) & valid
    total = py.add_(tail)
    # Rows whose target probability is too small for T / p_y (underflow to a subnormal
    # or 0, marked above): there the loss is large and logsumexp(x) - x_y is accurate.
    rows_small = small.view(-1).nonzero().view(-1)
    if rows_small.numel():
        xs = x.index_select(0, rows_small).to(f)
        fallback = torch.logsumexp(xs, 1, keepdim=True) - xs.gather(1, y[rows_small])
        raw.index_copy_(0, rows_small, fallback)
    bad = (torch.isnan(raw) & valid).any()
    return raw, bad, grad, total


def exact_forward(
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
    """Per-position loss for any target, and optionally the gradients (argmax-based).

    The reference kernel: slower than :func:`general_forward` (a dozen operations per
    block), exact everywhere, including rows whose softmax underflows to 0.

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
        block_elems = _block_elems(dev, kind="exact")
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
    """Per-position loss for any target, and optionally the gradients (softmax-based).

    Same arguments and results as :func:`exact_forward`, computed from PyTorch's fused
    softmax over chunks of samples: with ``p = softmax(x)``, ``a`` its argmax and
    ``T = sum_{j != a} p_j``, ``R = T / p_a`` and

    * ``loss = sum_{j != a} c_j (-log p_j) + c_a log1p(R)``: each ``-log p_j`` with
      ``j != a`` is at least ``log 2``, so relative errors stay at a few ulp;
    * ``grad = S p - c`` with the argmax entry ``u p_a - c_a T`` (``u`` the mass of ``c``
      off the argmax), the form without cancellation of ``(u - c_a R) / (1 + R)``.

    For class indices without smoothing the target plays the part of ``a``
    (``-log p_y = log1p(T_y / p_y)``, ``p_y - 1 = -T_y``). Where a softmax entry that
    counts underflows (a loss of more than ~87 nats in float32), where a logit is not
    finite, the samples concerned are recomputed with :func:`exact_forward`.
    """
    n, c, d = x3.shape
    f = compute_dtype(x3.dtype)
    dev = x3.device
    eps = float(label_smoothing)
    need_grad = scale is not None
    loss = torch.empty(n, d, dtype=f, device=dev)
    grad = torch.empty(n, c, d, dtype=x3.dtype, device=dev) if need_grad else None
    grad_t = torch.empty(n, c, d, dtype=f, device=dev) if need_target_grad else None
    w3 = None if weight is None else weight.view(1, c, 1)
    if not soft and eps:
        w_total = float(c) if weight is None else float(weight.double().sum())
    if block_elems is None:
        block_elems = _block_elems(dev, kind="general")
    bn = max(1, block_elems // max(c * d, 1))
    zero = torch.zeros((), dtype=f, device=dev)
    tiny = torch.finfo(f).tiny / torch.finfo(f).eps
    for i in range(0, n, bn):
        i2 = min(i + bn, n)
        p = torch.softmax(x3[i:i2], 1, dtype=f)
        sb = None if scale is None else scale[i:i2].unsqueeze(1)
        if not soft and not eps:
            # One-hot targets: the target is the special index, no argmax needed.
            yb = target[i:i2].unsqueeze(1)
            cb = coef[i:i2].unsqueeze(1)
            py = p.gather(1, yb)
            p.scatter_(1, yb, 0.0)
            t_y = p.sum(1, keepdim=True)
            inv_total = torch.reciprocal(py + t_y)  # renormalises the row (hard_forward)
            raw = torch.log1p(t_y / py)
            # Too small a p_y for T / p_y: leave it to the exact kernel (flagged as inf).
            raw = torch.where(py < tiny, torch.full_like(raw, float("inf")), raw)
            lb = torch.where(cb != 0, cb * raw, zero)
            # A position that counts with a non-finite loss goes to the exact kernel.
            lb = torch.where(torch.isfinite(raw) | ~valid[i:i2].unsqueeze(1), lb, raw)
            if need_grad:
                p.mul_(sb * cb * inv_total)
                p.scatter_(1, yb, -(sb * cb) * t_y * inv_total)
        else:
            pa, a = torch.max(p, 1, keepdim=True)
            p.scatter_(1, a, 0.0)
            t_a = p.sum(1, keepdim=True)
            l1p = torch.log1p(t_a / pa)
            # The rows of torch.softmax sum to 1 only within ~1e3 ulp at C = 256k (see
            # hard_forward): log p_j and p_j below are corrected by the accurately summed
            # total pa + t_a (ltot = log(total), about that relative error in size).
            total = pa + t_a
            inv_total = torch.reciprocal(total)
            ltot = torch.log1p(total - 1.0)
            if soft:
                cw = target[i:i2]
                if eps:
                    cw = cw * (1.0 - eps) + eps / c
                cw = cw * w3 if w3 is not None else cw.clone()
                ca = cw.gather(1, a)
                cw.scatter_(1, a, 0.0)
                u = cw.sum(1, keepdim=True)
                # xlogy: a class of mass 0 adds 0, even where its probability is 0.
                lb = ca * l1p - torch.xlogy(cw, p).sum(1, keepdim=True) + u * ltot
                logp = torch.log(p).sub_(ltot) if need_target_grad else None
            else:
                yb = target[i:i2].unsqueeze(1)
                cb = coef[i:i2].unsqueeze(1)
                vb = valid[i:i2].unsqueeze(1).to(f)
                # -inf at the argmax (zeroed), and where p underflowed
                logp = torch.log(p).sub_(ltot)
                logp.scatter_(1, a, 0.0)
                wa = torch.ones_like(pa) if w3 is None else weight.gather(0, a.view(-1)).view_as(a)
                at_a = (yb == a).to(f)
                smooth = logp.sum(1, keepdim=True) if w3 is None else (logp * w3).sum(1, True)
                nll = torch.where(yb == a, l1p, -logp.gather(1, yb))
                ca = (eps / c) * wa * vb + (1.0 - eps) * cb * at_a
                u = (eps / c) * (w_total - wa) * vb + (1.0 - eps) * cb * (1.0 - at_a)
                lb = (1.0 - eps) * cb * nll + (eps / c) * vb * (wa * l1p - smooth)
                lb = torch.where(vb != 0, lb, zero)
            if need_grad:
                p.mul_((u + ca) * sb * inv_total)  # p_a is 0 here
                if soft:
                    p.addcmul_(cw, sb, value=-1.0)
                else:
                    if w3 is None:
                        p.sub_((eps / c) * sb * vb)
                    else:
                        p.addcmul_(sb * vb, w3, value=-eps / c)
                    p.scatter_add_(1, yb, -(1.0 - eps) * cb * sb)
                p.scatter_(1, a, sb * (u * pa - ca * t_a) * inv_total)
            if need_target_grad:
                logp.neg_()
                logp.scatter_(1, a, l1p)  # -log p_j, with -log p_a = log1p(R)
                coeft = (1.0 - eps) * (w3 if w3 is not None else 1.0)
                grad_t[i:i2] = logp.mul_(coeft).mul_(scale[i:i2].unsqueeze(1))
        loss[i:i2] = lb.squeeze(1)
        if need_grad:
            # Positions that do not count get an exact 0, even where logits are not finite.
            grad[i:i2] = p if soft else torch.where(sb == 0, zero, p)
    bad = torch.zeros((), dtype=torch.bool, device=dev)
    counts = ~torch.isfinite(loss)
    if valid is not None:
        counts &= valid
    redo = counts.any(1).nonzero().view(-1)
    if redo.numel():
        # Underflowed softmax entries, infinite or NaN logits: the exact kernel decides.
        sub = exact_forward(
            x3.index_select(0, redo),
            target.index_select(0, redo),
            soft,
            weight,
            eps,
            None if coef is None else coef.index_select(0, redo),
            None if valid is None else valid.index_select(0, redo),
            None if scale is None else scale.index_select(0, redo),
            need_target_grad,
        )
        loss.index_copy_(0, redo, sub[0])
        bad = sub[1]
        if need_grad:
            grad.index_copy_(0, redo, sub[2])
        if need_target_grad:
            grad_t.index_copy_(0, redo, sub[3])
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
    path: str = "auto",
    block_elems: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, object]:
    """Loss (reduced, in compute dtype) and its gradients for a unit upstream gradient.

    Arguments are already validated. Returns ``(out, grad_input, grad_target, scale)``
    with the gradients shaped like ``input`` and ``target`` (or None). ``scale`` is None
    when ``grad_input`` is final; otherwise (fast kernel) ``grad_input`` still has to be
    multiplied by ``scale``, a float or a tensor of shape () or (N, 1), row by row.
    ``path`` is ``'auto'``, or ``'general'`` / ``'exact'`` to force a kernel (tests).
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

    gx_scale = None
    if not soft and eps == 0.0 and d == 1 and path == "auto":
        x2 = input.reshape(n, c)
        y, valid, coef = _prepare_hard(target, (n, 1), c, w, ignore_index, f)
        divisor = coef.sum() if reduction == "mean" else None
        row_factor = None
        if need_x_grad:
            row_factor = _row_scale(reduction, divisor, coef, weight is None and bool(valid.all()))
        half = x2.dtype != f
        raw, bad, gx, total = hard_forward(
            x2, y, valid, need_x_grad, block_elems, row_factor if half else None
        )
        loss = torch.where(coef != 0, coef * raw, zero).view(n)
        gt = None
        if need_x_grad and not half:
            # The gradient is the softmax buffer, softmax - onehot: its rows are scaled in
            # backward, together with the upstream gradient (one pass over it), and
            # divided by the softmax's accurately summed row (0 where ignored). Half
            # precision gradients were finished in float32 by the kernel.
            inv_total = torch.where(valid, torch.reciprocal(total), zero)
            gx_scale = inv_total * row_factor
    else:
        x3 = input.reshape(n, c, d)
        general_forward_ = exact_forward if path == "exact" else general_forward
        if soft:
            t3 = target.to(dtype=f).reshape(n, c, d)
            ones = torch.ones((n, d), dtype=f, device=dev)
            divisor, scale = _scales(reduction, ones, ones, need_x_grad or need_t_grad, zero)
            loss, bad, gx, gt = general_forward_(
                x3, t3, True, w, eps, None, None, scale, need_t_grad, block_elems
            )
        else:
            y, valid, coef = _prepare_hard(target, (n, d), c, w, ignore_index, f)
            divisor, scale = _scales(reduction, coef, valid.to(f), need_x_grad, zero)
            loss, bad, gx, gt = general_forward_(
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
    if gx is not None:
        gx = gx.view(input.shape)
    if gt is not None:
        gt = gt.view(target.shape).to(target.dtype)
    return out, gx, gt, gx_scale


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
    With ``retain_graph=True`` a second backward recomputes it from the saved input."""

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, label_smoothing, path):
        need_x = ctx.needs_input_grad[0]
        need_t = ctx.needs_input_grad[1]
        with no_autocast(input.device.type):
            out, gx, gt, scale = forward(
                input,
                target,
                weight,
                ignore_index,
                reduction,
                label_smoothing,
                need_x,
                need_t,
                path,
            )
        ctx.save_for_backward(input, target, weight)
        ctx.args = (ignore_index, reduction, label_smoothing, path)
        ctx.grads = (gx, gt, scale)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        gx, gt, scale = ctx.grads
        ctx.grads = (None, None, None)  # hand the buffers over: autograd may keep them
        need_x, need_t = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        ignore_index, reduction, label_smoothing, path = ctx.args
        if (need_x and gx is None) or (need_t and gt is None):
            input, target, weight = ctx.saved_tensors
            _, gx, gt, scale = forward(
                input, target, weight, ignore_index, reduction, label_smoothing,
                need_x, need_t, path,
            )  # fmt: skip
        if need_x:
            if scale is None:
                gx = _times_upstream(gx, grad_out, reduction, 1)
            else:
                gx = _scale_rows(gx, scale, grad_out, reduction)
        else:
            gx = None
        gt = _times_upstream(gt, grad_out, reduction, 1) if need_t else None
        return gx, gt, None, None, None, None, None


def _scale_rows(gx, scale, grad_out, reduction):
    """The fast kernel's gradient times its row factors and the upstream gradient."""
    shape = gx.shape
    g = gx.view(-1, shape[-1])  # (N, C); (1, C) for unbatched logits
    if reduction == "none":
        factor = scale * grad_out.reshape(-1, 1)
    else:
        factor = scale * grad_out
    if isinstance(scale, float) and scale == 1.0:
        # 'sum' or 'none' without weights or ignored rows: only the upstream gradient.
        if not (reduction != "none" and grad_out.device.type == "cpu" and float(grad_out) == 1):
            _mul_rows_(g, factor)
    else:
        _mul_rows_(g, factor)
    if not isinstance(scale, float) and scale.dim():
        # Rows that do not count get an exact 0, even where their logits are not finite.
        zero_rows = (scale == 0).view(-1).nonzero().view(-1)
        if zero_rows.numel():
            g.index_fill_(0, zero_rows, 0.0)
    return gx


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


def _times_upstream(g, grad_out, reduction, class_dim):
    """``g * grad_out`` in place, broadcasting a per-position ``grad_out`` over classes."""
    if reduction == "none":
        if g.dim() == 1:  # unbatched (C,)
            return g.mul_(grad_out)
        return _mul_rows_(g, grad_out.unsqueeze(class_dim))
    # Skip the pass over g for the usual loss.backward(); on an accelerator, reading
    # the value would synchronise, so multiply.
    if grad_out.device.type == "cpu" and float(grad_out) == 1.0:
        return g
    return g.mul_(grad_out)
