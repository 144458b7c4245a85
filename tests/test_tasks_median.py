"""The median regression claim (issue 13): worst case, eps verdict and MSE against oracles that
do not use the code under test: hand derivations, an exact Fraction forward pass written here,
dense scans, random search and Monte Carlo (tolerances stated where used)."""

from __future__ import annotations

import io
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

pytest_plugins = ["pytester"]

from verify.check.regions import Budget
from verify.check.regression import RegressionOptions, check_regression
from verify.check.worst_case import max_abs_on_cube
from verify.cli.main import main
from verify.corpus import handcrafted_median_2, last_input_scalar, weights_of
from verify.formats import load_weights
from verify.render.regression import regression_report

MEDIAN_4_3 = Path("models/tasks/median_4_3.pth")
HAND_MEDIAN = Path("models/tasks/handcrafted_median_2.pth")
CLASSIFIER = Path("models/handcrafted_2_2.pth")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def one_line_exit_2(code: int, err: str) -> None:
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def exact_output(weights, x) -> Fraction:  # type: ignore[no-untyped-def]
    """The ScalarRNN's output at an exact point, in Fractions, written independently of verify.core."""
    w_hi = [Fraction(float(v)) for v in weights.w_hi[:, 0]]
    w_hh = [[Fraction(float(v)) for v in row] for row in weights.w_hh]
    w_oh = [Fraction(float(v)) for v in weights.w_oh[0]]
    h = [Fraction(0)] * len(w_hi)
    for x_t in x:
        h = [max(Fraction(0), sum((w_hh[i][j] * h[j] for j in range(len(h))), Fraction(0)) + w_hi[i] * Fraction(x_t))
             for i in range(len(h))]
    return sum((w * v for w, v in zip(w_oh, h)), Fraction(0))


def exact_median(x) -> Fraction:  # type: ignore[no-untyped-def]
    values = sorted(Fraction(v) for v in x)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def ratio(weights, x) -> Fraction:  # type: ignore[no-untyped-def]
    return abs(exact_output(weights, x) - exact_median(x)) / max(abs(Fraction(v)) for v in x)


