"""celib.nn against PyTorch's own test samples: the definition of "drop-in".

The cases come from PyTorch itself:

* the OpInfos of ``torch.testing._internal.common_methods_invocations.op_db`` for
  ``nn.functional.cross_entropy``, ``nn.functional.binary_cross_entropy_with_logits`` and
  ``nn.functional.linear_cross_entropy`` (every variant): their ``sample_inputs`` in
  float64 and float32, and their ``error_inputs``;
* the ModuleInfos of ``torch.testing._internal.common_modules.module_db`` for
  ``CrossEntropyLoss``, ``BCEWithLogitsLoss`` and ``LinearCrossEntropyLoss``: their
  module inputs in float64 and float32, and their module error inputs.

Each sample is run through torch and through celib; the outputs and the gradients of every
tensor that requires grad (for an upstream gradient that differs from element to element)
must agree, tightly in float64 and at float32's tolerance in float32. On every error
input, celib must raise ``TypeError`` or ``ValueError`` (where torch raises).
"""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("expecttest")  # torch.testing._internal needs it
torch = pytest.importorskip("torch")

from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402
from torch.testing._internal.common_modules import ModuleErrorEnum, module_db  # noqa: E402

import celib.nn  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

OPS = {
    "nn.functional.cross_entropy": celib.nn.cross_entropy,
    "nn.functional.binary_cross_entropy_with_logits": celib.nn.binary_cross_entropy_with_logits,
    "nn.functional.linear_cross_entropy": celib.nn.linear_cross_entropy,
}
MODULES = {
    "CrossEntropyLoss": celib.nn.CrossEntropyLoss,
    "BCEWithLogitsLoss": celib.nn.BCEWithLogitsLoss,
    "LinearCrossEntropyLoss": celib.nn.LinearCrossEntropyLoss,
}
DTYPES = (torch.float64, torch.float32)
# float64: tight; float32: torch.testing's defaults for float32.
TOLERANCES = {torch.float64: {"rtol": 1e-10, "atol": 1e-12}, torch.float32: {}}


def _collect():
    samples, errors = {}, {}
    for op in op_db:
        if op.name not in OPS:
            continue
        name = op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")
        for dtype in DTYPES:
            torch.manual_seed(0)
            for i, s in enumerate(op.sample_inputs("cpu", dtype, requires_grad=True)):
                samples[f"{name}-{str(dtype)[6:]}-{i:03d}"] = ("op", op.name, s)
        if op.error_inputs_func is not None:
            for i, e in enumerate(op.error_inputs("cpu")):
                errors[f"{name}-error-{i:02d}"] = ("op", op.name, e)
    for info in module_db:
        name = info.module_cls.__name__
        if name not in MODULES:
            continue
        for dtype in DTYPES:
            torch.manual_seed(0)
            inputs = info.module_inputs_func(
                info, device="cpu", dtype=dtype, requires_grad=True, training=True
            )
            for i, m in enumerate(inputs):
                samples[f"{name}-{str(dtype)[6:]}-{i:03d}"] = ("module", name, m)
        if info.module_error_inputs_func is not None:
            errs = info.module_error_inputs_func(
                info, device="cpu", dtype=torch.float64, requires_grad=True, training=True
            )
            for i, e in enumerate(errs):
                errors[f"{name}-error-{i:02d}"] = ("module", name, e)
    return samples, errors


SAMPLES, ERRORS = _collect()


def _leaves(*objs):
    """The tensors that require grad among the arguments, in order, without repeats."""
    out = []
    for obj in objs:
        values = obj.values() if isinstance(obj, dict) else obj
        for v in values:
            if isinstance(v, torch.Tensor) and v.requires_grad and all(v is not o for o in out):
                out.append(v)
    return out


def _upstream(out: torch.Tensor) -> torch.Tensor:
    """An upstream gradient that differs from element to element (and from 1)."""
    g = torch.Generator().manual_seed(1)
    return torch.rand(out.shape, generator=g, dtype=torch.float64).add_(0.5).to(out.dtype)


def _run(fn, leaves, *args, **kwargs):
    out = fn(*args, **kwargs)
    grads = ()
    if leaves and out.requires_grad:
        grads = torch.autograd.grad(out, leaves, _upstream(out), allow_unused=True)
    return out, grads


def _compare(ours, theirs, dtype):
    tol = TOLERANCES[dtype]
    out, grads = ours
    ref, ref_grads = theirs
    assert out.dtype == ref.dtype
    torch.testing.assert_close(out, ref, **tol, equal_nan=True)
    assert len(grads) == len(ref_grads)
    for k, (g, r) in enumerate(zip(grads, ref_grads)):
        if r is None:
            assert g is None or not bool(g.any()), f"gradient {k}: torch gives none"
            continue
        assert g is not None, f"gradient {k}: celib gives none"
        torch.testing.assert_close(g, r, **tol, msg=lambda m, k=k: f"gradient {k}: {m}")


def _torch_quietly(fn, *args, **kwargs):
    with warnings.catch_warnings():  # torch's own fall-back notices are not ours to judge
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.mark.parametrize("case", sorted(SAMPLES))
def test_sample(case):
    kind, name, sample = SAMPLES[case]
    if kind == "op":
        args = (sample.input, *sample.args)
        leaves = _leaves(args, sample.kwargs)
        dtype = sample.input.dtype
        op = next(o for o in op_db if o.name == name)
        theirs = _torch_quietly(_run, op.op, leaves, *args, **sample.kwargs)
        ours = _run(OPS[name], leaves, *args, **sample.kwargs)
    else:
        c, f = sample.constructor_input, sample.forward_input
        module_cls = next(m.module_cls for m in module_db if m.module_cls.__name__ == name)
        torch.manual_seed(0)
        ref_module = _torch_quietly(module_cls, *c.args, **c.kwargs)
        module = MODULES[name](*c.args, **c.kwargs)
        module.load_state_dict(ref_module.state_dict())
        dtype = f.args[0].dtype
        leaves_ref = _leaves(f.args, f.kwargs, list(ref_module.parameters()))
        leaves = _leaves(f.args, f.kwargs, list(module.parameters()))
        theirs = _torch_quietly(_run, ref_module, leaves_ref, *f.args, **f.kwargs)
        ours = _run(module, leaves, *f.args, **f.kwargs)
    _compare(ours, theirs, dtype)


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_error(case):
    kind, name, err = ERRORS[case]
    if kind == "op":
        s = err.sample_input
        with pytest.raises((TypeError, ValueError)):
            OPS[name](s.input, *s.args, **s.kwargs)
    else:
        mi = err.module_error_input
        c, f = mi.constructor_input, mi.forward_input
        with pytest.raises((TypeError, ValueError)):
            module = MODULES[name](*c.args, **c.kwargs)
            assert err.error_on == ModuleErrorEnum.FORWARD_ERROR  # else: should have raised
            module(*f.args, **f.kwargs)


def test_case_count():
    """PyTorch's samples are all here (a torch upgrade that drops an OpInfo fails)."""
    assert {v[1] for v in SAMPLES.values()} == set(OPS) | set(MODULES)
