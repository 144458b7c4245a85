"""What a claim says, and the one registry of claim names (the AlgZoo classification tasks).

A claim splits the input space into *pieces*, open polyhedral cones on which the right answer is
one fixed index. This module only states claims; `verify.check.claims` decides them on regions.
Every command, the manifest, the pytest plugin, `verify train --task` and the model cards name
claims through `CLAIM_NAMES` / `claim_from_name`, so a new task is added here once.

Tasks (AlgZoo's definitions; the prediction is always torch.argmax's first maximal logit):
  2nd-argmax  position of the 2nd largest input (k-th order claim, k = 2)
  argmax      position of the largest input (k = 1)
  argmedian   position of the median, n odd (k-th order claim, k = (n + 1) / 2)
  argoutlier  argmax_i |x_i - mean(x)|, first index on ties (as torch.argmax)
  median      regression: the one output y(x) against the median (mean of the two middle values
              for even n), judged by |y - median| <= eps * max_i |x_i| (verify.check.regression)

A claim's `kind` says which: "classification" claims need one logit per input, the regression
claim one output (AlgZoo's ScalarRNN, whose sequence length is not in its weights).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence, Union

import numpy as np

from verify.core.errors import InputError
from verify.core.linear import Constraint, Op, Vector, sub, unit

CLAIM_KS: dict[str, int] = {"2nd-argmax": 2, "argmax": 1}  # name -> k of "the k-th largest input"
DEFAULT_CLAIM = "2nd-argmax"
_NAME_OF_K = {k: name for name, k in CLAIM_KS.items()}


@dataclass(frozen=True)
class ClaimPiece:
    """An open order cone of the input space on which the claim's answer is `target`."""

    label: str
    target: int
    constraints: tuple[Constraint, ...]


def _order_pieces(n: int, k: int) -> list[ClaimPiece]:
    """One piece per choice of the k largest positions in order; the rest are below them."""
    return list(_order_pieces_of(n, k))


@functools.lru_cache(maxsize=64)
def _order_pieces_of(n: int, k: int) -> tuple[ClaimPiece, ...]:
    """`_order_pieces`, built once per (n, k): every region asks for the same frozen pieces."""
    result = []
    for top in itertools.permutations(range(n), k):
        rest = [j for j in range(n) if j not in top]
        constraints = [Constraint(sub(unit(n, a), unit(n, b)), Op.GT) for a, b in zip(top, top[1:])]
        constraints += [Constraint(sub(unit(n, top[-1]), unit(n, j)), Op.GT) for j in rest]
        label = " > ".join(f"x{a}" for a in top) + (" > rest" if rest else "")
        result.append(ClaimPiece(label=label, target=top[-1], constraints=tuple(constraints)))
    return tuple(result)


def _kth_well_defined(x: Sequence[float | Fraction], k: int) -> bool:
    values = sorted(x, reverse=True)
    return all(values[i] > values[i + 1] for i in range(min(k, len(values) - 1)))


def _kth_expected(x: Sequence[float | Fraction], k: int) -> int:
    order = sorted(range(len(x)), key=lambda i: (-x[i], i))
    return order[k - 1]


def _kth_targets(x: np.ndarray, k: int) -> np.ndarray:
    """Row-wise position of the k-th largest (stable: the earlier index first on ties)."""
    return np.argsort(-np.asarray(x, dtype=np.float64), axis=1, kind="stable")[:, k - 1]


@dataclass(frozen=True)
class KthArgmaxClaim:
    """"The first maximal logit is at the position of the k-th largest input" (k=2: AlgZoo's task)."""

    kind = "classification"

    k: int = 2

    @property
    def name(self) -> str:
        return _NAME_OF_K.get(self.k, f"{self.k}th-argmax")

    @property
    def task(self) -> str:
        return f"position of the {'largest' if self.k == 1 else self.name.split('-')[0] + ' largest'} input"

    @property
    def statement(self) -> str:
        return (
            f"for every input x in R^n with pairwise distinct coordinates, argmax(logits(x)) "
            f"(first maximal index, as torch.argmax) is the position of the "
            f"{'largest' if self.k == 1 else self.name.split('-')[0] + ' largest'} coordinate of x"
        )

    def order_k(self, n: int) -> int | None:
        """The k of "the k-th largest input" at length n (None: not an order claim)."""
        return self.k

    def length_problem(self, n: int) -> str | None:
        """Why a sequence of length n cannot carry this claim (None: it can)."""
        return None if self.k <= n else f"the {self.name} claim needs a sequence length of at least {self.k}"

    def pieces(self, n: int) -> list[ClaimPiece]:
        if not 1 <= self.k <= n:
            raise ValueError(f"the {self.name} claim needs n >= {self.k}")
        return _order_pieces(n, self.k)

    def well_defined(self, x: Sequence[float | Fraction]) -> bool:
        """The k largest coordinates are strictly ordered and strictly above the rest."""
        return _kth_well_defined(x, self.k)

    def expected(self, x: Sequence[float | Fraction]) -> int:
        """The right answer at a point (ties broken by position; callers avoid ties)."""
        return _kth_expected(x, self.k)

    def targets(self, x: np.ndarray) -> np.ndarray:
        """The right answers of a (batch, n) array of inputs, for sampling and training."""
        return _kth_targets(x, self.k)


