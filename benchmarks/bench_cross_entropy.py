"""celib.nn.cross_entropy against torch.nn.functional.cross_entropy: time and peak memory.

Forward + backward of the mean loss on (N, C) = (4096, 32768) logits with class-index
targets (issue targets on CPU, float32: time <= 1.0x and peak extra memory <= 0.6x of
PyTorch's). Each case runs in fresh processes (see ``_harness.py``); the ratios are
against PyTorch in the same run. The lower bound of the extra memory is the gradient of
the logits itself (N * C elements).

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


def _lower_bound(summary: dict) -> list[str]:
    bytes_per = torch.finfo(getattr(torch, summary["dtype"])).bits // 8
    grad = N * C * bytes_per
    celib_case = summary["cases"]["celib.nn.cross_entropy"]
    return [
        f"lower bound (the gradient itself): {grad / 1e6:.1f} MB; "
        f"celib at {celib_case['peak_extra_bytes'] / grad:.2f}x of it"
    ]


if __name__ == "__main__":
    main(
        {
            "torch F.cross_entropy": _case(F.cross_entropy),
            "celib.nn.cross_entropy": _case(celib.nn.cross_entropy),
        },
        baseline="torch F.cross_entropy",
        title=f"cross-entropy forward + backward, logits ({N}, {C}), class-index targets",
        result_name="cross_entropy",
        extra=_lower_bound,
        shape={"N": N, "C": C},
    )
