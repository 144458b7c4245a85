"""Claims about the logits, decided exactly on each region by Z3.

A claim splits the input space into *pieces*, open polyhedral cones on which the right
answer is one fixed index (for the k-th-argmax claim: "x_m is the largest input and x_t the
k-th largest" -> target t). On a region the logits are linear, so on a piece the claim is a
set of linear sign conditions. Predictions follow PyTorch's `argmax`: the first maximal
index wins a tie. Inputs with two equal coordinates have no well-defined k-th argmax; they
form a measure-zero set that every claim excludes explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from fractions import Fraction
from typing import Callable, Sequence

from verify.core.by_object import ByObject
from verify.core.claim import Claim, ClaimPiece
from verify.core.linear import Constraint, Op, Vector, is_zero, sub
from verify.check.regions import GEOMETRY_MAX_N, Region
from verify.geometry.integer_cone import GrowingCone, idot, integer_direction
from verify.geometry.solid import ConeGeometry, cone_geometry, default_max_rays, geometry_of
from verify.smt.solver import Answer, ExactSolver, QueryLimits, SmtQuery, SolverStats


class Verdict(IntEnum):
    """Ordered so that the overall verdict is the worst (max) region verdict."""

    PROVED = 0
    UNKNOWN = 1
    REFUTED = 2

    @property
    def word(self) -> str:
        return self.name.lower()


class _DeferredPoint:
    """A cone's witness not asked of Z3 yet: the refuted region's open queries, replayed in a
    fresh solver on first read (`_WitnessReplay`). Pickling (--jobs, Dask) sends the point."""

    __slots__ = ("replay", "key", "fallback", "signs")

    def __init__(self, replay: "_WitnessReplay", key: tuple[int, int], grown: GrowingCone) -> None:
        self.replay, self.key = replay, key
        self.fallback = _witness(grown)
        self.signs = _orthant(grown)

    def resolve(self) -> tuple[Fraction, ...]:
        point = self.replay.point(self.key)
        return point if point is not None else self.fallback

    def __reduce__(self) -> tuple[type, tuple[tuple[Fraction, ...]]]:
        return tuple, (self.resolve(),)


class _WitnessSlot:
    """`Cone.witness`: a point, or a `_DeferredPoint` resolved (once, then kept) when first read.

    A data descriptor, so the frozen dataclass's constructor, equality, `replace` and the
    checkpoint encoder all see a plain point; only what is never read is never computed."""

    def __get__(self, obj: object, owner: type | None = None) -> tuple[Fraction, ...]:
        if obj is None:
            raise AttributeError("witness")  # no default value for the dataclass field
        value = obj.__dict__["witness"]
        if isinstance(value, _DeferredPoint):
            value = obj.__dict__["witness"] = value.resolve()
        return value

    def __set__(self, obj: object, value: "tuple[Fraction, ...] | _DeferredPoint") -> None:
        obj.__dict__["witness"] = value


def _orthant(cone: GrowingCone) -> tuple[int, ...] | None:
    """The sign (+1 or -1) of each coordinate on the open cone, when every interior point shares
    them (each coordinate keeps one sign on the extreme rays and there is no lineality)."""
    if cone.lineality:
        return None
    signs = []
    for i in range(cone.n):
        if all(r[i] >= 0 for r in cone.rays):
            signs.append(1)
        elif all(r[i] <= 0 for r in cone.rays):
            signs.append(-1)
        else:
            return None
    return tuple(signs)


def witness_signs(cone: "Cone") -> tuple[int, ...] | None:
    """The signs of the cone's witness coordinates when exact geometry already knows them, without
    computing a deferred witness (a coordinate's sign is fixed on the whole open cone); else None."""
    value = cone.__dict__.get("witness")
    return value.signs if isinstance(value, _DeferredPoint) else None


def provisional_witness(cone: "Cone") -> tuple[Fraction, ...] | None:
    """An exact interior point of the cone from its own geometry, when its witness is deferred
    and not computed yet (None otherwise: then the witness itself costs nothing to read)."""
    value = cone.__dict__.get("witness")
    return value.fallback if isinstance(value, _DeferredPoint) else None


@dataclass(frozen=True)
class Cone:
    """A region's sub-cone on which the prediction is the constant `predicted` (open constraints)."""

    region: int
    piece: str
    target: int
    predicted: int
    tied: bool  # the maximal logit is shared, identically, with another index on this cone
    constraints: tuple[Constraint, ...]
    witness: tuple[Fraction, ...] = _WitnessSlot()  # type: ignore[assignment]  # an exact interior point found by Z3

    @property
    def correct(self) -> bool:
        return self.predicted == self.target


@dataclass(frozen=True)
class Violation:
    """A counterexample on a measure-zero set (a boundary), found by the closed check."""

    region: int
    piece: str
    target: int
    point: tuple[Fraction, ...]


@dataclass
class RegionClaimResult:
    """The claim on one region. `verdict` is REFUTED when a counterexample was proved to exist,
    else UNKNOWN when a query was left undecided, else PROVED. `undecided` says the cones found
    may be incomplete (so the region's error measure is only a lower bound); `stopped` says the
    check gave up early because the run was interrupted or its time budget ran out."""

    region: int
    verdict: Verdict
    cones: list[Cone] = field(default_factory=list)
    boundary_violations: list[Violation] = field(default_factory=list)
    queries: list[SmtQuery] = field(default_factory=list)
    note: str = ""
    undecided: bool = False
    stopped: bool = False
    grown: list[GrowingCone | None] = field(default_factory=list, compare=False, repr=False)  # one per cone
    geometry: ConeGeometry | None = field(default=None, compare=False, repr=False)  # the region's, computed once


class _Differences:
    """logits[a] - logits[b] of one region, each unordered pair subtracted once: every piece and
    every prediction of a region asks for the same differences, and Fraction arithmetic is costly."""

    def __init__(self, logits: Sequence[Vector]) -> None:
        self.logits = logits
        self._known: dict[tuple[int, int], Vector] = {}

    def __call__(self, a: int, b: int) -> Vector:
        diff = self._known.get((a, b))
        if diff is None:
            back = self._known.get((b, a))
            diff = tuple(-v for v in back) if back is not None else sub(self.logits[a], self.logits[b])
            self._known[(a, b)] = diff
        return diff


def _violation_terms(logits: Sequence[Vector], target: int,
                     differences: _Differences | None = None) -> list[Constraint] | None:
    """Constraints "index j beats the target" for each j; None if some j beats it identically."""
    difference = differences if differences is not None else _Differences(logits)
    terms = []
    for j in range(len(logits)):
        if j == target:
            continue
        diff = difference(j, target)
        if is_zero(diff):
            if j < target:
                return None  # identical logits and j comes first: the target always loses
            continue
        terms.append(Constraint(diff, Op.GE if j < target else Op.GT))
    return terms


def _prediction_constraints(logits: Sequence[Vector], p: int,
                            differences: _Differences | None = None) -> tuple[list[Constraint], bool] | None:
    """Open constraints for "argmax = p"; None if p can never be the first maximum here."""
    difference = differences if differences is not None else _Differences(logits)
    constraints, tied = [], False
    for j in range(len(logits)):
        if j == p:
            continue
        diff = difference(p, j)
        if is_zero(diff):
            if j < p:
                return None
            tied = True
            continue
        constraints.append(Constraint(diff, Op.GT))
    return constraints, tied


_DIRECTIONS: ByObject[Constraint, tuple[int, ...]] = ByObject(4096)


def _direction(c: Constraint) -> tuple[int, ...]:
    """The constraint's normal (read a . x >= 0) as coprime integers, kept by object: the claim's
    pieces are the same objects for every region, which cuts its cone by them again."""
    return _DIRECTIONS.get(c, _normal_of)


def _normal_of(c: Constraint) -> tuple[int, ...]:
    return integer_direction(c.positive_normal())


def grow(cone: GrowingCone, constraints: Sequence[Constraint]) -> GrowingCone | None:
    """The cone cut by each open constraint in turn; None as soon as its open part is empty.

    Exact: the cone's open part is non-empty, so it stays non-empty under a . x > 0 exactly when
    a generator lies strictly on that side (verify.geometry.integer_cone)."""
    for c in constraints:
        a = _direction(c)
        if not any(a):
            if c.op in (Op.GT, Op.LT):
                return None
            continue
        if cone.has(a):
            continue
        if not cone.sides(a)[0]:
            return None
        cone = cone.add(a)
    return cone


def region_cone(region: Region) -> GrowingCone:
    """The region's closed cone: the one grown by the search, or grown here from its constraints."""
    if region.cone is not None:
        return region.cone
    cone = grow(GrowingCone.whole_space(region.n, default_max_rays(region.n)), region.interior())
    if cone is None:
        raise ValueError(f"region {region.pattern_text} has an empty interior")
    return cone


def _witness(cone: GrowingCone) -> tuple[Fraction, ...]:
    return tuple(Fraction(v) for v in cone.interior_point())


def check_region(
    region: Region,
    claim: Claim,
    stats: SolverStats,
    *,
    collect_queries: bool = False,
    timeout_ms: int | None = 10_000,
    limits: QueryLimits | None = None,
    should_stop: Callable[[], str | None] | None = None,
    on_query: Callable[[], None] | None = None,
    solver: ExactSolver | None = None,
) -> RegionClaimResult:
    """Decide the claim on one region exactly; return its positive-measure cones and witnesses.

    Which pieces of the claim meet the region, and each cone's interior point, is exact geometry
    (the region's cone cut by the piece's constraints). Every sign claim on the logits (does some
    index beat the target; where is the argmax) is decided by Z3, all queries of the region in
    one session of `solver` (one per worker; a fresh one if None), on the region's facets (the
    same closed cone as all its constraints): first every piece at once, then piece by piece
    only when that finds a violation. Z3's answers are used, never its models, so results do
    not depend on what the solver did before; a boundary counterexample, the one place a Z3
    point is reported, is re-derived by the region's own queries in a fresh solver.

    A query Z3 leaves undecided never turns into an answer: the region is marked `undecided`
    and the other queries go on, unless the run was interrupted or out of time (`stopped`).
    """
    n = region.n
    limits = limits if limits is not None else QueryLimits(timeout_ms=timeout_ms)
    result = RegionClaimResult(region=region.index, verdict=Verdict.PROVED)
    closed_region = list(region.constraints)
    open_region = list(region.interior())
    # Past GEOMETRY_MAX_N inputs the double description can explode: Z3 decides the pieces too.
    base = region_cone(region) if region.cone is not None or n <= GEOMETRY_MAX_N else None
    result.geometry = geometry_of(base) if base is not None else cone_geometry(open_region, n)
    if result.geometry is not None and result.geometry.full_dimensional:
        closed_facets = [Constraint(a, Op.GE) for a in result.geometry.facets]
    else:
        closed_facets = [Constraint(c.positive_normal(), Op.GE) for c in closed_region]
    if solver is None:
        solver = ExactSolver(n, stats, limits=limits)
    solver.read_models = False  # the worker's solver gives answers; points come from fresh solvers
    # Every query of the region runs in one solver scope that holds its closed facets, asserted
    # once. Open queries ask the closure too: their other constraints are strict (an open set),
    # and an open set meets a full-dimensional convex cone exactly when it meets its interior.
    scoped = False

    def enter_scope() -> None:
        nonlocal scoped
        if not scoped:
            solver.push()
            solver.add_all(closed_facets, answers_only=True)
            scoped = True

    def record(name: str, constraints: list[Constraint], any_of: list[Constraint] | None, closed: bool,
               answer: Answer) -> None:
        if collect_queries:
            result.queries.append(
                SmtQuery(
                    name=f"region {region.pattern_text} {name}",
                    n=n,
                    constraints=tuple((closed_region if closed else open_region) + constraints),
                    any_of=tuple(any_of) if any_of is not None else None,
                    expected=answer,
                )
            )

    def settle(answer: Answer, asked: ExactSolver | None = None) -> None:
        """Bookkeeping after every Z3 query: an unknown marks the region undecided (or stopped)."""
        reason = (asked or solver).last_reason
        if answer is Answer.UNKNOWN:
            result.undecided = True
            stop_reason = should_stop() if should_stop is not None else None
            if stop_reason or limits.expired() or reason == "interrupted":
                result.stopped = True
                result.note = stop_reason or ("interrupted" if reason == "interrupted" else "time budget")
            elif not result.note:
                result.note = f"solver unknown ({reason})"
        if on_query is not None:
            on_query()

    def ask(constraints: list[Constraint], any_of: list[Constraint] | None = None, *, closed: bool) -> Answer:
        """One Z3 query on the region (its closure, or its interior; see above): the answer only."""
        if result.stopped:
            return Answer.UNKNOWN
        enter_scope()
        solver.push()
        solver.add_all(constraints, any_of, answers_only=True)
        answer = solver.check()
        solver.pop()
        settle(answer)
        return answer

    def add_cone(cone: Cone, grown: GrowingCone | None) -> None:
        if grown is None and base is not None:  # Z3 found a point where exact geometry finds none: a bug
            raise ValueError(f"region {region.pattern_text} [{cone.piece}]: Z3 and geometry disagree on a cone")
        result.cones.append(cone)
        result.grown.append(grown)

    pieces: list[tuple[ClaimPiece, GrowingCone | None, list[Constraint] | None]] = []
    terms: dict[int, list[Constraint] | None] = {}  # by target: pieces share targets
    differences = _Differences(region.logits)
    for piece in claim.pieces(n):
        inside = grow(base, piece.constraints) if base is not None else None
        if piece.target not in terms:
            terms[piece.target] = _violation_terms(region.logits, piece.target, differences)
        pieces.append((piece, inside, terms[piece.target]))
    # Every piece at once: the closure meets no violation of any piece that meets the region.
    # Asked only when no ray of a piece's closed cone hints at a violation (a hint picks which
    # queries to ask; only Z3's answers decide).
    groups = [(list(piece.constraints), beats) for piece, inside, beats in pieces if inside is not None and beats]
    met = [(inside, beats) for _, inside, beats in pieces if inside is not None]
    none_violated = False
    if base is not None and groups and len(groups) == len(met) and not any(_hints_violation(inside, beats) for inside, beats in met):
        # one scope and one parse: the region's facets with the query (most regions ask nothing else;
        # a later query opens the region's scope of its own)
        solver.push()
        solver.add_any_of_all(groups, also=closed_facets)
        combined = solver.check()
        solver.pop()
        settle(combined)
        none_violated = combined is Answer.UNSAT
    # Without geometry (past GEOMETRY_MAX_N inputs) the open queries of a refuted region (each
    # piece's interior, the prediction splits) go to a solver of the region's own, in the pieces'
    # order: Z3's points, which become counterexample witnesses, then depend on this region alone.
    # With geometry, every answer comes from the worker's solver and those same queries are
    # replayed in a fresh solver only when a witness is read (`_WitnessReplay`): same points.
    points: ExactSolver | None = None
    replayed = 0  # pieces whose interior query `points` has seen
    replay: _WitnessReplay | None = None

    def open_query(constraints: Sequence[Constraint]) -> tuple[Answer, tuple[Fraction, ...] | None]:
        assert points is not None
        if result.stopped:
            return Answer.UNKNOWN, None
        points.push()
        points.add_all(list(constraints))
        answer = points.check()
        found = points.model_point() if answer is Answer.SAT else None
        points.pop()
        settle(answer, points)
        return answer, found

    def catch_up(upto: int) -> tuple[Fraction, ...] | None:
        """Ask `points` the interior queries of pieces[replayed..upto]; the last one's point."""
        nonlocal replayed
        found = None
        while replayed <= upto and not result.stopped:
            piece, inside, _ = pieces[replayed]
            answer, found = open_query(list(piece.constraints))
            answers.append((answer, found))
            replayed += 1
        return found

    answers: list[tuple[Answer, tuple[Fraction, ...] | None]] = []  # Z3's interior answers (no geometry)
    if base is None:
        points = ExactSolver(n, stats, limits=limits)
        points.add_all(open_region)
    refuted = False
    for index, (piece, inside, beats) in enumerate(pieces):
        order = list(piece.constraints)
        if result.stopped:
            break
        if base is None:
            catch_up(index)
            if len(answers) <= index:
                break
            interior, found = answers[index]
            record(f"[{piece.label}] interior", order, None, False, interior)
            if interior is not Answer.SAT:
                continue  # UNSAT: the piece misses the region; UNKNOWN: recorded as undecided
            interior_point = _point(found)
        else:
            record(f"[{piece.label}] interior", order, None, False, Answer.UNSAT if inside is None else Answer.SAT)
            if inside is None:
                continue  # the piece misses the region
            interior_point = _witness(inside)
        if beats is None:
            violated = Answer.SAT
        elif none_violated:
            violated = Answer.UNSAT
            record(f"[{piece.label}] violation", order, beats, True, violated)
        else:
            # Closed region (its boundary included), inputs strictly ordered, some j beats t.
            violated = ask(order, beats, closed=True)
            record(f"[{piece.label}] violation", order, beats, True, violated)
        if violated is Answer.UNKNOWN:
            continue
        if violated is Answer.UNSAT:
            _, tied = _prediction_constraints(region.logits, piece.target, differences) or ([], False)
            add_cone(Cone(region.index, piece.label, piece.target, piece.target, tied, tuple(open_region + order),
                          interior_point), inside)
            continue
        # A violation point exists (a proven counterexample); now split the piece by prediction.
        first_split = not refuted
        refuted = True
        predictions = [(p, split) for p in range(n)
                       if (split := _prediction_constraints(region.logits, p, differences)) is not None]
        if base is not None:
            if replay is None:
                replay = _WitnessReplay(n, limits.timeout_ms, open_region, [list(pc.constraints) for pc, _, _ in pieces])
            replay.split(index, [(p, order + extra) for p, (extra, _) in predictions])
        found_open_violation = False
        for p, (extra, tied) in predictions:
            cone = open_region + order + extra
            grown = grow(inside, extra) if inside is not None else None
            if base is None:
                answer, point = open_query(order + extra)
            else:
                # which predictions split the piece is exact geometry, as which pieces meet the
                # region (the violation itself is Z3's answer above); --cross-check asks Z3 too
                answer = Answer.SAT if grown is not None else Answer.UNSAT
                if region.cross_check:
                    asked = ask(order + extra, closed=False)
                    if asked is not Answer.UNKNOWN and asked is not answer:
                        raise ValueError(f"region {region.pattern_text} [{piece.label}] argmax=x{p}: "
                                         f"Z3 says {asked.value}, geometry {answer.value}")
            record(f"[{piece.label}] argmax=x{p}", order + extra, None, False, answer)
            if answer is Answer.SAT:
                if base is None:
                    witness: tuple[Fraction, ...] | _DeferredPoint = _point(point)
                else:
                    assert replay is not None and grown is not None
                    witness = _DeferredPoint(replay, (index, p), grown)
                add_cone(Cone(region.index, piece.label, piece.target, p, tied, tuple(cone), witness), grown)  # type: ignore[arg-type]
                if p != piece.target:
                    found_open_violation = True
        if not found_open_violation:
            if beats is None and first_split:  # the previous design's point: Z3's, of the piece's interior
                if replay is not None:
                    interior_point = replay.point((index, -1)) or interior_point
                elif answers[index][1] is not None:
                    interior_point = answers[index][1]
            point = interior_point if beats is None else _boundary_point(region, claim, piece.label, stats, limits)
            if point is None:  # the fresh solver could not re-derive it: the region stays undecided
                result.undecided = True
                result.note = result.note or "solver unknown (boundary witness)"
                continue
            result.boundary_violations.append(Violation(region.index, piece.label, piece.target, point))
    if scoped:
        solver.pop()
    if refuted:
        result.verdict = Verdict.REFUTED
    elif result.undecided:
        result.verdict = Verdict.UNKNOWN
    return result


class _WitnessReplay:
    """Z3's points for the cones of one refuted region, computed on first demand.

    The previous design asked a fresh solver of the region's own, in this order: every piece's
    interior (from the first refuted piece on, each piece before its splits), then each refuted
    piece's prediction splits. Z3's models depend only on the calls made in their context, so
    the same calls in a fresh solver give the same points, whenever they are made. Only the
    points are taken from here: every answer that decides the result came from the worker's
    solver. A query left unknown (an interrupt) gives no point, and the cone keeps an exact
    interior point of its own geometry instead.
    """

    def __init__(self, n: int, timeout_ms: int | None, open_region: Sequence[Constraint],
                 pieces: Sequence[Sequence[Constraint]]) -> None:
        self.n = n
        self.timeout_ms = timeout_ms
        self.open_region = list(open_region)
        self.pieces = [list(p) for p in pieces]
        self.splits: dict[int, list[tuple[int, list[Constraint]]]] = {}
        self._points: dict[tuple[int, int], tuple[Fraction, ...]] | None = None

    def split(self, index: int, queries: Sequence[tuple[int, list[Constraint]]]) -> None:
        """Piece `index` is refuted: its prediction queries, (p, constraints), in order."""
        self.splits[index] = list(queries)

    def point(self, key: tuple[int, int]) -> tuple[Fraction, ...] | None:
        """The point of (piece, predicted index), or (piece, -1) for the piece's interior."""
        if self._points is None:
            self._points = self._run()
        return self._points.get(key)

    def _run(self) -> dict[tuple[int, int], tuple[Fraction, ...]]:
        # its own statistics: these checks decide nothing (the run's answers are all in)
        solver = ExactSolver(self.n, SolverStats(), limits=QueryLimits(timeout_ms=self.timeout_ms))
        solver.add_all(self.open_region)
        points: dict[tuple[int, int], tuple[Fraction, ...]] = {}
        for index, piece in enumerate(self.pieces[: max(self.splits) + 1] if self.splits else []):
            asked = [(-1, piece)] + [(p, q) for p, q in self.splits.get(index, [])]
            for p, constraints in asked:
                solver.push()
                solver.add_all(constraints)
                point = solver.point_check()
                if point is not None:
                    points[(index, p)] = point
                solver.pop()
        return points


def _hints_violation(cone: GrowingCone, beats: Sequence[Constraint] | None) -> bool:
    """Some extreme ray of the piece's closed cone has a logit strictly above the target's."""
    if beats is None:
        return True
    normals = [integer_direction(c.positive_normal()) for c in beats]
    return any(idot(a, r) > 0 for a in normals for r in cone.rays) or any(
        idot(a, l) != 0 for a in normals for l in cone.lineality)


def _boundary_point(region: Region, claim: Claim, label: str, stats: SolverStats,
                    limits: QueryLimits) -> tuple[Fraction, ...] | None:
    """Z3's point on the region's boundary where `label`'s target loses, from the region's own
    closed queries in a fresh solver (so the point never depends on other regions' queries)."""
    solver = ExactSolver(region.n, stats, limits=limits)
    for c in region.constraints:
        solver.add(c)
    for piece in claim.pieces(region.n):
        beats = _violation_terms(region.logits, piece.target)
        if beats is None or grow(region_cone(region), piece.constraints) is None:
            continue
        solver.push()
        for c in piece.constraints:
            solver.add(c)
        solver.add_any(beats)
        answer = solver.check()
        point = solver.model_point() if answer is Answer.SAT else None
        solver.pop()
        if piece.label == label:
            return point
    return None


def _point(point: tuple[Fraction, ...] | None) -> tuple[Fraction, ...]:
    """A SAT answer's witness (always present: Z3 gives a model with every SAT answer)."""
    if point is None:
        raise RuntimeError("a satisfiable query came back without a witness point")
    return point
