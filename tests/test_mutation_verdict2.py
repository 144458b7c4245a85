"""Issue 18 #4, verdict group: the median claim's path through `verify check`, the outputs'
validation and the summary's verbosity, against hand-derived values and the documented contract.

The median oracle: models/tasks/handcrafted_median_2 is h_t = (ReLU(s_t), ReLU(-s_t)) with s_t the
running sum, y = (h[0] - h[1]) / 2 = s / 2 (its card's derivation). At its card's length 2 that is
the median exactly (worst case 0). Read at length 3 with sorted inputs a <= b <= c in [-1, 1],
y - median = (a + b + c) / 2 - b = (a + c - b) / 2, and a + c - b lies in [a, c] (a - b <= 0 <= c - b),
so its worst |y - median| / max|x_i| is 1/2 exactly (attained at (0, 1, 0)). Its MSE under
N(0, 1) inputs is E[(S - 2 b)^2] / 4 with S the sum: E[S^2] = 3, E[S b] = 3 Cov(b, mean) = 1 (the
mean of a normal sample is independent of b - mean), E[b^2] = 1 - sqrt(3) / pi (the median of three
standard normals), so MSE = 3/4 - sqrt(3) / pi.

Exit codes (README / `verify check --help`): proved 0, refuted 1, bad input 2, unknown 3.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import verify.check.regression as regression_module
import verify.cli.check as cli_check
from verify.check.regions import Budget
from verify.check.regression import RegressionOptions
from verify.cli.check import CheckSettings, check_one, prepare_outputs, summary_lines
from verify.cli.common import Io
from verify.cli.main import main
from verify.cli.run import Progress, SignalStop
from verify.core.claim import MedianClaim
from verify.core.errors import InputError

MEDIAN = "models/tasks/handcrafted_median_2.pth"
MEDIAN_SHA256 = "a38fed72ea6ee526ab8c8ba82ba4d81a2c78d9dfd6e831de4291ffb72eb53b50"  # its card's
ARGMAX_CARD = "models/tasks/argmax_4_3.pth"  # card task: argmax
M22 = "models/algzoo/2nd_argmax_2_2.pth"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def settings(**overrides: Any) -> CheckSettings:
    values: dict[str, Any] = dict(claim=None, max_regions=None, time_budget=None, query_timeout=None,
                                  max_counterexamples=50, jobs=1)
    values.update(overrides)
    return CheckSettings(**values)


def quiet_io() -> Io:
    return Io(io.StringIO(), io.StringIO())


# ---- the median claim end to end, in process ------------------------------------------------------

def test_median_model_at_its_cards_length_is_proved_with_worst_case_zero() -> None:
    code, out, err = run("check", MEDIAN, "--json", "-")
    report = json.loads(out)
    assert code == 0 and err == ""
    assert report["verdict"] == "proved" and report["worst_case"]["exact"] == "0"
    assert report["model"]["seq_len"] == 2 and report["claim"]["eps"] == "0"


def test_median_model_read_at_length_3_has_the_hand_derived_worst_case_and_mse() -> None:
    code, out, _ = run("check", MEDIAN, "--seq-len", "3", "--json", "-")
    report = json.loads(out)
    assert code == 1 and report["verdict"] == "refuted" and report["complete"] is True
    assert Fraction(report["worst_case"]["exact"]) == Fraction(1, 2)
    assert report["model"]["seq_len"] == 3
    assert math.isclose(report["mse"]["value"], 0.75 - math.sqrt(3) / math.pi, rel_tol=0, abs_tol=1e-12)


@pytest.mark.parametrize("eps,code,word", [("1/2", 0, "PROVED"), ("0.5", 0, "PROVED"), ("0.49", 1, "REFUTED"),
                                           ("0", 1, "REFUTED")])
def test_eps_against_the_worst_case_one_half_decides_the_exit_code(eps: str, code: int, word: str) -> None:
    got, out, err = run("check", "-q", MEDIAN, "--seq-len", "3", "--eps", eps)
    # -q: one line per model (README), its verdict in capitals
    assert got == code and err == ""
    assert out.count("\n") == 1 and out.startswith(MEDIAN) and word in out


def test_a_region_budget_leaves_a_median_run_that_is_not_refuted_unknown() -> None:
    # the first region alone cannot exceed eps 1/2 (nothing does), and a search cut at one of
    # several regions never proves: unknown, exit 3
    code, out, _ = run("check", "-q", MEDIAN, "--seq-len", "3", "--eps", "1/2", "--max-regions", "1")
    assert code == 3 and out.count("\n") == 1 and "UNKNOWN" in out
    code, out, _ = run("check", MEDIAN, "--seq-len", "3", "--eps", "1/2", "--max-regions", "1", "--json", "-")
    report = json.loads(out)
    assert code == 3 and report["complete"] is False and len(report["regions"]) == 1


def test_median_summary_default_and_verbose_print_the_worst_case_line() -> None:
    for flags in ((), ("-v",)):
        code, out, _ = run("check", MEDIAN, "--seq-len", "3", "--eps", "1/2", *flags)
        lines = out.splitlines()
        assert code == 0 and len(lines) > 1 and lines[0].startswith(MEDIAN)
        assert any("1/2" in line and "worst case" in line for line in lines)


def test_a_classification_claim_on_a_one_output_model_is_refused_before_any_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """--claim argmax on the median ScalarRNN (one output): exit 2, one line that names the mismatch;
    no check starts (a spy stands in for it and must not be called)."""
    called: list[object] = []
    monkeypatch.setattr(cli_check, "run_check_model", lambda *a, **k: called.append(a))
    monkeypatch.setattr(cli_check, "build_report", lambda result: {"verdict": "proved"})
    with pytest.raises(InputError, match="1 output"):
        check_one(Path(MEDIAN), argparse.Namespace(progress=False), quiet_io(), None, settings(claim="argmax"))
    assert called == []
    code, out, err = run("check", MEDIAN, "--claim", "argmax")
    assert code == 2 and out == "" and err.count("\n") == 1 and "1 output" in err


@pytest.mark.parametrize("extra", [dict(eps=Fraction(1, 10)), dict(seq_len=3),
                                   dict(eps=Fraction(1, 10), seq_len=3)])
def test_eps_or_seq_len_alone_is_refused_for_a_classification_model(monkeypatch: pytest.MonkeyPatch,
                                                                     extra: dict[str, Any]) -> None:
    """Either median option, alone or both, on a model checked for 2nd-argmax: one-line bad input."""
    monkeypatch.setattr(cli_check, "run_check_model", lambda *a, **k: "checked")
    monkeypatch.setattr(cli_check, "build_report", lambda result: {"verdict": "proved"})
    with pytest.raises(InputError, match="belong to the median claim"):
        check_one(Path(M22), argparse.Namespace(progress=False), quiet_io(), None, settings(**extra))
    args = ["--eps", "0.1"] if "eps" in extra else []
    args += ["--seq-len", "3"] if "seq_len" in extra else []
    code, out, err = run("check", M22, *args)
    assert code == 2 and out == "" and err.count("\n") == 1


# ---- what the median path hands to the regression check (spies: the expectation is the input) --------

class RegressionSpy:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.result = object()

    def __call__(self, *args: Any, **kwargs: Any) -> object:
        self.calls.append((args, kwargs))
        return self.result


@pytest.fixture
def regression_spy(monkeypatch: pytest.MonkeyPatch) -> RegressionSpy:
    spy = RegressionSpy()
    monkeypatch.setattr(regression_module, "check_regression", spy)  # imported at call time by the CLI
    monkeypatch.setattr(cli_check, "regression_report", lambda result: {"report of": result})
    return spy


def test_the_median_path_hands_every_setting_to_the_regression_check(regression_spy: RegressionSpy) -> None:
    stop = SignalStop()
    io_ = quiet_io()
    chosen = settings(max_regions=7, time_budget=12.5, query_timeout=2.5, cross_check=True,
                      eps=Fraction(1, 2), seq_len=3)
    got = check_one(Path(MEDIAN), argparse.Namespace(progress=True), io_, stop, chosen)
    assert got == (regression_spy.result, {"report of": regression_spy.result})
    ((args, kwargs),) = regression_spy.calls
    weights, options = args
    assert weights.sha256 == MEDIAN_SHA256
    assert options == RegressionOptions(seq_len=3, eps=Fraction(1, 2), claim=MedianClaim(),
                                        budget=Budget(max_regions=7, time_budget=12.5), timeout_ms=2500,
                                        cross_check=True)
    assert set(kwargs) == {"on_region", "should_stop"}
    assert kwargs["should_stop"] is stop.flag
    progress = kwargs["on_region"]
    assert isinstance(progress, Progress) and progress.bar.enabled is True and progress.budget == 12.5


def test_the_median_path_without_stop_cross_check_or_progress(regression_spy: RegressionSpy) -> None:
    """No stop flag given: none handed on; no --cross-check: off; the card's length and eps (2, 0)."""
    got = check_one(Path(MEDIAN), argparse.Namespace(progress=False), quiet_io(), None,
                    settings(max_regions=3))
    assert got == (regression_spy.result, {"report of": regression_spy.result})
    ((args, kwargs),) = regression_spy.calls
    assert args[1] == RegressionOptions(seq_len=2, eps=Fraction(0), claim=MedianClaim(),
                                        budget=Budget(max_regions=3, time_budget=None), timeout_ms=None,
                                        cross_check=False)
    assert kwargs["should_stop"] is None
    assert isinstance(kwargs["on_region"], Progress) and kwargs["on_region"].bar.enabled is False


