r"""The formulas of the cross-entropy losses, each written once (private).

Every form of the losses calls these: the discrete functions
(:func:`celib.categorical_cross_entropy`, :func:`celib.binary_cross_entropy`, numpy or
torch through the array API), the torch kernels of :mod:`celib.nn` (blocked, with
their gradients) and the linear kernel. ``xp`` is the array namespace; nothing here
imports torch.

Softmax cross-entropy. For one row of logits :math:`x`, target weights :math:`c_j`
(a one-hot times a class weight, label smoothing, class probabilities), the index
:math:`a` of the largest logit, :math:`m = x_a` and
:math:`R = \sum_{j \ne a} e^{x_j - m}` (the argmax term left out, so a tiny
:math:`R` is not lost against 1),

.. math::

   \ell = \sum_j c_j (m - x_j) + \Bigl(\sum_j c_j\Bigr) \operatorname{log1p}(R),
   \qquad
   -\log p_y = \operatorname{log1p}\bigl(T / p_y\bigr), \quad T = \sum_{j \ne y} p_j,

the second the same identity seen from a softmax already computed
(:func:`neg_log_softmax`): :math:`T / p_y = \sum_{j \ne y} e^{x_j - x_y}` keeps the
digits of a tiny loss that :math:`1 - p_y` would round away. The gradient
:math:`(\sum_j c_j)\, p - c` takes, at the argmax, the form
:math:`(u - c_a R) / (1 + R)`, :math:`u = \sum_{j \ne a} c_j`, never
:math:`p_a - 1` (:func:`softmax_ce_grad`).

Binary cross-entropy with logits. With the softplus
:math:`\operatorname{sp}(z) = \log(1 + e^z) = \max(z, 0) + \operatorname{log1p}(e^{-|z|})`
(two non-negative terms),

.. math::

   \ell = (1 - t)\operatorname{sp}(x) + p\, t \operatorname{sp}(-x), \qquad
   \frac{\partial \ell}{\partial x} = (1 - t)\,\sigma(x) - p\, t\,\sigma(-x),

for a target :math:`t` and a positive-class weight :math:`p` (:func:`bce_with_logits`).

Reductions: :func:`reduce`, ``'none'``, ``'sum'`` or ``'mean'`` (over a divisor: the
number of terms, or the summed class weight).
"""

from __future__ import annotations

import math
from typing import Any


def neg_log_softmax(xp: Any, own: Any, rest: Any) -> Any:
    r""":math:`-\log p_y = \operatorname{log1p}(T / p_y)` from the softmax's own entry
    :math:`p_y` and the rest of its row :math:`T = \sum_{j \ne y} p_j`."""
    return xp.log1p(rest / own)


def _along(xp: Any, n: int, axis: int, ndim: int, device: Any) -> Any:
    """``arange(n)`` shaped to broadcast along ``axis`` of an ``ndim``-array."""
    shape = [1] * ndim
    shape[axis] = n
    return xp.reshape(xp.arange(n, device=device), tuple(shape))


def softmax_split(xp: Any, x: Any, axis: int = -1) -> tuple[Any, Any, Any, Any]:
    """The argmax split of softmax rows: ``(m, top, e, r)``.

    ``m`` the largest logit (kept dims), ``top`` the mask of its (first) index, ``e``
    the terms :math:`e^{x_j - m}` with 0 at the argmax and ``r`` their sum :math:`R`.
    """
    axis = axis % x.ndim
    first = xp.argmax(x, axis=axis, keepdims=True)
    top = _along(xp, x.shape[axis], axis, x.ndim, _device(x)) == first
    zero = xp.zeros_like(x)
    # m through the mask, not max(): autograd then sends m's gradient to the one argmax
    # entry (max() would split it between tied maxima, which the terms do not).
    m = xp.sum(xp.where(top, x, zero), axis=axis, keepdims=True)
    e = xp.where(top, zero, xp.exp(x - m))
    r = xp.sum(e, axis=axis, keepdims=True)
    return m, top, e, r


def softmax_ce(xp: Any, x: Any, c: Any, axis: int = -1) -> tuple[Any, tuple]:
    r"""Per-row :math:`\sum_j c_j(m - x_j) + (\sum_j c_j)\operatorname{log1p}(R)`.

    Returns the loss (the class axis reduced) and the split ``(m, top, e, r)`` for
    :func:`softmax_ce_grad`. A class with :math:`c_j = 0` adds exactly 0, even where
    its logit is :math:`-\infty` (:math:`0 \log 0 = 0`).
    """
    split = softmax_split(xp, x, axis)
    m, _, _, r = split
    zero = xp.zeros_like(x)
    gaps = xp.where(c == 0, zero, c * (m - x))
    s = xp.sum(c, axis=axis, keepdims=True)
    tail = xp.where(s == 0, xp.zeros_like(r), s * xp.log1p(r))
    loss = xp.sum(gaps, axis=axis) + xp.squeeze(tail, axis=axis)
    return loss, split


def softmax_ce_grad(xp: Any, c: Any, split: tuple, axis: int = -1) -> Any:
    r""":math:`\partial \ell / \partial x = (\sum_j c_j)\operatorname{softmax}(x) - c`,
    with the argmax entry :math:`(u - c_a R)/(1 + R)`."""
    _, top, e, r = split
    zero = xp.zeros_like(c)
    c_top = xp.sum(xp.where(top, c, zero), axis=axis, keepdims=True)
    u = xp.sum(xp.where(top, zero, c), axis=axis, keepdims=True)
    inv = 1.0 / (1.0 + r)
    rest = e * ((u + c_top) * inv) - c
    return xp.where(top, (u - c_top * r) * inv, rest)


