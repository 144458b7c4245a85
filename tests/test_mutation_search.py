"""Issue 18 #4: the Z3 door (verify.solver) on hand-solved systems.

Every expectation is worked out by hand: tiny systems of homogeneous linear constraints whose
satisfiability is obvious, integer rescalings computed on paper, and query limits on a fake clock.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from verify.linear import Constraint, Op
from verify.solver import Answer, ExactSolver, QueryLimits, SolverStats, decide, primitive


def c(a: object, b: object, op: Op) -> Constraint:
    return Constraint((F(a), F(b)), op)  # type: ignore[arg-type]


@pytest.mark.parametrize("coeffs,want", [
    ((F(1, 2), F(1, 3)), (3, 2)),            # lcm 6, gcd 1
    ((F(4), F(6)), (2, 3)),                  # gcd 2
    ((F(-3, 4), F(0), F(9, 8)), (-2, 0, 3)),  # lcm 8 -> (-6, 0, 9), gcd 3
    ((F(0), F(0)), (0, 0)),
    ((F(5, 7),), (1,)),
])
def test_primitive_is_the_coprime_integer_rescaling(coeffs: tuple[F, ...], want: tuple[int, ...]) -> None:
    assert primitive(coeffs) == tuple(F(v) for v in want)


@pytest.mark.parametrize("constraints,want", [
    ([c(1, 0, Op.GT), c(-1, 0, Op.GT)], Answer.UNSAT),                # x > 0 and x < 0
    ([c(1, 0, Op.GE), c(-1, 0, Op.GE)], Answer.SAT),                  # x = 0 allowed
    ([c(1, 0, Op.GE), c(-1, 0, Op.GE), c(0, 1, Op.GT), c(0, -1, Op.GE)], Answer.UNSAT),
    ([c(1, -1, Op.EQ), c(1, 0, Op.GT)], Answer.SAT),                  # the diagonal
    ([c(1, -1, Op.EQ), c(1, 0, Op.GT), c(0, 1, Op.LT)], Answer.UNSAT),
    ([c(1, 0, Op.LE), c(1, 0, Op.LT)], Answer.SAT),
    ([c(1, 0, Op.LT), c(-1, 0, Op.LE)], Answer.UNSAT),
])
def test_decisions_on_hand_solved_systems(constraints: list[Constraint], want: Answer) -> None:
    answer, point = decide(2, constraints, SolverStats())
    assert answer is want and (point is None) is (want is not Answer.SAT)
    if point is not None:
        assert all(k.holds(point) for k in constraints)
    solver = ExactSolver(2, SolverStats())
    for k in constraints:
        solver.add(k)
    assert solver.check() is want
    if want is Answer.SAT:
        point = solver.model_point()
        assert all(k.holds(point) for k in constraints)


def test_decide_with_any_of_is_a_disjunction() -> None:
    answer, point = decide(2, [c(1, 0, Op.GT)], SolverStats(), any_of=[c(-1, 0, Op.GT), c(0, -1, Op.GT)])
    assert answer is Answer.SAT and point is not None and point[0] > 0 and point[1] < 0
    answer, point = decide(2, [c(1, 0, Op.GT)], SolverStats(), any_of=[c(-1, 0, Op.GT)])
    assert answer is Answer.UNSAT and point is None


def test_scopes_undo_what_they_added_and_any_of_is_a_disjunction() -> None:
    stats = SolverStats()
    solver = ExactSolver(2, stats)
    solver.add(c(1, 0, Op.GT))
    solver.push()
    solver.add(c(-1, 0, Op.GT))
    assert solver.check() is Answer.UNSAT
    solver.pop()
    assert solver.check() is Answer.SAT
    solver.push()
    solver.add_any([c(-1, 0, Op.GT), c(0, 1, Op.GT)])  # x < 0 or y > 0: only y > 0 is possible
    assert solver.check() is Answer.SAT and solver.model_point()[1] > 0
    solver.pop()
    solver.add_any([c(-1, 0, Op.GT), c(-1, 0, Op.GE)])  # x < 0 or x <= 0, with x > 0: impossible
    assert solver.check() is Answer.UNSAT
    assert stats.checks == 4 and stats.unknowns == 0


def test_model_point_without_a_sat_answer_is_an_error() -> None:
    solver = ExactSolver(2, SolverStats())
    solver.add(c(1, 0, Op.GT))
    solver.add(c(-1, 0, Op.GT))
    assert solver.check() is Answer.UNSAT
    with pytest.raises(RuntimeError):
        solver.model_point()


def test_a_passed_deadline_is_unknown_without_asking_z3() -> None:
    stats = SolverStats()
    solver = ExactSolver(2, stats, limits=QueryLimits(timeout_ms=None, deadline=5.0, clock=lambda: 5.0))
    solver.add(c(1, 0, Op.GT))
    assert solver.check() is Answer.UNKNOWN
    assert solver.last_reason == "deadline" and stats.unknowns == 1 and stats.checks == 0


def test_an_interrupted_solver_answers_unknown() -> None:
    stats = SolverStats()
    solver = ExactSolver(2, stats)
    solver.add(c(1, 0, Op.GT))
    solver.interrupt()
    assert solver.check() is Answer.UNKNOWN and solver.last_reason == "interrupted" and stats.unknowns == 1


@pytest.mark.parametrize("timeout,deadline,now,want", [
    (None, None, 0.0, None),      # no limit at all
    (250, None, 0.0, 250),
    (None, 10.0, 7.5, 2500),      # the remaining time
    (1000, 10.0, 7.5, 1000),      # the smaller of the two
    (5000, 10.0, 7.5, 2500),
    (None, 10.0, 10.0, 0),        # at the deadline: nothing left
    (None, 10.0, 11.0, 0),
    (None, 10.0, 9.9999999, 1),   # less than a millisecond left still asks for 1 ms
    (0, None, 0.0, 1),            # a query always gets at least 1 ms
])
def test_query_limits_on_a_fake_clock(timeout: int | None, deadline: float | None, now: float,
                                      want: int | None) -> None:
    limits = QueryLimits(timeout_ms=timeout, deadline=deadline, clock=lambda: now)
    assert limits.next_ms() == want
    assert limits.expired() is (deadline is not None and now >= deadline)
