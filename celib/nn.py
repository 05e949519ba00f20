r"""Training losses for PyTorch: accurate, memory-lean drop-ins for ``torch.nn.functional``.

:func:`cross_entropy` and :func:`binary_cross_entropy_with_logits` take the same
arguments, shapes, reductions and targets as their namesakes in
``torch.nn.functional``, and return the same values and gradients, except that
they keep the digits PyTorch loses:

* a tiny loss is not rounded to zero. With :math:`p = \operatorname{softmax}(x)` and
  :math:`T = \sum_{j \ne y} p_j` (a sum of positive terms),

  .. math::

     -\log p_y = \operatorname{log1p}(T / p_y), \qquad
     \frac{T}{p_y} = \sum_{j \ne y} e^{x_j - x_y},

  so ``cross_entropy([[20., 0., 0.]], [0])`` is :math:`\log(1 + 2e^{-20}) \approx
  4.1223 \times 10^{-9}` in float32, where ``torch.nn.functional.cross_entropy``
  returns ``0.0``;
* the gradient :math:`p - e_y` of the correct logit is computed as :math:`-T`, never as
  :math:`p_y - 1`, so it keeps its relative accuracy too;
* float16 and bfloat16 logits are accumulated in float32 (the result has the input's
  dtype, as in PyTorch, or float32 under autocast, as in PyTorch).

:func:`cross_entropy` is also lean: the gradient with respect to the logits is computed
with the loss, from one softmax that becomes the gradient itself, and handed to
autograd; PyTorch keeps a log-softmax and allocates two more arrays of the logits' size
in backward. On CPU, forward and backward of (4096, 32768) float32 logits take about 0.4
of PyTorch's time and a third of its extra memory, the gradient itself; in bfloat16,
about 0.6 of its time and 0.4 of its memory (``benchmarks/bench_cross_entropy.py``).

:func:`linear_cross_entropy` is the loss of a linear layer's logits,
``cross_entropy(F.linear(input, linear_weight, linear_bias), target)``, computed in
chunks of tokens, so that the :math:`N \times V` logits of a large vocabulary are
never stored: its extra memory is little more than the gradients of the input and
the weight themselves.

Differences from PyTorch, all on inputs where PyTorch returns a NaN or a loss that
means nothing: bad input raises :class:`ValueError` or :class:`TypeError` (class
indices out of range, class probabilities or weights that are NaN or negative, NaN or
``+inf`` logits in a row that counts, ...); a class with weight or probability 0 adds
exactly 0 to the loss even where its logit is ``-inf`` (:math:`0 \log 0 = 0`). The
class weights and ``pos_weight`` get no gradient (PyTorch gives none either for class
indices), and the gradient itself cannot be differentiated again (no double backward).
"""

from __future__ import annotations

import math
import numbers

import torch

from celib import _linear_ce, _nn_bce, _nn_ce

__all__ = [
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "linear_cross_entropy",
]

_REDUCTIONS = ("mean", "sum", "none")


# --------------------------------------------------------------------------- checks


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of 'mean', 'sum', 'none'; got {reduction!r}")


def _check_label_smoothing(label_smoothing: float) -> float:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise TypeError(
            f"label_smoothing must be a real number, got {type(label_smoothing).__name__}"
        )
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:  # also rejects NaN
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0; got {eps}")
    return eps


def _check_tensor(name: str, value: object) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    return value


def _check_floating(name: str, value: torch.Tensor, what: str) -> None:
    if not value.dtype.is_floating_point:
        raise TypeError(f"{name} ({what}) must have a floating dtype, got {value.dtype}")


def _check_same_device(name: str, value: torch.Tensor, input: torch.Tensor) -> None:
    if value.device != input.device:
        raise ValueError(f"{name} is on {value.device} but input is on {input.device}")


def _check_no_grad(name: str, value: torch.Tensor) -> None:
    if value.requires_grad and torch.is_grad_enabled():
        raise ValueError(
            f"{name} must not require grad: celib.nn computes no gradient with respect "
            f"to {name} (detach it)"
        )


