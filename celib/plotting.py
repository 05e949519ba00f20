"""The book's figure style and figure helpers (matplotlib).

Every chapter calls :func:`use_book_style` once; figures then share fonts, sizes and
colours, and keep an opaque white background so they stay legible when the website
is read in dark mode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np

from celib import _checks

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "benchmark_bars",
    "benchmark_table",
    "decision_regions",
    "new_figure",
    "reliability_diagram",
    "simplex_grid",
    "simplex_heatmap",
    "simplex_to_xy",
    "use_book_style",
]

#: The book's colour cycle (colour-blind safe: Okabe & Ito).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)

_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.frameon": False,
    "font.size": 10,
    "lines.linewidth": 2.0,
    "image.cmap": "viridis",
}


def _check_axes(ax: Any, name: str = "ax") -> Axes:
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"{name} must be a matplotlib Axes, got {_checks.describe(ax)}")
    return ax


def _check_text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {_checks.describe(value)}")
    return value


def _check_color(value: Any, name: str) -> Any:
    from matplotlib.colors import is_color_like

    if isinstance(value, str) and not is_color_like(value):
        raise ValueError(f"{name} must be a matplotlib colour, got {value!r}")
    if not isinstance(value, str) and not (
        isinstance(value, tuple) and len(value) in (3, 4) and is_color_like(value)
    ):
        raise TypeError(
            f"{name} must be a matplotlib colour (a string or an RGB(A) tuple), got "
            f"{_checks.describe(value)}"
        )
    return value


def _simplex_points(q: Any, name: str = "q") -> np.ndarray:
    q = _checks.real_array(q, name)
    if q.ndim == 0 or q.shape[-1] != 3:
        raise ValueError(
            f"{name} must hold points of the simplex of 3 outcomes along its last axis "
            f"(shape (..., 3)), got shape {q.shape}"
        )
    return q


def use_book_style() -> None:
    """Apply the book's matplotlib style (idempotent).

    Sets the colour cycle to ``PALETTE``, white opaque backgrounds (legible on the
    website's dark theme), light grids and no top/right spines.

    Examples
    --------
    >>> from celib.plotting import use_book_style
    >>> use_book_style()
    >>> import matplotlib as mpl
    >>> mpl.rcParams["figure.facecolor"]
    'white'
    """
    mpl.rcParams.update(_STYLE)
    mpl.rcParams["axes.prop_cycle"] = mpl.cycler(color=list(PALETTE))


def new_figure(
    ncols: int = 1,
    nrows: int = 1,
    *,
    width: float | None = None,
    height: float | None = None,
    **kwargs,
) -> tuple[Figure, Axes]:
    """Create a figure in the book's style with a grid of axes.

    Parameters
    ----------
    ncols, nrows : int
        Grid of subplots.
    width, height : float, optional
        Size in inches; defaults to 4.2 inches per column (at most 10) and 3.6 per row.
    **kwargs
        Passed to ``matplotlib.pyplot.subplots`` (e.g. ``subplot_kw``).

    Returns
    -------
    (Figure, Axes or array of Axes)

    Raises
    ------
    TypeError
        ``ncols``/``nrows`` not integers, ``width``/``height`` not numbers.
    ValueError
        ``ncols`` or ``nrows`` < 1, ``width`` or ``height`` not positive and finite.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from celib.plotting import new_figure
    >>> fig, axes = new_figure(2, width=6.0, height=3.0)
    >>> len(axes), fig.get_size_inches().tolist()
    (2, [6.0, 3.0])
    """
    import matplotlib.pyplot as plt

    ncols = _checks.count(ncols, "ncols", 1)
    nrows = _checks.count(nrows, "nrows", 1)
    w = (
        min(4.2 * ncols, 10.0)
        if width is None
        else _checks.real_scalar(width, "width", positive=True)
    )
    h = 3.6 * nrows if height is None else _checks.real_scalar(height, "height", positive=True)
    use_book_style()
    return plt.subplots(nrows, ncols, figsize=(w, h), layout="constrained", **kwargs)


def simplex_grid(resolution: int = 120) -> tuple[np.ndarray, np.ndarray]:
    r"""Points of the probability simplex :math:`\Delta_3` and their 2-D positions.

    Returns the barycentric grid :math:`q = (i, j, k)/n` with :math:`i + j + k = n`,
    excluding the boundary (where a cross-entropy can be infinite), and the Cartesian
    coordinates of each point in an equilateral triangle with vertices
    :math:`e_1 = (0, 0)`, :math:`e_2 = (1, 0)`, :math:`e_3 = (1/2, \sqrt{3}/2)`.

    Parameters
    ----------
    resolution : int
        :math:`n`, the number of steps along an edge (at least 3).

    Returns
    -------
    (q, xy) : (ndarray of shape (m, 3), ndarray of shape (m, 2))

    Raises
    ------
    TypeError
        ``resolution`` is not an int (a float, even ``150.0``, a string, None).
    ValueError
        ``resolution < 3``.

    See Also
    --------
    celib.plotting.simplex_heatmap : draws a function of these points.

    Examples
    --------
    >>> from celib.plotting import simplex_grid
    >>> q, xy = simplex_grid(4)
    >>> q.shape, xy.shape
    ((3, 3), (3, 2))
    """
    n = _checks.count(resolution, "resolution", 3)
    i, j = np.meshgrid(np.arange(1, n), np.arange(1, n), indexing="ij")
    keep = i + j < n
    i, j = i[keep], j[keep]
    q = np.stack([i, j, n - i - j], axis=1) / n
    return q, simplex_to_xy(q)


def simplex_to_xy(q: Any) -> np.ndarray:
    r"""Cartesian position of points of :math:`\Delta_3` (rows of ``q``) in the triangle.

    .. math:: (x, y) = \big(q_2 + \tfrac12 q_3,\; \tfrac{\sqrt3}{2} q_3\big),

    so that :math:`e_1, e_2, e_3` go to :math:`(0, 0)`, :math:`(1, 0)` and
    :math:`(1/2, \sqrt3/2)`.

    Parameters
    ----------
    q : array_like of shape (..., 3)
        Points of the simplex (barycentric coordinates) along the last axis.

    Returns
    -------
    ndarray of shape (..., 2)

    Raises
    ------
    TypeError
        Non-numeric or complex ``q``.
    ValueError
        ``q`` without a last axis of length 3, empty, or with NaN/inf.

    Examples
    --------
    >>> from celib.plotting import simplex_to_xy
    >>> simplex_to_xy([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).tolist()
    [[0.0, 0.0], [1.0, 0.0]]
    """
    q = _simplex_points(q)
    return np.stack([q[..., 1] + 0.5 * q[..., 2], (np.sqrt(3) / 2) * q[..., 2]], axis=-1)


def simplex_heatmap(
    ax: Axes, q: Any, values: Any, *, label: str = "", levels: int = 30, **kwargs: Any
) -> Any:
    """Draw ``values`` (one per row of ``q``, a grid of :math:`\\Delta_3`) as a filled map.

    Parameters
    ----------
    ax : matplotlib Axes
    q : ndarray of shape (m, 3)
        Points of the simplex, e.g. from :func:`simplex_grid`.
    values : ndarray of shape (m,)
        The function's values there.
    label : str
        Colour-bar label.
    levels : int
        Number of filled contour levels.
    **kwargs
        Passed to ``Axes.tricontourf``.

    Returns
    -------
    matplotlib.tri.TriContourSet
        The contour set.

    Raises
    ------
    TypeError
        ``ax`` not an Axes, non-numeric ``q`` or ``values``, ``label`` not a string,
        ``levels`` not an int.
    ValueError
        ``q`` not of shape (m, 3), ``values`` not of shape (m,) or with NaN/inf (clip
        infinite cross-entropies first, e.g. ``np.minimum(h, 3.0)``), ``levels < 1``.

    See Also
    --------
    celib.plotting.simplex_grid : the points of the simplex to evaluate on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from celib import entropy
    >>> from celib.plotting import new_figure, simplex_grid, simplex_heatmap
    >>> q, _ = simplex_grid(20)
    >>> fig, ax = new_figure()
    >>> cs = simplex_heatmap(ax, q, entropy(q), label="H(q)")
    >>> len(cs.levels) > 1
    True
    """
    _check_axes(ax)
    q = _simplex_points(q)
    if q.ndim != 2:
        raise ValueError(f"q must have shape (m, 3), got {q.shape}")
    values = _checks.real_array(values, "values", shape=(q.shape[0],))
    label = _check_text(label, "label")
    levels = _checks.count(levels, "levels", 1)
    xy = simplex_to_xy(q)
    cs = ax.tricontourf(xy[:, 0], xy[:, 1], values, levels=levels, **kwargs)
    corners = np.array([[0, 0], [1, 0], [0.5, np.sqrt(3) / 2], [0, 0]])
    ax.plot(corners[:, 0], corners[:, 1], color="black", lw=1)
    for (x, y), name, dx, dy in zip(
        corners[:3], ("$e_1$", "$e_2$", "$e_3$"), (-0.05, 0.05, 0), (-0.04, -0.04, 0.04)
    ):
        ax.annotate(name, (x + dx, y + dy), ha="center", va="center")
    ax.set_aspect("equal")
    ax.axis("off")
    if label:
        ax.figure.colorbar(cs, ax=ax, label=label, shrink=0.8)
    return cs


def reliability_diagram(
    ax: Axes,
    probs: Any,
    targets: Any,
    n_bins: int = 10,
    *,
    color: str | None = None,
    label: str | None = None,
    show_counts: bool = True,
) -> Any:
    r"""Draw a reliability (calibration) diagram of predicted probabilities.

    Bins the predictions with :func:`celib.datasets.calibration_bins` and draws, for
    each non-empty bin, a bar up to the observed frequency of the event, a marker at
    the bin's mean prediction (its *confidence*) on the diagonal's scale, and the
    diagonal itself, where a calibrated model's bars end. The expected calibration
    error goes into the title (Guo et al., 2017).

    Parameters
    ----------
    ax : matplotlib Axes
    probs : array_like of shape (n,)
        Predicted probabilities of the event, in :math:`[0, 1]`.
    targets : array_like of shape (n,)
        Whether the event happened (0 or 1).
    n_bins : int, default 10
        Number of equal-width bins.
    color : str, optional
        Bar colour (default: the first colour of ``PALETTE``).
    label : str, optional
        Name of the model, put in front of the ECE in the title.
    show_counts : bool, default True
        Also draw the share of predictions in each bin as a step line near the bottom
        (on a secondary scale from 0 to 1).

    Returns
    -------
    celib.datasets.CalibrationBins
        The numbers drawn.

    Raises
    ------
    ValueError, TypeError
        As :func:`celib.datasets.calibration_bins`; TypeError also for an ``ax`` that
        is not an Axes, a ``label`` that is not a string, a ``show_counts`` that is not
        a bool; ``color`` that is not a matplotlib colour.

    See Also
    --------
    celib.datasets.calibration_bins : the numbers, without the figure.

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of modern neural
    networks", *ICML* (2017), 1321-1330.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from celib.plotting import new_figure, reliability_diagram
    >>> fig, ax = new_figure()
    >>> bins = reliability_diagram(ax, [0.1, 0.2, 0.8, 0.9], [0, 1, 1, 1], n_bins=2)
    >>> bins.count.tolist()
    [2, 2]
    """
    from celib.datasets import calibration_bins

    _check_axes(ax)
    color = PALETTE[0] if color is None else _check_color(color, "color")
    label = None if label is None else _check_text(label, "label")
    show_counts = _checks.flag(show_counts, "show_counts")
    bins = calibration_bins(probs, targets, n_bins)
    full = bins.count > 0
    left, width = bins.edges[:-1][full], np.diff(bins.edges)[full]
    ax.bar(
        left,
        bins.frequency[full],
        width=width,
        align="edge",
        color=color,
        alpha=0.75,
        edgecolor="white",
        label="observed frequency",
    )
    ax.plot(
        bins.confidence[full],
        bins.confidence[full],
        "o",
        color=PALETTE[1],
        ms=4,
        label="mean prediction",
    )
    ax.plot([0, 1], [0, 1], "--", color="0.3", lw=1, label="calibrated")
    if show_counts:
        share = bins.count / bins.count.sum()
        ax.stairs(0.25 * share / share.max(), bins.edges, color="0.4", lw=1, label="bin size")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed frequency")
    name = f"{label}: " if label else ""
    ax.set_title(f"{name}ECE = {bins.ece:.3f}")
    return bins


def decision_regions(
    ax: Axes,
    predict_fn: Callable[[np.ndarray], Any],
    points: Any,
    labels: Any,
    *,
    resolution: int = 200,
    padding: float = 0.5,
    levels: tuple[float, ...] = (0.5, 0.9),
) -> np.ndarray:
    r"""Draw the decision regions of a classifier of points in the plane.

    Evaluates ``predict_fn`` on a ``resolution`` by ``resolution`` grid that covers the
    ``points`` (plus ``padding``), colours each grid point by its predicted class
    :math:`\arg\max_j y_j` (light shades of ``PALETTE``), draws the contour lines where
    the largest probability :math:`\max_j y_j` equals each of ``levels``, and scatters
    the points in their true classes' colours.

    Parameters
    ----------
    ax : matplotlib Axes
    predict_fn : callable
        Maps an ndarray of shape (m, 2) to class probabilities of shape (m, k), one
        row per point (numpy or anything ``numpy.asarray`` accepts).
    points : array_like of shape (n, 2)
        The data points (features :math:`a_i` in the plane).
    labels : array_like of shape (n,)
        Their classes, integers in ``0 .. k - 1`` (at most ``len(PALETTE)`` classes).
    resolution : int, default 200
        Grid points per axis (at least 2).
    padding : float, default 0.5
        Margin around the data, in data units.
    levels : tuple of float, default (0.5, 0.9)
        Confidence levels whose contours are drawn (empty for none).

    Returns
    -------
    ndarray of shape (resolution, resolution)
        The predicted class on the grid (rows along the second coordinate).

    Raises
    ------
    TypeError
        ``ax`` not an Axes, ``predict_fn`` not callable, non-numeric or complex ``points``,
        labels that are not integers (``1.5`` is no class), ``resolution`` not an int,
        ``padding`` or a level not a number.
    ValueError
        ``points`` not of shape (n, 2) or with NaN/inf, ``labels`` of another length or
        negative, more classes than colours, a label without a column of
        ``predict_fn``'s output, ``predict_fn`` returning the wrong shape or rows that
        are not probabilities (NaN, negative, not summing to 1), ``resolution < 2``,
        negative ``padding``, levels outside (0, 1].

    See Also
    --------
    celib.datasets.gaussian_blobs : labelled points in the plane to classify.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from celib.plotting import decision_regions, new_figure
    >>> fig, ax = new_figure()
    >>> def predict(z):
    ...     p1 = 1 / (1 + np.exp(-z[:, 0]))
    ...     return np.stack([1 - p1, p1], axis=1)
    >>> regions = decision_regions(ax, predict, [[-1.0, 0.0], [1.0, 0.0]], [0, 1])
    >>> regions.shape, sorted(np.unique(regions).tolist())
    ((200, 200), [0, 1])
    """
    from matplotlib.colors import ListedColormap

    _check_axes(ax)
    _checks.check_callable(predict_fn, "predict_fn", "a function of points (m, 2)")
    x = _checks.real_array(points, "points", shape=(None, 2))
    labels = _checks.label_array(labels, "labels")
    if labels.shape != (x.shape[0],):
        raise ValueError(f"labels must have shape ({x.shape[0]},), got {labels.shape}")
    resolution = _checks.count(resolution, "resolution", 2)
    padding = _checks.real_scalar(padding, "padding", nonnegative=True)
    if not isinstance(levels, tuple | list):
        raise TypeError(f"levels must be a tuple of numbers, got {_checks.describe(levels)}")
    levels = tuple(_checks.real_scalar(v, "levels", positive=True) for v in levels)
    if any(v > 1 for v in levels):
        raise ValueError(f"levels must lie in (0, 1] (they are probabilities), got {levels}")
    lo, hi = x.min(axis=0) - padding, x.max(axis=0) + padding
    g0, g1 = np.meshgrid(
        np.linspace(lo[0], hi[0], int(resolution)), np.linspace(lo[1], hi[1], int(resolution))
    )
    grid = np.stack([g0.ravel(), g1.ravel()], axis=1)
    probs = _checks.real_array(predict_fn(grid), "predict_fn's output", finite=False)
    if probs.ndim != 2 or probs.shape[0] != grid.shape[0]:
        raise ValueError(
            f"predict_fn must return probabilities of shape (m, k) for m = {grid.shape[0]} "
            f"points, got {probs.shape}"
        )
    _checks.check_probabilities(np, probs, "predict_fn's output", axis=1)
    k = probs.shape[1]
    if labels.max() >= k:
        raise ValueError(
            f"labels must be < {k}, the number of classes predict_fn returns, got "
            f"{int(labels.max())}"
        )
    if k > len(PALETTE):
        raise ValueError(f"at most {len(PALETTE)} classes can be coloured, got {k}")
    colours = ListedColormap(PALETTE[:k])
    region = probs.argmax(axis=1).reshape(g0.shape)
    ax.pcolormesh(g0, g1, region, cmap=colours, vmin=-0.5, vmax=k - 0.5, alpha=0.2, shading="auto")
    if levels:
        conf = probs.max(axis=1).reshape(g0.shape)
        cs = ax.contour(g0, g1, conf, levels=sorted(levels), colors="0.25", linewidths=0.8)
        ax.clabel(cs, fmt="%.2g", fontsize=8)
    ax.scatter(
        x[:, 0],
        x[:, 1],
        c=labels,
        cmap=colours,
        vmin=-0.5,
        vmax=k - 0.5,
        s=12,
        edgecolors="white",
        linewidths=0.4,
    )
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    return region


# ------------------------------------------------------------------------ benchmarks


def _check_benchmark(label: str, result: object) -> dict:
    """``result`` if it is a benchmark summary; ``label`` names it in messages."""
    if not isinstance(result, dict) or not isinstance(result.get("cases"), dict):
        raise TypeError(
            f"{label} must be a benchmark summary (a dict with 'cases', as written "
            f"by benchmarks/_harness.py), got {_checks.describe(result)}"
        )
    cases = result["cases"]
    if not cases:
        raise ValueError(f"{label} has no cases")
    baseline = result.get("baseline")
    if baseline not in cases:
        raise ValueError(f"{label}: baseline {baseline!r} is not one of its cases")
    for case, r in cases.items():
        missing = {"time_s", "peak_extra_bytes", "time_ratio", "memory_ratio"} - set(r)
        if missing:
            raise ValueError(f"{label}, case {case!r} lacks {sorted(missing)}")
    return result


def benchmark_table(name: str, result: dict) -> str:
    r"""A benchmark summary as a fixed-width text table (at most 80 columns).

    One line per case: the median time, the peak extra memory, and both as ratios
    :math:`t / t_{\mathrm{base}}` and :math:`m / m_{\mathrm{base}}` against the
    baseline case; then, if the summary has a ``lower_bound_bytes``, each case's peak
    extra memory over that lower bound.

    Parameters
    ----------
    name : str
        Title of the table (e.g. the file name).
    result : dict
        A summary written by ``benchmarks/_harness.py``: ``cases`` maps each case to
        ``time_s``, ``peak_extra_bytes``, ``time_ratio``, ``memory_ratio``; ``baseline``
        names one case; optional ``dtype``, ``device``, ``shape``, ``lower_bound_bytes``.

    Returns
    -------
    str

    Raises
    ------
    TypeError, ValueError
        If ``result`` is not such a summary.

    Examples
    --------
    >>> from celib.plotting import benchmark_table
    >>> r = {"baseline": "torch", "cases": {
    ...     "torch": {"time_s": 0.5, "peak_extra_bytes": 1.6e9, "time_ratio": 1.0,
    ...               "memory_ratio": 1.0},
    ...     "celib": {"time_s": 0.2, "peak_extra_bytes": 0.5e9, "time_ratio": 0.4,
    ...               "memory_ratio": 0.3125}}}
    >>> print(benchmark_table("demo", r))
    demo
      case                             time    x base  peak extra    x base
      torch                          0.500s      1.00    1.600 GB      1.00
      celib                          0.200s      0.40    0.500 GB      0.31
      (x base: ratio to torch)
    """
    name = _check_text(name, "name")
    result = _check_benchmark(f"result ({name!r})", result)
    head = name
    if "dtype" in result and "device" in result:
        shape = ", ".join(f"{k} = {v}" for k, v in result.get("shape", {}).items())
        head += f": {result['dtype']} on {result['device']}" + (f", {shape}" if shape else "")
    lines = [head, f"  {'case':<30} {'time':>6} {'x base':>9} {'peak extra':>11} {'x base':>9}"]
    for case, r in result["cases"].items():
        lines.append(
            f"  {case:<30} {r['time_s']:5.3f}s {r['time_ratio']:9.2f} "
            f"{r['peak_extra_bytes'] / 1e9:8.3f} GB {r['memory_ratio']:9.2f}"
        )
    lines.append(f"  (x base: ratio to {result['baseline']})")
    if "lower_bound_bytes" in result:
        bound = result["lower_bound_bytes"]
        lines.append(f"  peak extra memory / lower bound ({bound / 1e9:.3f} GB):")
        for case, r in result["cases"].items():
            lines.append(f"    {case:<30} {r['peak_extra_bytes'] / bound:6.2f}x")
    return "\n".join(lines)


def benchmark_bars(results: dict[str, dict]) -> Figure:
    """Bar charts of benchmark summaries: time and peak extra memory against the baseline.

    One row per summary, two columns (time ratio, memory ratio), within the book's text
    column (6.8 in, so that labels stay readable on the page); celib's cases in blue,
    the baseline in vermillion, other cases in green; a dashed line at 1 (the
    baseline) and, where the summary has ``lower_bound_bytes``, a dotted line at the
    lower bound of the memory.

    Parameters
    ----------
    results : dict
        Title -> summary, as accepted by :func:`benchmark_table`.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``results`` is empty; TypeError/ValueError for a malformed summary.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from celib.plotting import benchmark_bars
    >>> case = {"time_s": 0.5, "peak_extra_bytes": 1.6e9, "time_ratio": 1.0,
    ...         "memory_ratio": 1.0}
    >>> fig = benchmark_bars({"demo": {"baseline": "torch", "cases": {"torch": case}}})
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['time / torch', 'memory / torch']
    """
    if not isinstance(results, Mapping):
        raise TypeError(
            f"results must be a dict of title -> benchmark summary, got {_checks.describe(results)}"
        )
    if not results:
        raise ValueError("results is empty: give at least one benchmark summary")
    for name, result in results.items():
        _check_benchmark(f"results[{name!r}]", result)
    fig, axes = new_figure(
        2, len(results), width=6.8, height=0.6 + 2.4 * len(results), squeeze=False
    )
    for row, (name, result) in enumerate(results.items()):
        cases = list(result["cases"])
        base = result["baseline"]
        colors = [
            PALETTE[0] if c.startswith("celib") else PALETTE[1] if c == base else PALETTE[2]
            for c in cases
        ]
        for col, (key, label) in enumerate((("time_ratio", "time"), ("memory_ratio", "memory"))):
            ax = axes[row, col]
            values = [result["cases"][c][key] for c in cases]
            bars = ax.barh(range(len(cases)), values, color=colors)
            ax.bar_label(bars, fmt="%.2f", padding=3)
            ax.axvline(1.0, color="0.3", lw=1, ls="--")
            ax.set_xlim(0, 1.25 * max(values))
            if key == "memory_ratio" and "lower_bound_bytes" in result:
                bound = result["lower_bound_bytes"] / result["cases"][base]["peak_extra_bytes"]
                ax.axvline(bound, color=PALETTE[3], lw=1.5, ls=":", label="lower bound")
                ax.legend(loc="upper right")
            ax.set_yticks(range(len(cases)), cases if col == 0 else [""] * len(cases))
            ax.set_xlabel(f"{label} / {base}")
            ax.set_title(f"{name}: {label}", fontsize=10)
    return fig
