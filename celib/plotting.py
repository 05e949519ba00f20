"""The book's figure style and figure helpers (matplotlib).

Every chapter calls :func:`use_book_style` once; figures then share fonts, sizes and
colours, and keep an opaque white background so they stay legible when the website
is read in dark mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib as mpl

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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
    """
    import matplotlib.pyplot as plt

    use_book_style()
    if ncols < 1 or nrows < 1:
        raise ValueError(f"ncols and nrows must be >= 1, got ncols={ncols}, nrows={nrows}")
    w = width if width is not None else min(4.2 * ncols, 10.0)
    h = height if height is not None else 3.6 * nrows
    return plt.subplots(nrows, ncols, figsize=(w, h), layout="constrained", **kwargs)


def simplex_grid(resolution: int = 120) -> tuple:
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

    Examples
    --------
    >>> from celib.plotting import simplex_grid
    >>> q, xy = simplex_grid(4)
    >>> q.shape, xy.shape
    ((3, 3), (3, 2))
    """
    import numpy as np

    if int(resolution) != resolution or resolution < 3:
        raise ValueError(f"resolution must be an integer >= 3, got {resolution!r}")
    n = int(resolution)
    i, j = np.meshgrid(np.arange(1, n), np.arange(1, n), indexing="ij")
    keep = i + j < n
    i, j = i[keep], j[keep]
    q = np.stack([i, j, n - i - j], axis=1) / n
    return q, simplex_to_xy(q)


def simplex_to_xy(q) -> object:
    """Cartesian position of points of :math:`\\Delta_3` (rows of ``q``) in the triangle."""
    import numpy as np

    q = np.asarray(q, dtype=float)
    return np.stack([q[..., 1] + 0.5 * q[..., 2], (np.sqrt(3) / 2) * q[..., 2]], axis=-1)


def simplex_heatmap(ax: Axes, q, values, *, label: str = "", levels: int = 30, **kwargs):
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
    The contour set.
    """
    import numpy as np

    xy = simplex_to_xy(q)
    cs = ax.tricontourf(xy[:, 0], xy[:, 1], np.asarray(values), levels=levels, **kwargs)
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
