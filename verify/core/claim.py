"""What a claim says, and the one registry of claim names.

A claim splits the input space into *pieces*, open order cones on which the right answer is one
fixed index. This module only states claims; `verify.check.claims` decides them on regions.
Every command, the manifest, the pytest plugin and the model cards name claims through
`CLAIM_NAMES` / `claim_from_name`, so a new claim is added here once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from verify.core.errors import InputError
from verify.core.linear import Constraint, Op, sub, unit

CLAIM_KS: dict[str, int] = {"2nd-argmax": 2, "argmax": 1}  # name -> k of "the k-th largest input"
CLAIM_NAMES: tuple[str, ...] = tuple(CLAIM_KS)
DEFAULT_CLAIM = "2nd-argmax"
_NAME_OF_K = {k: name for name, k in CLAIM_KS.items()}


@dataclass(frozen=True)
class ClaimPiece:
    """An open order cone of the input space on which the claim's answer is `target`."""

    label: str
    target: int
    constraints: tuple[Constraint, ...]


@dataclass(frozen=True)
class KthArgmaxClaim:
    """"The first maximal logit is at the position of the k-th largest input" (k=2: AlgZoo's task)."""

    k: int = 2

    @property
    def name(self) -> str:
        return _NAME_OF_K.get(self.k, f"{self.k}th-argmax")

    @property
    def statement(self) -> str:
        return (
            f"for every input x in R^n with pairwise distinct coordinates, argmax(logits(x)) "
            f"(first maximal index, as torch.argmax) is the position of the "
            f"{'largest' if self.k == 1 else self.name.split('-')[0] + ' largest'} coordinate of x"
        )

    def pieces(self, n: int) -> list[ClaimPiece]:
        """One piece per choice of the k largest positions in order; the rest are below them."""
        if not 1 <= self.k <= n:
            raise ValueError(f"the {self.name} claim needs n >= {self.k}")
        result = []
        for top in itertools.permutations(range(n), self.k):
            rest = [j for j in range(n) if j not in top]
            constraints = [Constraint(sub(unit(n, a), unit(n, b)), Op.GT) for a, b in zip(top, top[1:])]
            constraints += [Constraint(sub(unit(n, top[-1]), unit(n, j)), Op.GT) for j in rest]
            label = " > ".join(f"x{a}" for a in top) + (" > rest" if rest else "")
            result.append(ClaimPiece(label=label, target=top[-1], constraints=tuple(constraints)))
        return result

    def well_defined(self, x: Sequence[float | Fraction]) -> bool:
        """The k largest coordinates are strictly ordered and strictly above the rest."""
        values = sorted(x, reverse=True)
        return all(values[i] > values[i + 1] for i in range(min(self.k, len(values) - 1)))

    def expected(self, x: Sequence[float | Fraction]) -> int:
        """The right answer at a point (ties broken by position; callers avoid ties)."""
        order = sorted(range(len(x)), key=lambda i: (-x[i], i))
        return order[self.k - 1]


def first_argmax(values: Sequence[Fraction | float]) -> int:
    best = 0
    for i, value in enumerate(values):
        if value > values[best]:
            best = i
    return best


def claim_from_name(name: str, n: int | None = None, *, where: str = "") -> KthArgmaxClaim:
    """The claim called `name`; with `n`, also check that a sequence of length n can satisfy it.

    Raises a one-line InputError naming the valid claims, or the sequence length needed,
    prefixed by `where` (e.g. the model's path) when given.
    """
    prefix = f"{where}: " if where else ""
    if name not in CLAIM_KS:
        raise InputError(f"{prefix}unknown claim {name!r}; valid claims: {', '.join(CLAIM_NAMES)}")
    claim = KthArgmaxClaim(CLAIM_KS[name])
    if n is not None and claim.k > n:
        raise InputError(f"{prefix}the {name} claim needs a sequence length of at least {claim.k}")
    return claim
