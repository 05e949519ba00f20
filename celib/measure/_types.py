"""The value types of :mod:`celib.measure`: estimates, reference measures, mixed laws.

They live here (and are re-exported by :mod:`celib.measure`, whose name they carry) so
that the private modules of the package can use them without a circular import. The
other modules read a :class:`Mixed` law only through its public accessors
(:attr:`Mixed.points`, :attr:`Mixed.weights`, :meth:`Mixed.mass`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from scipy import integrate, special
from scipy.stats.distributions import rv_frozen

from celib import _checks

__all__ = [
    "DivergentIntegralWarning",
    "Estimate",
    "Mixed",
    "ReferenceMeasure",
    "dirac",
    "law_name",
    "lebesgue",
]


class DivergentIntegralWarning(RuntimeWarning):
    r"""The integral defining the quantity diverges: celib returns :math:`\pm\infty`.

    Emitted when :math:`P \ll Q` (so the convention "not dominated gives
    :math:`+\infty`" does not apply) but :math:`\mathbb{E}_P[-\log q(X)]` is infinite
    anyway, for example a Student :math:`t_2` law :math:`P` against a normal :math:`Q`
    (:math:`-\log q` grows like :math:`x^2` and :math:`\mathbb{E}_P[X^2] = \infty`).
    The message says which moment of :math:`P` is infinite;
    :func:`celib.measure.describe` gives the same account without a warning.
    """


def real_number(v: Any, name: str, what: str = "value") -> float:
    """One real number (a TypeError naming ``name`` otherwise)."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name}: each {what} must be a real number, got {v!r}")
    return float(v)


def real_array(x: Any, name: str) -> np.ndarray:
    """A float array of real numbers (a TypeError naming ``name`` otherwise)."""
    if x is None or isinstance(x, str | bytes):
        raise TypeError(f"{name} must be an array of real numbers, got {x!r}")
    try:
        arr = np.asarray(x)
    except ValueError as exc:
        raise ValueError(f"{name} must be a rectangular array of real numbers") from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr.astype(float)


