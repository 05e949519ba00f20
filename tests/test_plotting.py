"""celib.plotting: the simplex grid and the book style."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from celib import plotting  # noqa: E402


def test_simplex_grid_is_interior_and_normalised():
    q, xy = plotting.simplex_grid(10)
    assert q.shape == (36, 3)  # interior points: (n-1)(n-2)/2
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=1e-15)
    assert (q > 0).all()
    # inside the triangle: y >= 0 and below both slanted edges
    assert (xy[:, 1] > 0).all()
    assert (xy[:, 1] < np.sqrt(3) * xy[:, 0]).all()
    assert (xy[:, 1] < np.sqrt(3) * (1 - xy[:, 0])).all()


def test_simplex_vertices_map_to_triangle_corners():
    xy = plotting.simplex_to_xy(np.eye(3))
    np.testing.assert_allclose(xy, [[0, 0], [1, 0], [0.5, np.sqrt(3) / 2]], atol=1e-15)


def test_simplex_grid_bad_resolution():
    with pytest.raises(ValueError, match="resolution must be >= 3, got 2"):
        plotting.simplex_grid(2)
    for bad in ("abc", None, np.nan, np.inf, 150.0, True):
        with pytest.raises(TypeError, match="resolution must be an integer"):
            plotting.simplex_grid(bad)


def test_figure_helpers_draw():
    fig, ax = plotting.new_figure()
    q, _ = plotting.simplex_grid(20)
    cs = plotting.simplex_heatmap(ax, q, q[:, 0], label="q1")
    assert len(cs.levels) > 2
    assert matplotlib.rcParams["figure.facecolor"] == "white"
    with pytest.raises(ValueError, match="ncols must be >= 1"):
        plotting.new_figure(0)
    with pytest.raises(ValueError, match="height must be > 0"):
        plotting.new_figure(height=-1.0)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_two_column_q_is_refused():
    # issue 11: a 2-column q raised an IndexError deep inside
    with pytest.raises(ValueError, match=r"q must hold points .*shape \(\.\.\., 3\)"):
        plotting.simplex_to_xy(np.full((4, 2), 0.5))
    fig, ax = plotting.new_figure()
    with pytest.raises(ValueError, match="q must hold points"):
        plotting.simplex_heatmap(ax, np.full((4, 2), 0.5), np.zeros(4))
    q, _ = plotting.simplex_grid(5)
    with pytest.raises(ValueError, match=r"values must have shape \(6,\)"):
        plotting.simplex_heatmap(ax, q, np.zeros(5))
    with pytest.raises(ValueError, match="values must be finite"):
        plotting.simplex_heatmap(ax, q, np.full(6, np.inf))
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plotting.simplex_heatmap(None, q, np.zeros(6))
    with pytest.raises(TypeError, match="q must hold real numbers"):
        plotting.simplex_to_xy(np.full((2, 3), 1j))
    import matplotlib.pyplot as plt

    plt.close("all")