def float_outputs(weights, x: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """float64 forward pass of the weights, batched (an oracle for sampling, never for verdicts)."""
    w_hi, w_hh, w_oh = (np.asarray(a, dtype=np.float64) for a in (weights.w_hi, weights.w_hh, weights.w_oh))
    h = np.zeros((x.shape[0], w_hh.shape[0]))
    for t in range(x.shape[1]):
        h = np.maximum(h @ w_hh.T + x[:, t:t + 1] @ w_hi.T, 0.0)
    return (h @ w_oh.T)[:, 0]


# ---- known answers, by hand ---------------------------------------------------------------------

def test_the_handcrafted_median_of_two_is_exactly_the_mean_at_random_rationals() -> None:
    """Derivation (verify.corpus.handcrafted_median_2): h1 = (x0+, x0-), h2 = ((x0+x1)+, (x0+x1)-),
    y = (h2[0] - h2[1]) / 2 = (x0 + x1) / 2, the median of two, everywhere."""
    weights = handcrafted_median_2()
    rng = np.random.default_rng(3)
    for _ in range(200):
        x = [Fraction(int(rng.integers(-1000, 1000)), int(rng.integers(1, 50))) for _ in range(2)]
        assert exact_output(weights, x) == (x[0] + x[1]) / 2


def test_the_handcrafted_median_is_proved_with_eps_0_worst_0_and_mse_0() -> None:
    result = check_regression(handcrafted_median_2(), RegressionOptions(seq_len=2, eps=Fraction(0)))
    assert result.verdict.word == "proved" and result.complete
    assert result.worst == 0 and result.float32 is None
    assert result.mse is not None and result.mse.lower == 0 and result.mse.upper == 0
    report = regression_report(result)
    assert report["counterexamples"] == [] and report["worst_case"]["exact"] == "0"


def test_last_input_n2_worst_case_1_and_mse_one_half() -> None:
    """y = x1, median = (x0 + x1) / 2: y - median = (x1 - x0) / 2, whose max over the cube is 1 (at
    x = (-1, 1) or (1, -1)), and E[(x1 - x0)^2] / 4 = 2 / 4 = 1/2."""
    result = check_regression(last_input_scalar(), RegressionOptions(seq_len=2, eps=Fraction(1, 10)))
    assert result.verdict.word == "refuted" and result.worst == 1
    assert result.worst_point is not None and ratio(last_input_scalar(), result.worst_point) == 1
    assert result.float32 is not None and result.float32.confirmed and result.float32.ratio_float32 == 1.0
    assert result.mse is not None and float(result.mse.lower) <= 0.5 <= float(result.mse.upper)
    assert float(result.mse.upper - result.mse.lower) < 1e-40
    rmse = result.rmse
    assert rmse is not None and abs(float(rmse[0]) - math.sqrt(0.5)) < 1e-15


@pytest.mark.parametrize("eps,verdict", [(Fraction(1), "proved"), (Fraction(2**20 - 1, 2**20), "refuted"),
                                         (Fraction(3, 2), "proved")])
def test_the_eps_bound_is_closed_and_exact(eps: Fraction, verdict: str) -> None:
    """|y - median| <= eps * max|x_i| with the worst case exactly 1: eps = 1 holds (equality is allowed),
    eps one part in 2^20 below it fails."""
    result = check_regression(last_input_scalar(), RegressionOptions(seq_len=2, eps=eps))
    assert result.verdict.word == verdict


def test_last_input_n3_worst_case_2_and_mse_by_hand_and_by_monte_carlo() -> None:
    """y = x2 against the median of three. Worst: |x2 - median| <= |x2| + |median| <= 2 max|x_i|, and
    x = (1, 1, -1) attains 2. MSE: E[x2^2] - 2 E[x2 med] + E[med^2] = 1 - 2/3 + (1 - sqrt(3)/pi), using
    Cov(X_(k), sum X) = 1 for every order statistic of i.i.d. N(0,1) (so E[x2 med] = 1/3 by symmetry)
    and Var(median of 3) = 1 - sqrt(3)/pi. Monte Carlo, 10^6 samples, within 5 standard errors."""
    weights = last_input_scalar()
    result = check_regression(weights, RegressionOptions(seq_len=3))
    assert result.worst == 2 and ratio(weights, result.worst_point) == 2
    hand = 4 / 3 - math.sqrt(3) / math.pi
    assert result.mse is not None and abs(float(result.mse.value) - hand) < 1e-14
    x = np.random.default_rng(11).standard_normal((1_000_000, 3))
    squared = (x[:, 2] - np.median(x, axis=1)) ** 2
    se = squared.std() / math.sqrt(len(squared))
    assert abs(squared.mean() - float(result.mse.value)) < 5 * se


# ---- the exact LP against brute force -----------------------------------------------------------

def test_the_cube_lp_is_never_beaten_by_a_grid_and_the_grid_comes_close() -> None:
    """Random closed cones (1-3 half-spaces through 0) in R^2 and R^3: a grid of step 1/20 on the cube
    never exceeds the exact max, and its best is within 0.25 of it (the objective changes by at most
    |c|_1 / 20 <= 0.25 between neighbouring grid points, and the optimum is attained at a cube point)."""
    rng = np.random.default_rng(7)
    steps = 20
    for _ in range(40):
        n = int(rng.integers(2, 4))
        rows = [[Fraction(int(v)) for v in rng.integers(-3, 4, n)] for _ in range(int(rng.integers(1, 4)))]
        form = [Fraction(int(v), 2) for v in rng.integers(-2, 3, n)]
        exact = max_abs_on_cube(form, rows)
        assert all(sum(a * b for a, b in zip(r, exact.point)) >= 0 for r in rows)
        assert max(abs(v) for v in exact.point) <= 1
        assert abs(sum(a * b for a, b in zip(form, exact.point))) == exact.value
        grid = np.stack(np.meshgrid(*[np.arange(-steps, steps + 1)] * n), -1).reshape(-1, n) / steps
        inside = np.all(grid @ np.array(rows, dtype=float).T >= -1e-12, axis=1)
        best = float(np.max(np.abs(grid[inside] @ np.array(form, dtype=float)))) if inside.any() else 0.0
        assert best <= float(exact.value) + 1e-12
        assert best >= float(exact.value) - 0.25


def test_z3_confirms_each_cones_worst_case_and_finds_a_point_just_below_it() -> None:
    """The homogeneous form of "|c . x| > w max|x_i|" is UNSAT at the exact worst case w and SAT at
    w - 2^-10 (so the cross-check is not vacuous); a full run with cross_check finds no mismatch."""
    from verify.check.regression import PieceError, z3_confirms, exceeds
    from verify.core.linear import Constraint, Op
    from verify.smt.solver import Answer, ExactSolver, SolverStats

    half = Fraction(1, 2)
    form = (-half, half)  # y - median for y = x1, n = 2, on the whole plane
    solver = ExactSolver(2, SolverStats())
    at = PieceError("all", form, Fraction(1), (Fraction(-1), Fraction(1)), (), None)
    assert z3_confirms(at, [], 2, solver) is Answer.UNSAT
    solver.push()
    solver.add_all(exceeds(form, 1 - Fraction(1, 1024), 2))
    assert solver.check() is Answer.SAT
    solver.pop()
    below = PieceError("all", form, 1 - Fraction(1, 1024), (), (), None)
    with pytest.raises(RuntimeError):
        z3_confirms(below, [Constraint((Fraction(1), Fraction(0)), Op.GE)], 2, solver)
    result = check_regression(load_weights(MEDIAN_4_3), RegressionOptions(seq_len=3, cross_check=True))
    plain = check_regression(load_weights(MEDIAN_4_3), RegressionOptions(seq_len=3))
    assert result.complete and result.worst == plain.worst and result.stats.checks > plain.stats.checks


# ---- trained and random models against sampling oracles -----------------------------------------

def test_the_bundled_trained_median_model_against_monte_carlo_and_random_search() -> None:
    """models/tasks/median_4_3.pth (n = 3): the exact MSE within 5 standard errors of 10^6 samples of an
    independent float64 forward pass; 2 x 10^5 random directions scaled to the cube's surface never
    beat the exact worst case and come within 3% of it (the ratio is Lipschitz on the surface)."""
    weights = load_weights(MEDIAN_4_3)
    result = check_regression(weights, RegressionOptions(seq_len=3))
    assert result.complete and result.mse is not None and result.worst is not None
    rng = np.random.default_rng(2026)
    x = rng.standard_normal((1_000_000, 3))
    squared = (float_outputs(weights, x) - np.median(x, axis=1)) ** 2
    se = squared.std() / math.sqrt(len(squared))
    assert abs(squared.mean() - float(result.mse.value)) < 5 * se
    u = rng.standard_normal((200_000, 3))
    u /= np.max(np.abs(u), axis=1, keepdims=True)
    searched = float(np.max(np.abs(float_outputs(weights, u) - np.median(u, axis=1))))
    assert searched <= float(result.worst) * (1 + 1e-9)
    assert searched >= 0.97 * float(result.worst)
    assert ratio(weights, result.worst_point) == result.worst  # the maximizer attains it, exactly


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_n2_scalar_nets_against_an_angular_scan(seed: int) -> None:
    """n = 2: y - median is homogeneous of degree 1, so MSE = E[r^2] * mean over the angle of f(u)^2
    = 2 * mean f(cos t, sin t)^2 (midpoint rule, 2^18 angles, relative 1e-6), and the worst case is the
    max over t of |f(u)| / max(|cos t|, |sin t|) (never above the exact value, within 0.1% of it)."""
    rng = np.random.default_rng(seed)
    weights = weights_of(rng.standard_normal(3), rng.standard_normal((3, 3)), rng.standard_normal((1, 3)))
    result = check_regression(weights, RegressionOptions(seq_len=2))
    t = (np.arange(1 << 18) + 0.5) * (2 * math.pi / (1 << 18))
    u = np.stack([np.cos(t), np.sin(t)], axis=1)
    f = float_outputs(weights, u) - u.mean(axis=1)
    assert result.mse is not None
    assert abs(2 * np.mean(f ** 2) - float(result.mse.value)) <= 1e-6 * float(result.mse.value) + 1e-12
    scanned = float(np.max(np.abs(f) / np.max(np.abs(u), axis=1)))
    assert scanned <= float(result.worst) * (1 + 1e-9) and scanned >= 0.999 * float(result.worst)


def test_n4_gives_a_labelled_mse_estimate_never_an_exact_one() -> None:
    result = check_regression(last_input_scalar(), RegressionOptions(seq_len=4, estimate_samples=200_000))
    assert result.mse is None and result.mse_estimate is not None
    # y = x3, median of 4 (mean of the middle two): Monte Carlo here, 10^6 samples, vs the estimate
    x = np.random.default_rng(5).standard_normal((1_000_000, 4))
    squared = (x[:, 3] - np.median(x, axis=1)) ** 2
    est = result.mse_estimate
    assert abs(est.value - squared.mean()) < 5 * math.hypot(est.standard_error, squared.std() / 1000)
    report = regression_report(result)
    assert report["mse"] is None and "ESTIMATE" in report["mse_estimate"]["method"]
    assert result.worst == 2 and result.complete  # worst case stays exact at n = 4


# ---- budgets and interrupts ---------------------------------------------------------------------

def test_a_region_budget_gives_unknown_never_proved() -> None:
    result = check_regression(last_input_scalar(), RegressionOptions(seq_len=3, eps=Fraction(10),
                                                                     budget=Budget(max_regions=1)))
    assert result.verdict.word == "unknown" and not result.complete
    report = regression_report(result)
    assert report["worst_case"]["exact_over_all_inputs"] is False and report["mse"] is None


def test_a_budget_still_refutes_with_what_it_found() -> None:
    result = check_regression(last_input_scalar(), RegressionOptions(seq_len=3, eps=Fraction(1, 2),
                                                                     budget=Budget(max_regions=1)))
    assert result.verdict.word == "refuted" and not result.complete
    assert ratio(last_input_scalar(), result.worst_point) == result.worst > Fraction(1, 2)


def test_an_interrupt_is_never_proved() -> None:
    result = check_regression(handcrafted_median_2(), RegressionOptions(seq_len=2, eps=Fraction(1)),
                              should_stop=lambda: "interrupted (SIGINT)")
    assert result.interrupted and result.verdict.word == "unknown"


# ---- loading, the command line, reports ---------------------------------------------------------

def test_cli_checks_the_bundled_median_models_by_their_cards(tmp_path: Path) -> None:
    code, out, err = run("check", str(HAND_MEDIAN))
    assert code == 0, err
    assert "PROVED (median, |y - median| <= 0 * max|x_i|)" in out and "MSE (N(0,1) inputs): 0 exactly" in out
    code, out, err = run("check", str(MEDIAN_4_3), "--json", str(tmp_path / "r.json"), "--report", str(tmp_path / "rep"),
                         "--junit", str(tmp_path / "j.xml"))
    assert code == 1, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["claim"]["name"] == "median" and report["claim"]["kind"] == "regression"
    assert report["claim"]["eps"] == "1/10" and report["model"]["seq_len"] == 3
    assert report["counterexamples"][0]["float32_confirmed"] is True
    markdown = (tmp_path / "rep" / "report.md").read_text()
    assert markdown.startswith("# median regression check") and "worst case" in markdown
    assert markdown.count("\n| ") >= len(report["regions"]) + 6  # one table row per region
    assert (tmp_path / "rep" / "report.html").exists() and (tmp_path / "rep" / "partition.png").exists()
    junit = (tmp_path / "j.xml").read_text()
    assert 'name="median"' in junit and "median REFUTED: worst case" in junit


def test_cli_eps_is_exact_and_overrides_the_card() -> None:
    code, out, _ = run("check", str(MEDIAN_4_3), "--eps", "3/4", "-q")
    assert code == 0 and "PROVED (median, eps 3/4)" in out  # exact worst case ~0.742472 <= 0.75
    code, out, _ = run("check", str(MEDIAN_4_3), "--eps", "0.74", "-q")
    assert code == 1 and "REFUTED" in out


@pytest.mark.parametrize("argv,words", [
    (("check", str(CLASSIFIER), "--claim", "median"), "the median claim is a regression on one output"),
    (("check", str(HAND_MEDIAN), "--claim", "argmax"), "the model has 1 output"),
    (("check", str(HAND_MEDIAN), "--eps", "x"), "--eps must be a number"),
    (("check", str(HAND_MEDIAN), "--eps=-1/2"), "--eps must be 0 or more"),
    (("check", str(CLASSIFIER), "--eps", "0.1"), "--eps and --seq-len belong to the median claim"),
    (("check", str(HAND_MEDIAN), "--jobs", "2"), "not supported for the median claim"),
])
def test_mismatches_and_bad_options_are_one_line_exit_2(argv: tuple[str, ...], words: str) -> None:
    code, _, err = run(*argv)
    one_line_exit_2(code, err)
    assert words in err


def test_the_registry_names_the_mismatch_both_ways_in_one_line() -> None:
    from verify.core.claim import claim_from_name, regression_claim_from_name
    from verify.core.errors import InputError

    cases = [
        (lambda: claim_from_name("argmax", 3, outputs=1, where="s.pth"), "s.pth: the model has 1 output"),
        (lambda: regression_claim_from_name("median", outputs=3, seq_len=3), "but the model has 3 outputs"),
        (lambda: claim_from_name("median", 3), "the median claim is a regression; this command checks only"),
        (lambda: regression_claim_from_name("median", outputs=1, seq_len=1), "at least 2"),
        (lambda: regression_claim_from_name("argmax", seq_len=3), "argmax is a classification claim"),
    ]
    for call, words in cases:
        with pytest.raises(InputError) as info:
            call()
        assert words in str(info.value) and "\n" not in str(info.value)
    assert regression_claim_from_name("median", outputs=1, seq_len=5).name == "median"


def test_cli_exit_codes_of_the_median_claim(tmp_path: Path) -> None:
    """0 proved, 1 refuted, 3 unknown (a region budget, the undecided part listed), as for classification."""
    path = tmp_path / "last.pth"
    torch.save(last_input_scalar().state_dict(), path)
    assert run("check", str(path), "--seq-len", "3", "--eps", "2", "-q")[0] == 0
    assert run("check", str(path), "--seq-len", "3", "--eps", "1.999", "-q")[0] == 1
    code, out, _ = run("check", str(path), "--seq-len", "3", "--eps", "10", "--max-regions", "1",
                       "--json", str(tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 3 and report["verdict"] == "unknown" and "region budget" in report["verdict_reason"]
    assert "at least" in out and report["worst_case"]["exact_over_all_inputs"] is False
    assert report["undecided"] and "undecided:" in out


def test_commands_that_check_only_classifications_refuse_the_median_claim_in_one_line(tmp_path: Path) -> None:
    code, _, err = run("export", str(HAND_MEDIAN), "--claim", "median", "--onnx", str(tmp_path / "m.onnx"))
    one_line_exit_2(code, err)
    assert "the median claim is a regression" in err and not (tmp_path / "m.onnx").exists()
    for argv in (("sample", str(HAND_MEDIAN), "-n", "100"), ("encode", str(HAND_MEDIAN), "--out", str(tmp_path / "e"))):
        code, _, err = run(*argv)
        one_line_exit_2(code, err)
        assert "1 output, a regression model" in err


def test_a_scalar_model_without_a_card_needs_seq_len(tmp_path: Path) -> None:
    path = tmp_path / "scalar.pth"
    torch.save(handcrafted_median_2().state_dict(), path)
    code, _, err = run("check", str(path))
    one_line_exit_2(code, err)
    assert "--seq-len" in err
    code, out, _ = run("check", str(path), "--seq-len", "2", "--eps", "0", "-q")
    assert code == 0 and "PROVED (median" in out


@pytest.mark.parametrize("change,words", [
    (lambda s: s.__setitem__("linear.weight", torch.tensor([[float("nan"), 1.0]])), "NaN"),
    (lambda s: s.__setitem__("linear.bias", torch.zeros(1)), "biases present"),
    (lambda s: s.__setitem__("linear.weight", torch.zeros(1, 3)), "shape"),
])
def test_scalar_state_dicts_are_checked_as_strictly(tmp_path: Path, change, words: str) -> None:  # type: ignore[no-untyped-def]
    state = handcrafted_median_2().state_dict()
    change(state)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    code, _, err = run("check", str(path), "--seq-len", "2")
    one_line_exit_2(code, err)
    assert words in err


# ---- training -----------------------------------------------------------------------------------

def test_train_median_is_a_deterministic_scalar_rnn_that_beats_the_trivial_predictor(tmp_path: Path) -> None:
    """Predicting 0 has MSE E[median^2] = 1 - sqrt(3)/pi ~ 0.449 for n = 3; a short run does much better.
    Two runs give the same bytes; the card names the task, the loss and the exact check's numbers."""
    outs = [tmp_path / "a.pth", tmp_path / "b.pth"]
    for out in outs:
        code, text, err = run("train", "--task", "median", "--hidden-size", "4", "--seq-len", "3", "--sequences",
                              "65536", "--eval-samples", "20000", "--out", str(out), "--check")
        assert code in (0, 1), err
    assert outs[0].read_bytes() == outs[1].read_bytes()
    card = json.loads(outs[0].with_suffix(".json").read_text())
    assert card["task"] == "median" and card["tensors"]["linear.weight"] == [1, 4] and card["n_params"] == 24
    assert "squared error" in card["recipe"]["loss"] and "sampled_accuracy" not in card
    assert card["eps"] == "1/10" and card["expected_verdict"] in ("proved", "refuted")
    state = torch.load(outs[0], weights_only=True)
    weights = weights_of(state["rnn.weight_ih_l0"].numpy()[:, 0], state["rnn.weight_hh_l0"].numpy(),
                         state["linear.weight"].numpy())
    x = np.random.default_rng(9).standard_normal((200_000, 3))
    mse = float(np.mean((float_outputs(weights, x) - np.median(x, axis=1)) ** 2))
    assert mse < 0.5 * (1 - math.sqrt(3) / math.pi)
    assert abs(float(card["exact_mse"]) - mse) < 0.01  # exact vs sampled, 2 x 10^5 samples


def test_the_pytest_marker_checks_the_median_claim(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    repo = Path(__file__).resolve().parent.parent  # pytester has changed the working folder
    hand, trained = str(repo / HAND_MEDIAN), str(repo / MEDIAN_4_3)
    pytester.makepyfile(test_median=f"""
        import pytest

        @pytest.mark.verify_claim("median")
        def test_hand(verify_model):
            verify_model({hand!r}).assert_proved()

        @pytest.mark.verify_claim("median")
        def test_trained(verify_model):
            verify_model({trained!r}).assert_proved()
        """)
    result = pytester.runpytest("-p", "verify.ci.pytest_plugin")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*median REFUTED: worst case 941194660480738285007638196931/*float32-confirmed*"])
