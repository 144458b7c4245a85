"""A test double for the solver door: `ExactSolver.check` fails on its k-th call of a run.

Kinds of fault:
- "unknown": Z3 answers unknown (reason "unknown");
- "timeout": the query's own time limit fires (reason "timeout"); the run's budget is not spent;
- "budget": the fake clock jumps past the run's deadline and the query times out, as a real
  query clipped to the remaining time budget would;
- "interrupt": the run's StopFlag is set, which interrupts the check (the real path:
  StopFlag.set -> interrupt_active_solvers -> the check answers unknown).

The patch is made on the class, so forked `--jobs` workers inherit it (each process counts its
own calls).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from verify.check.pipeline import StopFlag
from verify.smt.solver import Answer, ExactSolver

KINDS = ("unknown", "timeout", "budget", "interrupt")


class FakeClock:
    """A clock that moves only when told to: `advance(seconds)`."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Fault:
    """Fail the `k`-th check (1-based) with `kind`; `calls` counts every check of the run."""

    k: int
    kind: str
    flag: StopFlag = field(default_factory=StopFlag)
    clock: FakeClock = field(default_factory=FakeClock)
    calls: int = 0
    fired: bool = False


def install(monkeypatch: pytest.MonkeyPatch, fault: Fault) -> Fault:
    """Replace ExactSolver.check for the rest of the test with one that obeys `fault`."""
    real = ExactSolver.check

    def check(self: ExactSolver) -> Answer:
        fault.calls += 1
        if fault.calls != fault.k:
            return real(self)
        fault.fired = True
        if fault.kind == "interrupt":
            fault.flag.set("interrupted (test)")
            return real(self)  # the interrupted solver answers unknown, as Z3 would
        if fault.kind == "budget":
            fault.clock.advance(1e6)
        self.stats.checks += 1
        return self._unknown("unknown" if fault.kind == "unknown" else "timeout")

    monkeypatch.setattr(ExactSolver, "check", check)
    return fault


def count_checks(monkeypatch: pytest.MonkeyPatch) -> Fault:
    """Count the checks of a run without failing any (k = 0 never fires)."""
    return install(monkeypatch, Fault(k=0, kind="unknown"))