def _check_nonneg_finite(name: str, value: torch.Tensor, what: str) -> None:
    if value.numel() == 0:
        return
    lo, hi = torch.aminmax(value.detach())  # one pass; NaN propagates into both
    lo, hi = lo.item(), hi.item()
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError(f"{name} ({what}) holds NaN")
    if math.isinf(hi) or lo == -math.inf:
        raise ValueError(f"{name} ({what}) holds an infinite value")
    if lo < 0:
        raise ValueError(f"{name} ({what}) holds a negative value: {lo}")


def _check_weight(weight: torch.Tensor | None, input: torch.Tensor, c: int) -> None:
    if weight is None:
        return
    _check_tensor("weight", weight)
    _check_floating("weight", weight, "class weights")
    _check_same_device("weight", weight, input)
    if weight.shape != (c,):
        raise ValueError(
            f"weight must have shape (C,) = ({c},), one weight per class; got {tuple(weight.shape)}"
        )
    _check_no_grad("weight", weight)
    _check_nonneg_finite("weight", weight, "class weights")


def _is_soft(input: torch.Tensor, target: torch.Tensor) -> bool:
    """Class probabilities (soft targets) have the input's shape, as in PyTorch."""
    if target.shape == input.shape:
        if not target.dtype.is_floating_point:
            raise TypeError(
                f"target has the input's shape {tuple(input.shape)}, so it is read as "
                f"class probabilities, which need a floating dtype; got {target.dtype} "
                "(class indices have the input's shape without the class dimension)"
            )
        return True
    return False


def _check_cross_entropy_args(input, target, weight, ignore_index, reduction, label_smoothing):
    _check_tensor("input", input)
    _check_tensor("target", target)
    _check_floating("input", input, "logits")
    _check_reduction(reduction)
    eps = _check_label_smoothing(label_smoothing)
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"ignore_index must be an int, got {type(ignore_index).__name__}")
    if input.dim() == 0:
        raise ValueError("input must have shape (C,), (N, C) or (N, C, d1, ...); got a scalar")
    c = input.shape[0] if input.dim() == 1 else input.shape[1]
    if c == 0:
        raise ValueError("input must have at least one class (its class dimension has size 0)")
    _check_same_device("target", target, input)
    _check_weight(weight, input, c)
    if _is_soft(input, target):
        if ignore_index >= 0:
            raise ValueError(
                f"ignore_index={ignore_index} cannot be used with class probabilities "
                "(a floating target of the input's shape); PyTorch refuses it too"
            )
        _check_nonneg_finite("target", target, "class probabilities")
        return eps
    # Class indices.
    expected = input.shape[:1] + input.shape[2:] if input.dim() > 1 else torch.Size([])
    if target.dtype.is_floating_point or target.dtype.is_complex or target.dtype == torch.bool:
        raise TypeError(
            f"target of class indices must have an integer dtype, got {target.dtype}; "
            f"class probabilities must have the input's shape {tuple(input.shape)}, "
            f"got {tuple(target.shape)}"
        )
    if target.shape != expected:
        raise ValueError(
            f"target of class indices must have shape {tuple(expected)} (the input's shape "
            f"{tuple(input.shape)} without the class dimension); got {tuple(target.shape)}"
        )
    if target.numel():
        ignored = target == ignore_index
        out_of_range = ~ignored & ((target < 0) | (target >= c))
        if bool(out_of_range.any()):
            first = target[out_of_range].reshape(-1)[0].item()
            raise ValueError(
                f"target holds the class index {first}, outside [0, {c}) "
                f"(C = {c} classes) and not ignore_index ({ignore_index})"
            )
    return eps


def _output_dtype(out: torch.Tensor, input: torch.Tensor) -> torch.Tensor:
    """The kernels return float32 for half-precision logits: round once, to the input's
    dtype, except under autocast, where PyTorch's losses return float32."""
    if out.dtype == input.dtype or torch.is_autocast_enabled(input.device.type):
        return out
    return out.to(input.dtype)


# ------------------------------------------------------------------------ functions


def cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    r"""Cross-entropy between softmax(logits) and targets; drop-in for ``F.cross_entropy``.

    For one position with logits :math:`x \in \mathbb{R}^C` and a target distribution
    :math:`q`, the loss is the cross-entropy of the model's softmax from :math:`q`,

    .. math::

       \ell(x, q) = \sum_{j=1}^C c_j \bigl(\operatorname{lse}(x) - x_j\bigr),
       \qquad \operatorname{lse}(x) = \log \sum_{k=1}^C e^{x_k},

    with :math:`c_j = w_j q_j` for class weights :math:`w` (all 1 by default). A class
    index :math:`y` is the one-hot :math:`q = e_y`; label smoothing :math:`\varepsilon`
    replaces :math:`q` by :math:`(1 - \varepsilon) q + \varepsilon / C`, and for class
    indices PyTorch's weighting is kept: :math:`c_j = (1 - \varepsilon) w_y [j = y] +
    (\varepsilon / C) w_j`. ``'mean'`` divides the sum over positions by the summed
    weight :math:`\sum_i w_{y_i}` of the positions that are not ``ignore_index`` (both
    parts of a smoothed loss), or by the number of positions for class probabilities.

    It is computed without cancellation: with :math:`p = \operatorname{softmax}(x)`,
    :math:`a = \arg\max_j x_j`, :math:`T = \sum_{j \ne a} p_j` and
    :math:`R = T / p_a = \sum_{j \ne a} e^{x_j - x_a}`,
    :math:`\ell = \sum_{j \ne a} c_j (-\log p_j) + c_a \operatorname{log1p}(R)`, a sum of
    non-negative terms in which every :math:`-\log p_j` with :math:`j \ne a` is at least
    :math:`\log 2`. The gradient :math:`(\sum_j c_j) p - c` takes, at the argmax,
    the form :math:`u\, p_a - c_a T` with :math:`u = \sum_{j \ne a} c_j`: for a correct
    and confident prediction, :math:`-T = -R / (1 + R)`. Rows whose softmax underflows
    (losses beyond about 87 nats in float32) are computed from :math:`x_a - x_j` and
    :math:`\operatorname{log1p}(R)` directly.

    Parameters
    ----------
    input : torch.Tensor
        Logits (unnormalised scores) of shape ``(C,)``, ``(N, C)`` or
        ``(N, C, d1, ..., dK)``; any floating dtype (float16 and bfloat16 are
        accumulated in float32).
    target : torch.Tensor
        Class indices of shape ``()``, ``(N,)`` or ``(N, d1, ..., dK)`` (integer dtype,
        values in ``[0, C)`` or ``ignore_index``), or class probabilities of the input's
        shape (floating dtype, non-negative; they may carry a gradient).
    weight : torch.Tensor, optional
        Class weights of shape ``(C,)``, finite and non-negative.
    ignore_index : int, default -100
        Class index whose positions count neither in the loss nor in the ``'mean'``
        divisor (class indices only).
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'none'`` returns the loss at each position, shape ``(N, d1, ..., dK)``.
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1]`, the mass spread uniformly over the classes.

    Returns
    -------
    torch.Tensor
        The loss in the input's dtype: a scalar, or one value per position for
        ``reduction='none'``. A ``'mean'`` over zero total weight (every target is
        ``ignore_index``, or all their weights are 0) is NaN with a zero gradient,
        as in PyTorch.

    Raises
    ------
    TypeError
        If ``input`` is not a floating tensor, class indices are not integers, class
        probabilities are not floating, ``ignore_index`` is not an int.
    ValueError
        If the shapes do not fit, a class index is out of range, class probabilities
        or weights are NaN, infinite or negative, ``ignore_index`` is used with class
        probabilities, ``reduction`` or ``label_smoothing`` is invalid, ``weight``
        requires grad, or a row of logits that counts holds NaN or ``+inf`` (or only
        ``-inf``).

    Examples
    --------
    A confident, correct prediction: PyTorch rounds the loss and its gradient to 0.

    >>> import torch
    >>> import torch.nn.functional as F
    >>> from celib.nn import cross_entropy
    >>> x = torch.tensor([[20.0, 0.0, 0.0]], requires_grad=True)
    >>> y = torch.tensor([0])
    >>> loss = cross_entropy(x, y)
    >>> loss.backward()
    >>> print(f"{loss.item():.6e} {x.grad[0, 0].item():.6e}")
    4.122307e-09 -4.122307e-09
    >>> print(f"{F.cross_entropy(x, y).item():.6e}")
    0.000000e+00

    Everything else as in PyTorch: weights, label smoothing, ``(N, C, d1)`` logits,
    class probabilities.

    >>> x = torch.tensor([[[2.0, 0.5], [0.0, 1.0], [-1.0, 0.0]]], dtype=torch.float64)
    >>> y = torch.tensor([[0, 2]])
    >>> w = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    >>> ours = cross_entropy(x, y, weight=w, label_smoothing=0.1)
    >>> theirs = F.cross_entropy(x, y, weight=w, label_smoothing=0.1)
    >>> print(f"{ours.item():.6f} {torch.allclose(ours, theirs, rtol=1e-14)}")
    0.816553 True
    """
    eps = _check_cross_entropy_args(input, target, weight, ignore_index, reduction, label_smoothing)
    out = _nn_ce.CrossEntropyFunction.apply(
        input, target, weight, int(ignore_index), reduction, eps, "auto"
    )
    return _output_dtype(out, input)


