"""Issue 16: the VNN-LIB 1.0 export (margins), the VNN-COMP benchmark folder, and the VNN-LIB reader.

Oracles: the claim's pieces from `verify.core.claim` (a separate code path from the stdlib-only
text module), the `vnnlib` PyPI parser (which reads VNN-LIB 2.0 only, so the 1.0 files are
translated by a regex written here), and hand-written points and formulas.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import onnx
import pytest
import vnnlib

from verify.cli.main import main
from verify.core.claim import KthArgmaxClaim
from verify.core.errors import InputError
from verify.core.linear import Op, sub, unit
from verify.formats.vnnlib_read import parse_property, read_property
from verify.formats.vnnlib_text import orderings

M22 = "models/algzoo/2nd_argmax_2_2.pth"
M43 = "models/trained_4_3.pth"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def export_v1(model: str, folder: Path, *extra: str) -> Path:
    code, _, err = run("export", model, "--vnnlib", str(folder), "--vnnlib-version", "1.0", *extra)
    assert code == 0, err
    return folder


# ---------------------------------------------------------------- the pieces


@pytest.mark.parametrize("n,k", [(2, 2), (3, 2), (4, 2), (3, 1), (4, 3)])
def test_the_text_modules_orderings_are_the_claims_pieces(n: int, k: int) -> None:
    pieces = KthArgmaxClaim(k).pieces(n)
    found = orderings(n, k)
    assert [o.label for o in found] == [p.label for p in pieces]
    assert [o.target for o in found] == [p.target for p in pieces]
    for o, p in zip(found, pieces):
        assert [c.op for c in p.constraints] == [Op.GT] * len(o.pairs)
        assert [tuple(c.coeffs) for c in p.constraints] == [tuple(sub(unit(n, a), unit(n, b))) for a, b in o.pairs]


# ---------------------------------------------------------------- the benchmark folder


def test_the_benchmark_folder_has_the_vnncomp_layout_with_relative_paths(tmp_path: Path) -> None:
    folder = export_v1(M43, tmp_path / "bench", "--margin", "1e-6", "--output-margin", "1e-3", "--instance-timeout", "42")
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    props = [f"vnnlib/prop_{i:03d}_{o.slug}.vnnlib" for i, o in enumerate(orderings(3, 2))]
    assert names == sorted(["README.md", "generate_properties.py", "instances.csv", "onnx/trained_4_3.onnx", *props])
    rows = list(csv.reader((folder / "instances.csv").open()))
    assert rows == [["onnx/trained_4_3.onnx", p, "42"] for p in props]
    for onnx_rel, prop_rel, _ in rows:
        assert not Path(onnx_rel).is_absolute() and ".." not in Path(prop_rel).parts
        assert (folder / onnx_rel).resolve().is_relative_to(folder.resolve())
    graph = onnx.load(str(folder / "onnx/trained_4_3.onnx")).graph
    assert {node.op_type for node in graph.node} == {"MatMul", "Add", "Relu"}
    readme = (folder / "README.md").read_text()
    assert "NOT a proof" in readme and "verify vnncomp-check" in readme


def test_v1_files_use_scalar_names_and_only_non_strict_comparisons(tmp_path: Path) -> None:
    folder = export_v1(M43, tmp_path / "b", "--margin", "1e-6", "--output-margin", "1e-3")
    for path in sorted((folder / "vnnlib").glob("*.vnnlib")):
        code = "\n".join(line.split(";")[0] for line in path.read_text().splitlines())
        assert "vnnlib-version" not in code and "declare-network" not in code and "[" not in code
        operators = set(re.findall(r"\(\s*([^\s()]+)", code))
        assert operators <= {"declare-const", "assert", ">=", "<=", "-", "or", "and"}, operators
        assert re.findall(r"\(declare-const (\S+) Real\)", code) == ["X_0", "X_1", "X_2", "Y_0", "Y_1", "Y_2"]
        assert len(re.findall(r"\(>= \(- X_\d X_\d\) 0\.000001\)", code)) == 2  # x_a - x_b >= margin, twice (n = 3)
        assert len(re.findall(r"\(and \(>= \(- Y_\d Y_\d\) 0\.001\)\)", code)) == 2  # or of ands over the 2 rivals


def test_generate_properties_rebuilds_the_same_bytes_with_the_standard_library_only(tmp_path: Path) -> None:
    for version, extra in (("1.0", ["--margin", "1e-6", "--output-margin", "1e-3"]), ("2.0", [])):
        folder = tmp_path / version
        code, _, err = run("export", M43, "--vnnlib", str(folder), "--vnnlib-version", version, *extra)
        assert code == 0, err
        copy = tmp_path / f"copy-{version}"
        shutil.copytree(folder, copy)
        shutil.rmtree(copy / "vnnlib")
        (copy / "instances.csv").unlink()
        (copy / "vnnlib").mkdir()
        (copy / "vnnlib" / "prop_999_stale.vnnlib").write_text("stale")  # an old property is removed
        # -I -S: isolated, no site-packages, so relu-verify (and numpy, torch) cannot be imported
        done = subprocess.run([sys.executable, "-I", "-S", "generate_properties.py", "123"], cwd=copy,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                assert (copy / path.relative_to(folder)).read_bytes() == path.read_bytes(), path
        assert sorted(p.name for p in (copy / "vnnlib").iterdir()) == sorted(p.name for p in (folder / "vnnlib").iterdir())
        bad = subprocess.run([sys.executable, "-I", "-S", "generate_properties.py", "not-a-seed"], cwd=copy,
                             capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and "usage" in bad.stderr


@pytest.mark.parametrize("argv, words", [
    (["--vnnlib-version", "1.0"], "give --margin"),
    (["--vnnlib-version", "2.0", "--margin", "1e-6"], "for --vnnlib-version 1.0"),
    (["--vnnlib-version", "1.0", "--margin", "0"], "invalid margin"),
    (["--vnnlib-version", "1.0", "--margin=-1e-6"], "invalid margin"),
    (["--vnnlib-version", "1.0", "--margin", "nan"], "invalid margin"),
    (["--vnnlib-version", "1.0", "--margin", "1e-6", "--output-margin", "inf"], "invalid margin"),
    (["--vnnlib-version", "1.5", "--margin", "1e-6"], "invalid choice"),
    (["--vnnlib-version", "1.0", "--margin", "1e-6", "--instance-timeout", "0"], "--instance-timeout"),
])
def test_bad_margin_options_are_one_line_errors(argv: list[str], words: str, tmp_path: Path) -> None:
    code, out, err = run("export", M22, "--vnnlib", str(tmp_path / "b"), *argv)
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "b" / "vnnlib").exists()


def test_an_odd_model_file_name_stays_one_csv_field(tmp_path: Path) -> None:
    odd = tmp_path / "my model, v2.pth"
    shutil.copy(M22, odd)
    folder = export_v1(str(odd), tmp_path / "b", "--margin", "1e-6")
    rows = list(csv.reader((folder / "instances.csv").open()))
    assert [row[0] for row in rows] == ["onnx/my_model__v2.onnx"] * 2 and all(len(row) == 3 for row in rows)
    assert (folder / "onnx" / "my_model__v2.onnx").is_file()
    sneaky = tmp_path / "m\n(assert false)\n.pth"  # a file name cannot smuggle a command into a comment
    shutil.copy(M22, sneaky)
    folder = export_v1(str(sneaky), tmp_path / "c", "--margin", "1e-6")
    for path in (folder / "vnnlib").glob("*.vnnlib"):
        assert "(assert false)" not in path.read_text()
        read_property(path)  # still one well-formed property


def test_a_margin_without_a_benchmark_folder_is_refused(tmp_path: Path) -> None:
    code, _, err = run("export", M22, "--onnx", str(tmp_path / "m.onnx"), "--margin", "1e-6")
    assert code == 2 and err.count("\n") == 1


# ---------------------------------------------------------------- what the 1.0 files say


def to_v2_syntax(text: str) -> str:
    """Mechanical translation for the `vnnlib` package (it reads 2.0 only): declare the network,
    rename X_i / Y_j to X[0,i] / Y[0,j]. Comparisons and terms are left exactly as they are."""
    n = len(re.findall(r"\(declare-const X_\d+ Real\)", text))
    m = len(re.findall(r"\(declare-const Y_\d+ Real\)", text))
    body = re.sub(r"\(declare-const [XY]_\d+ Real\)\n", "", text)
    body = re.sub(r"\b([XY])_(\d+)\b", r"\1[0,\2]", body)
    return (f"(vnnlib-version <2.0>)\n(declare-network f\n (declare-input X float32 [1,{n}])\n"
            f" (declare-output Y float32 [1,{m}])\n)\n" + body)


def _value(expr: object, xs: list[Fraction], ys: list[Fraction]) -> Fraction:
    """The package keeps numerals as doubles; repr() gives back the short decimal written in the file
    (0.001, not the double nearest to it), so the probes exactly on a margin are decided as written."""
    linear = expr.to_linear_expr()  # type: ignore[attr-defined]
    total = Fraction(repr(linear.constant))
    for term in linear.terms:
        source = xs if term.var.name == "X" else ys
        total += Fraction(repr(term.coeff)) * source[term.var.indices[1]]
    return total


def package_holds(expr: object, xs: list[Fraction], ys: list[Fraction]) -> bool:
    kind = type(expr).__name__
    if kind in ("And", "Or"):
        results = [package_holds(a, xs, ys) for a in expr.args]  # type: ignore[attr-defined]
        return all(results) if kind == "And" else any(results)
    lhs, rhs = _value(expr.lhs, xs, ys), _value(expr.rhs, xs, ys)  # type: ignore[attr-defined]
    return {"GreaterThan": lhs > rhs, "GreaterEqual": lhs >= rhs, "LessThan": lhs < rhs,
            "LessEqual": lhs <= rhs, "Equal": lhs == rhs}[kind]


def package_query_holds(query: object, xs: list[Fraction], ys: list[Fraction]) -> bool:
    return all(package_holds(a.expr, xs, ys) for a in query.assertions)  # type: ignore[attr-defined]


def probe_points(n: int, margin: Fraction, rng: np.random.Generator) -> list[list[Fraction]]:
    """Random points, and points whose coordinates differ by exactly the margin or just below it."""
    points = [[Fraction(float(v)) for v in rng.uniform(-1.2, 1.2, n)] for _ in range(50)]
    for _ in range(50):
        base = Fraction(float(rng.uniform(-0.9, 0.9)))
        steps = [margin * int(s) + Fraction(int(e), 10**12) for s, e in zip(rng.integers(-2, 3, n), rng.integers(-1, 2, n))]
        points.append([base + s for s in steps])
    return points


def test_v1_files_mean_what_the_vnnlib_package_reads_after_translation(tmp_path: Path) -> None:
    """The package reads the translated 1.0 files; both it and our reader agree at every probe."""
    folder = export_v1(M43, tmp_path / "b", "--margin", "1e-6", "--output-margin", "1e-3")
    rng = np.random.default_rng(4)
    for path in sorted((folder / "vnnlib").glob("*.vnnlib")):
        ours = read_property(path)
        theirs = vnnlib.parse_query_string(to_v2_syntax(path.read_text()))
        assert (ours.n_inputs, ours.n_outputs, ours.version) == (3, 3, "1.0")
        for xs in probe_points(3, Fraction(1, 10**6), rng):
            for ys in probe_points(3, Fraction(1, 10**3), rng)[::12]:
                assert ours.holds(xs, ys) == package_query_holds(theirs, xs, ys)


def test_every_point_of_a_margin_query_is_a_point_of_the_exact_query(tmp_path: Path) -> None:
    """1.0 (margins) implies 2.0 (strict) at every probe, and a probe inside the exact query but
    within the margin of a tie is outside the 1.0 query: the margin query is strictly smaller."""
    v1 = export_v1(M43, tmp_path / "v1", "--margin", "1e-6", "--output-margin", "1e-3")
    assert run("export", M43, "--vnnlib", str(tmp_path / "v2"))[0] == 0
    rng = np.random.default_rng(8)
    shrunk = 0
    for path in sorted((v1 / "vnnlib").glob("*.vnnlib")):
        margin_query = read_property(path)
        exact_query = vnnlib.parse_query_file(str(tmp_path / "v2" / "vnnlib" / path.name))
        for xs in probe_points(3, Fraction(1, 10**6), rng):
            for ys in probe_points(3, Fraction(1, 10**3), rng)[::12]:
                if margin_query.holds(xs, ys):
                    assert package_query_holds(exact_query, xs, ys)
                elif package_query_holds(exact_query, xs, ys):
                    shrunk += 1
    assert shrunk > 0


def test_a_v1_property_by_hand() -> None:
    """x0 > x1 (target 1) for n = 2, margins 1e-6 / 1e-3: decided by hand at chosen points."""
    (ordering, _) = orderings(2, 2)
    from verify.formats.vnnlib_text import text_v1

    about = {"claim": "2nd-argmax", "source": "m.pth", "sha256": "0", "d": 2, "statement": "s"}
    prop = parse_property(text_v1(ordering, about, 1e-6, 1e-3))
    e6, e3 = Fraction(1, 10**6), Fraction(1, 10**3)
    half = Fraction(1, 2)
    assert prop.holds([half, half - e6], [e3, Fraction(0)])  # both differences exactly the margins
    assert not prop.holds([half, half - e6 + Fraction(1, 10**15)], [e3, Fraction(0)])  # ordering a hair short
    assert not prop.holds([half, half - e6], [e3 - Fraction(1, 10**15), Fraction(0)])  # logit gap a hair short
    assert not prop.holds([Fraction(2), Fraction(0)], [Fraction(1), Fraction(0)])  # outside the box
    assert prop.inputs_hold([Fraction(1), Fraction(-1)]) and not prop.inputs_hold([Fraction(-1), Fraction(1)])


# ---------------------------------------------------------------- the reader


def test_the_reader_does_linear_arithmetic_exactly() -> None:
    text = """; comment (with parentheses) and ; more
