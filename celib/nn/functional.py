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
with the loss, block by block while the block is in cache (softmax, minus the one-hot,
scaled by the row's factor in the reduction), written once and handed to autograd;
PyTorch keeps a log-softmax and allocates two more arrays of the logits' size in
backward. Its extra memory is the gradient alone, or nothing with
``inplace_backward=True``, which writes the gradient into the logits' own storage
(``benchmarks/bench_cross_entropy.py`` measures both). On Linux, a CPU gradient of 64 MiB
or more is allocated in memory advised to use transparent huge pages: faulting in a
fresh 512 MiB gradient 4 KiB at a time takes longer than computing it (the first such
allocation in a process may wait while Linux assembles the huge pages).

:func:`linear_cross_entropy` is the loss of a linear layer's logits,
``cross_entropy(F.linear(input, linear_weight, linear_bias), target)``, computed in
chunks of tokens, so that the :math:`N \times V` logits of a large vocabulary are
never stored: its extra memory is little more than the gradients of the input and
the weight themselves.

Every function takes PyTorch's arguments and computes what PyTorch computes wherever
PyTorch defines a value (negative class weights and ``pos_weight``, class
probabilities that do not sum to 1, binary targets outside [0, 1] included). The
differences, all on inputs where PyTorch returns a NaN or a loss that means nothing:
bad input raises :class:`ValueError` or :class:`TypeError` naming the argument (class
indices out of range, class probabilities or weights that are NaN or infinite, NaN or
``+inf`` logits in a row that counts, ...); a class with weight or probability 0 adds
exactly 0 to the loss even where its logit is ``-inf`` (:math:`0 \log 0 = 0`). The
class weights and ``pos_weight`` get no gradient (PyTorch gives none either for class
indices), and the gradient itself cannot be differentiated again: a double backward or a
Hessian (``create_graph=True``) raises :class:`RuntimeError`, never a silent zero.
"""

from __future__ import annotations

import math

import torch

from celib.nn import _args, _bce, _ce, _linear
from celib.nn._focal import focal_loss

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "focal_loss",
    "linear_cross_entropy",
]


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
    *,
    inplace_backward: bool = False,
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

    It is computed without cancellation (``celib.nn._kernel``). Class indices without
    smoothing: :math:`-\log p_y = \operatorname{log1p}(T / p_y)` from the softmax
    :math:`p`, :math:`T = \sum_{j \ne y} p_j`, and the gradient's target entry
    :math:`p_y - 1 = -T`. Otherwise, with :math:`a = \arg\max_j x_j`, :math:`m = x_a`
    and :math:`R = \sum_{j \ne a} e^{x_j - m}`,
    :math:`\ell = \sum_j c_j (m - x_j) + (\sum_j c_j) \operatorname{log1p}(R)` (for
    non-negative :math:`c`, a sum of non-negative terms), and the gradient
    :math:`(\sum_j c_j) p - c` takes, at the argmax, the form
    :math:`(u - c_a R) / (1 + R)` with :math:`u = \sum_{j \ne a} c_j`. Rows whose
    target probability underflows (losses beyond about 87 nats in float32) take the
    second form too.

    Parameters
    ----------
    input : torch.Tensor
        Logits (unnormalised scores) of shape ``(C,)``, ``(N, C)`` or
        ``(N, C, d1, ..., dK)``; any floating dtype (float16 and bfloat16 are
        accumulated in float32).
    target : torch.Tensor
        Class indices of shape ``()``, ``(N,)`` or ``(N, d1, ..., dK)`` (integer dtype,
        values in ``[0, C)`` or ``ignore_index``), or class probabilities of the input's
        shape (floating dtype, finite; they may carry a gradient).
    weight : torch.Tensor, optional
        Class weights of shape ``(C,)``, finite (negative ones as in PyTorch).
    ignore_index : int, default -100
        Class index whose positions count neither in the loss nor in the ``'mean'``
        divisor (class indices only).
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'none'`` returns the loss at each position, shape ``(N, d1, ..., dK)``.
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1]`, the mass spread uniformly over the classes.
    inplace_backward : bool, default False
        celib's opt-in, not in PyTorch: write the gradient into the logits' own storage
        (as Liger Kernel does), for callers that do not need the logits afterwards. No
        memory besides the loss, and one pass less over memory; ``input`` then holds
        the gradient (for a unit upstream gradient, until backward scales it) and
        ``input.grad`` shares its storage. Used by the fast kernel (class indices, no
        label smoothing, ``(N, C)`` or ``(C,)`` logits that require grad); elsewhere it
        changes nothing. The loss can be backpropagated once only, and autograd
        refuses it if another operation saved the logits for its own backward.

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
        or weights are NaN or infinite, ``ignore_index`` is used with class
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
    _, eps = _args.check_cross_entropy(
        input, target, weight, ignore_index, reduction, label_smoothing
    )
    inplace = _args.check_bool("inplace_backward", inplace_backward)
    out = _ce.CrossEntropyFunction.apply(
        input, target, weight, int(ignore_index), reduction, eps, "auto", inplace
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
        Target probabilities, usually in :math:`[0, 1]` (other finite values give
        PyTorch's value), the input's shape, floating dtype (it may carry a gradient).
    weight : torch.Tensor, optional
        Weights broadcastable to the input's shape, finite.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'mean'`` is the plain mean over all elements (not divided by the weights).
    pos_weight : torch.Tensor, optional
        Weight :math:`p` of the positive term, broadcastable to the input's shape
        (typically one per class, along the last dimension), finite.

    Returns
    -------
    torch.Tensor
        The loss in the input's dtype (the input's shape for ``reduction='none'``).

    Raises
    ------
    TypeError
        If ``input`` or ``target`` is not a floating tensor.
    ValueError
        If the shapes do not fit, the target is NaN or infinite, a weight is NaN or
        infinite or requires grad, the logits hold NaN, or
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
    _args.check_bce(input, target, weight, reduction, pos_weight)
    out = _bce.BCEWithLogitsFunction.apply(input, target, weight, pos_weight, reduction)
    return _output_dtype(out, input)


def linear_cross_entropy(
    input: torch.Tensor,
    linear_weight: torch.Tensor,
    target: torch.Tensor,
    *,
    linear_bias: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: torch.nn.LinearCrossEntropyOptions | None = None,
) -> torch.Tensor:
    r"""Cross-entropy of a linear layer's logits, without materialising the logits.

    Drop-in for ``torch.nn.functional.linear_cross_entropy``: the same values and
    gradients (with respect to ``input``, ``linear_weight``, ``linear_bias`` and class
    probabilities) as ``cross_entropy(F.linear(input, linear_weight, linear_bias),
    target, ...)``. For a token :math:`h \in \mathbb{R}^D` (a row of ``input``), the
    weight :math:`W \in \mathbb{R}^{V \times D}` and the bias :math:`b`, the logits are
    :math:`z = W h + b` and the loss is

    .. math::

       \ell(h, y) = \sum_{j=1}^V c_j \bigl(\operatorname{lse}(z) - z_j\bigr), \qquad
       \frac{\partial \ell}{\partial z} = \Bigl(\sum_j c_j\Bigr) \operatorname{softmax}(z) - c,

    with :math:`c = w_y e_y` (class weights :math:`w`, all 1 by default), with label
    smoothing :math:`\varepsilon`, :math:`c_j = (1 - \varepsilon) w_y [j = y] +
    (\varepsilon / V) w_j`, or class probabilities; reductions as in
    :func:`cross_entropy`. By the chain rule :math:`\partial L / \partial h = G W`,
    :math:`\partial L / \partial W = G^\top H` and :math:`\partial L / \partial b =
    \sum_n G_n` for the :math:`N \times V` matrix :math:`G` of the gradients of the
    logits.

    Neither the :math:`N \times V` logits nor :math:`G` is ever stored, whatever
    ``options`` says: the tokens are taken a chunk of rows at a time; for each chunk the
    logits, its losses and its rows of :math:`G` are computed (with the formulas of
    :func:`cross_entropy`: :math:`-\log p_y = \operatorname{log1p}(T / p_y)` and
    :math:`p_y - 1 = -T`, :math:`T = \sum_{j \ne y} p_j`, so tiny losses and their
    gradients keep their digits), and the chunk's share of the gradients is
    accumulated at once. The extra memory is the gradients themselves and a few
    chunk-sized blocks. In float16 and bfloat16, with class indices and no label
    smoothing, the weight is walked in blocks of classes in two passes (the losses in
    forward, the gradients in backward), so that neither the weight nor its gradient
    is ever copied to float32 whole.

    Parameters
    ----------
    input : torch.Tensor
        Features of shape ``(D,)`` or ``(N, D)``; any floating dtype (float16 and
        bfloat16 are computed, and their gradients accumulated, in float32).
    linear_weight : torch.Tensor
        Weight of shape ``(V, D)``, or ``(V, d1, ..., dK, D)`` for a K-dimensional loss
        (logits of shape ``(N, V, d1, ..., dK)``, batched input only); the input's dtype
        and device.
    target : torch.Tensor
        Class indices of shape ``()``, ``(N,)`` or ``(N, d1, ..., dK)`` (integer dtype,
        values in ``[0, V)`` or ``ignore_index``), or class probabilities of the
        logits' shape ``(V,)``, ``(N, V)`` or ``(N, V, d1, ..., dK)`` (floating; they may
        carry a gradient).
    linear_bias : torch.Tensor, optional
        Bias of shape ``(V,)`` (``(V, d1, ..., dK)``), the input's dtype and device.
    weight : torch.Tensor, optional
        Class weights of shape ``(V,)``, finite (no gradient).
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        ``'none'`` returns one loss per position, the shape of the class indices.
    ignore_index : int, optional
        Class index whose positions count neither in the loss nor in the ``'mean'``
        divisor; None means -100 for class indices, and must be None for class
        probabilities (as in PyTorch).
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1]`, the mass spread uniformly over the classes.
    options : torch.nn.LinearCrossEntropyOptions, optional
        Only its ``batch_chunk_size`` (tokens per chunk) is used. By default a chunk of
        logits holds at most :math:`2^{23}` values on CPU (32 MiB in float32),
        :math:`2^{26}` on a GPU, and at most a twelfth of the gradients' size
        :math:`(N + V) D`. celib always chunks (``options=None`` included).

    Returns
    -------
    torch.Tensor
        The loss in the input's dtype (float32 under autocast): a scalar, or one value
        per position for ``reduction='none'``.

    Raises
    ------
    TypeError
        If a tensor argument is not a tensor, ``input``, ``linear_weight`` or
        ``linear_bias`` is not floating or their dtypes differ, class indices are not
        integers, ``ignore_index`` is not an int or ``options`` not
        ``LinearCrossEntropyOptions``.
    ValueError
        If the shapes do not fit (``input`` not 1-D or 2-D, ``D``, ``target``,
        ``linear_bias``, ``weight``), a class index is out of range, ``ignore_index`` is
        given with class probabilities, the tensors are on different devices,
        ``reduction`` or ``label_smoothing`` is invalid, class weights or class
        probabilities are NaN or infinite, class weights require grad, or a row of
        logits that counts holds NaN or ``+inf``.

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
    >>> h = torch.randn(20, 8, dtype=torch.float64, generator=g)
    >>> W = torch.randn(11, 8, dtype=torch.float64, generator=g)
    >>> b = torch.randn(11, dtype=torch.float64, generator=g)
    >>> y = torch.randint(0, 11, (20,), generator=g)
    >>> opts = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=3)
    >>> ours = linear_cross_entropy(h, W, y, linear_bias=b, label_smoothing=0.1, options=opts)
    >>> theirs = F.cross_entropy(F.linear(h, W, b), y, label_smoothing=0.1)
    >>> print(torch.allclose(ours, theirs, rtol=1e-13))
    True
    """
    _args.check_reduction(reduction)
    eps = _args.check_label_smoothing(label_smoothing)
    rows = _args.check_options(options)
    d, v, out_features, soft, index = _args.check_linear(
        input, linear_weight, target, linear_bias, weight, ignore_index
    )
    p = math.prod(out_features)
    n = 1 if input.dim() == 1 else input.shape[0]
    bias = None if linear_bias is None else linear_bias.reshape(v * p)
    out = _linear.LinearCrossEntropyFunction.apply(
        input.reshape(n, d), linear_weight.reshape(v * p, d), bias,
        target, weight, index, reduction, eps, rows, (v, p),
    )  # fmt: skip
    if reduction == "none":
        positions = input.shape[:-1] + tuple(out_features)
        out = out.view(positions)
    return _output_dtype(out, input)
