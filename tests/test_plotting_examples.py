"""celib.plotting: the figure helpers of the Bernoulli and multinomial chapters."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from scipy import special  # noqa: E402

from celib import plotting  # noqa: E402
from celib.datasets import calibration_bins  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------ reliability_diagram


def test_reliability_diagram_draws_the_bins():
    rng = np.random.default_rng(0)
    p = rng.random(2000)
    t = (rng.random(p.size) < p).astype(int)
    fig, ax = plotting.new_figure()
    bins = plotting.reliability_diagram(ax, p, t, n_bins=8, label="model")
    ref = calibration_bins(p, t, 8)
    np.testing.assert_array_equal(bins.count, ref.count)
    assert bins.ece == ref.ece
    # one bar per non-empty bin, as tall as the observed frequency
    heights = [patch.get_height() for patch in ax.patches if isinstance(patch, Rectangle)]
    np.testing.assert_allclose(heights, ref.frequency[ref.count > 0])
    assert ax.get_title() == f"model: ECE = {ref.ece:.3f}"
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 1.0)


def test_reliability_diagram_skips_empty_bins_and_counts():
    fig, ax = plotting.new_figure()
    bins = plotting.reliability_diagram(ax, [0.05, 0.95, 0.95], [0, 1, 0], show_counts=False)
    assert bins.count.sum() == 3
    assert len(ax.patches) == 2  # bars for the two non-empty bins only
    assert ax.get_title().startswith("ECE = ")


def test_reliability_diagram_bad_input():
    fig, ax = plotting.new_figure()
    with pytest.raises(ValueError, match=r"probs must lie in \[0, 1\]"):
        plotting.reliability_diagram(ax, [2.0], [1])


# --------------------------------------------------------------------- decision_regions


def _softmax_model(weights, bias):
    def predict(z):
        return special.softmax(z @ np.asarray(weights).T + bias, axis=1)

    return predict


def test_decision_regions_follow_the_argmax():
    weights = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0]])
    bias = np.zeros(3)
    x = np.array([[-3.0, -3.0], [3.0, 3.0], [0.0, 0.0]])
    fig, ax = plotting.new_figure()
    region = plotting.decision_regions(
        ax, _softmax_model(weights, bias), x, [0, 1, 2], resolution=50
    )
    assert region.shape == (50, 50)
    # rebuild the grid and compare with an independent argmax of the logits
    g0, g1 = np.meshgrid(np.linspace(-3.5, 3.5, 50), np.linspace(-3.5, 3.5, 50))
    logits = np.stack([g0, -g0, 2 * g1], axis=-1)
    np.testing.assert_array_equal(region, logits.argmax(axis=-1))
    assert set(np.unique(region)) == {0, 1, 2}
    assert ax.get_xlim() == (-3.5, 3.5)


def test_decision_regions_without_contours():
    fig, ax = plotting.new_figure()
    region = plotting.decision_regions(
        ax, lambda z: np.tile([0.2, 0.8], (len(z), 1)), [[0.0, 1.0]], [1], levels=()
    )
    assert (region == 1).all()


@pytest.mark.parametrize(
    ("x", "labels", "predict", "kwargs", "match"),
    [
        ([[0.0, 1.0, 2.0]], [0], None, {}, r"points must have shape \(n, 2\)"),
        ([[0.0, 1.0]], [0, 1], None, {}, r"labels must have shape \(1,\)"),
        ([[0.0, 1.0]], [0], lambda z: z[:, 0], {}, "predict_fn must return probabilities"),
        ([[0.0, 1.0]], [0], None, {"resolution": 1}, "resolution must be >= 2"),
        (
            [[0.0, 1.0]],
            [8],
            lambda z: np.full((len(z), 9), 1 / 9),
            {},
            "at most 7 classes can be coloured",
        ),
        # issue 11: labels without a class, or predictions that are not probabilities
        ([[0.0, 1.0]], [-1], None, {}, "labels must be class labels >= 0, got -1"),
        ([[0.0, 1.0]], [2], None, {}, "labels must be < 2"),
        ([[0.0, 1.0]], [0], lambda z: np.full((len(z), 2), np.nan), {}, "predict_fn's out"),
        ([[0.0, 1.0]], [0], lambda z: np.full((len(z), 2), 0.7), {}, "not normalised"),
        ([[0.0, 1.0]], [0], None, {"levels": (0.5, 2.0)}, r"levels must lie in \(0, 1\]"),
        ([[0.0, 1.0]], [0], None, {"padding": -1.0}, "padding must be >= 0"),
    ],
)
def test_decision_regions_bad_input(x, labels, predict, kwargs, match):
    fig, ax = plotting.new_figure()
    predict = predict or (lambda z: np.full((len(z), 2), 0.5))
    with pytest.raises(ValueError, match=match):
        plotting.decision_regions(ax, predict, x, labels, **kwargs)


@pytest.mark.parametrize(
    ("labels", "kwargs", "match"),
    [
        ([0.0], {}, "labels must hold integer class labels, got dtype float64"),
        ([True], {}, "labels must hold integer class labels"),
        (["a"], {}, "labels must hold real numbers"),
        ([0], {"resolution": "abc"}, "resolution must be an integer, got 'abc'"),
        ([0], {"resolution": None}, "resolution must be an integer, got None"),
        ([0], {"resolution": np.nan}, "resolution must be an integer, got nan"),
        ([0], {"resolution": np.inf}, "resolution must be an integer, got inf"),
        ([0], {"levels": 0.5}, "levels must be a tuple"),
    ],
)
def test_decision_regions_bad_types(labels, kwargs, match):
    fig, ax = plotting.new_figure()
    with pytest.raises(TypeError, match=match):
        plotting.decision_regions(
            ax, lambda z: np.full((len(z), 2), 0.5), [[0.0, 1.0]], labels, **kwargs
        )


# ------------------------------------------------------------------ benchmark summaries


def _summary(lower_bound=None):
    cases = {
        "torch F.cross_entropy": {"time_s": 0.5, "peak_extra_bytes": 1.6e9},
        "celib.nn.cross_entropy": {"time_s": 0.2, "peak_extra_bytes": 0.4e9},
    }
    base = cases["torch F.cross_entropy"]
    for r in cases.values():
        r["time_ratio"] = r["time_s"] / base["time_s"]
        r["memory_ratio"] = r["peak_extra_bytes"] / base["peak_extra_bytes"]
    out = {"baseline": "torch F.cross_entropy", "cases": cases, "dtype": "float32",
           "device": "cpu", "shape": {"N": 4, "C": 8}}  # fmt: skip
    if lower_bound is not None:
        out["lower_bound_bytes"] = lower_bound
    return out


def test_benchmark_table_lines_and_ratios():
    text = plotting.benchmark_table("x.json", _summary(lower_bound=0.2e9))
    lines = text.splitlines()
    assert lines[0] == "x.json: float32 on cpu, N = 4, C = 8"
    assert max(len(line) for line in lines) <= 80
    celib_line = next(line for line in lines if line.strip().startswith("celib") and "s " in line)
    assert celib_line.split()[1:] == ["0.200s", "0.40", "0.400", "GB", "0.25"]
    assert lines[-1].split() == ["celib.nn.cross_entropy", "2.00x"]  # 0.4 GB / 0.2 GB


def test_benchmark_bars_draws_the_ratios():
    fig = plotting.benchmark_bars({"a": _summary(), "b": _summary(lower_bound=0.2e9)})
    axes = fig.axes
    assert len(axes) == 4
    widths = [p.get_width() for p in axes[0].patches]
    assert widths == pytest.approx([1.0, 0.4])
    memory_b = axes[3]
    assert [p.get_width() for p in memory_b.patches] == pytest.approx([1.0, 0.25])
    # the dotted lower bound sits at 0.2 GB / 1.6 GB of the baseline
    assert any(line.get_xdata()[0] == pytest.approx(0.125) for line in memory_b.lines)


def test_benchmark_helpers_reject_bad_summaries():
    with pytest.raises(TypeError, match="benchmark summary"):
        plotting.benchmark_table("x", {"cases": []})
    bad = _summary()
    bad["baseline"] = "nope"
    with pytest.raises(ValueError, match="baseline 'nope'"):
        plotting.benchmark_table("x", bad)
    bad = _summary()
    del bad["cases"]["celib.nn.cross_entropy"]["time_ratio"]
    with pytest.raises(ValueError, match="lacks"):
        plotting.benchmark_bars({"x": bad})
    with pytest.raises(ValueError, match="empty"):
        plotting.benchmark_bars({})
