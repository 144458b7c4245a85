"""How far PyTorch's float32 forward pass can be from the exact network, and where that matters.

The verdicts are about the network over the reals. PyTorch rounds. This module bounds the gap
with standard floating-point error analysis (Higham, *Accuracy and Stability of Numerical
Algorithms*, ch. 2-3) under this model of the float32 computation:

- every product and every sum is rounded to nearest: fl(a*b) = a*b*(1+d) + e and
  fl(a+b) = (a+b)*(1+d), |d| <= u = 2^-24, |e| <= eta = 2^-150 (gradual underflow; PyTorch's
  default, no flush-to-zero), and nothing overflows;
- a dot product of m terms, summed in any order (BLAS blocking, FMA), is then within
  gamma_m * sum|terms| + 2*m*eta of the exact one, gamma_m = m*u / (1 - m*u);
- the input x is first rounded to float32 (|fl(x) - x| <= u|x| + eta) and ReLU is exact.

Each pre-activation W_hh h + W_hi x_t is one dot product of d + 1 terms; we charge d + 2 (one
spare rounding) and d + 1 for the logits. On a region the exact hidden states are h_t = H_t x,
so the bound on each logit's error is linear in |x| plus a tiny absolute term:
    |logit_k^float32(fl(x)) - logit_k(x)| <= L_k . |x| + alpha_k.
The prediction can differ only where the exact logit gap is within the summed bounds (the band
around each decision ray), the target can differ only where rounding may tie x0 and x1 (the
band around the diagonal), plus a disk of radius rho (where alpha is not small against |x|) and
the far tail ||x||_inf > R (where overflow is possible). Their total Gaussian measure U bounds
|float32 error rate - exact error rate| <= U. Sequence length 2 only; for n >= 3 it is None.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

from mpmath import iv, mp, mpf

from verify.geometry.planar import cross2, extreme_rays_2d, normalize_ray
from verify.core.by_object import ByObject
from verify.core.linear import Vector, dot
from verify.geometry.integer_cone import strict_test
from verify.geometry.measure import working_precision, Measure
from verify.geometry.planar import angle_between
from verify.core.network import ExactRNN
from verify.check.regions import Pattern, Region


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format as the error model sees it."""

    name: str
    unit_roundoff: Fraction  # u: relative error of one rounding to nearest
    underflow: Fraction  # eta: absolute error of one rounded product in the subnormal range (0: none)
    max_finite: Fraction | None  # the largest finite value (None: no overflow)

    def gamma(self, k: int) -> Fraction:
        ku = k * self.unit_roundoff
        if ku >= 1:
            raise ValueError(f"gamma_{k} is undefined for u = {self.unit_roundoff}")
        return ku / (1 - ku)


FLOAT32 = FloatFormat("float32", Fraction(1, 2**24), Fraction(1, 2**150), (2 - Fraction(1, 2**23)) * 2**127)
FLOAT64 = FloatFormat("float64", Fraction(1, 2**53), Fraction(1, 2**1075), (2 - Fraction(1, 2**52)) * 2**1023)


def toy_format(bits: int) -> FloatFormat:
    """A format with `bits` significant bits and unbounded exponent: wide bands for tests."""
    return FloatFormat(f"toy{bits}", Fraction(1, 2**bits), Fraction(0), None)


@dataclass(frozen=True)
class Bound:
    """lin . |x| + const: a bound on a magnitude or an error, on one region."""

    lin: Vector
    const: Fraction

    def at(self, x: Sequence[Fraction]) -> Fraction:
        return sum((c * abs(v) for c, v in zip(self.lin, x)), Fraction(0)) + self.const


@dataclass(frozen=True)
class LogitErrors:
    """Per-logit error bounds on one region, and the largest magnitude any float32 step reaches."""

    errors: tuple[Bound, ...]  # one per logit
    magnitudes: tuple[Bound, ...]  # sum of |terms| of every dot product computed


def _matrix(rows: Sequence[Sequence[Any]], width: int) -> Any:
    """An exact rational matrix (FLINT fmpq_mat) from rows of fmpq."""
    from flint import fmpq_mat

    return fmpq_mat(len(rows), width, [v for row in rows for v in row])


_MATRICES: ByObject[ExactRNN, tuple[Any, ...]] = ByObject(8)


def _band_matrices(network: ExactRNN, fmt: FloatFormat) -> tuple[Any, ...]:
    """(u, eta, gamma_{d+2}, gamma_{d+1}, W_hh, |W_hh|, w_hi, |w_hi|, |W_oh|) as FLINT rationals,
    built once per network object and format (every region of a check asks again)."""
    return _MATRICES.get(network, lambda net: _build_band_matrices(net, fmt), tag=fmt)