@dataclass(frozen=True)
class ArgmedianClaim:
    """"The first maximal logit is at the position of the median input" (n odd): the k-th order
    claim with k = (n + 1) / 2, which depends on the sequence length, hence its own class."""

    kind = "classification"

    @property
    def name(self) -> str:
        return "argmedian"

    @property
    def k(self) -> None:
        """No fixed k: it is (n + 1) / 2 for each sequence length n (see `k_for`)."""
        return None

    @property
    def task(self) -> str:
        return "position of the median input (n odd)"

    @property
    def statement(self) -> str:
        return ("for every input x in R^n (n odd) with pairwise distinct coordinates, argmax(logits(x)) "
                "(first maximal index, as torch.argmax) is the position of the median coordinate of x")

    @staticmethod
    def k_for(n: int) -> int:
        return (n + 1) // 2

    def order_k(self, n: int) -> int | None:
        return self.k_for(n)

    def length_problem(self, n: int) -> str | None:
        if n % 2 == 0:
            return f"the argmedian claim needs an odd sequence length (the median of {n} inputs is no input), got {n}"
        return None

    def pieces(self, n: int) -> list[ClaimPiece]:
        problem = self.length_problem(n)
        if problem:
            raise ValueError(problem)
        return _order_pieces(n, self.k_for(n))

    def well_defined(self, x: Sequence[float | Fraction]) -> bool:
        return len(x) % 2 == 1 and _kth_well_defined(x, self.k_for(len(x)))

    def expected(self, x: Sequence[float | Fraction]) -> int:
        return _kth_expected(x, self.k_for(len(x)))

    def targets(self, x: np.ndarray) -> np.ndarray:
        return _kth_targets(x, self.k_for(np.shape(x)[1]))


def _centred(n: int, i: int) -> Vector:
    """n * (x_i - mean(x)) as a linear form: integer coefficients."""
    return tuple(Fraction(n * (k == i) - 1) for k in range(n))


@functools.lru_cache(maxsize=64)
def _outlier_pieces(n: int) -> tuple[ClaimPiece, ...]:
    """The argoutlier claim's pieces at length n, built once: x_t farther from the mean than every
    other x_j, on one side of the mean (every region asks for the same frozen pieces)."""
    result = []
    for t in range(n):
        for sign, word in ((1, "above"), (-1, "below")):
            far = tuple(sign * v for v in _centred(n, t))  # n * |x_t - m| on this side
            constraints = []
            for j in range(n):
                if j == t:
                    continue
                other = _centred(n, j)
                constraints.append(Constraint(sub(far, other), Op.GT))
                constraints.append(Constraint(tuple(a + b for a, b in zip(far, other)), Op.GT))
            result.append(ClaimPiece(label=f"x{t} farthest, {word} the mean", target=t,
                                     constraints=tuple(constraints)))
    return tuple(result)