def test_the_median_task_comes_from_the_card_when_no_claim_is_given(regression_spy: RegressionSpy) -> None:
    # no --claim: the card's task "median" routes the model to the regression check
    check_one(Path(MEDIAN), argparse.Namespace(progress=False), quiet_io(), None, settings())
    assert len(regression_spy.calls) == 1
    # --claim median given explicitly: the same
    check_one(Path(MEDIAN), argparse.Namespace(progress=False), quiet_io(), None, settings(claim="median"))
    assert len(regression_spy.calls) == 2


# ---- the classification path's hand-off (spies) -------------------------------------------------------

class CheckSpy:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.result = object()

    def direct(self, *args: Any, **kwargs: Any) -> object:
        self.calls.append(("direct", args, kwargs))
        return self.result

    def subtrees(self, *args: Any, **kwargs: Any) -> object:
        self.calls.append(("subtrees", args, kwargs))
        return self.result


@pytest.fixture
def check_spy(monkeypatch: pytest.MonkeyPatch) -> CheckSpy:
    spy = CheckSpy()
    monkeypatch.setattr(cli_check, "run_check_model", spy.direct)
    monkeypatch.setattr(cli_check, "_check_on_subtrees", spy.subtrees)
    monkeypatch.setattr(cli_check, "build_report", lambda result: {"report of": result})
    return spy