def _build_band_matrices(network: ExactRNN, fmt: FloatFormat) -> tuple[Any, ...]:
    from flint import fmpq

    def q(v: Fraction | int) -> Any:
        v = Fraction(v)
        return fmpq(v.numerator, v.denominator)

    d = network.hidden_size
    hh = [[q(w) for w in row] for row in network.w_hh]
    hi = [q(w) for w in network.w_hi]
    oh = [[q(w) for w in row] for row in network.w_oh]
    return (q(fmt.unit_roundoff), q(fmt.underflow), q(fmt.gamma(d + 2)), q(fmt.gamma(d + 1)),
            _matrix(hh, d), _matrix([[abs(w) for w in row] for row in hh], d),
            _matrix([[w] for w in hi], 1), _matrix([[abs(w)] for w in hi], 1),
            _matrix([[abs(w) for w in row] for row in oh], d))


def logit_errors(network: ExactRNN, pattern: Pattern, fmt: FloatFormat = FLOAT32) -> LogitErrors:
    """Bounds on |logit_k computed in `fmt` at fl(x) - exact logit_k at x|, for x in the region.

    Exact rational matrices (FLINT's fmpq_mat): a bound lin . |x| + const on each neuron is one
    row (lin, const), and every sum_j |w_j| bound_j of a layer is one matrix product, which spares
    thousands of Python Fraction products per region at d = 32 (tests/test_float32_band.py checks
    every bound against the same analysis in Fractions, term by term)."""
    from flint import fmpq, fmpq_mat

    n, d, outputs = network.seq_len, network.hidden_size, len(network.w_oh)
    zero = fmpq(0)
    u, eta, g_pre, g_out, w_hh, abs_hh, w_hi, abs_hi, abs_oh = _band_matrices(network, fmt)

    def const_column(rows: int, value: "fmpq") -> "fmpq_mat":
        return _matrix([[zero] * n + [value] for _ in range(rows)], n + 1)

    h = fmpq_mat(d, n)  # H_t: h_t = H_t x on the region (rows of dead neurons are zero)
    err = fmpq_mat(d, n + 1)  # |h_hat_t - h_t|, one row (lin, const) per neuron
    h_abs = fmpq_mat(d, n + 1)  # |h_t|
    magnitudes = []
    round_pre, round_out = const_column(d, 2 * (d + 2) * eta), const_column(outputs, 2 * (d + 1) * eta)
    for t in range(n):
        x_hat = _matrix([[(1 + u) if k == t else zero for k in range(n)] + [eta]], n + 1)  # |fl(x_t)|
        x_err = _matrix([[u if k == t else zero for k in range(n)] + [eta]], n + 1)  # |fl(x_t) - x_t|
        terms = abs_hh * (h_abs + err) + abs_hi * x_hat
        magnitudes.append(terms)
        carried = abs_hh * err + abs_hi * x_err
        err = g_pre * terms + round_pre + carried  # ReLU is 1-Lipschitz and exact
        pre = w_hh * h + w_hi * _matrix([[fmpq(int(k == t)) for k in range(n)]], n)
        h = _matrix([[pre[i, k] if pattern[t][i] else zero for k in range(n)] for i in range(d)], n)
        h_abs = _matrix([[abs(h[i, k]) for k in range(n)] + [zero] for i in range(d)], n + 1)
    terms = abs_oh * (h_abs + err)
    magnitudes.append(terms)
    errors = g_out * terms + round_out + abs_oh * err

    def bounds(m: "fmpq_mat") -> list[Bound]:
        values = [Fraction(int(v.p), int(v.q)) for v in m.entries()]
        return [Bound(tuple(values[r * (n + 1): r * (n + 1) + n]), values[r * (n + 1) + n]) for r in range(m.nrows())]

    return LogitErrors(errors=tuple(bounds(errors)), magnitudes=tuple(b for m in magnitudes for b in bounds(m)))


def overflow_radius(all_errors: Sequence[LogitErrors], network: ExactRNN, fmt: FloatFormat) -> Fraction | None:
    """A power of two R such that ||x||_inf <= R keeps every float step finite (None: no overflow)."""
    if fmt.max_finite is None:
        return None
    growth = 1 + fmt.gamma(network.hidden_size + 2)
    slope = max((sum(m.lin) for e in all_errors for m in e.magnitudes), default=Fraction(0))
    const = max((m.const for e in all_errors for m in e.magnitudes), default=Fraction(0))
    limit = fmt.max_finite / 2
    if growth * const >= limit:
        return Fraction(0)
    radius = limit if slope == 0 else (limit / growth - const) / slope
    radius = min(radius, limit)
    return power_of_two_below(radius) if radius > 0 else Fraction(0)


