"""Issue 5: `verify check --junit FILE` writes JUnit XML that standard tools read."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import torch
from junitparser import Error, Failure, JUnitXml

from verify.cli.main import main
from verify.formats.torch_model import build_module
from verify.formats import load_weights

M22 = "models/algzoo/2nd_argmax_2_2.pth"
HANDCRAFTED = "models/handcrafted_2_2.pth"
PUBLISHED_ONE_IN = 12_914.64  # M_{2,2}'s error rate, 1 in 12,914.64 (ARC's published figure)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def cases(path: Path) -> list:  # type: ignore[type-arg]
    return [case for suite in JUnitXml.fromfile(str(path)) for case in suite]


def test_refuted_model_is_a_failure_naming_a_real_counterexample(tmp_path: Path) -> None:
    xml = tmp_path / "junit.xml"
    code, _, _ = run("check", M22, "--junit", str(xml))
    assert code == 1
    (case,) = cases(xml)
    assert case.classname == "verify.2nd_argmax_2_2" and case.name == "2nd-argmax"
    (failure,) = case.result
    assert isinstance(failure, Failure)
    message = failure.message
    assert "REFUTED" in message and "counterexample x = (" in message
    # Oracle: the named point, run through PyTorch directly, is misclassified.
    match = re.search(r"counterexample x = \(([^)]*)\) -> predicted (\d+), expected (\d+)", message)
    assert match is not None
    x = np.array([float(v) for v in match.group(1).split(",")], dtype=np.float32)
    module = build_module(load_weights(M22))
    with torch.no_grad():
        predicted = int(module(torch.from_numpy(x[None, :])).argmax(dim=1)[0])
    second = int(np.argsort(-x, kind="stable")[1])
    assert predicted != second
    assert (predicted, second) == (int(match.group(2)), int(match.group(3)))
    # The error rate in the message is the published one.
    one_in = float(re.search(r"1 in ([\d,]+\.\d+)", message).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert abs(one_in - PUBLISHED_ONE_IN) < 0.01


def test_proved_and_refuted_models_in_one_suite(tmp_path: Path) -> None:
    xml = tmp_path / "ci" / "junit.xml"
    code, _, _ = run("check", HANDCRAFTED, M22, "--junit", str(xml))
    assert code == 1
    root = ET.parse(xml).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    by_name = {c.classname: c for c in cases(xml)}
    assert by_name["verify.handcrafted_2_2"].is_passed
    assert not by_name["verify.2nd_argmax_2_2"].is_passed


def test_unknown_is_an_error_not_a_pass(tmp_path: Path) -> None:
    xml = tmp_path / "junit.xml"
    code, _, _ = run("check", HANDCRAFTED, "--max-regions", "1", "--junit", str(xml))
    assert code == 3
    (case,) = cases(xml)
    (error,) = case.result
    assert isinstance(error, Error) and error.type == "unknown"
    assert "not proved" in error.message.lower()


def test_a_bad_model_is_recorded_as_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a model")
    xml = tmp_path / "junit.xml"
    code, _, err = run("check", HANDCRAFTED, str(bad), "--junit", str(xml))
    assert code == 2 and err.count("\n") == 1
    results = {c.classname: c for c in cases(xml)}
    assert results["verify.handcrafted_2_2"].is_passed
    (error,) = results["verify.bad"].result
    assert isinstance(error, Error) and str(bad) in error.message