@dataclass(frozen=True)
class ArgoutlierClaim:
    """"The first maximal logit is at argmax_i |x_i - mean(x)|" (AlgZoo's argoutlier).

    Piecewise linear like the order claims: on the open cone where x_t lies strictly farther from
    the mean than every other x_j, on the side s (s = sign of x_t - mean), the answer is t. The
    2n cones (t, s) cover R^n up to the measure-zero ties |x_t - m| = |x_j - m|. For n = 2 every
    input is such a tie (both inputs are equally far from their mean), so n >= 3."""

    kind = "classification"

    @property
    def name(self) -> str:
        return "argoutlier"

    @property
    def k(self) -> None:
        return None

    @property
    def task(self) -> str:
        return "position of the input farthest from the mean"

    @property
    def statement(self) -> str:
        return ("for every input x in R^n whose largest |x_i - mean(x)| is attained once, argmax(logits(x)) "
                "(first maximal index, as torch.argmax) is the position of that coordinate")

    def order_k(self, n: int) -> int | None:
        return None  # not an order claim: its pieces compare distances to the mean

    def length_problem(self, n: int) -> str | None:
        if n < 3:
            return ("the argoutlier claim needs a sequence length of at least 3 (two inputs are always "
                    "equally far from their mean)")
        return None

    def pieces(self, n: int) -> list[ClaimPiece]:
        problem = self.length_problem(n)
        if problem:
            raise ValueError(problem)
        return list(_outlier_pieces(n))

    @staticmethod
    def _distances(x: Sequence[float | Fraction]) -> list[Fraction]:
        exact = [Fraction(v) for v in x]
        total = sum(exact, Fraction(0))
        return [abs(len(exact) * v - total) for v in exact]  # n * |x_i - mean|, exactly

    def well_defined(self, x: Sequence[float | Fraction]) -> bool:
        distances = self._distances(x)
        return len(x) >= 3 and distances.count(max(distances)) == 1

    def expected(self, x: Sequence[float | Fraction]) -> int:
        distances = self._distances(x)
        return distances.index(max(distances))

    def targets(self, x: np.ndarray) -> np.ndarray:
        values = np.asarray(x, dtype=np.float64)
        return np.abs(values - values.mean(axis=1, keepdims=True)).argmax(axis=1)


@dataclass(frozen=True)
class MedianPiece:
    """An open order cone on which the median is one fixed linear form `median . x`."""

    label: str
    median: Vector
    constraints: tuple[Constraint, ...]


