"""Issue 18 #4: the exit-code and option logic of `verify check`, against hand-written tables.

Expected values are the documented contract (README / `verify check --help`): proved 0,
refuted 1, bad input 2, unknown 3, SIGINT 130, SIGTERM 143; refuted over unknown over proved.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import signal
from pathlib import Path

import pytest

from verify.cli.common import Io, exit_code_for, worst_exit_code
from verify.cli.main import main
from verify.cli.check import CheckSettings, settings_from
from verify.cli.run import SignalStop
from verify.core.errors import InputError

HANDCRAFTED = "models/handcrafted_2_2.pth"
M22 = "models/algzoo/2nd_argmax_2_2.pth"


def test_each_verdict_word_has_its_documented_code() -> None:
    assert [exit_code_for(w) for w in ("proved", "refuted", "unknown")] == [0, 1, 3]
    with pytest.raises(KeyError):
        exit_code_for("maybe")


@pytest.mark.parametrize("codes", [c for r in range(0, 4) for c in itertools.product((0, 1, 3), repeat=r)])
def test_worst_exit_code_is_refuted_over_unknown_over_proved(codes: tuple[int, ...]) -> None:
    want = 1 if 1 in codes else 3 if 3 in codes else 0
    assert worst_exit_code(list(codes)) == want


def namespace(**overrides: object) -> argparse.Namespace:
    values: dict[str, object] = dict(claim="2nd-argmax", max_regions=None, time_budget=300.0, no_time_budget=False,
                                     query_timeout=None, max_counterexamples=50, jobs=1)
    values.update(overrides)
    return argparse.Namespace(**values)


@pytest.mark.parametrize("field,bad,good", [("max_regions", 0, 1), ("max_counterexamples", -1, 0), ("jobs", 0, 1)])
def test_settings_refuse_exactly_below_the_smallest_allowed_value(field: str, bad: int, good: int) -> None:
    with pytest.raises(InputError):
        settings_from(namespace(**{field: bad}))
    settings = settings_from(namespace(**{field: good}))
    assert getattr(settings, field) == good


def test_settings_map_onto_the_check_options() -> None:
    settings = settings_from(namespace(max_regions=7, time_budget=12.5, query_timeout=2.5, max_counterexamples=4,
                                       jobs=3, claim="argmax"))
    assert settings == CheckSettings(claim="argmax", max_regions=7, time_budget=12.5, query_timeout=2.5,
                                     max_counterexamples=4, jobs=3)
    options = settings.options()
    assert options.claim.k == 1
    assert options.budget.max_regions == 7 and options.budget.time_budget == 12.5
    assert options.timeout_ms == 2500
    assert options.max_counterexamples == 4
    assert settings_from(namespace(claim="2nd-argmax")).options().claim.k == 2
    # no budget at all, and a query timeout below a millisecond still gives the solver 1 ms
    lifted = settings_from(namespace(no_time_budget=True, query_timeout=0.0004))
    assert lifted.time_budget is None and lifted.options().budget.time_budget is None
    assert lifted.options().timeout_ms == 1
    assert settings_from(namespace()).options().timeout_ms is None


def test_signal_stop_codes_are_128_plus_the_first_signal() -> None:
    stop = SignalStop()
    assert stop.code is None and stop.reason is None
    stop.stop(signal.SIGTERM)
    stop.stop(signal.SIGINT)  # a second signal changes nothing
    assert stop.code == 143 and stop.signal_number == signal.SIGTERM
    assert stop.reason == "interrupted (SIGTERM)" and stop.flag.signal_number == signal.SIGTERM
    other = SignalStop()
    other.stop(signal.SIGINT)
    assert other.code == 130 and other.reason == "interrupted (SIGINT)" and other.flag() == "interrupted (SIGINT)"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_the_exit_code_of_a_run_is_that_of_its_worst_model(tmp_path: Path) -> None:
    assert run("check", "-q", HANDCRAFTED)[0] == 0
    assert run("check", "-q", M22)[0] == 1
    assert run("check", "-q", HANDCRAFTED, M22)[0] == 1
    assert run("check", "-q", M22, HANDCRAFTED)[0] == 1
    # a region budget of 1 leaves the handcrafted model (4 regions, all correct) unknown
    code, out, _ = run("check", "-q", HANDCRAFTED, HANDCRAFTED, "--max-regions", "1")
    assert code == 3 and out.count("UNKNOWN") == 2


def test_json_of_one_model_is_an_object_and_of_two_an_array(tmp_path: Path) -> None:
    code, out, _ = run("check", HANDCRAFTED, "--json", "-")
    assert code == 0 and json.loads(out)["verdict"] == "proved"
    code, out, _ = run("check", HANDCRAFTED, M22, "--json", "-")
    doc = json.loads(out)
    assert code == 1 and [r["verdict"] for r in doc] == ["proved", "refuted"]


def test_json_of_several_models_is_an_indented_array(tmp_path: Path) -> None:
    _, out, _ = run("check", HANDCRAFTED, HANDCRAFTED, "--json", "-", "--max-regions", "1")
    assert out.startswith('[\n  {\n    "') and out.endswith("\n]\n")  # json.dumps(indent=2) + newline


def test_run_check_model_hands_jobs_progress_and_stop_to_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """--jobs N > 1 checks through a parallel region source that reports progress and obeys the
    run's stop flag; --jobs 1 checks sequentially (no source). A spy stands in for check_model."""
    import verify.cli.run as cli_run
    from verify.check.parallel import ParallelRegions
    from verify.check.pipeline import CheckOptions, StopFlag

    seen: list[dict[str, object]] = []

    def spy(weights, options, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs)
        return "checked"

    monkeypatch.setattr(cli_run, "check_model", spy)
    progress = lambda regions, checks: None  # noqa: E731
    flag = StopFlag()
    assert cli_run.run_check_model(None, CheckOptions(), jobs=3, progress=progress, stop=flag) == "checked"  # type: ignore[arg-type]
    source = seen[0]["region_source"]
    assert isinstance(source, ParallelRegions) and source.jobs == 3
    assert source.on_region is progress and source.stop is flag
    assert seen[0]["on_region"] is progress and seen[0]["stop"] is flag
    cli_run.run_check_model(None, CheckOptions(), jobs=1, progress=progress, stop=flag)  # type: ignore[arg-type]
    assert seen[1] == {"on_region": progress, "stop": flag, "region_source": None}


