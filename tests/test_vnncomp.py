"""Issue 16: `verify vnncomp-check` (a peer's VNN-COMP result, its sat witness checked exactly) and,
when maraboupy is installed, Marabou itself on the exported benchmark.

Oracles: an exact forward pass written here (Fractions, straight from the float32 weights),
the hand-derived logits of the handcrafted model, Fraction arithmetic on the margins, and
PyTorch's own module for float32.
"""

from __future__ import annotations

import importlib.util
import io
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from verify.cli.main import main
from verify.core.errors import InputError
from verify.formats import load_weights
from verify.formats.torch_model import build_module
from verify.formats.vnncomp_result import parse_result

M22 = "models/algzoo/2nd_argmax_2_2.pth"
HANDCRAFTED = "models/handcrafted_2_2.pth"
ROOT = Path(__file__).resolve().parents[1]
E6, E3 = Fraction(1, 10**6), Fraction(1, 10**3)
HAVE_MARABOU = importlib.util.find_spec("maraboupy") is not None
NO_MARABOU = "maraboupy is not installed (optional extra 'peers': pip install -e '.[peers]')"
# Marabou 2.0.0's witness for M_{2,2}, x0 > x1, margins 1e-6 / 1e-3 (exact decimals of its doubles):
# it satisfies x0 - x1 >= 1e-6 only in Marabou's floating point.
MARABOU_X = ("0.01023208313489309788379966192906067590229213237762451171875",
             "0.0102310831348930986184342373235267587006092071533203125")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def exact_logits(model: str, x: list[Fraction]) -> list[Fraction]:
    """h_{t+1} = relu(W_hh h_t + W_hi x_t), logits = W_oh h_n, over the rationals (independent of the harness)."""
    w = load_weights(model)
    w_hi = [Fraction(float(v)) for v in w.w_hi[:, 0]]
    w_hh = [[Fraction(float(v)) for v in row] for row in w.w_hh]
    w_oh = [[Fraction(float(v)) for v in row] for row in w.w_oh]
    h = [Fraction(0)] * len(w_hi)
    for xt in x:
        h = [max(Fraction(0), sum(w_hh[i][j] * h[j] for j in range(len(h))) + w_hi[i] * xt) for i in range(len(h))]
    return [sum(row[j] * h[j] for j in range(len(h))) for row in w_oh]


def torch_float32_logits(model: str, x: list[str]) -> list[float]:
    with torch.no_grad():
        xs = torch.tensor([[float(v) for v in x]], dtype=torch.float32)
        return [float(v) for v in build_module(load_weights(model))(xs)[0]]


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """M_{2,2} and the handcrafted model as 1.0 benchmarks (margins 1e-6 / 1e-3), M_{2,2} also as 2.0."""
    root = tmp_path_factory.mktemp("vnncomp")
    folders = {}
    for key, model, extra in (("m22", M22, ["--vnnlib-version", "1.0", "--margin", "1e-6", "--output-margin", "1e-3"]),
                              ("hand", HANDCRAFTED, ["--vnnlib-version", "1.0", "--margin", "1e-6", "--output-margin", "1e-3"]),
                              ("m22v2", M22, [])):
        code, _, err = run("export", model, "--vnnlib", str(root / key), *extra)
        assert code == 0, err
        folders[key] = root / key
    return folders


def witness_file(tmp_path: Path, x: tuple[str, ...], y: tuple[str, ...] = (), names: str = "X_{}") -> Path:
    entries = [f"({names.format(i)} {v})" for i, v in enumerate(x)] + [f"(Y_{j} {v})" for j, v in enumerate(y)]
    path = tmp_path / "result.txt"
    path.write_text("sat\n(" + "\n ".join(entries) + ")\n")
    return path


def check(result: Path, folder: Path, prop: str) -> tuple[int, str, str]:
    onnx = next((folder / "onnx").glob("*.onnx"))
    return run("vnncomp-check", str(result), "--onnx", str(onnx), "--vnnlib", str(folder / "vnnlib" / prop))


