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


# ---- settings: defaults of a bare Namespace, option names in errors, the median options' limits ------

HANDCRAFTED = "models/handcrafted_2_2.pth"


def test_settings_of_a_bare_namespace_are_the_documented_defaults() -> None:
    """`verify check --help`: time budget 300 s, at most 50 counterexamples listed, 1 job, no
    region budget, no query timeout, each model's own task."""
    assert cli_check.settings_from(argparse.Namespace()) == CheckSettings(
        claim=None, max_regions=None, time_budget=300.0, query_timeout=None, max_counterexamples=50, jobs=1)


@pytest.mark.parametrize("option,field", [("--time-budget", "time_budget"), ("--query-timeout", "query_timeout")])
@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_a_bad_number_of_seconds_is_refused_naming_its_option(option: str, field: str, bad: float) -> None:
    with pytest.raises(InputError) as info:
        cli_check.settings_from(argparse.Namespace(**{field: bad}))
    assert str(info.value).startswith(f"{option} ")
    code, out, err = run("check", HANDCRAFTED, option, str(bad))
    assert code == 2 and out == "" and err.count("\n") == 1 and f"{option} " in err


@pytest.mark.parametrize("seq_len,ok", [(1, False), (2, True), (3, True), (64, True), (65, False)])
def test_seq_len_is_accepted_exactly_in_2_to_64(seq_len: int, ok: bool) -> None:
    args = argparse.Namespace(seq_len=seq_len)
    if ok:
        assert cli_check.settings_from(args).seq_len == seq_len
    else:
        with pytest.raises(InputError, match="--seq-len"):
            cli_check.settings_from(args)


@pytest.mark.parametrize("claim,extra,ok", [
    ("argmax", dict(eps="0.1"), False), ("argmax", dict(seq_len=3), False),
    ("2nd-argmax", dict(eps="0.1", seq_len=3), False),
    ("median", dict(eps="0.1"), True), ("median", dict(seq_len=3), True), ("median", dict(eps="0.1", seq_len=3), True),
    (None, dict(eps="0.1", seq_len=3), True),  # no claim asked: decided per model (check_one)
    ("argmax", dict(), True)])
def test_eps_and_seq_len_belong_to_the_median_claim_alone(claim: str | None, extra: dict[str, Any], ok: bool) -> None:
    args = argparse.Namespace(claim=claim, **extra)
    if ok:
        got = cli_check.settings_from(args)
        assert got.claim == claim and got.seq_len == extra.get("seq_len")
        assert got.eps == (Fraction(1, 10) if "eps" in extra else None)
    else:
        with pytest.raises(InputError, match="belong to the median claim"):
            cli_check.settings_from(args)


@pytest.mark.parametrize("checkpoint,jobs,needs_dask", [(None, 1, False), (None, 2, False), ("ckpt", 1, False),
                                                        ("ckpt", 2, True), ("ckpt", 3, True)])
def test_only_jobs_above_one_with_a_checkpoint_ask_for_a_local_dask_cluster(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, checkpoint: str | None, jobs: int, needs_dask: bool) -> None:
    """--jobs N > 1 with --checkpoint runs on a local Dask cluster (--help), so only then is Dask
    required (a spy stands in for the requirement check: Dask is installed here)."""
    import verify.check.distributed as distributed

    asked: list[bool] = []
    monkeypatch.setattr(distributed, "require_dask", lambda: asked.append(True))
    folder = None if checkpoint is None else str(tmp_path / checkpoint)
    got = cli_check.settings_from(argparse.Namespace(checkpoint=folder, jobs=jobs))
    assert asked == ([True] if needs_dask else [])
    assert got.checkpoint == folder and got.jobs == jobs


def test_resume_accepts_a_checkpoint_folder_that_already_holds_a_run(tmp_path: Path) -> None:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "earlier-run").mkdir()
    with pytest.raises(InputError, match="--resume"):  # a fresh run refuses a used folder
        cli_check.settings_from(argparse.Namespace(checkpoint=str(folder)))
    got = cli_check.settings_from(argparse.Namespace(checkpoint=str(folder), resume=True))
    assert got.resume is True and got.checkpoint == str(folder)


# ---- run_check: late write failures, the median --report folder, a stop during the last model ------

