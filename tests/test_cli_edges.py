"""Issues 9 (#3 #5 #6), 10 (#5 #7, minor) and 18: the command line's edges.

Output paths are validated before any check (exit 2, one line, nothing else printed); several
models give one JSON document; report folders never collide or keep stale files; budgets, seeds,
sample counts and manifest numbers that cannot be honoured are refused with exit 2; every command
has --version, -q/-v and its exit codes in --help; counterexample totals, thin cones, measure-zero
violations and ties are said in plain words; the exit code of several verdicts is the worst one.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import warnings
from fractions import Fraction as F
from pathlib import Path

import pytest
import torch

from verify.cli.main import build_parser, main
from verify.corpus.handcrafted import handcrafted_2_2
from verify.render.markdown import render_markdown

ROOT = Path(__file__).resolve().parent.parent
M22 = str(ROOT / "models/algzoo/2nd_argmax_2_2.pth")
HANDCRAFTED = str(ROOT / "models/handcrafted_2_2.pth")
TRAINED_2_3 = str(ROOT / "models/trained_2_3.pth")
LOCAL_MIN = str(ROOT / "models/trained_2_2_local_min.pth")
COMMANDS = ("check", "sample", "encode", "replay", "export", "train", "ci")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def assert_one_line_exit_2(code: int, err: str) -> None:
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "error: verify" not in err  # never "verify: error: verify ...: ..."


def save_state(path: Path, w_hi: list[list[float]], w_hh: list[list[float]], w_oh: list[list[float]]) -> Path:
    torch.save({"rnn.weight_ih_l0": torch.tensor(w_hi), "rnn.weight_hh_l0": torch.tensor(w_hh),
                "linear.weight": torch.tensor(w_oh)}, path)
    return path


# -- 1. output paths (issue 9 #3) ----------------------------------------------------------------
@pytest.mark.parametrize("option", ["--json", "--junit", "--report-file", "--json-under-file", "--report-proc"])
def test_bad_output_paths_are_exit_2_before_any_check(option: str, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    argv = {"--json": ["--json", str(tmp_path)], "--junit": ["--junit", str(tmp_path)],
            "--report-file": ["--report", str(blocker)], "--json-under-file": ["--json", str(blocker / "r.json")],
            "--report-proc": ["--report", "/proc/verify-cannot-write-here"]}[option]
    if option == "--report-proc" and not Path("/proc").is_dir():
        pytest.skip("no /proc on this system")
    code, out, err = run("check", HANDCRAFTED, *argv)
    assert_one_line_exit_2(code, err)
    assert out == ""  # refused before the check: no verdict was printed
    assert blocker.read_text() == "keep me"


def test_a_failed_write_is_exit_2_not_a_traceback(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    code, out, err = run("check", HANDCRAFTED, "--json", "/dev/full")
    assert_one_line_exit_2(code, err)
    assert "/dev/full" in err and "cannot write" in err


@pytest.mark.parametrize("option", ["--json", "--junit"])
def test_ci_output_paths_are_validated_first(option: str, tmp_path: Path) -> None:
    code, out, err = run("ci", str(ROOT / "verify.toml"), option, str(tmp_path))
    assert_one_line_exit_2(code, err)
    assert out == ""


def test_a_closed_stdout_pipe_ends_quietly() -> None:
    """`verify check ... | head`: the reader is gone before anything is written; exit 141, stderr empty."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "verify", "check", HANDCRAFTED, M22], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=300)
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a device that is always full)")
@pytest.mark.parametrize("extra", [[], ["--json", "-"], ["-q"]])
def test_a_full_disk_under_stdout_is_one_line_and_exit_2_never_a_silent_verdict(extra: list[str]) -> None:
    """The summary or the JSON cannot be written (ENOSPC): the verdict's exit code would claim a
    report that nobody got. One line on stderr, exit 2, no traceback."""
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "verify", "check", M22, *extra], stdout=full,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("verify: error: cannot write the output"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_json_of_several_models_is_one_array_in_a_file_and_on_stdout(tmp_path: Path) -> None:
    target = tmp_path / "all.json"
    code, _, _ = run("check", HANDCRAFTED, M22, "--json", str(target))
    assert code == 1
    reports = json.loads(target.read_text())
    assert [r["verdict"] for r in reports] == ["proved", "refuted"]
    assert [r["model"]["path"] for r in reports] == [HANDCRAFTED, M22]
    assert not list(tmp_path.glob("all.*.json"))  # no FILE.<stem>.json side files any more
    code, out, _ = run("check", HANDCRAFTED, M22, "--json", "-")
    assert code == 1
    assert [r["verdict"] for r in json.loads(out)] == ["proved", "refuted"]
    code, out, _ = run("check", HANDCRAFTED, "--json", "-")  # one model: one object, as before
    assert json.loads(out)["verdict"] == "proved"


# -- 2. report folders (issue 10 #7, minor) -------------------------------------------------------
def test_models_with_the_same_file_name_get_their_own_report_folders(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "model.pth", tmp_path / "b" / "model.pth"
    a.parent.mkdir()
    b.parent.mkdir()
    shutil.copy(HANDCRAFTED, a)
    shutil.copy(M22, b)
    out = tmp_path / "R"
    code, _, err = run("check", str(a), str(b), "--report", str(out))
    assert code == 1, err
    first = json.loads((out / "model" / "report.json").read_text())
    second = json.loads((out / "model-2" / "report.json").read_text())
    assert (first["model"]["path"], first["verdict"]) == (str(a), "proved")
    assert (second["model"]["path"], second["verdict"]) == (str(b), "refuted")


def test_a_reused_report_folder_loses_its_stale_picture(tmp_path: Path) -> None:
    folder = tmp_path / "R"
    code, _, _ = run("check", HANDCRAFTED, "--report", str(folder))
    assert code == 0 and (folder / "partition.png").exists()
    n4 = save_state(tmp_path / "n4.pth", [[1.0]], [[0.5]], [[1.0], [-1.0], [0.5], [0.25]])  # no picture for n = 4
    run("check", str(n4), "--report", str(folder))
    assert json.loads((folder / "report.json").read_text())["model"]["seq_len"] == 4
    assert not (folder / "partition.png").exists()


# -- 3/4. budgets, timeouts and counts (issues 9 #4, 10 #5) ----------------------------------------
def test_query_timeout_defaults_to_the_remaining_budget() -> None:
    from verify.cli.check import settings_from

    parser = build_parser()
    assert settings_from(parser.parse_args(["check", HANDCRAFTED])).options().timeout_ms is None
    assert settings_from(parser.parse_args(["check", HANDCRAFTED, "--query-timeout", "2.5"])).options().timeout_ms == 2500
    assert settings_from(parser.parse_args(["check", HANDCRAFTED, "--no-time-budget"])).time_budget is None


@pytest.mark.parametrize("argv", [
    ["--time-budget", "inf"], ["--time-budget", "1e308"], ["--time-budget", "nan"], ["--time-budget", "-1"],
    ["--time-budget", "0"], ["--query-timeout", "inf"], ["--query-timeout", "nan"], ["--query-timeout", "0"],
    ["--max-counterexamples", "-1"], ["--jobs", "0"], ["--max-regions", "1.5"],
])
def test_budgets_that_cannot_be_honoured_are_refused(argv: list[str]) -> None:
    code, out, err = run("check", HANDCRAFTED, *argv)
    assert_one_line_exit_2(code, err)
    assert out == ""


def test_sample_counts_may_be_written_as_integer_floats() -> None:
    code, out, err = run("sample", HANDCRAFTED, "-n", "1e4", "--json")
    assert code == 0, err
    assert json.loads(out)["samples"] == 10_000


@pytest.mark.parametrize("argv", [["-n", "1.5"], ["-n", "nan"], ["-n", "-5"], ["-n", "inf"], ["-n", "0"],
                                  ["--seed", "99999999999999999999999"], ["--seed", "-1"]])
def test_bad_sample_options_are_one_line(argv: list[str]) -> None:
    code, out, err = run("sample", HANDCRAFTED, *argv)
    assert_one_line_exit_2(code, err)


def test_train_refuses_a_seed_torch_cannot_take(tmp_path: Path) -> None:
    code, _, err = run("train", "--hidden-size", "2", "--seq-len", "2", "--seed", "99999999999999999999999",
                       "--out", str(tmp_path / "m.pth"))
    assert_one_line_exit_2(code, err)
    assert "--seed" in err


@pytest.mark.parametrize("line", [
    "time_budget = inf", "time_budget = nan", "time_budget = 1e308", "max_error_rate = nan",
    "max_error_rate = 1.5", "min_error_rate = inf", "max_error_rate = -0.1",
])
def test_manifest_numbers_that_cannot_be_honoured_are_refused(line: str, tmp_path: Path) -> None:
    manifest = tmp_path / "verify.toml"
    manifest.write_text(f'[[model]]\npath = "{HANDCRAFTED}"\nverdict = "proved"\n{line}\n')
    code, out, err = run("ci", str(manifest))
    assert_one_line_exit_2(code, err)
    assert line.split(" ")[0] in err


# -- 5. counterexamples (issue 9 #5) ---------------------------------------------------------------
def test_the_total_is_reported_beyond_the_cap(tmp_path: Path) -> None:
    capped, everything = tmp_path / "capped.json", tmp_path / "all.json"
    code, out, _ = run("check", TRAINED_2_3, "--max-counterexamples", "2", "--json", str(capped))
    assert code == 1
    run("check", TRAINED_2_3, "--max-counterexamples", "1000", "--json", str(everything))
    small, full = json.loads(capped.read_text()), json.loads(everything.read_text())
    # oracle: with a cap above the total, every counterexample is listed; the cap changes only the listing
    assert len(full["counterexamples"]) == full["counterexamples_total"] == small["counterexamples_total"] > 2
    assert len(small["counterexamples"]) == 2
    assert f"showing 2 of {small['counterexamples_total']}" in out
    assert small["counterexamples"] == full["counterexamples"][:2]


def test_thin_cones_are_said_plainly() -> None:
    from verify.render.text import summary_lines

    code, out, _ = run("check", M22, "--json", "-")
    report = json.loads(out)
    assert all(c["thin"] is False for c in report["counterexamples"])  # M_{2,2}'s slivers hold float32 witnesses
    report["counterexamples"][0]["thin"] = True
    text = "\n".join(summary_lines(report, verbosity=1))
    assert "cone too thin for a float32 witness" in text
    assert "thin" in render_markdown(report).lower()


def test_a_violation_of_measure_zero_is_said_plainly_and_listed_once(tmp_path: Path) -> None:
    from verify.corpus.planted import planted_network, tent_of_kind

    planted = planted_network([tent_of_kind("touch", F(-1, 2), F(1, 4), -1)])
    path = tmp_path / "touch.pth"
    torch.save(planted.weights.state_dict(), path)
    code, out, _ = run("check", str(path), "--json", str(tmp_path / "r.json"))
    assert code == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["error_rate"]["upper"] == 0
    assert "measure zero" in out and "error rate: 0 exactly" in out
    points = [tuple(c["x_exact"]) for c in report["counterexamples"]]
    assert points and all(c["measure_zero"] for c in report["counterexamples"])
    assert len(points) == len(set(points))  # a boundary ray shared by two regions is listed once


def test_ties_and_the_strict_rate_are_glossed() -> None:
    code, out, _ = run("check", LOCAL_MIN)
    assert code == 1
    assert "tie measure:" in out and "top logit is shared exactly" in out and "ties counted as errors" in out


def test_a_budget_cut_search_states_a_lower_bound_from_the_cones_found() -> None:
    """M_{2,2} stopped after its first region: the sliver found there is part of the published error
    (7.7431e-5 in all, shared by two slivers), so the bound is positive and below the total."""
    code, out, _ = run("check", M22, "--max-regions", "1", "--json", "-")
    report = json.loads(out)
    assert code == 1 and report["complete"] is False and report["error_rate"] is None
    bound = report["error_rate_lower_bound"]
    assert 0 < bound["lower"] and bound["upper"] < 7.7431e-5
    code, out, _ = run("check", M22, "--max-regions", "1")
    assert f"error rate: at least {bound['lower_exact']} (search incomplete" in out


def test_an_incomplete_search_states_a_lower_bound() -> None:
    from verify.render.text import summary_lines

    code, out, _ = run("check", M22, "--json", "-")
    report = json.loads(out)
    report["error_rate_lower_bound"], report["error_rate"] = report["error_rate"], None
    report["complete"], report["stop_reason"] = False, "time budget of 1 s reached"
    text = "\n".join(summary_lines(report))
    assert f"at least {report['error_rate_lower_bound']['lower_exact']} (search incomplete" in text


def test_a_zero_lower_bound_is_not_printed_as_at_least_zero() -> None:
    """The handcrafted model cut after 1 of its 4 regions has no misclassified cone: the true bound
    is 0, which says nothing; a cone without a certified measure (n >= 4) gives none either."""
    from verify.render.text import summary_lines

    code, out, _ = run("check", "models/handcrafted_2_2.pth", "--max-regions", "1", "--json", "-")
    report = json.loads(out)
    assert code == 3 and report["error_rate_lower_bound"]["upper"] == 0
    text = "\n".join(summary_lines(report))
    assert "at least" not in text and "no misclassified cone of positive measure found so far" in text
    report["counterexamples"] = [{"measure_zero": False, "thin": False, "float32_confirmed": True,
                                  "x_float32": [1.0, 0.5], "predicted": 0, "expected": 1}]
    text = "\n".join(summary_lines(report))
    assert "at least" not in text and "no certified lower bound" in text


# -- 6. help, version, verbosity, error prefixes (issue 9 #6) ---------------------------------------
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_version_quiet_verbose_and_exit_codes_in_help(command: str,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert "exit codes:" in text and "--version" in text and "-q" in text and "-v" in text
    assert "\n  2 " in text or "\n  2    " in text
    assert main([command, "--version"]) == 0
    assert capsys.readouterr().out.startswith("verify ")


def test_quiet_and_verbose() -> None:
    code, out, _ = run("check", "-q", HANDCRAFTED, M22)
    assert code == 1 and out.splitlines() == [f"{HANDCRAFTED}: PROVED (2nd-argmax)", f"{M22}: REFUTED (2nd-argmax)"]
    code, out, _ = run("check", "-v", M22)
    assert len([line for line in out.splitlines() if line.startswith("    region ")]) == 2  # both slivers listed


@pytest.mark.parametrize("argv, head", [
    (["check", HANDCRAFTED, "--claim", "mode"], "verify check: error: "),
    (["export", HANDCRAFTED], "verify export: error: "),
    (["frobnicate"], "verify: error: "),
])
def test_error_lines_have_one_prefix(argv: list[str], head: str) -> None:
    code, _, err = run(*argv)
    assert_one_line_exit_2(code, err)
    assert err.startswith(head) and err.count("error:") == 1


def test_the_ci_example_gates_with_verify_ci_and_installs_as_the_readme_does() -> None:
    workflow = (ROOT / "docs/ci/github-actions.yml").read_text()
    readme = (ROOT / "README.md").read_text()
    gate = next(line for line in workflow.splitlines() if "/bin/verify ci " in line)
    assert "verify.toml" in gate and "--junit" in gate and "--json" in gate and "--progress" in gate
    for line in workflow.splitlines():  # 7 of 9 bundled models are refuted by design: never a bare gate on them
        if "/bin/verify check models/*.pth" in line:
            assert "|| {" in workflow.split(line, 1)[1].splitlines()[1]
    setup = "python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 && .venv/bin/pip install -e"
    assert setup in readme and setup in workflow


# -- 7/8. loading edges (issue 10 minor) -------------------------------------------------------------
def test_special_files_are_not_called_empty(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.pth"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.pth"
    os.symlink(tmp_path / "loop2.pth", loop)
    os.symlink(loop, tmp_path / "loop2.pth")
    for path, words in ((fifo, "not a regular file"), ("/dev/zero", "not a regular file"), (loop, "symbolic link loop")):
        code, _, err = run("check", str(path))
        assert_one_line_exit_2(code, err)
        assert words in err and "empty" not in err and "no such file" not in err


@pytest.mark.parametrize("key", ["state_dict", "model"])
def test_nested_checkpoints_are_refused_with_a_hint(key: str, tmp_path: Path) -> None:
    path = tmp_path / "ckpt.pth"
    torch.save({key: handcrafted_2_2().state_dict(), "epoch": 3}, path)
    code, _, err = run("check", str(path))
    assert_one_line_exit_2(code, err)
    assert f"nested under '{key}'" in err and "unwrap" in err


@pytest.mark.parametrize("kind", ["sparse", "quantized"])
def test_torch_warnings_do_not_add_lines(kind: str, tmp_path: Path) -> None:
    state = handcrafted_2_2().state_dict()
    if kind == "sparse":
        state["rnn.weight_hh_l0"] = state["rnn.weight_hh_l0"].to_sparse()
    else:
        with warnings.catch_warnings():  # torch deprecates quantized tensors; the file is what matters
            warnings.simplefilter("ignore")
            state["rnn.weight_hh_l0"] = torch.quantize_per_tensor(state["rnn.weight_hh_l0"], 0.1, 0, torch.qint8)
    path = tmp_path / f"{kind}.pth"
    torch.save(state, path)
    proc = subprocess.run([sys.executable, "-W", "default", "-m", "verify", "check", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


# -- 9. exit codes of several verdicts (issue 18) -------------------------------------------------------
def padded_handcrafted(path: Path) -> Path:
    """The handcrafted model plus a neuron that reads x but feeds no logit: the same exactly-correct
    function (so proved), cut into more regions than the handcrafted one has."""
    return save_state(path, [[1.0], [-1.0], [1.0]], [[-1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 0.0, -0.5]],
                      [[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0]])


def test_refuted_beats_unknown_and_unknown_beats_proved(tmp_path: Path) -> None:
    padded = padded_handcrafted(tmp_path / "padded.pth")
    code, out, _ = run("check", str(padded), "--json", "-")
    full = json.loads(out)
    assert code == 0 and full["verdict"] == "proved"
    handcrafted_regions = len(json.loads(run("check", HANDCRAFTED, "--json", "-")[1])["regions"])
    assert len(full["regions"]) > handcrafted_regions  # so a budget of the handcrafted count leaves it unknown
    budget = str(handcrafted_regions)
    code, out, _ = run("check", "-q", HANDCRAFTED, str(padded), "--max-regions", budget)
    assert out.splitlines() == [f"{HANDCRAFTED}: PROVED (2nd-argmax)", f"{padded}: UNKNOWN (2nd-argmax)"]
    assert code == 3
    for order in ((M22, str(padded)), (str(padded), M22)):  # M_{2,2} is refuted within its first regions
        code, out, _ = run("check", "-q", *order, "--max-regions", budget)
        assert sorted(line.split(": ")[1] for line in out.splitlines()) == ["REFUTED (2nd-argmax)",
                                                                            "UNKNOWN (2nd-argmax)"]
        assert code == 1
