"""Issue 11: no global mpmath state. Importing verify leaves mpmath's precision alone, and the
reports are the same whatever precision the caller's mpmath is at (the library works at its own,
locally), for n = 2 (angles) and n = 3 (solid angles)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mpmath import iv, mp

from verify.check.pipeline import CheckOptions, check_model
from verify.core.claim import claim_from_name
from verify.formats import load_weights
from verify.render.json_report import build_report

ROOT = Path(__file__).resolve().parent.parent

IMPORT_ALL = """
import importlib, pkgutil, sys
from mpmath import iv, mp
before = (mp.prec, iv.prec)
import verify
for m in pkgutil.walk_packages(verify.__path__, "verify."):
    if not m.name.endswith("__main__"):
        importlib.import_module(m.name)
after = (mp.prec, iv.prec)
print(before, after)
sys.exit(0 if before == after else 1)
"""


def test_importing_every_module_leaves_mpmath_precision_alone() -> None:
    run = subprocess.run([sys.executable, "-c", IMPORT_ALL], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == "(53, 53) (53, 53)"


def _report(path: Path, dps: int) -> str:
    saved = mp.prec, iv.prec
    mp.dps = iv.dps = dps
    try:
        weights = load_weights(path)
        result = check_model(weights, CheckOptions(claim=claim_from_name("2nd-argmax"), estimate_samples=0))
        report = build_report(result)
        assert mp.dps == dps and iv.dps == dps  # the library restored the caller's precision
    finally:
        mp.prec, iv.prec = saved
    for volatile in ("solver", "timing"):
        report.pop(volatile, None)
    return json.dumps(report, sort_keys=True)


@pytest.mark.parametrize("model", ["models/algzoo/2nd_argmax_2_2.pth", "models/trained_2_3.pth"])
def test_reports_do_not_depend_on_the_callers_mpmath_precision(model: str) -> None:
    at_default, at_sixty, at_ten = (_report(ROOT / model, dps) for dps in (15, 60, 10))
    assert at_default == at_sixty == at_ten
    assert '"method": "mixed"' not in at_default  # n = 3 sums keep their exact-solid-angle label
