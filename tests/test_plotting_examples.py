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
        ([[0.0, 1.0, 2.0]], [0], None, {}, r"x must have shape \(n, 2\)"),
        ([[0.0, 1.0]], [0, 1], None, {}, r"labels must have shape \(1,\)"),
        ([[0.0, 1.0]], [0], lambda z: z[:, 0], {}, "predict_fn must return probabilities"),
        ([[0.0, 1.0]], [0], None, {"resolution": 1}, "resolution must be an integer >= 2"),
        ([[0.0, 1.0]], [9], None, {}, "at most 7 classes can be coloured"),
    ],
)
def test_decision_regions_bad_input(x, labels, predict, kwargs, match):
    fig, ax = plotting.new_figure()
    predict = predict or (lambda z: np.full((len(z), 2), 0.5))
    with pytest.raises(ValueError, match=match):
        plotting.decision_regions(ax, predict, x, labels, **kwargs)