def _middle_pieces(n: int) -> list[MedianPiece]:
    """One piece per choice of the middle coordinate(s) and of the set above them.

    Odd n: x_a > x_m > x_b for a above, b below (median x_m). Even n: x_a > x_h > x_l > x_b
    (median (x_h + x_l) / 2). Fewer pieces than the n! full orders, and together they cover R^n
    up to the measure-zero ties."""
    half = Fraction(1, 2)
    result = []
    if n % 2 == 1:
        for m in range(n):
            others = [j for j in range(n) if j != m]
            for above in itertools.combinations(others, n // 2):
                below = [j for j in others if j not in above]
                constraints = [Constraint(sub(unit(n, a), unit(n, m)), Op.GT) for a in above]
                constraints += [Constraint(sub(unit(n, m), unit(n, b)), Op.GT) for b in below]
                label = f"median x{m}" + (f", above {{{','.join(f'x{a}' for a in above)}}}" if above else "")
                result.append(MedianPiece(label, unit(n, m), tuple(constraints)))
        return result
    for high, low in itertools.permutations(range(n), 2):
        others = [j for j in range(n) if j not in (high, low)]
        for above in itertools.combinations(others, n // 2 - 1):
            below = [j for j in others if j not in above]
            constraints = [Constraint(sub(unit(n, a), unit(n, high)), Op.GT) for a in above]
            constraints.append(Constraint(sub(unit(n, high), unit(n, low)), Op.GT))
            constraints += [Constraint(sub(unit(n, low), unit(n, b)), Op.GT) for b in below]
            label = f"median (x{high}+x{low})/2" + (f", above {{{','.join(f'x{a}' for a in above)}}}" if above else "")
            median = tuple(half * (a + b) for a, b in zip(unit(n, high), unit(n, low)))
            result.append(MedianPiece(label, median, tuple(constraints)))
    return result


@dataclass(frozen=True)
class MedianClaim:
    """AlgZoo's median task, a regression: "|y(x) - median(x)| <= eps * max_i |x_i| for every x".

    y is the model's one output (a ScalarRNN). Both y and the median are continuous, piecewise
    linear and positively homogeneous, so the ratio depends on the direction of x only and its
    supremum is attained on the cube's boundary (verify.check.regression decides it exactly)."""

    kind = "regression"

    @property
    def name(self) -> str:
        return "median"

    @property
    def k(self) -> None:
        return None

    @property
    def task(self) -> str:
        return "the median of the inputs (mean of the two middle values for even n)"

    @property
    def statement(self) -> str:
        return ("for every input x in R^n, |y(x) - median(x)| <= eps * max_i |x_i| (y: the model's one output; "
                "median: the middle value, or the mean of the two middle values for even n)")

    def order_k(self, n: int) -> int | None:
        return None

    def length_problem(self, n: int) -> str | None:
        """Why inputs of length n cannot carry the task (None: they can)."""
        return None if n >= 2 else f"the median claim needs a sequence length of at least 2, got {n}"

    def median_pieces(self, n: int) -> list[MedianPiece]:
        problem = self.length_problem(n)
        if problem:
            raise ValueError(problem)
        return _middle_pieces(n)

    def median(self, x: Sequence[float | Fraction]) -> Fraction:
        """The exact median of an exact point (a Fraction)."""
        values = sorted(Fraction(v) for v in x)
        n = len(values)
        return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2

    def targets(self, x: np.ndarray) -> np.ndarray:
        """The medians of a (batch, n) array (float64): training targets and Monte Carlo labels."""
        return np.median(np.asarray(x, dtype=np.float64), axis=1)


Claim = Union[KthArgmaxClaim, ArgmedianClaim, ArgoutlierClaim]
AnyClaim = Union[KthArgmaxClaim, ArgmedianClaim, ArgoutlierClaim, MedianClaim]

CLAIMS: dict[str, Callable[[], AnyClaim]] = {
    "2nd-argmax": lambda: KthArgmaxClaim(2),
    "argmax": lambda: KthArgmaxClaim(1),
    "argmedian": ArgmedianClaim,
    "argoutlier": ArgoutlierClaim,
    "median": MedianClaim,
}
CLAIM_NAMES: tuple[str, ...] = tuple(CLAIMS)
REGRESSION_CLAIMS: tuple[str, ...] = ("median",)
CLASSIFICATION_CLAIMS: tuple[str, ...] = tuple(name for name in CLAIMS if name not in REGRESSION_CLAIMS)


def is_regression(name: str) -> bool:
    return name in REGRESSION_CLAIMS


def default_claim_for(outputs: int) -> str:
    """The claim checked when none is named: median for a one-output model, else 2nd-argmax."""
    return "median" if outputs == 1 else DEFAULT_CLAIM


def first_argmax(values: Sequence[Fraction | float]) -> int:
    best = 0
    for i, value in enumerate(values):
        if value > values[best]:
            best = i
    return best


def mismatch(name: str, outputs: int) -> str | None:
    """Why a model with `outputs` outputs cannot carry claim `name` (None: it can)."""
    if is_regression(name) and outputs != 1:
        return (f"the {name} claim is a regression on one output (AlgZoo's ScalarRNN), but the model has "
                f"{outputs} outputs, a classification model; use --claim {' | '.join(CLASSIFICATION_CLAIMS)}")
    if not is_regression(name) and outputs == 1:
        return (f"the model has 1 output, a regression model (AlgZoo's median ScalarRNN), but {name} is a "
                f"classification claim with one logit per input; use --claim median")
    return None


def claim_from_name(name: str, n: int | None = None, *, where: str = "", outputs: int | None = None) -> Claim:
    """The classification claim called `name`; with `n`, also check that a sequence of length n
    can satisfy it, and with `outputs` (rows of linear.weight) that the model is a classifier.

    Raises a one-line InputError naming the valid claims, the sequence length needed or the
    mismatch between a regression model and a classification claim (or the reverse), prefixed
    by `where` (e.g. the model's path) when given. The regression claim `median` is refused here
    with one line: commands that check it call `regression_claim_from_name`.
    """
    prefix = f"{where}: " if where else ""
    if name not in CLAIMS:
        raise InputError(f"{prefix}unknown claim {name!r}; valid claims: {', '.join(CLAIM_NAMES)}")
    problem = mismatch(name, outputs) if outputs is not None else None
    if problem:
        raise InputError(f"{prefix}{problem}")
    if is_regression(name):
        raise InputError(f"{prefix}the {name} claim is a regression; this command checks only the classification "
                         f"claims ({', '.join(CLASSIFICATION_CLAIMS)}); use verify check / verify ci")
    claim = CLAIMS[name]()
    problem = claim.length_problem(n) if n is not None else None
    if problem:
        raise InputError(f"{prefix}{problem}")
    return claim  # type: ignore[return-value]


def regression_claim_from_name(name: str, *, outputs: int | None = None, seq_len: int | None = None,
                               where: str = "") -> MedianClaim:
    """The regression claim `name` for a model with `outputs` outputs read at length `seq_len`.

    One-line InputError if `name` is no regression claim, the model is a classification model,
    or the length cannot carry the task."""
    prefix = f"{where}: " if where else ""
    if name not in CLAIMS:
        raise InputError(f"{prefix}unknown claim {name!r}; valid claims: {', '.join(CLAIM_NAMES)}")
    problem = mismatch(name, outputs) if outputs is not None else None
    if problem is None and not is_regression(name):
        problem = f"{name} is a classification claim, not a regression"
    if problem is None and seq_len is not None:
        problem = MedianClaim().length_problem(seq_len)
    if problem:
        raise InputError(f"{prefix}{problem}")
    return MedianClaim()