def test_cross_check_reaches_the_check_options() -> None:
    assert settings_from(namespace(cross_check=True)).options().cross_check is True
    assert settings_from(namespace()).options().cross_check is False


def test_a_claim_the_models_length_cannot_carry_is_refused_before_the_check() -> None:
    # M_{2,2} reads 2 inputs; argoutlier needs 3 (two inputs are equally far from their mean)
    code, out, err = run("check", M22, "--claim", "argoutlier", "-q")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and M22 in err and "at least 3" in err


@pytest.mark.parametrize("scheduler,checkpoint,subtrees", [
    (None, None, False), ("local:2", None, True), (None, "ckpt", True), ("local:2", "ckpt", True)])
def test_scheduler_or_checkpoint_routes_the_check_through_the_subtrees(
        monkeypatch: pytest.MonkeyPatch, scheduler: str | None, checkpoint: str | None, subtrees: bool) -> None:
    """--scheduler and --checkpoint, alone or together, run the check as subtrees (Dask driver,
    checkpoint folder); neither runs it directly. Spies stand in for both paths."""
    import verify.cli.check as cli_check
    from verify.cli.common import Io

    called: list[tuple[str, tuple[object, ...], dict[str, object]]] = []
    result = object()
    monkeypatch.setattr(cli_check, "_check_on_subtrees", lambda *a, **k: called.append(("subtrees", a, k)) or result)
    monkeypatch.setattr(cli_check, "run_check_model", lambda *a, **k: called.append(("direct", a, k)) or result)
    monkeypatch.setattr(cli_check, "build_report", lambda r: {"result": r})
    settings = CheckSettings(claim="2nd-argmax", max_regions=None, time_budget=None, query_timeout=None,
                             max_counterexamples=50, jobs=1, scheduler=scheduler, checkpoint=checkpoint)
    io_ = Io(io.StringIO(), io.StringIO())
    stop = SignalStop()
    got = cli_check.check_one(Path(M22), argparse.Namespace(progress=False), io_, stop, settings=settings)
    assert got == (result, {"result": result})
    ((path, args, kwargs),) = called
    assert path == ("subtrees" if subtrees else "direct")
    if subtrees:  # (weights, options, settings, progress, the run's stop flag)
        weights, options, passed, progress, flag = args
        assert weights.seq_len == 2 and options == settings.options() and passed is settings
        assert isinstance(progress, cli_check.Progress) and flag is stop.flag and kwargs == {}
    else:
        assert args[1] == settings.options() and kwargs["stop"] is stop.flag and kwargs["jobs"] == 1
        assert isinstance(kwargs["progress"], cli_check.Progress)