def test_without_a_stop_no_stop_flag_is_handed_to_either_check(check_spy: CheckSpy) -> None:
    check_one(Path(M22), argparse.Namespace(progress=False), quiet_io(), None, settings())
    check_one(Path(M22), argparse.Namespace(progress=False), quiet_io(), None, settings(checkpoint="unused"))
    (kind1, _, kwargs1), (kind2, args2, kwargs2) = check_spy.calls
    assert (kind1, kind2) == ("direct", "subtrees")
    assert kwargs1["stop"] is None and kwargs1["jobs"] == 1
    assert args2[4] is None and kwargs2 == {}  # (weights, options, settings, progress, flag)


def test_settings_are_read_from_the_arguments_when_not_given(check_spy: CheckSpy) -> None:
    args = argparse.Namespace(progress=False, claim="argmax", max_regions=7, time_budget=12.5, no_time_budget=False,
                              query_timeout=2.5, max_counterexamples=4, jobs=1)
    got = check_one(Path(M22), args, quiet_io())
    assert got == (check_spy.result, {"report of": check_spy.result})
    ((kind, call_args, kwargs),) = check_spy.calls
    options = call_args[1]
    assert kind == "direct" and kwargs["stop"] is None
    assert options.claim.name == "argmax" and options.claim.k == 1
    assert options.budget.max_regions == 7 and options.budget.time_budget == 12.5
    assert options.timeout_ms == 2500 and options.max_counterexamples == 4


def test_with_no_claim_asked_the_cards_task_is_the_one_checked(check_spy: CheckSpy) -> None:
    # argmax_4_3's card says "task": "argmax"; nothing on the command line
    check_one(Path(ARGMAX_CARD), argparse.Namespace(progress=False), quiet_io(), None, settings())
    ((_, call_args, _),) = check_spy.calls
    assert call_args[1].claim.name == "argmax" and call_args[1].claim.k == 1
    # and M_{2,2}'s card or shape: 2nd-argmax
    check_one(Path(M22), argparse.Namespace(progress=False), quiet_io(), None, settings())
    assert check_spy.calls[1][1][1].claim.k == 2


# ---- outputs: every path validated first, each error naming its option ------------------------------

def test_outputs_of_a_namespace_without_output_options_are_none() -> None:
    """Callers that build their own Namespace (tests, the pytest plugin) may leave the output options out."""
    outputs = prepare_outputs(argparse.Namespace(), [Path(M22)])
    assert (outputs.json_path, outputs.json_stdout, outputs.report, outputs.junit) == (None, False, None, None)
    assert outputs.folder_names == ("2nd_argmax_2_2",)


def test_an_unwritable_output_is_refused_naming_the_option_the_user_typed(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    afile = tmp_path / "a-file.txt"
    afile.write_text("x")

    def refused(**kw: Any) -> str:
        values: dict[str, Any] = dict(json_path=None, report=None, junit=None)
        values.update(kw)
        with pytest.raises(InputError) as info:
            prepare_outputs(argparse.Namespace(**values), [Path(M22)])
        return str(info.value)

    assert re.match(rf"--json {re.escape(str(folder))}: ", refused(json_path=str(folder)))
    assert re.match(rf"--junit {re.escape(str(folder))}: ", refused(junit=str(folder)))
    assert re.match(rf"--report {re.escape(str(afile))}: ", refused(report=str(afile)))
    # the same through the command line: exit 2, one line, the option named
    for option, path in (("--json", folder), ("--junit", folder), ("--report", afile)):
        code, out, err = run("check", M22, option, str(path))
        assert code == 2 and out == "" and err.count("\n") == 1 and f"{option} {path}: " in err


# ---- the summary's verbosity -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_summary_lines_default_to_verbosity_zero_and_pass_the_report_through(monkeypatch: pytest.MonkeyPatch,
                                                                            kind: str) -> None:
    seen: list[tuple[str, Any, int]] = []
    monkeypatch.setattr(cli_check, "regression_summary_lines", lambda r, v=0: seen.append(("regression", r, v)) or ["r"])
    monkeypatch.setattr(cli_check, "classification_summary_lines",
                        lambda r, v=0: seen.append(("classification", r, v)) or ["c"])
    report = {"claim": {"kind": kind}}
    summary_lines(report)
    summary_lines(report, -1)
    summary_lines(report, 1)
    assert seen == [(kind, report, 0), (kind, report, -1), (kind, report, 1)]