@dataclass(frozen=True)
class Estimate:
    r"""A Monte Carlo estimate with its standard error.

    For i.i.d. terms :math:`Y_1, \dots, Y_n` (for the cross-entropy
    :math:`Y_i = -\log q(X_i)` with :math:`X_i \sim P`) the estimate is the sample mean
    :math:`\bar Y_n` and the standard error is :math:`s_n / \sqrt{n}`, with :math:`s_n`
    the sample standard deviation (divisor :math:`n - 1`). By the central limit theorem
    :math:`\bar Y_n \pm z_{(1+\text{level})/2}\, s_n/\sqrt{n}` covers the true value with
    probability close to ``level`` when :math:`\operatorname{Var} Y < \infty`.

    An infinite value (``P`` not dominated by ``Q``, or a divergent integral) is exact:
    its ``stderr`` is 0. When the variance of the terms is known to be infinite (a
    heavy tail of :math:`P` against a fast-growing :math:`-\log q`), the sample standard
    deviation estimates nothing: ``stderr`` is ``inf``, ``infinite_variance`` is true,
    and :meth:`ci` refuses to give an interval.

    Attributes
    ----------
    value : float
        The estimate (sample mean).
    stderr : float
        Its standard error, :math:`s_n / \sqrt{n}` (``inf`` if the variance is infinite).
    n : int
        The number of samples.
    skewness : float
        The sample skewness :math:`\hat\gamma` of the terms (0 when unknown).
    kurtosis : float
        The sample excess kurtosis :math:`\hat\kappa` of the terms (0 when unknown).
        :meth:`ci` uses both to correct the interval.
    infinite_variance : bool
        Whether the variance of the terms is known to be infinite.

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
    skewness: float = 0.0
    kurtosis: float = 0.0
    infinite_variance: bool = False

    def __post_init__(self) -> None:
        for name in ("value", "stderr", "skewness", "kurtosis"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"{name} must be a real number, got {v!r}")
            if math.isnan(v):
                raise ValueError(f"{name} must not be NaN")
        if isinstance(self.n, bool) or not isinstance(self.n, numbers.Integral) or self.n < 1:
            raise ValueError(f"n must be a positive integer, got {self.n!r}")
        if self.stderr < 0:
            raise ValueError(f"stderr must be >= 0, got {self.stderr!r}")
        for name in ("skewness", "kurtosis"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)!r}")

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        r"""Confidence interval for the mean, corrected for skewness and kurtosis.

        The studentised mean :math:`T = \sqrt n (\bar Y - \mu) / s_n` is skewed and
        heavy-tailed when the terms are, and the plain interval
        :math:`\bar Y \pm z\, \mathrm{se}` then covers less than ``level`` (0.937 for a
        nominal 0.95 on a gamma cross-entropy with :math:`n = 500`, 0.93 for
        :math:`-\log q(X) = X^2/2` with :math:`X \sim t_5`). Two terms of the
        Edgeworth expansion of :math:`T` are removed (Hall 1992):

        * the :math:`n^{-1/2}` skewness term, by Hall's cubic transformation: with
          :math:`a = \hat\gamma / (3\sqrt n)`,
          :math:`g(t) = ((1 + a t)^3 - 1)/(3a) + a/2`, the interval is
          :math:`[\bar Y - \mathrm{se}\, g^{-1}(c),\; \bar Y - \mathrm{se}\, g^{-1}(-c)]`;
        * the :math:`n^{-1}` term of the two-sided coverage, by the critical value
          :math:`c = z - z\, q_2(z)/n` (Cornish-Fisher), with
          :math:`q_2(z) = \tfrac{\hat\kappa}{12}(z^2 - 3)
          - \tfrac{\hat\gamma^2}{18}(z^4 + 2z^2 - 3) - \tfrac14 (z^2 + 1)` (Hall's
          polynomial, for :math:`s_n` with divisor :math:`n - 1`), and at least
          Student's :math:`t_{n-1}` quantile (the last term alone is its expansion).

        ``benchmarks/bench_measure.py`` measures the coverage (0.95 within 0.01 on
        light- and heavy-tailed terms with a finite variance).

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
            If ``level`` is not in (0, 1), or the variance of the terms is infinite
            (no interval is meaningful).

        References
        ----------
        P. Hall, "On the removal of skewness by transformation", J. R. Stat. Soc. B
        54 (1992) 221-228.
        """
        if isinstance(level, bool) or not isinstance(level, numbers.Real):
            raise TypeError(f"level must be a number in (0, 1), got {level!r}")
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        if self.stderr == 0.0 or math.isinf(self.value):
            return (self.value, self.value)
        if self.infinite_variance:
            raise ValueError(
                "no confidence interval: the variance of the terms is infinite, so the "
                "standard error estimates nothing (a heavy tail of P)"
            )
        n, gam, kap = self.n, self.skewness, self.kurtosis
        z = NormalDist().inv_cdf(0.5 + level / 2.0)
        q2 = kap / 12.0 * (z * z - 3.0) - gam * gam / 18.0 * (z**4 + 2.0 * z * z - 3.0)
        q2 -= (z * z + 1.0) / 4.0  # (z^2 + 3) / 4 for s with divisor n; ours is n - 1
        t = max(z - z * q2 / n, float(special.stdtrit(max(n - 1, 1), 0.5 + level / 2.0)))
        a = gam / (3.0 * math.sqrt(n))

        def g_inv(x: float) -> float:
            if abs(a) < 1e-12:
                return x
            return float((np.cbrt(1.0 + 3.0 * a * (x - a / 2.0)) - 1.0) / a)

        return (self.value - self.stderr * g_inv(t), self.value - self.stderr * g_inv(-t))

    def __float__(self) -> float:
        return float(self.value)

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        if self.infinite_variance:
            return f"{self.value:{spec}} (infinite variance: no standard error, n={self.n})"
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
        if isinstance(self.atoms, str | bytes) or not hasattr(self.atoms, "__iter__"):
            raise TypeError(f"atoms must be a sequence of real numbers, got {self.atoms!r}")
        atoms = tuple(sorted({real_number(a, "atoms", "atom") for a in self.atoms}))
        if not all(math.isfinite(a) for a in atoms):
            raise ValueError(f"atoms must be finite numbers, got {self.atoms!r}")
        object.__setattr__(self, "atoms", atoms)
        object.__setattr__(self, "lebesgue", _checks.flag(self.lebesgue, "lebesgue"))

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
        if not callable(f):
            raise TypeError(f"f must be callable, got {type(f).__name__}")
        a, b = real_number(a, "a"), real_number(b, "b")
        if math.isnan(a) or math.isnan(b) or not a <= b:
            raise ValueError(f"need a <= b, got a={a!r}, b={b!r}")
        points = [real_number(v, "points", "point") for v in points]
        if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not 0 < rtol < 1:
            raise ValueError(f"rtol must be a number in (0, 1), got {rtol!r}")
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
    for p in points:
        real_number(p, "points", "point")
        if not math.isfinite(p):
            raise ValueError(f"points must be finite, got {p!r}")
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
        pts = np.array([real_number(a, "atoms", "point") for a in atoms.keys()], dtype=float)
        wts = np.array([real_number(w, "atoms", "weight") for w in atoms.values()], dtype=float)
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
        self._points.flags.writeable = False
        self._weights.flags.writeable = False
        w_c = max(0.0, 1.0 - total)
        if continuous is not None:
            # The one place that checks a law (celib.measure._laws), imported here to
            # avoid a cycle: it refuses discrete laws and invalid parameters.
            from celib.measure._laws import check_continuous_part

            check_continuous_part(continuous, "continuous")
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
    def points(self) -> np.ndarray:
        """The atoms :math:`a_k` with positive weight, sorted (a read-only array)."""
        return self._points

    @property
    def weights(self) -> np.ndarray:
        """Their weights :math:`w_k > 0`, in the order of :attr:`points` (read-only)."""
        return self._weights

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
        x = real_array(x, "x")
        out = np.zeros_like(x)
        if self.continuous_weight > 0:
            out = self.continuous_weight * self.continuous.pdf(x)
        nu_atoms = np.array(nu.atoms, dtype=float)
        at_nu_atom = np.isin(x, nu_atoms)
        out = np.where(at_nu_atom, self.mass(x), out)
        return out

    def mass(self, x: Any) -> np.ndarray:
        r"""The point mass :math:`P(\{x\})` at each ``x`` (0 off the atoms).

        Parameters
        ----------
        x : array_like
            Points.

        Returns
        -------
        numpy.ndarray

        Examples
        --------
        >>> from scipy import stats
        >>> from celib.measure import Mixed
        >>> Mixed({0.0: 0.3}, stats.expon()).mass([0.0, 1.0]).tolist()
        [0.3, 0.0]
        """
        x = real_array(x, "x")
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
        if not (
            random_state is None
            or isinstance(random_state, np.random.Generator)
            or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool))
        ):
            raise TypeError(
                f"random_state must be a numpy.random.Generator, an int or None, got "
                f"{type(random_state).__name__}"
            )
        rng = np.random.default_rng(random_state)
        shape = (size,) if isinstance(size, int | np.integer) else size
        if (
            isinstance(shape, str | bytes | bool)
            or not isinstance(shape, tuple | list)
            or not all(isinstance(k, int | np.integer) and not isinstance(k, bool) for k in shape)
        ):
            raise TypeError(f"size must be an int or a tuple of ints, got {size!r}")
        if any(k < 0 for k in shape):
            raise ValueError(f"size must be non-negative, got {size!r}")
        shape = tuple(int(k) for k in shape)
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
        cont = law_name(self.continuous) if self.continuous is not None else "None"
        return f"Mixed({{{atoms}}}, {cont})"


def law_name(d: Any) -> str:
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


for _cls in (DivergentIntegralWarning, Estimate, ReferenceMeasure, Mixed):
    _cls.__module__ = "celib.measure"
dirac.__module__ = lebesgue.__module__ = "celib.measure"
