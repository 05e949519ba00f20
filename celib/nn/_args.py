"""Argument checks of :mod:`celib.nn` (private).

Each check raises ``TypeError`` (wrong type) or ``ValueError`` (wrong value) with the
argument's name, the rule and the offending value. Values PyTorch accepts and computes
a loss for (negative class weights, negative ``pos_weight``, class probabilities that
do not sum to 1, binary targets outside [0, 1]) are accepted: celib computes what torch
computes. NaN and infinite weights or targets are refused (torch would return NaN).
"""

from __future__ import annotations

import math
import numbers

import torch

from celib import _checks


def check_reduction(reduction: object) -> str:
    if not isinstance(reduction, str):
        raise TypeError(
            f"reduction must be one of 'mean', 'sum', 'none'; got {type(reduction).__name__}"
        )
    _checks.check_reduction(reduction)
    return reduction


def check_label_smoothing(label_smoothing: object) -> float:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise TypeError(
            f"label_smoothing must be a real number, got {type(label_smoothing).__name__}"
        )
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:  # also rejects NaN
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0; got {eps}")
    return eps


def check_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return int(value)


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return value


def check_tensor(name: str, value: object) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    return value


def check_floating(name: str, value: torch.Tensor, what: str) -> None:
    if not value.dtype.is_floating_point:
        raise TypeError(f"{name} ({what}) must have a floating dtype, got {value.dtype}")


def check_same_device(name: str, value: torch.Tensor, input: torch.Tensor) -> None:
    if value.device != input.device:
        raise ValueError(f"{name} is on {value.device} but input is on {input.device}")


def check_no_grad(name: str, value: torch.Tensor) -> None:
    if value.requires_grad and torch.is_grad_enabled():
        raise ValueError(
            f"{name} must not require grad: celib.nn computes no gradient with respect "
            f"to {name} (detach it)"
        )


def check_finite(name: str, value: torch.Tensor, what: str) -> None:
    """No NaN and no infinity (one pass; negative values are allowed)."""
    if value.numel() == 0:
        return
    lo, hi = torch.aminmax(value.detach())  # NaN propagates into both
    lo, hi = lo.item(), hi.item()
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError(f"{name} ({what}) holds NaN")
    if math.isinf(lo) or math.isinf(hi):
        raise ValueError(
            f"{name} ({what}) holds an infinite value ({lo if math.isinf(lo) else hi})"
        )


def check_class_weight(weight: object, input: torch.Tensor, c: int) -> torch.Tensor | None:
    """Class weights: a floating (C,) tensor on the input's device, finite, no grad."""
    if weight is None:
        return None
    check_tensor("weight", weight)
    check_floating("weight", weight, "class weights")
    check_same_device("weight", weight, input)
    if weight.shape != (c,):
        raise ValueError(
            f"weight must have shape (C,) = ({c},), one weight per class; got {tuple(weight.shape)}"
        )
    check_no_grad("weight", weight)
    check_finite("weight", weight, "class weights")
    return weight


def check_broadcast_weight(name: str, value: object, input: torch.Tensor) -> torch.Tensor | None:
    """``weight`` / ``pos_weight`` of the binary loss: broadcast to the input, finite."""
    if value is None:
        return None
    check_tensor(name, value)
    check_floating(name, value, "weights")
    check_same_device(name, value, input)
    try:
        shape = torch.broadcast_shapes(value.shape, input.shape)
    except RuntimeError:
        shape = None
    if shape != input.shape:
        raise ValueError(
            f"{name} of shape {tuple(value.shape)} does not broadcast to the input's "
            f"shape {tuple(input.shape)}"
        )
    check_no_grad(name, value)
    check_finite(name, value, "weights")
    return value


def is_soft(input_shape: torch.Size, target: torch.Tensor) -> bool:
    """Class probabilities (soft targets) have the logits' shape, as in PyTorch."""
    if target.shape == input_shape:
        if not target.dtype.is_floating_point:
            raise TypeError(
                f"target has the logits' shape {tuple(input_shape)}, so it is read as "
                f"class probabilities, which need a floating dtype; got {target.dtype} "
                "(class indices have the logits' shape without the class dimension)"
            )
        return True
    return False


def check_class_indices(
    target: torch.Tensor, expected: torch.Size, logits_shape: torch.Size, c: int, ignore_index: int
) -> None:
    """Integer class indices of shape ``expected``, in ``[0, C)`` or ``ignore_index``."""
    if target.dtype.is_floating_point or target.dtype.is_complex or target.dtype == torch.bool:
        raise TypeError(
            f"target of class indices must have an integer dtype, got {target.dtype}; "
            f"class probabilities must have the logits' shape {tuple(logits_shape)}, "
            f"got {tuple(target.shape)}"
        )
    if target.shape != expected:
        raise ValueError(
            f"target of class indices must have shape {tuple(expected)} (the logits' shape "
            f"{tuple(logits_shape)} without the class dimension); got {tuple(target.shape)}"
        )
    if target.numel():
        out_of_range = (target != ignore_index) & ((target < 0) | (target >= c))
        if bool(out_of_range.any()):
            first = target[out_of_range].reshape(-1)[0].item()
            raise ValueError(
                f"target holds the class index {first}, outside [0, {c}) "
                f"(C = {c} classes) and not ignore_index ({ignore_index})"
            )


