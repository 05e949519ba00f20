#!/usr/bin/env bash
# The checks that need an NVIDIA GPU, in one run: the CUDA-marked tests and the GPU
# variants of the torch benchmarks (bfloat16, on celib's torch path).
#
#   PYTHON=/path/to/python-with-cuda-torch bash benchmarks/gpu_checks.sh
#
# PYTHON must have a CUDA build of torch==2.13.0 and the dev dependencies (pytest,
# hypothesis, mpmath, scipy, numpy); celib is installed into it without dependencies.
# The result files (benchmarks/results/*_cuda*.json) are also copied to $OUT if set.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" - <<'PYEOF'
import torch
assert torch.cuda.is_available(), "no CUDA device visible to torch"
print("torch", torch.__version__, "on", torch.cuda.get_device_name(0))
PYEOF
"$PY" -m pip install --quiet --no-deps --no-build-isolation -e .
"$PY" -m pytest -q -p no:cacheprovider -m cuda tests --ignore=tests/site
"$PY" benchmarks/bench_cross_entropy.py --device cuda --dtype bfloat16 --rounds 2
"$PY" benchmarks/bench_cross_entropy.py --device cuda --rounds 2
"$PY" benchmarks/bench_linear_cross_entropy.py --device cuda --dtype bfloat16 --rounds 2
if [ -n "${OUT:-}" ]; then
    cp benchmarks/results/*_cuda*.json "$OUT"/
fi
