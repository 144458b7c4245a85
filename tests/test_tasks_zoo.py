"""The bundled models of every AlgZoo task (models/tasks/, issue 13): cards, exact rates against
Monte Carlo with each task's own oracle written here, `verify ci` on their manifest entries, and
reports, pictures and JUnit that name the task."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from verify.check.pipeline import CheckOptions, check_model
from verify.ci.manifest import load_manifest
from verify.cli.main import main
from verify.core.claim import claim_from_name
from verify.formats import load_weights
from verify.render.json_report import build_report
from verify.render.markdown import render_markdown

TASKS = Path("models/tasks")
ORACLES = {  # the right answer of each classification task, from its definition (AlgZoo's tasks.py)
    "argmax": lambda x: x.argmax(axis=1),
    "argmedian": lambda x: np.argsort(x, axis=1)[:, x.shape[1] // 2],
    "argoutlier": lambda x: np.abs(x - x.mean(axis=1, keepdims=True)).argmax(axis=1),
}
CLASSIFIERS = sorted(TASKS.glob("arg*_4_3.pth"))


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_one_bundled_model_per_task_with_a_card_that_matches_its_bytes() -> None:
    cards = {path.stem: json.loads(path.with_suffix(".json").read_text()) for path in TASKS.glob("*.pth")}
    assert {card["task"] for card in cards.values()} == {"argmax", "argmedian", "argoutlier", "median"}
    for stem, card in cards.items():
        import hashlib

        blob = (TASKS / f"{stem}.pth").read_bytes()
        assert card["sha256"] == hashlib.sha256(blob).hexdigest(), stem
        state = torch.load(TASKS / f"{stem}.pth", weights_only=True)
        assert list(state["linear.weight"].shape) == card["tensors"]["linear.weight"], stem
        assert card["expected_verdict"] in ("proved", "refuted")


@pytest.mark.parametrize("path", CLASSIFIERS, ids=[p.stem for p in CLASSIFIERS])
def test_exact_task_rates_agree_with_monte_carlo_of_the_float32_model(path: Path) -> None:
    """2^20 fresh float32 samples through torch, labelled by the oracle above: within 5 standard errors
    (+1e-5 for float32 rounding); the card's recorded rate is the exact one."""
    card = json.loads(path.with_suffix(".json").read_text())
    weights = load_weights(path)
    result = check_model(weights, CheckOptions(claim=claim_from_name(card["task"], weights.seq_len), estimate_samples=0))
    assert result.error is not None and result.error.method == "exact-solid-angle"
    exact = float(result.error.value)
    assert math.isclose(float(card["expected_error_rate"]), exact, rel_tol=1e-12)
    state = torch.load(path, weights_only=True)
    rnn = torch.nn.RNN(1, 4, nonlinearity="relu", bias=False, batch_first=True)
    rnn.load_state_dict({k.split(".", 1)[1]: v for k, v in state.items() if k.startswith("rnn.")})
    x = np.random.default_rng(13).standard_normal((1 << 20, 3)).astype(np.float32)
    with torch.no_grad():
        _, h = rnn(torch.from_numpy(x)[..., None])
        predicted = (h[0] @ state["linear.weight"].T).argmax(dim=1).numpy()
    sampled = float(np.mean(predicted != ORACLES[card["task"]](x.astype(np.float64))))
    se = math.sqrt(sampled * (1 - sampled) / len(x))
    assert abs(sampled - exact) <= 5 * se + 1e-5, (sampled, exact)


def _task_manifest(tmp_path: Path) -> Path:
    """The task entries of the shipped verify.toml, with absolute paths, as a manifest of their own."""
    entries = [e for e in load_manifest(Path("verify.toml")).entries if e.path.parent.name == "tasks"]
    assert {e.claim for e in entries} == {"argmax", "argmedian", "argoutlier", "median"}
    lines = ["[defaults]", "time_budget = 120", ""]
    for e in entries:
        lines += ["[[model]]", f'path = "{e.path.resolve()}"', f'claim = "{e.claim}"', f'verdict = "{e.expect.verdict}"']
        zero_key, max_key, min_key = e.expect.keys  # the MSE's keys for a median entry
        if e.expect.zero_error:
            lines.append(f"{zero_key} = 0")
        if e.expect.min_error_rate is not None:
            lines.append(f"{min_key} = {e.expect.min_error_rate!r}")
        if e.expect.max_error_rate is not None:
            lines.append(f"{max_key} = {e.expect.max_error_rate!r}")
        lines.append("")
    manifest = tmp_path / "tasks.toml"
    manifest.write_text("\n".join(lines))
    return manifest


def test_the_task_entries_of_the_manifest_pass_verify_ci_and_junit_names_each_task(tmp_path: Path) -> None:
    manifest = _task_manifest(tmp_path)
    code, out, err = run("ci", str(manifest), "--json", str(tmp_path / "ci.json"), "--junit", str(tmp_path / "ci.xml"))
    assert code == 0, out + err
    result = json.loads((tmp_path / "ci.json").read_text())
    assert all(e["passed"] for e in result["entries"]) and len(result["entries"]) == 5
    for e in result["entries"]:  # a median entry's measure is its MSE, never an error rate
        assert (e["mse"] is not None, e["error_rate"] is None) == (e["claim"] == "median",) * 2, e
    rows = [line for line in out.splitlines() if line.startswith(("arg", "median_", "handcrafted_median"))]
    assert len(rows) == 5 and [("MSE " in r) for r in rows].count(True) == 2, out
    assert all(("MSE " in r) == (r.split()[2] == "median") for r in rows), out
    junit = (tmp_path / "ci.xml").read_text()
    for task in ("argmax", "argmedian", "argoutlier", "median"):
        assert f'name="{task}"' in junit


def test_a_median_entry_with_a_wrong_verdict_fails_ci(tmp_path: Path) -> None:
    manifest = tmp_path / "m.toml"
    manifest.write_text(f'[[model]]\npath = "{(TASKS / "median_4_3.pth").resolve()}"\nclaim = "median"\n'
                        'verdict = "proved"\n')
    code, out, _ = run("ci", str(manifest))
    assert code == 1 and "verdict refuted, expected proved" in out


def test_without_claim_each_model_is_checked_for_its_cards_task() -> None:
    code, out, err = run("check", "-q", *map(str, sorted(TASKS.glob("*.pth"))))
    assert code == 1, err
    words = {Path(line.split(":")[0]).stem: line.split("(")[1].split(")")[0].split(",")[0] for line in out.splitlines()}
    assert words == {"argmax_4_3": "argmax", "argmedian_4_3": "argmedian", "argoutlier_4_3": "argoutlier",
                     "handcrafted_median_2": "median", "median_4_3": "median"}


def test_reports_and_pictures_name_the_task(tmp_path: Path) -> None:
    path = TASKS / "argmedian_4_3.pth"
    code, _, err = run("check", str(path), "--report", str(tmp_path / "r"), "--junit", str(tmp_path / "j.xml"))
    assert code == 1, err
    assert (tmp_path / "r" / "report.md").read_text().startswith("# Proof report (argmedian): ")
    assert "<title>Proof report (argmedian)" in (tmp_path / "r" / "report.html").read_text()
    assert 'name="argmedian"' in (tmp_path / "j.xml").read_text()
    from verify.render.picture_sphere import sphere_figure

    weights = load_weights(path)
    result = check_model(weights, CheckOptions(claim=claim_from_name("argmedian", 3), estimate_samples=0))
    figure = sphere_figure(result)
    assert "(argmedian)" in figure._suptitle.get_text()
    assert "argmedian" in render_markdown(build_report(result), None).splitlines()[0]
