"""Independent oracles for the n = 2 results: they use only the exact forward pass, never the
region search, the solver or the geometry code under test."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from mpmath import iv, mp, mpf

from verify.core.network import ExactRNN


def first_argmax(values) -> int:  # type: ignore[no-untyped-def]
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


def _square_point(s: Fraction) -> tuple[Fraction, Fraction]:
    """Rational point on the perimeter of [-1, 1]^2, counter-clockwise from (1, -1), s in [0, 8)."""
    side, u = int(s // 2), s - 2 * int(s // 2)
    if side == 0:
        return Fraction(1), Fraction(-1) + u
    if side == 1:
        return Fraction(1) - u, Fraction(1)
    if side == 2:
        return Fraction(-1), Fraction(1) - u
    return Fraction(-1) + u, Fraction(-1)


def _wrong_exact(net: ExactRNN, s: Fraction) -> bool | None:
    x0, x1 = _square_point(s)
    if x0 == x1:
        return None
    target = 1 if x0 > x1 else 0  # the 2nd largest of two inputs is the smaller one
    return first_argmax(net.logits((x0, x1))) != target


def _angle(s: Fraction) -> mpf:
    x0, x1 = _square_point(s)
    with mp.workdps(50):
        a = mp.atan2(mpf(x1.numerator) / x1.denominator, mpf(x0.numerator) / x0.denominator)
        return a if a >= 0 else a + 2 * mp.pi


def angular_scan_error(net: ExactRNN, *, cells: int = 1 << 17, bisections: int = 90) -> mpf:
    """Misclassified fraction of the circle by a brute-force scan along the square's perimeter.

    Labels on a fine grid come from float64 (fast); every change of label is re-evaluated and
    located by exact bisection, so each arc end is known to about 8 * 2^-bisections. Arcs
    narrower than one grid cell (2*pi / cells of angle at most) are the scan's blind spot.
    """
    grid = np.arange(cells, dtype=np.float64) * (8.0 / cells)
    side = np.floor(grid / 2)
    u = grid - 2 * side
    x0 = np.select([side == 0, side == 1, side == 2, side == 3], [np.ones_like(u), 1 - u, -np.ones_like(u), -1 + u])
    x1 = np.select([side == 0, side == 1, side == 2, side == 3], [-1 + u, np.ones_like(u), 1 - u, -np.ones_like(u)])
    logits = net.logits_float64(np.stack([x0, x1], axis=1))
    predicted = np.argmax(logits, axis=1)
    target = np.where(x0 > x1, 1, 0)
    wrong = predicted != target
    step = Fraction(8, cells)
    total = mpf(0)
    # walk the circle; find boundaries between consecutive grid points whose labels differ
    boundaries: list[tuple[mpf, bool]] = []  # (angle, becomes_wrong)
    suspicious = set(np.nonzero(wrong != np.roll(wrong, -1))[0].tolist())
    suspicious |= set(np.nonzero(np.abs(logits[:, 0] - logits[:, 1]) < 1e-9 * (1 + np.abs(logits).max()))[0].tolist())
    for k in sorted(suspicious):
        lo, hi = step * k, step * (k + 1)
        a, b = _wrong_exact(net, lo), _wrong_exact(net, hi % 8)
        if a is None:  # diagonal point at the grid point itself: nudge
            lo += step / 10**20
            a = _wrong_exact(net, lo)
        if b is None:
            hi -= step / 10**20
            b = _wrong_exact(net, hi % 8)
        if a == b:
            continue
        for _ in range(bisections):
            mid = (lo + hi) / 2
            m = _wrong_exact(net, mid % 8)
            if m is None:
                mid += step / 10**12
                m = _wrong_exact(net, mid % 8)
            if m == a:
                lo = mid
            else:
                hi = mid
        boundaries.append((_relative_angle(lo % 8), bool(b)))
    eps = step / 10**20
    for diagonal in (Fraction(2), Fraction(6)):  # (1, 1) and (-1, -1): the target itself flips here
        before, after = _wrong_exact(net, diagonal - eps), _wrong_exact(net, diagonal + eps)
        if before != after:
            boundaries.append((_relative_angle(diagonal), bool(after)))
    start = Fraction(1, 10**9)  # just past the corner (1, -1)
    state = bool(_wrong_exact(net, start))
    boundaries.sort(key=lambda p: p[0])
    with mp.workdps(50):
        last = _relative_angle(start)
        for angle, becomes_wrong in boundaries:
            if state:
                total += angle - last
            state, last = becomes_wrong, angle
        if state:
            total += 2 * mp.pi - last
        return total / (2 * mp.pi)


def _relative_angle(s: Fraction) -> mpf:
    """Angle walked counter-clockwise from the start corner (1, -1), in [0, 2*pi)."""
    with mp.workdps(50):
        a = _angle(s) - 7 * mp.pi / 4
        return a if a >= 0 else a + 2 * mp.pi