def softmax_neg_log(xp: Any, x: Any, split: tuple) -> Any:
    r""":math:`-\log \operatorname{softmax}(x)_j = m - x_j + \operatorname{log1p}(R)`: the
    gradient of the loss with respect to class probabilities."""
    m, _, _, r = split
    return (m - x) + xp.log1p(r)


def rest_mass_update(xp: Any, m: Any, a: Any, z: Any, axis: int = -1) -> tuple[Any, Any]:
    r"""Fold one block ``z`` of a row's logits, the target's left out (set to
    :math:`-\infty`), into the running maximum :math:`m` and mass
    :math:`a = \sum_{j \ne y} e^{z_j - m}` of the others (the online log-sum-exp)."""
    m_new = xp.maximum(m, xp.max(z, axis=axis))
    shift = xp.where(m_new == -math.inf, xp.zeros_like(m_new), m_new)  # no finite one yet
    terms = xp.exp(z - xp.expand_dims(shift, axis=axis))
    return m_new, a * xp.exp(m - shift) + xp.sum(terms, axis=axis)


def rest_mass_loss(xp: Any, zy: Any, m: Any, a: Any) -> tuple[Any, Any, Any, Any]:
    r""":math:`-\log p_y` from the target logit :math:`z_y` and the running maximum
    :math:`m` and mass :math:`a` of the other logits (:func:`rest_mass_update`).

    With :math:`d = m - z_y`, :math:`\sum_{j \ne y} e^{z_j - z_y} = a e^d`, so

    .. math::

       -\log p_y = \operatorname{log1p}(a e^{d}) \ (d \le 0), \qquad
       d + \log(a + e^{-d}) \ (d > 0, \ a \ge 1),

    both sums of non-negative terms. Also returns the softmax's shift
    :math:`M = \max(m, z_y)`, its sum :math:`S = e^{z_y - M} + a e^{m - M}` and the
    others' share :math:`T = a e^{m - M} / S = 1 - p_y`: the gradient is
    :math:`e^{z_j - M} / S` off the target and :math:`-T` on it.
    """
    d = m - zy
    low = d <= 0
    zero = xp.zeros_like(d)
    d_low, d_high = xp.where(low, d, zero), xp.where(low, zero, d)
    loss = xp.where(low, xp.log1p(a * xp.exp(d_low)), d_high + xp.log(a + xp.exp(-d_high)))
    big = xp.maximum(m, zy)
    others = a * xp.exp(m - big)
    s = xp.exp(zy - big) + others
    return loss, big, s, others / s


def bce_with_logits(xp: Any, x: Any, t: Any, pos_weight: Any = None) -> tuple[Any, tuple]:
    r"""Per-element :math:`(1 - t)\operatorname{sp}(x) + p\,t\operatorname{sp}(-x)`.

    Returns the loss and ``(coef_pos, coef_neg, sp_neg)`` for :func:`bce_grad` and
    :func:`bce_target_grad`. A term with a zero coefficient adds exactly 0 (a logit of
    :math:`\pm\infty` with the matching label costs nothing).
    """
    zero = xp.zeros_like(x)
    # Each branch is a whole formula, so that autograd through it is right at x = 0 too.
    nonneg = x >= 0
    x_pos = xp.where(nonneg, x, zero)
    x_neg = xp.where(nonneg, zero, x)
    tail_pos, tail_neg = xp.log1p(xp.exp(-x_pos)), xp.log1p(xp.exp(x_neg))
    sp_pos = xp.where(nonneg, x_pos + tail_pos, tail_neg)  # softplus(x)
    sp_neg = xp.where(nonneg, tail_pos, tail_neg - x_neg)  # softplus(-x)
    coef_pos = 1.0 - t
    coef_neg = t if pos_weight is None else t * pos_weight
    loss = xp.where(coef_pos == 0, zero, coef_pos * sp_pos)
    loss = loss + xp.where(coef_neg == 0, zero, coef_neg * sp_neg)
    return loss, (coef_pos, coef_neg, sp_neg)


def bce_grad(xp: Any, x: Any, parts: tuple) -> Any:
    r""":math:`\partial \ell / \partial x = (1 - t)\,\sigma(x) - p\,t\,\sigma(-x)`."""
    coef_pos, coef_neg, _ = parts
    s = 1.0 / (1.0 + xp.exp(-x))
    s_neg = 1.0 / (1.0 + xp.exp(x))
    return coef_pos * s - coef_neg * s_neg


def bce_target_grad(xp: Any, x: Any, parts: tuple, pos_weight: Any = None) -> Any:
    r""":math:`\partial \ell / \partial t = -x + (p - 1)\operatorname{sp}(-x)`."""
    if pos_weight is None:
        return -x
    return (pos_weight - 1.0) * parts[2] - x


def reduce(xp: Any, loss: Any, reduction: str, divisor: Any = None) -> Any:
    """``'none'``: the losses; ``'sum'``: their sum; ``'mean'``: the sum over
    ``divisor`` (the number of losses by default)."""
    if reduction == "none":
        return loss
    total = xp.sum(loss)
    if reduction == "sum":
        return total
    if divisor is None:
        return xp.mean(loss)
    return total / divisor


def _device(x: Any) -> Any:
    import array_api_compat

    return array_api_compat.device(x)