def test_outputs_json_to_stdout_distinct_files_and_the_report_folders_own_names(tmp_path: Path) -> None:
    """`--json -` is stdout (no file); --json and --junit must differ; a --json or --junit file
    may sit in the --report folder unless it has one of the names the report writes there."""
    from verify.cli.check import prepare_outputs

    def outputs(**kw: object):  # type: ignore[no-untyped-def]
        values: dict[str, object] = dict(json_path=None, report=None, junit=None)
        values.update(kw)
        return prepare_outputs(argparse.Namespace(**values), [Path(M22)])

    to_stdout = outputs(json_path="-")
    assert to_stdout.json_path is None and to_stdout.json_stdout
    both = outputs(json_path=str(tmp_path / "a.json"), junit=str(tmp_path / "b.xml"))
    assert (both.json_path, both.junit) == (tmp_path / "a.json", tmp_path / "b.xml") and not both.json_stdout
    with pytest.raises(InputError, match="same file"):
        outputs(json_path=str(tmp_path / "a.json"), junit=str(tmp_path / "a.json"))
    folder = tmp_path / "rep"
    assert outputs(json_path=str(folder / "mine.json"), report=str(folder)).report == folder
    assert outputs(json_path=str(tmp_path / "report.json"), report=str(folder)).json_path == tmp_path / "report.json"
    with pytest.raises(InputError, match="overwritten by --report"):
        outputs(json_path=str(folder / "report.json"), report=str(folder))


def test_every_model_gets_the_runs_settings_and_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings are read once from the command line and, with the run's SignalStop and the
    parsed arguments, handed to the check of every model (a spy stands in for check_one)."""
    import verify.cli.check as cli_check

    seen: list[tuple[object, ...]] = []
    real = cli_check.check_one

    def spy(path, args, io_, stop, settings):  # type: ignore[no-untyped-def]
        seen.append((path, args, stop, settings))
        return real(path, args, io_, stop, settings)

    monkeypatch.setattr(cli_check, "check_one", spy)
    code, _, _ = run("check", "-q", HANDCRAFTED, HANDCRAFTED, "--max-regions", "1", "--claim", "argmax")
    assert code == 1 and len(seen) == 2  # a 2nd-argmax model is wrong about the argmax: refuted
    for path, args, stop, settings in seen:
        assert path == Path(HANDCRAFTED) and isinstance(args, argparse.Namespace) and args.claim == "argmax"
        assert isinstance(stop, SignalStop) and stop is seen[0][2]
        assert isinstance(settings, CheckSettings) and settings is seen[0][3]
        assert settings.max_regions == 1 and settings.claim == "argmax"


def test_a_refused_model_is_a_junit_error_case_and_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a model")
    junit = tmp_path / "out.xml"
    code, _, err = run("check", "-q", HANDCRAFTED, str(bad), "--junit", str(junit), "--max-regions", "1")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    text = junit.read_text()
    assert text.count("<testcase") == 2 and "<error" in text and "bad.pth" in text
    # the error case carries the message printed on stderr (after "verify: error: "), word for word
    message = err.strip().split("error: ", 1)[1]
    assert f'type="InputError" message="{message}"' in text


def test_junit_lists_every_model_and_the_ones_a_stop_left_unchecked(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    """--junit: one case per model, a passing one for the proved model, a failure for the refused
    one; when SIGTERM arrives during the first model's check (simulated by `stop.stop`), the run
    exits 143 and the second model is listed as not checked (an interrupted case)."""
    import verify.cli.check as cli_check

    junit = tmp_path / "all.xml"
    code, _, _ = run("check", "-q", HANDCRAFTED, M22, "--junit", str(junit))
    text = junit.read_text()
    assert code == 1 and text.count("<testcase") == 2
    proved, refuted = text.split("<testcase")[1:]
    assert "<error" not in proved and "<failure" not in proved and "<failure" in refuted

    real = cli_check.check_one

    def signalled(path, args, io_, stop, settings):  # type: ignore[no-untyped-def]
        got = real(path, args, io_, stop, settings)
        stop.stop(signal.SIGTERM)  # the signal lands while this model is checked
        return got

    monkeypatch.setattr(cli_check, "check_one", signalled)
    code, _, err = run("check", "-q", HANDCRAFTED, M22, "--junit", str(junit))
    text = junit.read_text()
    assert code == 128 + signal.SIGTERM and "1 model(s) not checked" in err
    assert text.count("<testcase") == 2 and M22 in text.split("<testcase")[2]


def test_scheduler_checkpoint_and_resume_reach_the_settings(tmp_path: Path) -> None:
    folder = str(tmp_path / "ckpt")
    settings = settings_from(namespace(scheduler="local:2", checkpoint=folder, resume=True))
    assert (settings.scheduler, settings.checkpoint, settings.resume) == ("local:2", folder, True)
    plain = settings_from(namespace())
    assert (plain.scheduler, plain.checkpoint, plain.resume) == (None, None, False)


def test_argparse_exits_become_return_codes() -> None:
    """A bad option is exit 2 with argparse's one usage error; --help is exit 0."""
    code, out, err = run("check", "--no-such-option")
    assert code == 2 and out == "" and "unrecognized arguments: --no-such-option" in err
    assert run("--help")[0] == 0  # argparse prints the help to sys.stdout itself
