"""Accuracy of cross-entropy losses and gradients on hostile inputs, against mpmath.

Usage::

    python benchmarks/accuracy_study.py          # writes results/accuracy.csv and .png

Every input is a row of ``V`` logits in which the target logit has one value and every
other logit one of three values (``0``, ``-0.75`` and ``-3`` before an offset), so the
exact answers are closed-form sums with three terms, evaluated in mpmath with 60
significant digits **from the logits as rounded to the dtype under test**. With
``S = sum_{j != y} exp(x_j - x_y)`` (a sum over three groups of equal logits),

* loss ``-log softmax(x)_y = log1p(S)``;
* gradient of the target logit ``softmax(x)_y - 1 = -S / (1 + S)``;
* gradient of a non-target logit ``k`` (one at the largest other value)
  ``softmax(x)_k = exp(x_k - x_y) / (1 + S)``.

The grid: vocabularies ``V`` of 10, 1000, 32000 and 256000; target losses from
1e-30 to 1e3 (the target logit is placed to give that loss) and margins
``x_y - max_{j != y} x_j`` of -1e4 and +1e4; all of it once as is and once with every
logit shifted by +1e4 (the softmax does not change, the rounding of the logits does);
dtypes float64, float32 and bfloat16.

**Error in ulp.** For a computed value ``c`` and the exact value ``e`` (from the rounded
logits), ``ulp_error = |c - e| / (eps * max(|e|, tiny))`` with ``eps`` and ``tiny`` the
machine epsilon (spacing of the dtype at 1) and smallest normal number of the dtype: the
relative error in units of ``eps``, measured in absolute terms below the normal range,
where the format itself has only absolute precision. A correctly rounded result has an
error of at most 0.5. The relative error is capped at 1 (``1 / eps`` ulp: 4.5e15 in
float64, 8.4e6 in float32, 128 in bfloat16); a result at the cap has **no correct digit**:
0 for a nonzero value, a wrong sign or magnitude, ``inf`` or ``nan``.

Compared: ``celib.nn.cross_entropy``; ``celib.nn.linear_cross_entropy`` (where celib has
it) and PyTorch's chunked ``F.linear_cross_entropy``, on an input and weight whose product
is exactly these logits (one column per group of equal logits); ``F.cross_entropy``; and
``scipy.special.log_softmax`` (float64 and float32), with the gradient
``exp(log_softmax) - onehot``.
"""

from __future__ import annotations

import argparse
import csv
import time
import warnings
from pathlib import Path

import mpmath
import numpy as np
import scipy.special
import torch
import torch.nn.functional as F

import celib.nn

RESULTS = Path(__file__).resolve().parent / "results"

DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16}
VOCABS = (10, 1000, 32000, 256000)
LOSSES = (1e-30, 1e-25, 1e-20, 1e-15, 1e-10, 1e-7, 1e-4, 1e-2, 1.0, 10.0, 100.0, 1000.0)
MARGINS = (-1e4, 1e4)
OFFSETS = (0.0, 1e4)
OTHERS = (0.0, -0.75, -3.0)  # the values of the non-target logits (before the offset)
QUANTITIES = ("loss", "grad_target", "grad_other")
DPS = 60


def libraries() -> list[str]:
    names = ["celib.nn.cross_entropy"]
    if hasattr(celib.nn, "linear_cross_entropy"):
        names.append("celib.nn.linear_cross_entropy")
    return names + ["torch F.cross_entropy", "torch F.linear_cross_entropy", "scipy log_softmax"]


# --------------------------------------------------------------------------- inputs


def layout(v: int) -> tuple[int, int, np.ndarray, list[int]]:
    """Target index, probe index, column of each logit in the value table, group sizes.

    Column 0 holds the target logit, columns 1-3 the three groups of other logits, and
    column 4 the probe (a non-target logit with the largest other value, alone in its
    column so that its gradient can be read through the linear layer).
    """
    y = v // 2
    col = 1 + np.arange(v) % 3
    col[y] = 0
    k = 0 if y != 0 else 1
    col[k] = 4
    sizes = [int(np.sum(col == c)) for c in range(5)]
    return y, k, col, sizes