# ---------------------------------------------------------------- witnesses


def test_a_witness_inside_the_misclassified_sliver_is_real(bench: dict[str, Path], tmp_path: Path) -> None:
    x = ("1.0", "0.9999")
    xs = [Fraction(v) for v in x]
    y = exact_logits(M22, xs)
    assert xs[0] - xs[1] >= E6 and y[0] - y[1] >= E3  # the oracle: inside the margin query, exactly
    y32 = torch_float32_logits(M22, list(x))
    assert y32[0] - y32[1] >= 1e-3
    code, out, err = check(witness_file(tmp_path, x, tuple(repr(v) for v in y32)), bench["m22"], "prop_000_x0_gt_x1.vnnlib")
    assert code == 0, err
    assert "exact arithmetic: property HOLDS; MISCLASSIFIED (predicted 0, expected 1)" in out
    assert "property HOLDS; MISCLASSIFIED (predicted 0, expected 1)" in out.split("float32")[1]
    assert "REAL witness" in out
    assert "differ from PyTorch's float32 logits by at most 0" in out  # the Y given are PyTorch's own


def test_marabous_witness_misses_the_margin_exactly_yet_is_misclassified(bench: dict[str, Path], tmp_path: Path) -> None:
    xs = [Fraction(v) for v in MARABOU_X]
    assert xs[0] - xs[1] < E6  # by a hair: Marabou's arithmetic is floating point
    y = exact_logits(M22, xs)
    assert y[0] > y[1]  # misclassified all the same (x0 > x1: the answer is 1)
    x32 = np.array([float(v) for v in MARABOU_X], dtype=np.float32)
    float32_inputs_hold = Fraction(float(x32[0])) - Fraction(float(x32[1])) >= E6
    code, out, _ = check(witness_file(tmp_path, MARABOU_X), bench["m22"], "prop_000_x0_gt_x1.vnnlib")
    assert code == 1
    exact_line, float_line = out.splitlines()[1], out.splitlines()[2]
    assert "property fails (the input constraints fail); MISCLASSIFIED (predicted 0, expected 1)" in exact_line
    assert ("(the input constraints fail)" in float_line) == (not float32_inputs_hold)
    assert "FALSE witness" in out


def test_a_spurious_witness_on_the_correct_model_is_false(bench: dict[str, Path], tmp_path: Path) -> None:
    """Handcrafted model, x0 > x1 > 0: h1 = (x0, 0), h2 = (0, x0 - x1), Y = (-(x0 - x1), x0 - x1) by hand."""
    x = ("0.5", "0.499999")
    d = Fraction(x[0]) - Fraction(x[1])
    assert exact_logits(HANDCRAFTED, [Fraction(v) for v in x]) == [-d, d]  # the hand derivation, checked
    code, out, _ = check(witness_file(tmp_path, x, ("0.001", "0.0")), bench["hand"], "prop_000_x0_gt_x1.vnnlib")
    assert code == 1
    assert "exact arithmetic: property fails; correct (predicted 1)" in out and "FALSE witness" in out


def test_tensor_names_and_the_exact_v2_property(bench: dict[str, Path], tmp_path: Path) -> None:
    code, out, err = check(witness_file(tmp_path, ("1.0", "0.9999"), names="X[0,{}]"), bench["m22v2"],
                           "prop_000_x0_gt_x1.vnnlib")
    assert code == 0, err
    tie = witness_file(tmp_path, ("0.5", "0.5"))
    code, out, _ = check(tie, bench["m22v2"], "prop_000_x0_gt_x1.vnnlib")
    assert code == 1 and "(the input constraints fail)" in out and "claim undefined (tied inputs)" in out


