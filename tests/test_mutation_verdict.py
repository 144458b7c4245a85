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