def cases(v: int) -> list[dict]:
    """The rows for vocabulary ``v``: value tables (before rounding) and their labels."""
    _, _, _, sizes = layout(v)
    n_other = [sizes[1] + sizes[4], sizes[2], sizes[3]]  # the probe has the value OTHERS[0]
    mpmath.mp.dps = DPS
    log_mass = mpmath.log(sum(n * mpmath.exp(o) for n, o in zip(n_other, OTHERS)))
    rows = []
    for offset in OFFSETS:
        for loss in LOSSES:
            # log1p(S) = loss with S = mass * exp(-x_y): x_y = log(mass) - log(expm1(loss))
            x_y = float(log_mass - mpmath.log(mpmath.expm1(loss)))
            rows.append({"kind": "loss", "target": loss, "offset": offset, "x_y": x_y})
        for margin in MARGINS:
            rows.append({"kind": "margin", "target": margin, "offset": offset, "x_y": margin})
    for r in rows:
        x_y, o = r["x_y"], r["offset"]
        r["values"] = [x_y + o, OTHERS[0] + o, OTHERS[1] + o, OTHERS[2] + o, OTHERS[0] + o]
    return rows


def exact(values: list[float], sizes: list[int]) -> tuple:
    """Loss, gradient of the target and of the probe, from the (rounded) value table."""
    mpmath.mp.dps = DPS
    a = mpmath.mpf(values[0])
    terms = [sizes[c] * mpmath.exp(mpmath.mpf(values[c]) - a) for c in range(1, 5)]
    s = mpmath.fsum(terms)
    return mpmath.log1p(s), -s / (1 + s), mpmath.exp(mpmath.mpf(values[4]) - a) / (1 + s)


# --------------------------------------------------------------------------- libraries


def run_logits(fn, x: torch.Tensor, y: int, k: int) -> tuple[np.ndarray, ...]:
    xg = x.clone().requires_grad_()
    target = torch.full((x.shape[0],), y, dtype=torch.long)
    loss = fn(xg, target, reduction="none")
    (grad,) = torch.autograd.grad(loss.sum(), xg)
    return tuple(t.detach().double().numpy() for t in (loss, grad[:, y], grad[:, k]))


def run_linear(fn, table: torch.Tensor, col: np.ndarray, y: int, **kw) -> tuple:
    # input (R, 5) @ weight (V, 5).T: each logit is one value of the table times 1, plus
    # four products with 0, so the logits are exactly the table's values, in any dtype.
    weight = F.one_hot(torch.from_numpy(col), 5).to(table.dtype)
    inp = table.clone().requires_grad_()
    target = torch.full((table.shape[0],), y, dtype=torch.long)
    loss = fn(inp, weight, target, reduction="none", **kw)
    (grad,) = torch.autograd.grad(loss.sum(), inp)
    # d loss / d input[:, c] = sum of the gradients of the logits in column c
    return tuple(t.detach().double().numpy() for t in (loss, grad[:, 0], grad[:, 4]))


def run_scipy(x: torch.Tensor, y: int, k: int) -> tuple:
    ls = scipy.special.log_softmax(x.numpy(), axis=1)
    return tuple(
        np.asarray(t, dtype=np.float64) for t in (-ls[:, y], np.exp(ls[:, y]) - 1, np.exp(ls[:, k]))
    )


def evaluate(name: str, x, table, col, y, k) -> tuple | None:
    if name == "celib.nn.cross_entropy":
        return run_logits(celib.nn.cross_entropy, x, y, k)
    if name == "torch F.cross_entropy":
        return run_logits(F.cross_entropy, x, y, k)
    if name == "celib.nn.linear_cross_entropy":
        return run_linear(celib.nn.linear_cross_entropy, table, col, y)
    if name == "torch F.linear_cross_entropy":
        options = torch.nn.LinearCrossEntropyOptions()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no silent fall-back to the unchunked path
            return run_linear(F.linear_cross_entropy, table, col, y, options=options)
    if name == "scipy log_softmax":
        return None if x.dtype == torch.bfloat16 else run_scipy(x, y, k)
    raise ValueError(name)


# --------------------------------------------------------------------------- errors


def ulp_error(computed: float, ref, dtype: torch.dtype) -> tuple[float, bool]:
    """Error in ulp of ``dtype`` (see the module docstring) and whether all digits are lost."""
    fi = torch.finfo(dtype)
    if not np.isfinite(computed):
        return 1.0 / fi.eps, True
    rel = abs(mpmath.mpf(computed) - ref) / max(abs(ref), mpmath.mpf(fi.tiny))
    rel = float(rel)
    lost = rel >= 1.0
    return min(rel, 1.0) / fi.eps, lost


