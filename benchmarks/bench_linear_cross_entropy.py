"""celib.nn.linear_cross_entropy against PyTorch's chunked and unchunked paths.

Forward + backward of the mean loss of ``cross_entropy(linear(h, W), y)``, gradients
with respect to ``h`` (N, D) and ``W`` (V, D); class-index targets. On CPU the shape
is (N, D, V) = (4096, 1024, 32768), float32; with ``--device cuda`` a large-vocabulary
shape (8192, 2048, 128256), meant for bfloat16. Issue targets (CPU, float32): against
PyTorch's chunked ``F.linear_cross_entropy(..., options=LinearCrossEntropyOptions())``,
peak extra memory <= 1.0x; peak extra memory <= 1.1x the lower bound, the two gradients
themselves ((N + V) * D elements; <= 1.5x in bfloat16); time within 1.1x of the three
matrix products of that shape (logits, grad input, grad weight), measured in the same
run as the case "floor: three matmuls".

    .venv/bin/python benchmarks/bench_linear_cross_entropy.py                  # CPU
    .venv/bin/python benchmarks/bench_linear_cross_entropy.py --device cuda --dtype bfloat16

Each case runs in fresh processes (see ``_harness.py``). Results go to
``benchmarks/results/linear_cross_entropy_<device>.json``.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from _harness import main

import celib.nn

SHAPES = {"cpu": (4096, 1024, 32768), "cuda": (8192, 2048, 128256)}


def _shape(device: str) -> tuple[int, int, int]:
    return SHAPES["cpu" if device == "cpu" else "cuda"]


def _inputs(device: str, dtype: torch.dtype):
    n, d, v = _shape(device)
    g = torch.Generator().manual_seed(0)
    h = torch.randn(n, d, generator=g).to(device=device, dtype=dtype)
    w = (torch.randn(v, d, generator=g) * (2.0 / d**0.5)).to(device=device, dtype=dtype)
    y = torch.randint(0, v, (n,), generator=g).to(device)
    return h.requires_grad_(), w.requires_grad_(), y


def _case(loss_fn):
    def setup(device: str, dtype: torch.dtype):
        h, w, y = _inputs(device, dtype)

        def run() -> None:
            # Gradients returned, not accumulated in .grad: each call starts from the
            # inputs alone, and the gradients count in its peak extra memory.
            gh, gw = torch.autograd.grad(loss_fn(h, w, y), (h, w))
            del gh, gw

        return run

    return setup


def _torch_unchunked(h, w, y):
    return F.cross_entropy(F.linear(h, w), y)


def _torch_chunked(h, w, y):
    return F.linear_cross_entropy(h, w, y, options=torch.nn.LinearCrossEntropyOptions())


def _celib(h, w, y):
    return celib.nn.linear_cross_entropy(h, w, y)


def _three_matmuls(device: str, dtype: torch.dtype):
    """The floor: the three products any such kernel computes, unchunked."""
    h, w, _ = _inputs(device, dtype)
    h, w = h.detach(), w.detach()

    def run() -> None:
        z = h @ w.t()  # logits (N, V)
        gh = z @ w  # grad input (N, D)
        gw = z.t() @ h  # grad weight (V, D)
        del z, gh, gw

    return run


CASES = {
    "torch unchunked": _case(_torch_unchunked),
    "torch F.linear_cross_entropy": _case(_torch_chunked),
    "celib.nn.linear_cross_entropy": _case(_celib),
    "floor: three matmuls": _three_matmuls,
}


def _lower_bound(summary: dict) -> list[str]:
    n, d, v = summary["shape"]["N"], summary["shape"]["D"], summary["shape"]["V"]
    bytes_per = torch.finfo(getattr(torch, summary["dtype"])).bits // 8
    bound = (n + v) * d * bytes_per
    summary["lower_bound_bytes"] = bound
    ratios = {k: c["peak_extra_bytes"] / bound for k, c in summary["cases"].items()}
    summary["lower_bound_ratio"] = ratios
    celib_t = summary["cases"]["celib.nn.linear_cross_entropy"]["time_s"]
    floor_t = summary["cases"]["floor: three matmuls"]["time_s"]
    summary["time_over_matmuls"] = celib_t / floor_t
    return [
        f"lower bound (grad input + grad weight): {bound / 1e6:.1f} MB; celib at "
        f"{ratios['celib.nn.linear_cross_entropy']:.2f}x of it, torch chunked at "
        f"{ratios['torch F.linear_cross_entropy']:.2f}x",
        f"time: celib at {celib_t / floor_t:.2f}x of the three matmuls ({floor_t:.3f} s)",
    ]


if __name__ == "__main__":
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--device", default="cpu")
    n, d, v = _shape(pre.parse_known_args()[0].device.split(":")[0])
    main(
        CASES,
        baseline="torch F.linear_cross_entropy",
        title=f"linear cross-entropy forward + backward, input ({n}, {d}), weight ({v}, {d})",
        result_name="linear_cross_entropy",
        extra=_lower_bound,
        shape={"N": n, "D": d, "V": v},
    )