def check_cross_entropy(
    input, target, weight, ignore_index, reduction, label_smoothing
) -> tuple[bool, float]:
    """All the arguments of :func:`celib.nn.cross_entropy`; returns (soft, eps)."""
    check_tensor("input", input)
    check_tensor("target", target)
    check_floating("input", input, "logits")
    check_reduction(reduction)
    eps = check_label_smoothing(label_smoothing)
    ignore_index = check_int("ignore_index", ignore_index)
    if input.dim() == 0:
        raise ValueError("input must have shape (C,), (N, C) or (N, C, d1, ...); got a scalar")
    c = input.shape[0] if input.dim() == 1 else input.shape[1]
    if c == 0:
        raise ValueError("input must have at least one class (its class dimension has size 0)")
    check_same_device("target", target, input)
    check_class_weight(weight, input, c)
    soft = check_targets(input.shape, target, c, ignore_index, soft_ignore_ok=ignore_index < 0)
    return soft, eps


def check_targets(
    logits_shape: torch.Size, target: torch.Tensor, c: int, ignore_index: int, soft_ignore_ok: bool
) -> bool:
    """Class probabilities of the logits' shape, or class indices of it without the class
    dimension (dimension 0 of unbatched logits, else 1). Returns whether soft."""
    if is_soft(logits_shape, target):
        if not soft_ignore_ok:
            raise ValueError(
                f"ignore_index={ignore_index} cannot be used with class probabilities "
                "(a floating target of the logits' shape); PyTorch refuses it too"
            )
        check_finite("target", target, "class probabilities")
        return True
    if len(logits_shape) > 1:
        expected = logits_shape[:1] + logits_shape[2:]
    else:
        expected = torch.Size([])
    check_class_indices(target, expected, logits_shape, c, ignore_index)
    return False


def check_bce(input, target, weight, reduction, pos_weight) -> None:
    """All the arguments of :func:`celib.nn.binary_cross_entropy_with_logits`."""
    check_tensor("input", input)
    check_tensor("target", target)
    check_floating("input", input, "logits")
    check_floating("target", target, "probabilities")
    check_reduction(reduction)
    check_same_device("target", target, input)
    if target.shape != input.shape:
        raise ValueError(
            f"target must have the input's shape {tuple(input.shape)}; got {tuple(target.shape)}"
        )
    check_finite("target", target, "probabilities")
    check_broadcast_weight("weight", weight, input)
    check_broadcast_weight("pos_weight", pos_weight, input)


def check_options(options: object) -> int | None:
    """``torch.nn.LinearCrossEntropyOptions`` or None; returns the chunk size (or None)."""
    if options is None:
        return None
    if not isinstance(options, torch.nn.LinearCrossEntropyOptions):
        raise TypeError(
            "options must be a torch.nn.LinearCrossEntropyOptions or None, "
            f"got {type(options).__name__}"
        )
    rows = options.batch_chunk_size
    if rows is not None:
        rows = check_int("options.batch_chunk_size", rows)
        if rows < 1:
            raise ValueError(f"options.batch_chunk_size must be positive; got {rows}")
    return rows


def check_linear(input, linear_weight, target, linear_bias, weight, ignore_index):
    """The tensors of :func:`celib.nn.linear_cross_entropy`.

    Returns ``(d, v, out_features, soft, ignore_index)``: the input's features, the
    classes, the extra class dimensions ``(d1, ..., dK)`` of the weight and whether the
    target holds class probabilities.
    """
    check_tensor("input", input)
    check_tensor("linear_weight", linear_weight)
    check_tensor("target", target)
    check_floating("input", input, "features")
    check_floating("linear_weight", linear_weight, "weight of the linear layer")
    if input.dim() not in (1, 2):
        raise ValueError(
            f"input must have shape (D,) or (N, D), got {input.dim()} dimensions "
            f"{tuple(input.shape)} (flatten the batch dimensions)"
        )
    if linear_weight.dim() < 2:
        raise ValueError(
            "linear_weight must have shape (V, D) or (V, d1, ..., dK, D); got "
            f"{tuple(linear_weight.shape)}"
        )
    d = input.shape[-1]
    if linear_weight.shape[-1] != d:
        raise ValueError(
            f"linear_weight's last dimension must be D = {d}, the input's last dimension; "
            f"got shape {tuple(linear_weight.shape)}"
        )
    v, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if v == 0:
        raise ValueError("linear_weight must have at least one class (V = 0 rows)")
    if out_features and input.dim() == 1:
        raise ValueError(
            f"linear_weight of shape {tuple(linear_weight.shape)} defines a K-dimensional "
            "loss, which needs batched input (N, D); got input of shape "
            f"{tuple(input.shape)}"
        )
    if linear_weight.dtype != input.dtype:
        raise TypeError(
            f"linear_weight must have the input's dtype {input.dtype}; got {linear_weight.dtype}"
        )
    check_same_device("linear_weight", linear_weight, input)
    if linear_bias is not None:
        check_tensor("linear_bias", linear_bias)
        check_same_device("linear_bias", linear_bias, input)
        if linear_bias.dtype != input.dtype:
            raise TypeError(
                f"linear_bias must have the input's dtype {input.dtype}; got {linear_bias.dtype}"
            )
        if linear_bias.shape != linear_weight.shape[:-1]:
            raise ValueError(
                f"linear_bias must have shape {tuple(linear_weight.shape[:-1])}, the weight's "
                f"without D; got {tuple(linear_bias.shape)}"
            )
    check_same_device("target", target, input)
    check_class_weight(weight, input, v)
    logits_shape = input.shape[:-1] + linear_weight.shape[:-1]
    soft_ok = ignore_index is None
    index = -100 if ignore_index is None else check_int("ignore_index", ignore_index)
    soft = check_targets(logits_shape, target, v, index, soft_ignore_ok=soft_ok)
    return d, v, out_features, soft, index