(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(assert (<= (+ X_0 (* 2 X_1) -0.5 (* X_0 3)) (- Y_0)))
(assert (or (> X_0 1e-3) (= (- X_1) .25)))
"""
    prop = parse_property(text)
    # 4*x0 + 2*x1 - 1/2 <= -y0, and (x0 > 1/1000 or -x1 = 1/4)
    x, y = [Fraction(1, 8), Fraction(-1, 4)], [Fraction(0)]
    assert prop.holds(x, y)  # 1/2 - 1/2 - 1/2 = -1/2 <= 0; x0 > 1/1000
    assert not prop.holds(x, [Fraction(1)])  # -1/2 <= -1 fails
    assert prop.holds([Fraction(1, 1000), Fraction(-1, 4)], [Fraction(0)])  # second disjunct: -x1 = 1/4
    assert not prop.holds([Fraction(1, 1000), Fraction(-1, 5)], [Fraction(-1)])


V1_HEAD = "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n"


@pytest.mark.parametrize("text, words", [
    (V1_HEAD + "(assert (>= X_0 0)", "never closed"),
    (V1_HEAD + "(assert (>= X_0 0)))", "unbalanced"),
    (V1_HEAD + "(set-option :diagnostic-output-channel \"x\")", "not supported"),
    (V1_HEAD + "(assert (>= X_1 0))", "not declared"),
    (V1_HEAD + "(assert (>= (* X_0 Y_0) 0))", "not linear"),
    (V1_HEAD + "(assert (>= X_0 1/2))", "unknown symbol"),
    (V1_HEAD + "(assert (>= X_0 nan))", "unknown symbol"),
    (V1_HEAD + "(assert (=> (>= X_0 0) (>= Y_0 0)))", "unknown formula"),
    (V1_HEAD + "(assert " + "(and " * 300 + "(>= X_0 0)" + ")" * 301, "nested deeper"),
    ("(declare-const X_0 Int)\n(declare-const Y_0 Real)\n(assert (>= X_0 0))", "only (declare-const"),
    ("(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(assert (>= X_1 0))", "must all be declared"),
    (V1_HEAD, "no assertions"),
    ("(vnnlib-version <2.0>)\n(assert (>= X[0,0] 0))", "not declared"),
])
def test_the_reader_refuses_what_it_does_not_read_in_one_line(text: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_property(text, "p.vnnlib")
    message = str(caught.value)
    assert words in message and "\n" not in message and message.startswith("p.vnnlib")


def test_the_reader_reads_the_v2_files_of_verify_export(tmp_path: Path) -> None:
    assert run("export", M22, "--vnnlib", str(tmp_path / "b"))[0] == 0
    first = read_property(tmp_path / "b" / "vnnlib" / "prop_000_x0_gt_x1.vnnlib")
    assert (first.version, first.n_inputs, first.n_outputs) == ("2.0", 2, 2)
    half = Fraction(1, 2)
    assert first.holds([half, Fraction(0)], [half, half])  # x0 > x1, Y0 >= Y1 (a tie: index 0 wins)
    assert not first.holds([half, half], [half, half])  # x0 > x1 is strict