@pytest.mark.parametrize("text, status", [("unsat\n", "unsat"), ("holds", "unsat"), ("timeout\n", "timeout"),
                                          ("error", "error"), ("unknown", "unknown"), ("  SAT \n((X_0 1)(X_1 0))", "sat"),
                                          ("violated\n(X_0 1.5)\n(X_1 -2e-3)", "sat")])
def test_result_files_are_read_as_data(text: str, status: str) -> None:
    result = parse_result(text)
    assert result.status == status
    if text.startswith("violated"):
        assert result.x == (Fraction(3, 2), Fraction(-1, 500)) and result.y is None


def test_answers_without_a_witness_exit_3(bench: dict[str, Path], tmp_path: Path) -> None:
    for word in ("unsat", "timeout", "unknown"):
        (tmp_path / "r.txt").write_text(word + "\n")
        code, out, _ = check(tmp_path / "r.txt", bench["m22"], "prop_000_x0_gt_x1.vnnlib")
        assert code == 3 and f"{word}: no witness" in out


@pytest.mark.parametrize("text, words", [
    ("", "expected a verdict"),
    ("proved\n", "unknown verdict"),
    ("sat\n", "without a witness"),
    ("sat\n((X_0 1) (X_0 2) (X_1 0))", "given twice"),
    ("sat\n((X_0 1) (X_2 0))", "no X_1"),
    ("sat\n((X_0 (+ 1 2)) (X_1 0))", "expected (NAME VALUE)"),
    ("sat\n((X_0 __import__) (X_1 0))", "no decimal value"),
    ("sat\n((Z_0 1) (X_1 0))", "unknown witness variable"),
    ("sat\n((Y_0 1))", "no input"),
    ("unsat\n((X_0 1))", "unexpected text after"),
    ("sat\n((X_0 1) (X_1 0)", "never closed"),
])
def test_malformed_result_files_are_one_line_errors(text: str, words: str, bench: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text(text)
    code, out, err = check(tmp_path / "r.txt", bench["m22"], "prop_000_x0_gt_x1.vnnlib")
    assert code == 2 and err.count("\n") == 1 and words in err, err
    with pytest.raises(InputError):
        parse_result(text)


def test_unreadable_inputs_are_one_line_errors(bench: dict[str, Path], tmp_path: Path) -> None:
    good = witness_file(tmp_path, ("1.0", "0.9999"))
    (tmp_path / "binary.txt").write_bytes(b"sat\n\xff\xfe")
    (tmp_path / "three.vnnlib").write_text("(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const X_2 Real)\n"
                                          "(declare-const Y_0 Real)\n(assert (>= X_0 X_1))\n")
    onnx = str(next((bench["m22"] / "onnx").glob("*.onnx")))
    prop = str(bench["m22"] / "vnnlib" / "prop_000_x0_gt_x1.vnnlib")
    cases = [
        ([str(tmp_path / "missing.txt"), "--onnx", onnx, "--vnnlib", prop], "no such file"),
        ([str(tmp_path / "binary.txt"), "--onnx", onnx, "--vnnlib", prop], "not UTF-8"),
        ([str(good), "--onnx", onnx, "--vnnlib", str(tmp_path)], "is a directory"),
        ([str(good), "--onnx", onnx, "--vnnlib", str(tmp_path / "three.vnnlib")], "the property has 3 inputs"),
        ([str(good), "--onnx", str(tmp_path / "none.onnx"), "--vnnlib", prop], "no such file"),
        ([str(good), "--vnnlib", prop], "--onnx"),
    ]
    for argv, words in cases:
        code, _, err = run("vnncomp-check", *argv)
        assert code == 2 and err.count("\n") == 1 and words in err, (argv, err)
    three = witness_file(tmp_path, ("1.0", "0.5", "0.25"))
    code, _, err = run("vnncomp-check", str(three), "--onnx", onnx, "--vnnlib", prop)
    assert code == 2 and "the witness gives 3 inputs" in err


# ---------------------------------------------------------------- Marabou itself (optional)


def marabou_cli(onnx: Path, prop: Path) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).parent / "Marabou"
    return subprocess.run([str(binary), str(onnx), str(prop), "--verbosity", "0"], capture_output=True, text=True,
                          timeout=600)


