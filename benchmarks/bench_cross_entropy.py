"""celib.nn.cross_entropy against torch.nn.functional.cross_entropy: time and peak memory.

Forward + backward of the mean loss on (N, C) = (4096, 32768) logits with class-index
targets. Targets (CPU): float32 time <= 0.25x of PyTorch's with the extra memory of the
gradient alone; bfloat16 time <= 1.0x, memory <= 0.4x. Each case runs in fresh
processes (see ``_harness.py``); the ratios are against PyTorch in the same run. The
lower bound of the extra memory is the gradient of the logits itself (N * C elements).

Also measured: ``inplace_backward=True`` (the gradient written into the logits' own
storage) and a floor, the time of the memory traffic any such kernel needs: one read of
the logits (for the max and the sum of exponentials) plus one read and one write (the
gradient), measured as ``x.sum(1)`` plus a copy. Times are printed in ns per element.

    .venv/bin/python benchmarks/bench_cross_entropy.py                  # CPU, float32
    .venv/bin/python benchmarks/bench_cross_entropy.py --device cuda --dtype bfloat16

Results go to ``benchmarks/results/cross_entropy_<device>.json``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from _harness import main

import celib.nn

N, C = 4096, 32768


def _inputs(device: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = (3 * torch.randn(N, C, generator=g)).to(device=device, dtype=dtype)
    y = torch.randint(0, C, (N,), generator=g).to(device)
    return x.requires_grad_(), y


def _celib_inplace(x, y):
    # The gradient overwrites the logits: later calls run on the previous gradient's
    # values, the same work on other numbers.
    return celib.nn.cross_entropy(x, y, inplace_backward=True)


def _case(loss_fn):
    def setup(device: str, dtype: torch.dtype):
        x, y = _inputs(device, dtype)

        def run() -> None:
            # The gradient is returned, not kept in x.grad: each call starts from the
            # logits alone, and the gradient counts in its peak extra memory.
            (grad,) = torch.autograd.grad(loss_fn(x, y), x)
            del grad

        return run

    return setup


def _floor(device: str, dtype: torch.dtype):
    """Memory traffic alone: one read (max, sum-exp), one read and one write (gradient)."""
    x, _ = _inputs(device, dtype)
    x = x.detach()
    out = torch.empty_like(x)

    def run() -> None:
        torch.sum(x, 1)
        out.copy_(x)

    return run


def _lower_bound(summary: dict) -> list[str]:
    bytes_per = torch.finfo(getattr(torch, summary["dtype"])).bits // 8
    grad = N * C * bytes_per
    celib_case = summary["cases"]["celib.nn.cross_entropy"]
    lines = [
        f"lower bound (the gradient itself): {grad / 1e6:.1f} MB; "
        f"celib at {celib_case['peak_extra_bytes'] / grad:.2f}x of it",
        "time per element (ns):",
    ]
    for name, case in summary["cases"].items():
        case["ns_per_element"] = case["time_s"] / (N * C) * 1e9
        lines.append(f"  {name:<30}{case['ns_per_element']:>8.2f}")
    return lines


if __name__ == "__main__":
    main(
        {
            "torch F.cross_entropy": _case(F.cross_entropy),
            "celib.nn.cross_entropy": _case(celib.nn.cross_entropy),
            "celib inplace_backward": _case(_celib_inplace),
            "floor: read + copy": _floor,
        },
        baseline="torch F.cross_entropy",
        title=f"cross-entropy forward + backward, logits ({N}, {C}), class-index targets",
        result_name="cross_entropy",
        extra=_lower_bound,
        shape={"N": N, "C": C},
    )