def test_a_json_file_that_became_unwritable_during_the_check_is_exit_2_naming_the_option(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Validated before the first check, then a folder appears in its place while the model is
    checked: exit 2, one line that names --json and the file (README: a write that fails later
    is still exit 2 with one line)."""
    target = tmp_path / "out.json"
    real = cli_check.check_one

    def check_then_block(path, args, io_, stop, settings):  # type: ignore[no-untyped-def]
        got = real(path, args, io_, stop, settings)
        target.mkdir()
        return got

    monkeypatch.setattr(cli_check, "check_one", check_then_block)
    code, _, err = run("check", "-q", HANDCRAFTED, "--json", str(target))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"--json {target}: " in err


def test_median_report_folder_holds_the_report_and_the_picture(tmp_path: Path) -> None:
    folder = tmp_path / "rep"
    code, _, _ = run("check", "-q", MEDIAN, "--seq-len", "3", "--report", str(folder))
    assert code == 1
    report = json.loads((folder / "report.json").read_text())
    assert report["verdict"] == "refuted" and Fraction(report["worst_case"]["exact"]) == Fraction(1, 2)
    for name in ("report.md", "report.html", "partition.png", "partition.svg"):  # n = 3: with the picture
        assert (folder / name).stat().st_size > 0, name
    assert (folder / "partition.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_stop_during_the_last_model_reports_nothing_left_unchecked(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    """SIGTERM (simulated by `stop.stop`) while the only model is checked: exit 143, the one line
    on stderr says the run stopped and mentions no unchecked model; JUnit: no skipped case."""
    import signal as signal_module

    real = cli_check.check_one

    def signalled(path, args, io_, stop, settings):  # type: ignore[no-untyped-def]
        got = real(path, args, io_, stop, settings)
        stop.stop(signal_module.SIGTERM)
        return got

    monkeypatch.setattr(cli_check, "check_one", signalled)
    junit = tmp_path / "one.xml"
    code, _, err = run("check", "-q", HANDCRAFTED, "--junit", str(junit))
    assert code == 143 and err.count("\n") == 1
    assert "SIGTERM" in err and "stopped" in err and "not checked" not in err and "XX" not in err
    assert "<skipped" not in junit.read_text()


def test_models_a_stop_left_unchecked_are_skipped_junit_cases_not_errors(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    import signal as signal_module

    real = cli_check.check_one

    def signalled(path, args, io_, stop, settings):  # type: ignore[no-untyped-def]
        got = real(path, args, io_, stop, settings)
        stop.stop(signal_module.SIGINT)
        return got

    monkeypatch.setattr(cli_check, "check_one", signalled)
    junit = tmp_path / "two.xml"
    code, _, err = run("check", "-q", HANDCRAFTED, HANDCRAFTED, HANDCRAFTED, "--junit", str(junit))
    assert code == 130 and "2 model(s) not checked" in err
    cases = junit.read_text().split("<testcase")[1:]
    assert len(cases) == 3
    assert "<skipped" not in cases[0] and "<error" not in cases[0]
    for case in cases[1:]:
        assert "<skipped" in case and "<error" not in case


# ---- main: argv from sys.argv, the command list, verbosity, Ctrl-C -----------------------------------

def test_main_without_argv_reads_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setattr(sys, "argv", ["verify", "check", "-q", HANDCRAFTED])
    out, err = io.StringIO(), io.StringIO()
    assert main(None, stdout=out, stderr=err) == 0
    assert out.getvalue().count("\n") == 1 and "PROVED" in out.getvalue() and err.getvalue() == ""


def test_no_command_is_exit_2_with_one_line_listing_the_commands() -> None:
    code, out, err = run()
    assert code == 2 and out == "" and err.count("\n") == 1
    listed = re.search(r"a command is required: (.*) \(see --help\)", err)
    assert listed is not None
    names = listed.group(1).split(", ")
    assert {"check", "sample", "encode", "replay"} <= set(names)  # the commands README documents
    assert all(re.fullmatch(r"[a-z0-9-]+", name) for name in names) and names == sorted(names)


def test_default_output_is_shorter_than_verbose_and_has_no_notes() -> None:
    """-v prints every counterexample and every note; the default does not (--help)."""
    code, plain, _ = run("check", M22)
    code_v, verbose, _ = run("check", M22, "-v")
    assert code == code_v == 1
    assert len(plain.splitlines()) < len(verbose.splitlines())
    code, plain, _ = run("check", HANDCRAFTED, "--max-regions", "1")
    _, verbose, _ = run("check", HANDCRAFTED, "--max-regions", "1", "-v")
    assert code == 3 and "note:" not in plain and "note:" in verbose


def test_ctrl_c_outside_the_solver_is_exit_130_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_check, "check_one", interrupted)
    code, out, err = run("check", HANDCRAFTED)
    assert code == 130 and out == ""
    assert err.count("\n") == 1 and err.startswith("verify: ") and "interrupted" in err
