"""Time and peak extra memory of a forward + backward pass, each case in a fresh process.

Used by the ``bench_*.py`` scripts. A benchmark script defines its cases as functions
``setup(device, dtype) -> run`` (``run()`` does one forward + backward, keeps
nothing alive afterwards, e.g. gradients from ``torch.autograd.grad``, and returns
nothing) and calls :func:`main`.

The parent process starts two child processes per (case, round), one that measures
memory and one that measures time, interleaving the cases, so that the ratios it
prints are measured on the same machine at the same time. A child builds the inputs
(``setup``) and warms up with one call of ``run``, then

* memory: measures the **peak extra memory** of one more call: on CPU, the peak
  resident set size (``VmHWM`` in ``/proc/self/status``, reset through
  ``/proc/self/clear_refs``) minus the resident size before the call; on CUDA,
  ``torch.cuda.max_memory_allocated`` minus the memory allocated before the call. On
  CPU this child runs with glibc told to serve every block above 64 KiB with ``mmap``
  (``MALLOC_MMAP_THRESHOLD_``), so that freed arrays go back to the system and the
  resident size follows what is live;
* time: times ``repeats`` more calls and reports the median, with the allocator's
  default settings (with every block mmapped, page faults would dominate the time of
  code that allocates many temporaries).

Run the scripts on an otherwise idle machine: times on a shared machine are noisy (the
memory figures are not).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

Case = Callable[..., Callable[[], None]]


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _measure(run: Callable[[], None], device: str, repeats: int, what: str) -> dict:
    import torch

    cuda = device.startswith("cuda")

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    run()  # warm-up: kernels, thread pools, allocator caches
    sync()
    if what == "memory":
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            run()
            sync()
            peak = torch.cuda.max_memory_allocated() - before
        else:
            Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
            before = _status_kib("VmRSS")
            run()
            peak = (_status_kib("VmHWM") - before) * 1024
        return {"peak_extra_bytes": int(peak)}
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - t0)
    return {"time_s": statistics.median(times)}


def _child(cases: dict[str, Case], args: argparse.Namespace) -> None:
    import torch

    torch.manual_seed(0)
    dtype = getattr(torch, args.dtype)
    run = cases[args.case](args.device, dtype)
    print(json.dumps(_measure(run, args.device, args.repeats, args.what)))


def _spawn(script: str, case: str, args: argparse.Namespace) -> dict:
    result = {}
    for what in ("memory", "time"):
        env = dict(os.environ)
        if what == "memory":
            env["MALLOC_MMAP_THRESHOLD_"] = "65536"
        cmd = [sys.executable, script, "--child", "--case", case, "--what", what]
        cmd += ["--device", args.device, "--dtype", args.dtype, "--repeats", str(args.repeats)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"case {case!r} ({what}) failed:\n{out.stderr}")
        result.update(json.loads(out.stdout.strip().splitlines()[-1]))
    return result


def main(
    cases: dict[str, Case],
    *,
    baseline: str,
    title: str,
    result_name: str,
    default_dtype: str = "float32",
    extra: Callable[[dict], list[str]] | None = None,
    shape: dict | None = None,
) -> dict:
    """Run every case in fresh processes, print a table of ratios against ``baseline``.

    Returns the summary, also written to ``benchmarks/results/<result_name>_<device>.json``
    (``..._<device>_<dtype>.json`` for a dtype other than the default).
    """
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--dtype", default=default_dtype)
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per process")
    parser.add_argument("--rounds", type=int, default=3, help="processes per case")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--what", choices=("memory", "time"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(cases, args)
        sys.exit(0)

    import torch

    script = sys.argv[0]
    runs: dict[str, list[dict]] = {name: [] for name in cases}
    print(f"{title}\ndevice {args.device}, {args.dtype}, torch {torch.__version__}", flush=True)
    for r in range(args.rounds):
        for name in cases:  # interleaved, so that drifts in load hit every case alike
            runs[name].append(_spawn(script, name, args))
            print(f"  round {r + 1}/{args.rounds}: {name} done", file=sys.stderr, flush=True)
    base = runs[baseline]
    t_base = statistics.median(x["time_s"] for x in base)
    m_base = max(x["peak_extra_bytes"] for x in base)
    summary = {
        "title": title,
        "device": args.device,
        "dtype": args.dtype,
        "torch": torch.__version__,
        "baseline": baseline,
        "shape": shape or {},
        "cases": {},
    }
    print(f"{'case':<28}{'time (s)':>10}{'x base':>8}{'peak extra (MB)':>17}{'x base':>8}")
    for name, xs in runs.items():
        t = statistics.median(x["time_s"] for x in xs)
        m = max(x["peak_extra_bytes"] for x in xs)
        summary["cases"][name] = {
            "time_s": t,
            "peak_extra_bytes": m,
            "time_ratio": t / t_base,
            "memory_ratio": m / m_base if m_base else float("nan"),
        }
        print(f"{name:<28}{t:>10.3f}{t / t_base:>8.2f}{m / 1e6:>17.1f}{m / m_base:>8.2f}")
    if extra is not None:
        for line in extra(summary):
            print(line)
    RESULTS.mkdir(exist_ok=True)
    device = args.device.split(":")[0]
    suffix = "" if args.dtype == default_dtype else f"_{args.dtype}"
    path = RESULTS / f"{result_name}_{device}{suffix}.json"
    path.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"saved {path.relative_to(RESULTS.parent.parent)}")
    return summary
