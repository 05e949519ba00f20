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

    Sets the colour cycle to :data:`PALETTE`, white opaque backgrounds (legible on the
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
        Passed to :func:`matplotlib.pyplot.subplots` (e.g. ``subplot_kw``).

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