def study() -> list[dict]:
    records = []
    names = libraries()
    for dname, dtype in DTYPES.items():
        for v in VOCABS:
            y, k, col, sizes = layout(v)
            rows = cases(v)
            table = torch.tensor([r["values"] for r in rows], dtype=torch.float64).to(dtype)
            x = table[:, torch.from_numpy(col)]  # (R, V) logits, exactly the table's values
            rounded = table.double().tolist()
            refs = [exact(vals, sizes) for vals in rounded]
            for name in names:
                out = evaluate(name, x, table, col, y, k)
                if out is None:
                    continue
                for i, r in enumerate(rows):
                    for q, quantity in enumerate(QUANTITIES):
                        ref = refs[i][q]
                        ulp, lost = ulp_error(float(out[q][i]), ref, dtype)
                        records.append({
                            "dtype": dname, "vocab": v, "kind": r["kind"],
                            "target": r["target"], "offset": r["offset"],
                            "margin": rounded[i][0] - rounded[i][1],
                            "library": name, "quantity": quantity,
                            "exact": float(ref), "computed": float(out[q][i]),
                            "ulp_error": ulp, "all_digits_lost": lost,
                        })  # fmt: skip
    return records


# --------------------------------------------------------------------------- output


def summary(records: list[dict]) -> list[dict]:
    """Maximum ulp error per (library, dtype, quantity), and how many cases lost all digits."""
    out = {}
    for r in records:
        key = (r["library"], r["dtype"], r["quantity"])
        s = out.setdefault(key, {"max_ulp": 0.0, "lost": 0, "n": 0})
        s["max_ulp"] = max(s["max_ulp"], r["ulp_error"])
        s["lost"] += r["all_digits_lost"]
        s["n"] += 1
    return [{"library": lib, "dtype": dt, "quantity": q, **s} for (lib, dt, q), s in out.items()]


def format_table(rows: list[dict]) -> str:
    def cell(s):
        if s is None:
            return f"{'n/a':>24}"
        text = f"{s['max_ulp']:.3g}"
        if s["lost"]:
            text += f" ({s['lost']}/{s['n']} lost)"
        return f"{text:>24}"

    index = {(r["library"], r["dtype"], r["quantity"]): r for r in rows}
    libs = list(dict.fromkeys(r["library"] for r in rows))
    lines = []
    for dt in DTYPES:
        lines.append(f"{dt}: max error in ulp (eps = {torch.finfo(DTYPES[dt]).eps:.3g})")
        lines.append(f"  {'':30}" + "".join(f"{q:>24}" for q in QUANTITIES))
        for lib in libs:
            if not any((lib, dt, q) in index for q in QUANTITIES):
                continue
            lines.append(f"  {lib:30}" + "".join(cell(index.get((lib, dt, q))) for q in QUANTITIES))
    return "\n".join(lines)


def write_csv(records: list[dict], path: Path) -> None:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(records[0]))
        w.writeheader()
        for r in records:
            w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})


def plot(records: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from celib.plotting import PALETTE, new_figure

    libs = list(dict.fromkeys(r["library"] for r in records))
    markers = dict(zip(libs, "osD^v"))
    colors = dict(zip(libs, PALETTE))
    titles = {"loss": "loss", "grad_target": "gradient, target", "grad_other": "gradient, other"}
    fig, axes = new_figure(3, 3, width=11, height=9)
    for i, q in enumerate(QUANTITIES):
        for j, (dname, dtype) in enumerate(DTYPES.items()):
            ax = axes[i, j]
            cap = 1.0 / torch.finfo(dtype).eps
            for lib in libs:
                # the worst case over vocabularies and offsets at each target loss
                worst = {}
                for r in records:
                    if (r["library"], r["dtype"], r["quantity"], r["kind"]) == (
                        lib, dname, q, "loss"
                    ):  # fmt: skip
                        worst[r["target"]] = max(worst.get(r["target"], 0.0), r["ulp_error"])
                if not worst:
                    continue
                xs = sorted(worst)
                ys = [max(worst[t], 1e-2) for t in xs]  # exact results drawn at 0.01 ulp
                top = lib.startswith("celib")  # celib drawn over the others
                ax.plot(xs, ys, marker=markers[lib], color=colors[lib], ms=5, lw=1.2,
                        label=lib, alpha=0.85, zorder=3 if top else 2)  # fmt: skip
            ax.axhline(cap, color="0.3", lw=1, ls="--")
            ax.text(1e-29, cap, "no correct digit", va="bottom", fontsize=8, color="0.3")
            ax.set(xscale="log", yscale="log", ylim=(5e-3, cap * 30))
            ax.set_title(f"{titles[q]}, {dname}")
            if i == 2:
                ax.set_xlabel("exact loss")
            if j == 0:
                ax.set_ylabel("max error (ulp)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3)
    fig.savefig(path, dpi=110, facecolor="white")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    t0 = time.perf_counter()
    records = study()
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(records, args.out / "accuracy.csv")
    rows = summary(records)
    write_csv(rows, args.out / "accuracy_summary.csv")
    plot(records, args.out / "accuracy.png")
    print(format_table(rows))
    print(f"{len(records)} values checked in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
