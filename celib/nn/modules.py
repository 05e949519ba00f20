r"""The ``torch.nn`` module forms of :mod:`celib.nn.functional`'s losses.

Each has the constructor signature of its PyTorch namesake (``torch.nn.CrossEntropyLoss``,
``torch.nn.BCEWithLogitsLoss``, ``torch.nn.LinearCrossEntropyLoss``), the same
parameters and buffers (so ``load_state_dict`` moves between them) and calls the
function of :mod:`celib.nn.functional` in ``forward``.
"""

from __future__ import annotations

import math

import torch

from celib.nn import _args
from celib.nn.functional import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    linear_cross_entropy,
)

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "LinearCrossEntropyLoss"]


def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated ``size_average`` / ``reduce`` arguments, read as torch does."""
    if size_average is None and reduce is None:
        return _args.check_reduction(reduction)
    return torch.nn._reduction.legacy_get_string(size_average, reduce)


class CrossEntropyLoss(torch.nn.Module):
    r"""Module form of :func:`~celib.nn.functional.cross_entropy`.

    Drop-in for ``torch.nn.CrossEntropyLoss``.

    Parameters
    ----------
    weight : torch.Tensor, optional
        Class weights of shape ``(C,)``, kept as a buffer (moves with ``.to()``).
    size_average, reduce : bool, optional
        PyTorch's deprecated forms of ``reduction``, read as PyTorch reads them.
    ignore_index : int, default -100
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    label_smoothing : float, default 0.0
        As in :func:`~celib.nn.functional.cross_entropy`.

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
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)
        self.label_smoothing = _args.check_label_smoothing(label_smoothing)
        self.ignore_index = _args.check_int("ignore_index", ignore_index)
        self.register_buffer("weight", weight)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return :func:`~celib.nn.functional.cross_entropy` with the module's settings."""
        return cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class BCEWithLogitsLoss(torch.nn.Module):
    r"""Module form of :func:`~celib.nn.functional.binary_cross_entropy_with_logits`.

    Drop-in for ``torch.nn.BCEWithLogitsLoss``.

    Parameters
    ----------
    weight : torch.Tensor, optional
        Weights broadcastable to the input's shape, kept as a buffer.
    size_average, reduce : bool, optional
        PyTorch's deprecated forms of ``reduction``, read as PyTorch reads them.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
    pos_weight : torch.Tensor, optional
        Positive-class weights, kept as a buffer.

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
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of :func:`~celib.nn.functional.binary_cross_entropy_with_logits`."""
        return binary_cross_entropy_with_logits(
            input,
            target,
            weight=self.weight,
            reduction=self.reduction,
            pos_weight=self.pos_weight,
        )


class LinearCrossEntropyLoss(torch.nn.Module):
    r"""A linear layer and :func:`~celib.nn.functional.linear_cross_entropy` in one module.

    Drop-in for ``torch.nn.LinearCrossEntropyLoss``: it owns ``linear``, a
    ``torch.nn.Linear(in_features, num_classes * prod(out_features), bias)`` whose weight
    is read as ``(num_classes, *out_features, in_features)``, and computes the loss of
    its logits without storing them.

    Parameters
    ----------
    in_features : int
        :math:`D`, the features of each input row.
    num_classes : int
        :math:`V`, the classes.
    out_features : tuple of int, default ()
        :math:`(d_1, \dots, d_K)` for a K-dimensional loss.
    bias : bool, default False
        Whether the linear layer has a bias.
    device, dtype
        Of the linear layer's parameters.
    reduction, weight, ignore_index, label_smoothing, options
        As in :func:`~celib.nn.functional.linear_cross_entropy`; ``weight`` (class
        weights of shape ``(num_classes,)``) is kept as a buffer.

    Examples
    --------
    >>> import torch
    >>> from celib.nn import LinearCrossEntropyLoss
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> loss_fn = LinearCrossEntropyLoss(4, 10, bias=True)
    >>> h = torch.randn(3, 4)
    >>> loss = loss_fn(h, torch.tensor([1, 0, 9]))
    >>> ref = torch.nn.functional.cross_entropy(loss_fn.linear(h), torch.tensor([1, 0, 9]))
    >>> print(torch.allclose(loss, ref))
    True
    """

    __constants__ = ["num_classes", "out_features", "reduction", "ignore_index", "label_smoothing"]

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        out_features: tuple[int, ...] = (),
        bias: bool = False,
        device=None,
        dtype=None,
        reduction: str = "mean",
        weight: torch.Tensor | None = None,
        ignore_index: int | None = None,
        label_smoothing: float = 0.0,
        options: torch.nn.LinearCrossEntropyOptions | None = None,
    ) -> None:
        super().__init__()
        in_features = _args.check_int("in_features", in_features)
        num_classes = _args.check_int("num_classes", num_classes)
        out_features = tuple(_args.check_int("out_features", k) for k in out_features)
        if weight is not None:
            _args.check_tensor("weight", weight)
            if weight.shape != (num_classes,):
                raise ValueError(
                    f"weight must have shape ({num_classes},), one weight per class; "
                    f"got {tuple(weight.shape)}"
                )
        self.label_smoothing = _args.check_label_smoothing(label_smoothing)
        self.reduction = _args.check_reduction(reduction)
        _args.check_options(options)
        self.num_classes = num_classes
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.options = options
        self.register_buffer("weight", weight)
        self.linear = torch.nn.Linear(
            in_features,
            math.prod(out_features, start=num_classes),
            bias=bias,
            device=device,
            dtype=dtype,
        )

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The :func:`~celib.nn.functional.linear_cross_entropy` of the layer's logits."""
        shape = (self.num_classes, *self.out_features)
        bias = self.linear.bias
        return linear_cross_entropy(
            input,
            self.linear.weight.reshape(*shape, self.linear.in_features),
            target,
            linear_bias=None if bias is None else bias.reshape(shape),
            weight=self.weight,
            reduction=self.reduction,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            options=self.options,
        )

    def extra_repr(self) -> str:
        return (
            f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
            f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
            f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
            f"label_smoothing={self.label_smoothing}, options={self.options}"
        )
