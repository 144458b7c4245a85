"""Certified Gaussian measure of simplicial cones of rank 4 and 5 (normal orthant probabilities).

A simplicial cone cone(v_1..v_r) (independent v_i) holds x = V l with l >= 0, so its Gaussian
mass is P(Y >= 0) for Y = V^+ x ~ N(0, S), S = (V^T V)^{-1}: an orthant probability of the
correlation matrix R = D^-1/2 S D^-1/2 (D = diag S). Within the span of V the law is standard
normal, so this also holds for a cone of rank r inside a larger space.

There is no closed form for r >= 4, but Plackett's identity (Biometrika 41, 1954) gives the
derivative along any path of correlation matrices,

    dP/d rho_ij = phi_2(0, 0; rho_ij) * P(Y_K >= 0 | Y_i = Y_j = 0),   K = the other indices,

with phi_2(0, 0; rho) = 1 / (2 pi sqrt(1 - rho^2)), and the conditional orthant probability has
Sheppard's closed form for |K| <= 3: 1/2, 1/4 + asin(c)/(2 pi), 1/8 + sum asin(c)/(4 pi), c the
conditional correlations. Along M(t) = D + t (S - D) (positive definite on [0, 1]: a convex
combination; its correlation runs from I, where P = 2^-r, to R):

    P = 2^-r + integral_0^1 sum_{i<j} S_ij / (2 pi sqrt(p_ij(t))) Q_ij(t) dt,
    p_ij = S_ii S_jj - t^2 S_ij^2,
    asin(c_kl|ij) = atan(b(t) / sqrt(p_ij(t) d(t))),  b = det M[ijk, ijl],  d = det M[ijkl].

The last line is Schur's complement with Sylvester's identity (1 - c^2 = p d / (B_kk B_ll)),
written so that every quantity is a minor of M(t): a polynomial in t with exact rational
coefficients, computed once. Near a thin cone M(1) is nearly singular; polynomials evaluated
directly keep ball arithmetic tight there, where conditional correlations computed by
elimination lose everything to cancellation.

The one-dimensional integral of this analytic function is enclosed rigorously by Arb
(python-flint's `acb.integral`): the integrand is evaluated in complex ball arithmetic and
reports balls on which it may not be analytic (a square root whose argument may touch the
negative reals, an arctangent whose argument may touch +-i[1, oo)), so the integrator
subdivides instead of trusting them. r = 2 and 3 reduce to Sheppard's arcsine formulas, which
the tests use as a check.
"""

from __future__ import annotations

from contextlib import contextmanager
from fractions import Fraction
from itertools import combinations
from typing import Callable, Iterator, Sequence

from mpmath import mpf

from verify.core.linear import Vector, dot
from verify.geometry.lp import inverse

# (working precision of the ball arithmetic, absolute tolerance aimed at: 2^-bits). The mass is
# 2^-r plus an integral of size ~2^-r, so a tiny cone loses its relative accuracy to cancellation:
# one whose enclosure is wider than RELATIVE_WIDTH of its value is redone at the second setting.
PRECISIONS = ((64, 45), (160, 130))
RELATIVE_WIDTH = mpf(2) ** -20
EVAL_LIMIT = 100_000  # integrand evaluations before the integrator gives up (-> no certificate)

Poly = list[Fraction]  # coefficients, lowest degree first


@contextmanager
def _ball_precision(bits: int) -> Iterator[None]:
    """Arb's precision is a process-wide setting: set it for the block and restore it after."""
    from flint import ctx

    saved = ctx.prec
    ctx.prec = bits
    try:
        yield
    finally:
        ctx.prec = saved


def orthant_covariance(rays: Sequence[Vector]) -> list[list[Fraction]]:
    """S = (V^T V)^{-1} for the columns V = rays, exactly; the orthant probability is S's."""
    gram = [[dot(u, v) for v in rays] for u in rays]
    return inverse(gram)


# -- exact polynomial minors of M(t) = D + t (S - D) -------------------------------------------


def _padd(a: Poly, b: Poly) -> Poly:
    out = [Fraction(0)] * max(len(a), len(b))
    for k, x in enumerate(a):
        out[k] += x
    for k, x in enumerate(b):
        out[k] += x
    return out


