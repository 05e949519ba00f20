r"""Focal loss as a PyTorch training loss, exported as :func:`celib.nn.focal_loss`.

For logits :math:`x \in \mathbb{R}^C`, a class index :math:`y`, :math:`p = \softmax(x)`
and the focusing parameter :math:`\gamma \ge 0` (Lin et al., 2017),

.. math:: \ell(x, y) = -w_y\, (1 - p_y)^\gamma \log p_y ,

computed from :math:`\log p_y` (``torch.log_softmax``) with
:math:`1 - p_y = -\operatorname{expm1}(\log p_y)`, which keeps its digits where
:math:`p_y \approx 1`. Gradients are torch autograd's. :math:`\gamma = 0` is
``torch.nn.functional.cross_entropy`` (same weighting and ``'mean'``: the sum divided by
:math:`\sum_i w_{y_i}`). The discrete, numpy-or-torch form on probabilities or logits is
:func:`celib.scoring.focal_loss`.
"""

from __future__ import annotations

import torch

from celib import _checks
from celib.nn import _kernel


def focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma: float = 2.0,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Focal loss of logits against class indices, with torch autograd gradients.

    .. math:: \ell_i = -w_{y_i}\, \big(1 - p_{i y_i}\big)^\gamma \log p_{i y_i},
              \qquad p_i = \operatorname{softmax}(x_i) .

    Parameters
    ----------
    input : torch.Tensor
        Logits of shape (N, C) or (N, C, d1, ...), floating.
    target : torch.Tensor
        Class indices (integer dtype) of shape (N,) or (N, d1, ...), in ``[0, C)``.
    gamma : float, default 2.0
        Focusing parameter :math:`\gamma \ge 0`; 0 gives the cross-entropy.
    weight : torch.Tensor, optional
        Class weights of shape (C,), finite and non-negative.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``'mean'`` divides the sum by :math:`\sum_i w_{y_i}` (by N without ``weight``).

    Returns
    -------
    torch.Tensor
        The loss, a scalar or of the target's shape (``'none'``).

    Raises
    ------
    TypeError
        ``input`` or ``target`` not a tensor, ``input`` not floating, ``target`` not
        integer, ``gamma`` not a real number.
    ValueError
        Shapes that do not match, labels out of range, NaN/inf logits, ``gamma`` negative
        or not finite, bad ``weight``, unknown ``reduction``.

    References
    ----------
    T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal loss for dense object
    detection", ICCV 2017.

    Examples
    --------
    >>> import torch
    >>> from celib.nn import focal_loss
    >>> x = torch.tensor([[2.0, 0.0, -1.0]], dtype=torch.float64)
    >>> print(f"{focal_loss(x, torch.tensor([0]), gamma=2.0).item():.6f}")
    0.004144
    >>> ce = torch.nn.functional.cross_entropy(x, torch.tensor([0]))
    >>> bool(torch.isclose(focal_loss(x, torch.tensor([0]), gamma=0.0), ce))
    True
    """
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(input).__name__}")
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    if not input.dtype.is_floating_point:
        raise TypeError(f"input (logits) must have a floating dtype, got {input.dtype}")
    if target.dtype.is_floating_point or target.dtype.is_complex or target.dtype == torch.bool:
        raise TypeError(f"target must hold integer class indices, got dtype {target.dtype}")
    reduction = _checks.check_reduction(reduction)
    gamma = _checks.real_scalar(gamma, "gamma", nonnegative=True)
    if input.ndim < 2:
        raise ValueError(f"input must have shape (N, C, ...), got {tuple(input.shape)}")
    c = input.shape[1]
    expected = (input.shape[0], *input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(f"target must have shape {expected}, got {tuple(target.shape)}")
    if target.device != input.device:
        raise ValueError(f"target is on {target.device} but input is on {input.device}")
    if target.numel() and (int(target.min()) < 0 or int(target.max()) >= c):
        lo, hi = int(target.min()), int(target.max())
        raise ValueError(f"target has class indices outside [0, {c - 1}] (found {lo}..{hi})")
    if not bool(torch.isfinite(input).all()):
        raise ValueError("input contains NaN or infinite logits; they must be finite")
    if weight is not None:
        if not isinstance(weight, torch.Tensor):
            raise TypeError(f"weight must be a torch.Tensor, got {type(weight).__name__}")
        if weight.shape != (c,):
            raise ValueError(f"weight must have shape ({c},), got {tuple(weight.shape)}")
        if weight.device != input.device:
            raise ValueError(f"weight is on {weight.device} but input is on {input.device}")
        if not bool(torch.isfinite(weight).all()) or bool((weight < 0).any()):
            raise ValueError("weight must be finite and non-negative")
    log_p = torch.log_softmax(input, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
    nll = -log_p
    loss = nll if gamma == 0 else (-torch.expm1(log_p)) ** gamma * nll
    divisor = None
    if weight is not None:
        w = weight.to(input.dtype)[target]
        loss = w * loss
        divisor = w.sum()  # PyTorch's weighted mean
    return _kernel.reduce(torch, loss, reduction, divisor)