def floor_log2(value: Fraction) -> int:
    """An integer e with 2^e <= value < 2^(e+2), from bit lengths (no float overflow)."""
    return value.numerator.bit_length() - value.denominator.bit_length() - 1


def power_of_two_below(value: Fraction) -> Fraction:
    return Fraction(2) ** floor_log2(value)


def _angle_key(r: Vector) -> tuple[int, Vector]:
    return (0 if (r[1] > 0 or (r[1] == 0 and r[0] > 0)) else 1), r


def _compare(a: Vector, b: Vector) -> int:
    ha, hb = _angle_key(a)[0], _angle_key(b)[0]
    if ha != hb:
        return ha - hb
    turn = cross2(a, b)
    return -1 if turn > 0 else (1 if turn < 0 else 0)


def sort_by_angle(rays: Sequence[Vector]) -> list[Vector]:
    """Distinct rays in counter-clockwise order from the positive x0 axis, exactly."""
    unique = {normalize_ray(r): None for r in rays if any(v != 0 for v in r)}
    return sorted(unique, key=functools.cmp_to_key(_compare))


def line_rays(normal: Sequence[Fraction]) -> list[Vector]:
    if all(v == 0 for v in normal):
        return []
    return [(-normal[1], normal[0]), (normal[1], -normal[0])]


def sector_midpoint(a: Vector, b: Vector) -> Vector:
    """A direction strictly inside the counter-clockwise sector from a to b."""
    if a == b:
        return tuple(-v for v in a)
    turn = cross2(a, b)
    if turn > 0:
        return normalize_ray(tuple(p + q for p, q in zip(a, b)))
    if turn == 0:  # opposite rays: the half-turn sector
        return (-a[1], a[0])
    return normalize_ray(tuple(-(p + q) for p, q in zip(a, b)))


def sector_measure(a: Vector, b: Vector) -> Measure:
    if a == b:
        return Measure(mpf(1), mpf(1), "exact-angle")
    with working_precision():
        value = angle_between(a, b) / (2 * iv.pi)
        return Measure(mpf(value.a), mpf(value.b), "exact-angle")  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RegionBand:
    """The band test on one region: uncertain where |c.x| <= k.|x| (decision) or near the diagonal."""

    region: Region
    gap: Vector  # exact logit_1 - logit_0 on the region
    slack: Vector  # k: (L_0 + L_1) + (alpha_0 + alpha_1)/rho per coordinate
    diagonal_slack: Vector

    def uncertain(self, x: Sequence[Fraction]) -> bool:
        mags = [abs(v) for v in x]
        if abs(dot(self.gap, x)) <= dot(self.slack, mags):
            return True
        return abs(x[0] - x[1]) <= dot(self.diagonal_slack, mags)

    def critical_rays(self) -> list[Vector]:
        rays: list[Vector] = [(Fraction(1), Fraction(0)), (Fraction(0), Fraction(1)),
                              (Fraction(-1), Fraction(0)), (Fraction(0), Fraction(-1))]
        rays += [tuple(r) for r in extreme_rays_2d(self.region.interior())]
        diagonal = (Fraction(1), Fraction(-1))
        for s0 in (1, -1):
            for s1 in (1, -1):
                for c, k in ((self.gap, self.slack), (diagonal, self.diagonal_slack)):
                    ks = (k[0] * s0, k[1] * s1)
                    rays += line_rays((c[0] - ks[0], c[1] - ks[1])) + line_rays((c[0] + ks[0], c[1] + ks[1]))
        return rays


@dataclass(frozen=True)
class Sector:
    """An open sector of one region, wholly certain or wholly uncertain."""

    region: int
    start: Vector
    end: Vector
    uncertain: bool
    measure: Measure


@dataclass(frozen=True)
class Float32Band:
    """Where float32 may disagree with the exact network: sectors, plus the disk and the tail."""

    fmt: FloatFormat
    bands: tuple[RegionBand, ...]
    sectors: tuple[Sector, ...]
    rho: Fraction  # inputs with ||x||_2 < rho are uncertain
    radius: Fraction | None  # inputs with ||x||_inf > radius are uncertain (None: no overflow)
    measure: Measure  # Gaussian measure of the whole uncertain set

    def certain(self, x: Sequence[Fraction]) -> bool:
        """True when the float forward pass at fl(x) provably predicts, and targets, as the exact one."""
        x = tuple(Fraction(v) for v in x)
        if self.rho and sum(v * v for v in x) < self.rho * self.rho:
            return False
        if self.radius is not None and max(abs(v) for v in x) > self.radius:
            return False
        for band in self.bands:
            if band.region.contains(x):
                return not band.uncertain(x)
        return False