def _pmul(a: Poly, b: Poly) -> Poly:
    out = [Fraction(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        if x:
            for j, y in enumerate(b):
                out[i + j] += x * y
    return out


def _minor(entries: Callable[[int, int], Poly], rows: Sequence[int], cols: Sequence[int]) -> Poly:
    """det of the polynomial matrix restricted to rows x cols (in that order), by Laplace."""
    if len(rows) == 1:
        return entries(rows[0], cols[0])
    total: Poly = [Fraction(0)]
    for k, c in enumerate(cols):
        term = _pmul(entries(rows[0], c), _minor(entries, rows[1:], cols[:k] + cols[k + 1:]))
        total = _padd(total, term if k % 2 == 0 else [-x for x in term])
    return total


def _path_entries(cov: Sequence[Sequence[Fraction]]) -> Callable[[int, int], Poly]:
    """M_ij as a polynomial in u = 1 - t: S_ii on the diagonal, (1 - u) S_ij off it.

    Expanded around t = 1, not t = 0: at a thin cone det M(1) = det S is tiny, and a monomial
    basis in t would reach it by cancelling coefficients of size ~1 (balls as wide as the
    coefficients), while in u the tiny value is the constant coefficient itself."""
    return lambda i, j: [cov[i][i]] if i == j else [cov[i][j], -cov[i][j]]


# -- the integrand -------------------------------------------------------------------------------


def _integrand(cov: Sequence[Sequence[Fraction]]):  # noqa: ANN202 - Arb's callback
    """f(t, analytic) for acb.integral; the exact polynomials are converted to balls once."""
    from flint import acb, arb

    r = len(cov)
    m = _path_entries(cov)

    def balls(p: Poly) -> list[object]:
        return [acb(arb(q.numerator) / arb(q.denominator)) for q in p]

    # det M[ijkl] depends only on the set {i, j, k, l}: one polynomial (and one evaluation) each
    quads = {q: balls(_minor(m, list(q), list(q))) for q in combinations(range(r), 4)}
    terms = []
    for i, j in combinations(range(r), 2):
        rest = [k for k in range(r) if k not in (i, j)]
        p = balls(_minor(m, [i, j], [i, j]))
        arcs = [(balls(_minor(m, [i, j, k], [i, j, l])), tuple(sorted((i, j, k, l))))
                for k, l in combinations(rest, 2)]
        terms.append((acb(arb(cov[i][j].numerator) / arb(cov[i][j].denominator)), p, arcs, len(rest)))
    nan = acb("nan")

    def horner(p: list[object], t: object) -> object:
        value = p[-1]
        for c in reversed(p[:-1]):
            value = value * t + c
        return value

    def f(u: object, analytic: bool) -> object:  # u = 1 - t
        pi = acb.pi()
        total = acb(0)
        d_at = {q: horner(d, u) for q, d in quads.items()}
        for s_ij, p, arcs, rest in terms:
            pt = horner(p, u)
            root = pt.sqrt(analytic=analytic)
            if not root.is_finite():
                return nan
            angles = acb(0)
            for b, q in arcs:
                scale = (pt * d_at[q]).sqrt(analytic=analytic)
                if not scale.is_finite():
                    return nan
                z = horner(b, u) / scale
                if analytic and z.real.contains(0) and not (z.imag.abs_upper() < 1):
                    return nan  # atan's branch cuts: the imaginary axis beyond +-i
                angles += z.atan()
            if rest == 0:
                q = acb(1)
            elif rest == 1:
                q = acb(1) / 2
            elif rest == 2:
                q = acb(1) / 4 + angles / (2 * pi)
            else:
                q = acb(1) / 8 + angles / (4 * pi)
            total += s_ij * q / (2 * pi * root)
        return total

    return f


def simplicial_measure(rays: Sequence[Vector]) -> tuple[mpf, mpf] | None:
    """[lower, upper] enclosing the Gaussian mass of cone(rays), r = len(rays) independent rays,
    2 <= r <= 5; None when the integrator cannot certify it within EVAL_LIMIT evaluations at any
    of the PRECISIONS. Both ends are exact binary numbers (mpf), rounded outward by Arb."""
    from flint import acb, arb

    r = len(rays)
    if not 2 <= r <= 5:
        raise ValueError(f"simplicial cones of rank 2..5 only, got {r}")
    cov = orthant_covariance(rays)
    best: tuple[mpf, mpf] | None = None
    for bits, tolerance in PRECISIONS:
        with _ball_precision(bits):
            integral = acb.integral(
                _integrand(cov), 0, 1, abs_tol=arb(2) ** (-tolerance), eval_limit=EVAL_LIMIT,
            )
            value = arb(1) / 2**r + integral.real
            if not value.is_finite() or not integral.imag.contains(0):
                continue
            lower, upper = value.lower().man_exp(), value.upper().man_exp()
        lo, hi = mpf((int(lower[0]), int(lower[1]))), mpf((int(upper[0]), int(upper[1])))
        # a probability: the truth lies in [0, 1] and in [lo, hi], so in their intersection
        lo, hi = max(lo, mpf(0)), min(hi, mpf(1))
        if best is None or hi - lo < best[1] - best[0]:
            best = (lo, hi)
        if hi - lo <= RELATIVE_WIDTH * lo:
            break
    return best