def binary_cross_entropy_with_logits(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
    pos_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Binary cross-entropy of sigmoid(logits); drop-in for the ``torch.nn.functional`` one.

    For a logit :math:`x`, a target probability :math:`t \in [0, 1]`, a weight
    :math:`w` and a positive-class weight :math:`p`, the loss is

    .. math::

       \ell &= -w \bigl[p\, t \log \sigma(x) + (1 - t) \log(1 - \sigma(x))\bigr] \\
            &= w \bigl[p\, t \operatorname{sp}(-x) + (1 - t) \operatorname{sp}(x)\bigr],

    with :math:`\sigma(x) = 1 / (1 + e^{-x})` and the softplus
    :math:`\operatorname{sp}(z) = \log(1 + e^z) = \max(z, 0) + \operatorname{log1p}
    (e^{-|z|})`, computed in this form: non-negative terms, no cancellation. The
    gradient :math:`w[(1 - t)\sigma(x) - p\, t\, \sigma(-x)]` is
    :math:`\sigma(x) - t` for :math:`p = 1`, and for :math:`t \in \{0, 1\}` it is
    :math:`\sigma(x)` or :math:`-\sigma(-x)`, never :math:`\sigma(x) - 1`. So
    ``binary_cross_entropy_with_logits([-17.], [0.])`` is
    :math:`\log(1 + e^{-17}) \approx 4.1399 \times 10^{-8}` in float32 (PyTorch: 0).

    Parameters
    ----------
    input : torch.Tensor
        Logits, any shape and floating dtype (float16 and bfloat16 are computed in
        float32).
    target : torch.Tensor
        Target probabilities in :math:`[0, 1]`, the input's shape, floating dtype (it
        may carry a gradient).
    weight : torch.Tensor, optional
        Weights broadcastable to the input's shape, finite and non-negative.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'mean'`` is the plain mean over all elements (not divided by the weights).
    pos_weight : torch.Tensor, optional
        Weight :math:`p` of the positive term, broadcastable to the input's shape
        (typically one per class, along the last dimension), finite and non-negative.

    Returns
    -------
    torch.Tensor
        The loss in the input's dtype (the input's shape for ``reduction='none'``).

    Raises
    ------
    TypeError
        If ``input`` or ``target`` is not a floating tensor.
    ValueError
        If the shapes do not fit, the target is outside :math:`[0, 1]` or NaN, a weight
        is NaN, infinite or negative or requires grad, the logits hold NaN, or
        ``reduction`` is invalid.

    Examples
    --------
    >>> import torch
    >>> import torch.nn.functional as F
    >>> from celib.nn import binary_cross_entropy_with_logits as bce
    >>> x = torch.tensor([-17.0], requires_grad=True)
    >>> t = torch.tensor([0.0])
    >>> loss = bce(x, t)
    >>> loss.backward()
    >>> print(f"{loss.item():.6e} {x.grad.item():.6e}")
    4.139938e-08 4.139938e-08
    >>> print(f"{F.binary_cross_entropy_with_logits(x, t).item():.6e}")
    0.000000e+00
    """
    _check_tensor("input", input)
    _check_tensor("target", target)
    _check_floating("input", input, "logits")
    _check_floating("target", target, "probabilities")
    _check_reduction(reduction)
    _check_same_device("target", target, input)
    if target.shape != input.shape:
        raise ValueError(
            f"target must have the input's shape {tuple(input.shape)}; got {tuple(target.shape)}"
        )
    if target.numel():
        lo, hi = (v.item() for v in torch.aminmax(target.detach()))
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError("target (probabilities) holds NaN")
        if lo < 0 or hi > 1:
            raise ValueError(f"target (probabilities) must lie in [0, 1]; found min {lo}, max {hi}")
    for name, value in (("weight", weight), ("pos_weight", pos_weight)):
        if value is None:
            continue
        _check_tensor(name, value)
        _check_floating(name, value, "weights")
        _check_same_device(name, value, input)
        try:
            shape = torch.broadcast_shapes(value.shape, input.shape)
        except RuntimeError:
            shape = None
        if shape != input.shape:
            raise ValueError(
                f"{name} of shape {tuple(value.shape)} does not broadcast to the input's "
                f"shape {tuple(input.shape)}"
            )
        _check_no_grad(name, value)
        _check_nonneg_finite(name, value, "weights")
    out = _nn_bce.BCEWithLogitsFunction.apply(input, target, weight, pos_weight, reduction)
    return _output_dtype(out, input)


def linear_cross_entropy(
    input: torch.Tensor,
    linear_weight: torch.Tensor,
    target: torch.Tensor,
    *,
    linear_bias: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    chunk_size: int | None = None,
) -> torch.Tensor:
    r"""Cross-entropy of a linear layer's logits, without materialising the logits.

    The same values and gradients (with respect to ``input``, ``linear_weight`` and
    ``linear_bias``) as ``cross_entropy(F.linear(input, linear_weight, linear_bias),
    target, ...)``, for class-index targets. For a token :math:`h \in \mathbb{R}^D`
    (a row of ``input``), the weight :math:`W \in \mathbb{R}^{V \times D}` and the
    bias :math:`b`, the logits are :math:`z = W h + b` and the loss is

    .. math::

       \ell(h, y) = \sum_{j=1}^V c_j \bigl(\operatorname{lse}(z) - z_j\bigr), \qquad
       \frac{\partial \ell}{\partial z} = \Bigl(\sum_j c_j\Bigr) \operatorname{softmax}(z) - c,

    with :math:`c = w_y e_y` (class weights :math:`w`, all 1 by default), or with label
    smoothing :math:`\varepsilon`, :math:`c_j = (1 - \varepsilon) w_y [j = y] +
    (\varepsilon / V) w_j`; reductions as in :func:`cross_entropy`. By the chain rule
    :math:`\partial L / \partial h = G W`, :math:`\partial L / \partial W = G^\top H`
    and :math:`\partial L / \partial b = \sum_n G_n` for the :math:`N \times V` matrix
    :math:`G` of the gradients of the logits.

    Neither the :math:`N \times V` logits nor :math:`G` is ever stored: the tokens
    are taken ``chunk_size`` rows at a time; for each chunk the logits, its losses and
    its rows of :math:`G` are computed (with the formulas of :func:`cross_entropy`:
    :math:`-\log p_y = \operatorname{log1p}(T / p_y)` and :math:`p_y - 1 = -T`,
    :math:`T = \sum_{j \ne y} p_j`, so tiny losses and their gradients keep their
    digits), and the chunk's share of the three gradients is accumulated at once. The
    extra memory is the gradients themselves and a few chunk-sized blocks. The
    gradients are computed during the forward pass and scaled by the upstream gradient
    in backward (``reduction='none'`` recomputes them in backward instead).

    Parameters
    ----------
    input : torch.Tensor
        Hidden states of shape ``(D,)``, ``(N, D)`` or ``(..., D)``; any floating dtype
        (float16 and bfloat16 are computed, and their gradients accumulated, in
        float32).
    linear_weight : torch.Tensor
        Weight of shape ``(V, D)``, the input's dtype and device.
    target : torch.Tensor
        Class indices of shape ``input.shape[:-1]``, integer dtype, values in
        ``[0, V)`` or ``ignore_index``.
    linear_bias : torch.Tensor, optional
        Bias of shape ``(V,)``, the input's dtype and device.
    weight : torch.Tensor, optional
        Class weights of shape ``(V,)``, finite and non-negative (no gradient).
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'none'`` returns one loss per token, shape ``input.shape[:-1]``.
    ignore_index : int, default -100
        Class index whose tokens count neither in the loss nor in the ``'mean'``
        divisor.
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1]`, the mass spread uniformly over the classes.
    chunk_size : int, optional
        Tokens per chunk (a positive int). By default the chunk of logits holds at most
        :math:`2^{23}` values on CPU (32 MiB in float32), :math:`2^{26}` on a GPU, and
        at most an eighth of the gradients' size :math:`(N + V) D`.

    Returns
    -------
    torch.Tensor
        The loss in the input's dtype (float32 under autocast): a scalar, or one value
        per token for ``reduction='none'``.

    Raises
    ------
    TypeError
        If a tensor argument is not a tensor, ``input``, ``linear_weight`` or
        ``linear_bias`` is not floating or their dtypes differ, ``target`` is not of an
        integer dtype, ``ignore_index`` or ``chunk_size`` is not an int.
    ValueError
        If the shapes do not fit (``D`` of ``input`` and ``linear_weight``, ``target``,
        ``linear_bias``, ``weight``), a class index is out of range, the tensors are on
        different devices, ``reduction``, ``label_smoothing`` or ``chunk_size`` is
        invalid, class weights are NaN, negative or require grad, or a row of logits
        that counts holds NaN or ``+inf``.

    Examples
    --------
    A confident, correct prediction (logits 20, 0, 0): PyTorch rounds the loss to 0.

    >>> import torch
    >>> import torch.nn.functional as F
    >>> from celib.nn import linear_cross_entropy
    >>> h = torch.tensor([[1.0, 0.0]], requires_grad=True)
    >>> W = torch.tensor([[20.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> y = torch.tensor([0])
    >>> loss = linear_cross_entropy(h, W, y)
    >>> print(f"{loss.item():.6e}")
    4.122307e-09
    >>> print(f"{F.cross_entropy(F.linear(h, W), y).item():.6e}")
    0.000000e+00

    Otherwise the same as PyTorch, here in chunks of 3 tokens:

    >>> g = torch.Generator().manual_seed(0)
    >>> h = torch.randn(4, 5, 8, dtype=torch.float64, generator=g)
    >>> W = torch.randn(11, 8, dtype=torch.float64, generator=g)
    >>> b = torch.randn(11, dtype=torch.float64, generator=g)
    >>> y = torch.randint(0, 11, (4, 5), generator=g)
    >>> ours = linear_cross_entropy(h, W, y, linear_bias=b, label_smoothing=0.1, chunk_size=3)
    >>> theirs = F.cross_entropy(F.linear(h, W, b).flatten(0, 1), y.flatten(), label_smoothing=0.1)
    >>> print(torch.allclose(ours, theirs, rtol=1e-13))
    True
    """
    _check_tensor("input", input)
    _check_tensor("linear_weight", linear_weight)
    _check_tensor("target", target)
    _check_floating("input", input, "hidden states")
    _check_floating("linear_weight", linear_weight, "weight of the linear layer")
    _check_reduction(reduction)
    eps = _check_label_smoothing(label_smoothing)
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"ignore_index must be an int, got {type(ignore_index).__name__}")
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
            raise TypeError(f"chunk_size must be an int or None, got {type(chunk_size).__name__}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive number of tokens; got {chunk_size}")
        chunk_size = int(chunk_size)
    if input.dim() == 0:
        raise ValueError("input must have shape (D,), (N, D) or (..., D); got a scalar")
    d = input.shape[-1]
    if linear_weight.dim() != 2 or linear_weight.shape[1] != d:
        raise ValueError(
            f"linear_weight must have shape (V, D) with D = {d}, the input's last dimension; "
            f"got {tuple(linear_weight.shape)}"
        )
    v = linear_weight.shape[0]
    if v == 0:
        raise ValueError("linear_weight must have at least one class (V = 0 rows)")
    if linear_weight.dtype != input.dtype:
        raise TypeError(
            f"linear_weight must have the input's dtype {input.dtype}; got {linear_weight.dtype}"
        )
    _check_same_device("linear_weight", linear_weight, input)
    if linear_bias is not None:
        _check_tensor("linear_bias", linear_bias)
        _check_same_device("linear_bias", linear_bias, input)
        if linear_bias.dtype != input.dtype:
            raise TypeError(
                f"linear_bias must have the input's dtype {input.dtype}; got {linear_bias.dtype}"
            )
        if linear_bias.shape != (v,):
            raise ValueError(
                f"linear_bias must have shape (V,) = ({v},), one value per class; "
                f"got {tuple(linear_bias.shape)}"
            )
    _check_same_device("target", target, input)
    _check_weight(weight, input, v)
    if target.dtype.is_floating_point or target.dtype.is_complex or target.dtype == torch.bool:
        raise TypeError(
            f"target must hold class indices of an integer dtype, got {target.dtype} "
            "(class probabilities are not supported by linear_cross_entropy)"
        )
    if target.shape != input.shape[:-1]:
        raise ValueError(
            f"target must have shape {tuple(input.shape[:-1])} (the input's shape "
            f"{tuple(input.shape)} without its last dimension); got {tuple(target.shape)}"
        )
    if target.numel():
        out_of_range = (target != ignore_index) & ((target < 0) | (target >= v))
        if bool(out_of_range.any()):
            first = target[out_of_range].reshape(-1)[0].item()
            raise ValueError(
                f"target holds the class index {first}, outside [0, {v}) "
                f"(V = {v} classes) and not ignore_index ({ignore_index})"
            )
    out = _linear_ce.LinearCrossEntropyFunction.apply(
        input.reshape(-1, d),
        linear_weight,
        linear_bias,
        target.reshape(-1),
        weight,
        int(ignore_index),
        reduction,
        eps,
        chunk_size,
    )
    if reduction == "none":
        out = out.view(target.shape)
    return _output_dtype(out, input)


# -------------------------------------------------------------------------- modules


class CrossEntropyLoss(torch.nn.Module):
    r"""Module form of :func:`cross_entropy`; drop-in for ``torch.nn.CrossEntropyLoss``.

    Parameters
    ----------
    weight : torch.Tensor, optional
        Class weights of shape ``(C,)``, kept as a buffer (moves with ``.to()``).
    ignore_index : int, default -100
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    label_smoothing : float, default 0.0
        As in :func:`cross_entropy`. PyTorch's deprecated ``size_average`` and
        ``reduce`` arguments are not accepted.

    Examples
    --------
    >>> import torch
    >>> from celib.nn import CrossEntropyLoss
    >>> loss_fn = CrossEntropyLoss(label_smoothing=0.1)
    >>> x = torch.tensor([[2.0, 0.0, -1.0], [0.0, 3.0, 0.0]])
    >>> print(f"{loss_fn(x, torch.tensor([0, 1])).item():.6f}")
    0.315718
    """

    __constants__ = ["ignore_index", "reduction", "label_smoothing"]

    def __init__(
        self,
        weight: torch.Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        _check_reduction(reduction)
        self.label_smoothing = _check_label_smoothing(label_smoothing)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return :func:`cross_entropy` of ``input`` and ``target`` with the settings."""
        return cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class BCEWithLogitsLoss(torch.nn.Module):
    r"""Module form of :func:`binary_cross_entropy_with_logits`.

    Drop-in for ``torch.nn.BCEWithLogitsLoss``.

    Parameters
    ----------
    weight : torch.Tensor, optional
        Weights broadcastable to the input's shape, kept as a buffer.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    pos_weight : torch.Tensor, optional
        Positive-class weights, kept as a buffer. As in
        :func:`binary_cross_entropy_with_logits`; PyTorch's deprecated
        ``size_average`` and ``reduce`` arguments are not accepted.

    Examples
    --------
    >>> import torch
    >>> from celib.nn import BCEWithLogitsLoss
    >>> loss_fn = BCEWithLogitsLoss(pos_weight=torch.tensor([2.0]))
    >>> x = torch.tensor([[1.0], [-2.0]])
    >>> t = torch.tensor([[1.0], [0.0]])
    >>> print(f"{loss_fn(x, t).item():.6f}")
    0.376726
    """

    def __init__(
        self,
        weight: torch.Tensor | None = None,
        reduction: str = "mean",
        pos_weight: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        _check_reduction(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return :func:`binary_cross_entropy_with_logits` with the module's settings."""
        return binary_cross_entropy_with_logits(
            input,
            target,
            weight=self.weight,
            reduction=self.reduction,
            pos_weight=self.pos_weight,
        )