def _region_band(network: ExactRNN, region: Region, fmt: FloatFormat, errors: LogitErrors, rho: Fraction) -> RegionBand:
    gap = tuple(region.logits[1][k] - region.logits[0][k] for k in range(2))
    e0, e1 = errors.errors[0], errors.errors[1]
    spread = (e0.const + e1.const) / rho if rho else Fraction(0)
    slack = tuple(e0.lin[k] + e1.lin[k] + spread for k in range(2))
    tie = (2 * fmt.underflow / rho) if rho else Fraction(0)
    diagonal_slack = (fmt.unit_roundoff + tie, fmt.unit_roundoff + tie)
    return RegionBand(region, gap, slack, diagonal_slack)


def _choose_rho(all_errors: Sequence[LogitErrors], fmt: FloatFormat) -> Fraction:
    """The disk radius: about (absolute error)^(1/3), which balances the disk and the band widening."""
    alpha = max((sum(e.const for e in errs.errors) for errs in all_errors), default=Fraction(0))
    alpha = max(alpha, 2 * fmt.underflow)
    if alpha == 0:
        return Fraction(0)
    return Fraction(2) ** (floor_log2(alpha) // 3)


def _gaussian_tail(radius: Fraction, n: int) -> mpf:
    """Upper bound on P(||x||_inf > R) for x ~ N(0, I_n): n * erfc(R / sqrt 2) <= n * exp(-R^2 / 2)."""
    with working_precision():
        value = iv.exp(-(iv.mpf(radius.numerator) / radius.denominator) ** 2 / 2) * n
        return mpf(value.b)


def uncertain_band(network: ExactRNN, regions: Sequence[Region], fmt: FloatFormat = FLOAT32) -> Float32Band:
    """The band of inputs where `fmt` rounding could change the prediction or the target (n = 2)."""
    if network.seq_len != 2:
        raise ValueError("the float32 band is computed for sequence length 2 only")
    all_errors = [logit_errors(network, region.pattern, fmt) for region in regions]
    rho = _choose_rho(all_errors, fmt)
    radius = overflow_radius(all_errors, network, fmt)
    bands = tuple(_region_band(network, r, fmt, e, rho) for r, e in zip(regions, all_errors))
    sectors = []
    with working_precision():  # the sums below are rounded at WORKING_DPS, not at mpmath's default
        band_lower, band_upper = mpf(0), mpf(0)
        for band in bands:
            rays = sort_by_angle(band.critical_rays())
            inside = strict_test(band.region.constraints)  # Region.contains(x, strictly=True), in integers
            for a, b in zip(rays, rays[1:] + rays[:1]):
                mid = sector_midpoint(a, b)
                if not inside(mid):
                    continue
                measure = sector_measure(a, b)
                uncertain = band.uncertain(mid)
                sectors.append(Sector(band.region.index, a, b, uncertain, measure))
                if uncertain:
                    band_lower += measure.lower
                    band_upper += measure.upper
        extra = mpf(rho.numerator) ** 2 / mpf(rho.denominator) ** 2 / 2 if rho else mpf(0)  # 1 - e^{-r^2/2} <= r^2/2
        extra = mp.mpf(extra) * (1 + mpf(2) ** -100)  # outward rounding of the division
        if radius is not None:
            extra += mpf(1) if radius == 0 else _gaussian_tail(radius, network.seq_len)
        upper = min(band_upper + extra, mpf(1))
    return Float32Band(fmt, bands, tuple(sectors), rho, radius, Measure(band_lower, upper, f"{fmt.name}-rounding-bound"))


def float32_uncertain_measure(network: ExactRNN, regions: Sequence[Region]) -> Measure | None:
    """Gaussian measure of the inputs where float32 may disagree with the exact verdict (None if n != 2)."""
    if network.seq_len != 2 or not regions:
        return None
    return uncertain_band(network, regions, FLOAT32).measure


def prediction_certain_at(network: ExactRNN, x: Sequence[Fraction], fmt: FloatFormat = FLOAT32) -> bool:
    """Pointwise: does the `fmt` forward pass at fl(x) surely pick the exact prediction? (any n)

    Uses the bound of the region that x lies in, evaluated at x itself (its tightest form).
    """
    x = tuple(Fraction(v) for v in x)
    pattern = network.pattern(x)
    errors = logit_errors(network, pattern, fmt)
    if fmt.max_finite is not None:
        growth = 1 + fmt.gamma(network.hidden_size + 2)
        if max(abs(v) for v in x) > fmt.max_finite / 2 or any(
            growth * m.at(x) >= fmt.max_finite / 2 for m in errors.magnitudes
        ):
            return False
    logits = network.logits(x)
    bounds = [e.at(x) for e in errors.errors]
    best = max(range(len(logits)), key=lambda k: (logits[k], -k))
    return all(logits[best] - logits[j] > bounds[best] + bounds[j] for j in range(len(logits)) if j != best)
