"""The value types of :mod:`celib.measure`: estimates, reference measures, mixed laws.

They live here (and are re-exported by :mod:`celib.measure`, whose name they carry) so
that the private numerical modules can use them without a circular import.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from scipy import integrate, stats
from scipy.stats.distributions import rv_frozen

__all__ = ["Estimate", "Mixed", "ReferenceMeasure", "dirac", "lebesgue"]


@dataclass(frozen=True)
class Estimate:
    r"""A Monte Carlo estimate with its standard error.

    For i.i.d. terms :math:`Y_1, \dots, Y_n` (for the cross-entropy
    :math:`Y_i = -\log q(X_i)` with :math:`X_i \sim P`) the estimate is the sample mean
    :math:`\bar Y_n` and the standard error is :math:`s_n / \sqrt{n}`, with :math:`s_n`
    the sample standard deviation (divisor :math:`n - 1`). By the central limit theorem
    :math:`\bar Y_n \pm z_{(1+\text{level})/2}\, s_n/\sqrt{n}` covers the true value with
    probability close to ``level`` when :math:`\operatorname{Var} Y < \infty`.

    An infinite value (``P`` not dominated by ``Q``) is exact: its ``stderr`` is 0.

    Attributes
    ----------
    value : float
        The estimate (sample mean).
    stderr : float
        Its standard error, :math:`s_n / \sqrt{n}`.
    n : int
        The number of samples.

    Examples
    --------
    >>> from celib.measure import Estimate
    >>> est = Estimate(value=1.5, stderr=0.01, n=10_000)
    >>> f"{est:.3f}"
    '1.500 ± 0.010 (n=10000)'
    >>> [round(x, 4) for x in est.ci(0.95)]
    [1.4804, 1.5196]
    """

    value: float
    stderr: float
    n: int

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        r"""Normal-approximation confidence interval :math:`\bar Y \pm z\,\mathrm{se}`.

        Parameters
        ----------
        level : float
            Coverage probability, in (0, 1).

        Returns
        -------
        (float, float)
            Lower and upper end.

        Raises
        ------
        ValueError
            If ``level`` is not in (0, 1).
        """
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        if self.stderr == 0.0:
            return (self.value, self.value)
        z = NormalDist().inv_cdf(0.5 + level / 2.0)
        return (self.value - z * self.stderr, self.value + z * self.stderr)

    def __float__(self) -> float:
        return float(self.value)

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        return f"{self.value:{spec}} ± {self.stderr:{spec}} (n={self.n})"


@dataclass(frozen=True)
class ReferenceMeasure:
    r"""A reference measure on :math:`\mathbb{R}`: counting measure on atoms, plus Lebesgue.

    :math:`\nu = \sum_{a \in A} \delta_a + c\,\lambda` with a finite set of atoms
    :math:`A` and :math:`c \in \{0, 1\}`. Build one with :func:`dirac` and
    :func:`lebesgue` and add them: ``dirac(0) + lebesgue()`` is
    :math:`\nu = \delta_0 + \lambda`, the dominating measure of a zero-inflated model.
    Integrals against a sum of measures are sums of integrals,

    .. math::
        \int f \, d\nu = \sum_{a \in A} f(a) + c \int f(x)\, dx .

    Attributes
    ----------
    atoms : tuple of float
        The points carrying a unit mass (sorted, without repeats).
    lebesgue : bool
        Whether Lebesgue measure is part of the sum.

    Examples
    --------
    >>> import numpy as np
    >>> from celib.measure import dirac, lebesgue
    >>> nu = dirac(0) + lebesgue()
    >>> print(nu)
    δ(0) + λ
    >>> f"{nu.integrate(lambda x: np.exp(-np.abs(x)), 0, np.inf):.6f}"
    '2.000000'
    """

    atoms: tuple[float, ...] = ()
    lebesgue: bool = False

    def __post_init__(self) -> None:
        atoms = tuple(sorted({float(a) for a in self.atoms}))
        if not all(math.isfinite(a) for a in atoms):
            raise ValueError(f"atoms must be finite numbers, got {self.atoms!r}")
        object.__setattr__(self, "atoms", atoms)
        object.__setattr__(self, "lebesgue", bool(self.lebesgue))

    def __add__(self, other: ReferenceMeasure) -> ReferenceMeasure:
        if not isinstance(other, ReferenceMeasure):
            return NotImplemented
        return ReferenceMeasure(self.atoms + other.atoms, self.lebesgue or other.lebesgue)

    def __str__(self) -> str:
        parts = [f"δ({a:g})" for a in self.atoms]
        if self.lebesgue:
            parts.append("λ")
        return " + ".join(parts) if parts else "0"

    def integrate(
        self,
        f: Callable[[np.ndarray], Any],
        a: float = -math.inf,
        b: float = math.inf,
        *,
        points: Sequence[float] = (),
        rtol: float = 1e-10,
    ) -> float:
        r"""The integral :math:`\int_{[a, b]} f\, d\nu`.

        The atoms in :math:`[a, b]` contribute :math:`f(\text{atom})`; the Lebesgue part
        is computed by tanh-sinh quadrature (``scipy.integrate.tanhsinh``), split at
        the atoms and at ``points`` (where ``f`` is not smooth).

        Parameters
        ----------
        f : callable
            Vectorised: takes a float array, returns an array of the same shape.
        a, b : float
            Integration limits (may be infinite).
        points : sequence of float
            Extra break points for the quadrature.
        rtol : float
            Relative tolerance of the quadrature.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            If ``a > b``, or the quadrature does not reach ``rtol`` (the message says
            what it reached).
        """
        if not a <= b:
            raise ValueError(f"need a <= b, got a={a!r}, b={b!r}")
        total = math.fsum(float(np.asarray(f(np.asarray(x)))) for x in self.atoms if a <= x <= b)
        if self.lebesgue and a < b:
            cuts = sorted({float(x) for x in (*self.atoms, *points) if a < x < b})
            edges = np.array([a, *cuts, b], dtype=float)
            res = integrate.tanhsinh(lambda x: f(x), edges[:-1], edges[1:], rtol=rtol * 1e-2)
            value = math.fsum(np.atleast_1d(res.integral))
            err = float(np.sum(res.error))
            if not math.isfinite(value) or err > rtol * abs(value) + 1e-300:
                raise ValueError(
                    f"the Lebesgue integral did not converge to rtol={rtol:g} "
                    f"(value {value!r}, error estimate {err:.3g}); give the points where "
                    "f is not smooth in `points`"
                )
            total += value
        return total


def dirac(*points: float) -> ReferenceMeasure:
    r"""Counting measure on the given points: :math:`\delta_{a_1} + \dots + \delta_{a_k}`.

    Parameters
    ----------
    *points : float
        Finite points.

    Returns
    -------
    ReferenceMeasure

    Examples
    --------
    >>> from celib.measure import dirac
    >>> print(dirac(0, 1))
    δ(0) + δ(1)
    """
    return ReferenceMeasure(atoms=tuple(points), lebesgue=False)


def lebesgue() -> ReferenceMeasure:
    r"""Lebesgue measure :math:`\lambda` on :math:`\mathbb{R}`.

    Returns
    -------
    ReferenceMeasure

    Examples
    --------
    >>> from celib.measure import lebesgue
    >>> print(lebesgue())
    λ
    """
    return ReferenceMeasure(atoms=(), lebesgue=True)


class Mixed:
    r"""A law on :math:`\mathbb{R}` with point masses and a continuous part.

    .. math::
        P = \sum_{k} w_k\, \delta_{a_k} + w_c\, C, \qquad w_c = 1 - \sum_k w_k,

    with :math:`C` a continuous distribution (density :math:`c` with respect to
    Lebesgue measure). :math:`P` has no density with respect to Lebesgue measure (its
    atoms have positive mass) nor with respect to a counting measure (its continuous
    part gives zero mass to every point), but it is dominated by the sum
    :math:`\nu = \sum_k \delta_{a_k} + \lambda` (:attr:`dominating_measure`), where its
    Radon–Nikodym derivative is

    .. math::
        p(x) = \frac{dP}{d\nu}(x) =
        \begin{cases} w_k & x = a_k, \\ w_c\, c(x) & \text{otherwise.} \end{cases}

    A zero-inflated model is ``Mixed({0.0: pi}, C)``.

    Parameters
    ----------
    atoms : mapping float -> float
        Point masses ``{a_k: w_k}``, with ``w_k >= 0`` and ``sum(w_k) <= 1``.
    continuous : frozen scipy.stats continuous distribution, optional
        The continuous part :math:`C`; required when the atom weights sum to less
        than 1.

    Raises
    ------
    TypeError
        If ``continuous`` is not a frozen one-dimensional continuous scipy.stats
        distribution, or ``atoms`` is not a mapping.
    ValueError
        If an atom or weight is not finite, a weight is negative, the weights sum to
        more than 1, or to less than 1 without a continuous part (tolerance 1e-12).

    Examples
    --------
    >>> from scipy import stats
    >>> from celib.measure import Mixed
    >>> P = Mixed({0.0: 0.3}, stats.expon(scale=2.0))  # zero-inflated exponential
    >>> print(P.dominating_measure)
    δ(0) + λ
    >>> [round(float(d), 6) for d in P.density([0.0, 1.0])]
    [0.3, 0.212286]
    """

    def __init__(self, atoms: Mapping[float, float] | None = None, continuous: Any = None) -> None:
        atoms = {} if atoms is None else atoms
        if not isinstance(atoms, Mapping):
            raise TypeError(
                f"atoms must be a mapping {{point: weight}}, got {type(atoms).__name__}"
            )
        pts = np.array([float(a) for a in atoms.keys()], dtype=float)
        wts = np.array([float(w) for w in atoms.values()], dtype=float)
        if not (np.all(np.isfinite(pts)) and np.all(np.isfinite(wts))):
            raise ValueError(f"atoms: points and weights must be finite, got {dict(atoms)!r}")
        if np.any(wts < 0):
            raise ValueError(f"atoms: weights must be >= 0 (negative mass), got {wts.tolist()}")
        total = math.fsum(wts.tolist())
        if total > 1.0 + 1e-12:
            raise ValueError(f"atoms: weights must sum to at most 1, got {total!r}")
        keep = wts > 0
        order = np.argsort(pts[keep])
        self._points = pts[keep][order]
        self._weights = wts[keep][order]
        w_c = max(0.0, 1.0 - total)
        if continuous is not None:
            if not (
                isinstance(continuous, rv_frozen)
                and isinstance(continuous.dist, stats.rv_continuous)
            ):
                raise TypeError(
                    "continuous must be a frozen one-dimensional continuous scipy.stats "
                    f"distribution such as stats.gamma(2.0), got {type(continuous).__name__}"
                )
        elif w_c > 1e-12:
            raise ValueError(
                f"atoms: weights sum to {total!r} < 1 and there is no continuous part; "
                "give `continuous` or weights that sum to 1"
            )
        if w_c <= 1e-12 and continuous is None:
            w_c = 0.0
        self.continuous = continuous
        self.continuous_weight = w_c if continuous is not None else 0.0

    @property
    def atoms(self) -> dict[float, float]:
        """The point masses ``{a_k: w_k}`` (positive weights only)."""
        return dict(zip(self._points.tolist(), self._weights.tolist(), strict=True))

    @property
    def dominating_measure(self) -> ReferenceMeasure:
        r""":math:`\nu = \sum_k \delta_{a_k}` (+ :math:`\lambda` if there is a continuous part)."""
        return ReferenceMeasure(tuple(self._points.tolist()), self.continuous_weight > 0)

    def density(self, x: Any, nu: ReferenceMeasure | None = None) -> np.ndarray:
        r"""The Radon–Nikodym derivative :math:`dP/d\nu` at ``x``.

        At an atom :math:`a` of :math:`\nu` it is :math:`P(\{a\})` (0 if ``a`` is not an
        atom of :math:`P`); elsewhere it is :math:`w_c\, c(x)`.

        Parameters
        ----------
        x : array_like
            Points.
        nu : ReferenceMeasure, optional
            The reference measure; default :attr:`dominating_measure`. It must dominate
            :math:`P`.

        Returns
        -------
        numpy.ndarray

        Raises
        ------
        ValueError
            If ``nu`` does not dominate ``P`` (an atom of ``P`` is not an atom of
            ``nu``, or ``P`` has a continuous part and ``nu`` has no Lebesgue part).
        """
        nu = self.dominating_measure if nu is None else nu
        if not isinstance(nu, ReferenceMeasure):
            raise TypeError(f"nu must be a ReferenceMeasure, got {type(nu).__name__}")
        missing = set(self._points.tolist()) - set(nu.atoms)
        if missing or (self.continuous_weight > 0 and not nu.lebesgue):
            raise ValueError(f"nu = {nu} does not dominate P = {self!r}")
        x = np.asarray(x, dtype=float)
        out = np.zeros_like(x)
        if self.continuous_weight > 0:
            out = self.continuous_weight * self.continuous.pdf(x)
        nu_atoms = np.array(nu.atoms, dtype=float)
        at_nu_atom = np.isin(x, nu_atoms)
        out = np.where(at_nu_atom, self._mass(x), out)
        return out

    def _mass(self, x: np.ndarray) -> np.ndarray:
        """P({x}) for each x (0 off the atoms)."""
        x = np.asarray(x, dtype=float)
        if len(self._points) == 0:
            return np.zeros_like(x)
        idx = np.clip(np.searchsorted(self._points, x), 0, len(self._points) - 1)
        hit = self._points[idx] == x
        return np.where(hit, self._weights[idx], 0.0)

    def rvs(self, size: int | tuple[int, ...] = 1, random_state: Any = None) -> np.ndarray:
        """Draw samples (first which part, then from it).

        Parameters
        ----------
        size : int or tuple of int
            Output shape.
        random_state : numpy.random.Generator, int or None
            Passed to ``numpy.random.default_rng``.

        Returns
        -------
        numpy.ndarray
        """
        rng = np.random.default_rng(random_state)
        shape = (size,) if isinstance(size, int | np.integer) else tuple(size)
        n = math.prod(shape)
        probs = np.append(self._weights, self.continuous_weight)
        probs = probs / probs.sum()
        which = rng.choice(len(probs), size=n, p=probs)
        out = np.empty(n, dtype=float)
        is_atom = which < len(self._weights)
        out[is_atom] = self._points[which[is_atom]]
        m = int(np.count_nonzero(~is_atom))
        if m:
            out[~is_atom] = np.asarray(self.continuous.rvs(size=m, random_state=rng), dtype=float)
        return out.reshape(shape)

    def __repr__(self) -> str:
        atoms = ", ".join(f"{a:g}: {w:g}" for a, w in self.atoms.items())
        cont = describe(self.continuous) if self.continuous is not None else "None"
        return f"Mixed({{{atoms}}}, {cont})"


def describe(d: Any) -> str:
    """A short readable name of a distribution (for messages and reprs)."""
    if isinstance(d, Mixed):
        return repr(d)
    if isinstance(d, rv_frozen):
        try:
            shapes, loc, scale = d.dist._parse_args(*d.args, **d.kwds)
        except Exception:  # pragma: no cover - defensive: custom distributions
            return f"{d.dist.name}(...)"

        def fmt(v: Any) -> str:
            return f"{v:g}" if np.ndim(v) == 0 else np.array2string(np.asarray(v), precision=4)

        parts = [fmt(s) for s in shapes]
        if np.any(np.asarray(loc) != 0):
            parts.append(f"loc={fmt(loc)}")
        if np.any(np.asarray(scale) != 1):
            parts.append(f"scale={fmt(scale)}")
        return f"{d.dist.name}({', '.join(parts)})"
    if hasattr(d, "mean") and hasattr(d, "cov"):
        return f"multivariate_normal(dim={np.size(d.mean)})"
    return type(d).__name__


for _cls in (Estimate, ReferenceMeasure, Mixed):
    _cls.__module__ = "celib.measure"
dirac.__module__ = lebesgue.__module__ = "celib.measure"