def answers(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.strip() for line in done.stdout.splitlines() if line.strip() in ("sat", "unsat")]


@pytest.mark.skipif(not HAVE_MARABOU, reason=NO_MARABOU)
def test_marabou_reads_the_v1_benchmark_and_refuses_the_v2_files(bench: dict[str, Path]) -> None:
    """Queries Marabou decides in well under a second here (the 600 s limit only guards a hang)."""
    onnx = next((bench["m22"] / "onnx").glob("*.onnx"))
    assert answers(marabou_cli(onnx, bench["m22"] / "vnnlib" / "prop_000_x0_gt_x1.vnnlib")) == ["sat"]
    hand = next((bench["hand"] / "onnx").glob("*.onnx"))
    assert answers(marabou_cli(hand, bench["hand"] / "vnnlib" / "prop_001_x1_gt_x0.vnnlib")) == ["unsat"]
    refused = marabou_cli(onnx, bench["m22v2"] / "vnnlib" / "prop_000_x0_gt_x1.vnnlib")
    assert answers(refused) == []  # VNN-LIB 2.0 is not Marabou's language


@pytest.mark.skipif(not HAVE_MARABOU, reason=NO_MARABOU)
def test_marabou_reads_the_unrolled_graph_and_not_the_rnn_node(tmp_path: Path) -> None:
    assert run("export", M22, "--onnx", str(tmp_path / "flat.onnx"))[0] == 0
    assert run("export", M22, "--onnx", str(tmp_path / "rnn.onnx"), "--onnx-form", "rnn")[0] == 0
    script = "import sys; from maraboupy import Marabou; Marabou.read_onnx(sys.argv[1]); print('read')"
    results = {name: subprocess.run([sys.executable, "-c", script, str(tmp_path / name)], capture_output=True,
                                    text=True, timeout=600) for name in ("flat.onnx", "rnn.onnx")}
    assert results["flat.onnx"].returncode == 0 and "read" in results["flat.onnx"].stdout
    assert results["rnn.onnx"].returncode != 0 and "not implemented" in results["rnn.onnx"].stderr


@pytest.mark.skipif(not HAVE_MARABOU, reason=NO_MARABOU)
def test_a_marabou_witness_is_judged_as_the_exact_arithmetic_says(bench: dict[str, Path], tmp_path: Path) -> None:
    """bench_peers' child process writes Marabou's answer as a VNN-COMP result; vnncomp-check agrees
    with this test's own exact evaluation of the margins and the claim at that witness."""
    folder = bench["m22"]
    onnx, prop = next((folder / "onnx").glob("*.onnx")), folder / "vnnlib" / "prop_000_x0_gt_x1.vnnlib"
    result, stats = tmp_path / "r.txt", tmp_path / "s.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_peers.py"), "--marabou-worker", str(onnx),
                           str(prop), str(result), str(stats), "60"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-400:]
    text = result.read_text()
    assert text.startswith("sat\n")
    values = dict(re.findall(r"\((X_\d|Y_\d) (\S+)\)", text))
    xs = [Fraction(values["X_0"]), Fraction(values["X_1"])]
    y = exact_logits(M22, xs)
    real = all(-1 <= v <= 1 for v in xs) and xs[0] - xs[1] >= E6 and y[0] - y[1] >= E3
    code, out, _ = run("vnncomp-check", str(result), "--onnx", str(onnx), "--vnnlib", str(prop))
    assert code == (0 if real else 1)
    assert xs[0] > xs[1]  # on this ordering the answer is 1, and a tie of the logits goes to 0
    wrong = y[0] >= y[1]
    assert ("MISCLASSIFIED" in out.splitlines()[1]) == wrong
