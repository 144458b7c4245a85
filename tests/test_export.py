"""Issue 5: ONNX export/import and VNN-LIB properties, against PyTorch and exact oracles."""

from __future__ import annotations

import csv
import io
import json
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
import vnnlib
from onnx import TensorProto, helper, numpy_helper

from verify.check.pipeline import check_model
from verify.cli.main import main
from verify.formats.torch_model import build_module
from verify.corpus.handcrafted import weights_of
from verify.core.weights import ModelWeights
from verify.formats import load_weights
from verify.core.network import ExactRNN
from verify.formats.onnx_out import build_onnx

M22 = "models/algzoo/2nd_argmax_2_2.pth"
M16 = "models/algzoo/example_2nd_argmax_16_10.pth"
HANDCRAFTED = "models/handcrafted_2_2.pth"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def random_weights(d: int, n: int, seed: int) -> ModelWeights:
    rng = np.random.default_rng(seed)
    return weights_of(rng.standard_normal(d), rng.standard_normal((d, d)), rng.standard_normal((n, d)), path="random")


def onnxruntime_logits(path: Path, xs: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: xs.astype(np.float32)})[0]


def torch_logits(weights: ModelWeights, xs: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return build_module(weights)(torch.from_numpy(xs.astype(np.float32))).numpy()


# ---------------------------------------------------------------- ONNX export


@pytest.mark.parametrize("model", [M22, M16, HANDCRAFTED])
def test_onnxruntime_matches_pytorch_within_float32_tolerance(model: str, tmp_path: Path) -> None:
    code, out, err = run("export", model, "--onnx", str(tmp_path / "m.onnx"))
    assert code == 0, err
    loaded = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(loaded, full_check=True)
    assert {node.op_type for node in loaded.graph.node} <= {"MatMul", "Add", "Relu"}  # plain, bias-free
    weights = load_weights(model)
    rng = np.random.default_rng(7)
    xs = rng.standard_normal((4000, weights.seq_len)).astype(np.float32)
    expected, got = torch_logits(weights, xs), onnxruntime_logits(tmp_path / "m.onnx", xs)
    # float32: a different summation order moves each logit by a few ulps of the row's scale
    scale = np.maximum(1.0, np.abs(expected).max(axis=1, keepdims=True))
    assert np.all(np.abs(got - expected) <= 1e-5 * scale)
    assert np.mean(np.argmax(got, axis=1) == np.argmax(expected, axis=1)) > 0.999


def test_the_exported_onnx_checks_to_the_same_verdict_and_error_rate(tmp_path: Path) -> None:
    assert run("export", M22, "--onnx", str(tmp_path / "m.onnx"))[0] == 0
    code_pth, _, _ = run("check", M22, "--json", str(tmp_path / "pth.json"))
    code_onnx, out, _ = run("check", str(tmp_path / "m.onnx"), "--json", str(tmp_path / "onnx.json"))
    assert code_pth == code_onnx == 1
    pth, via_onnx = (json.loads((tmp_path / f).read_text()) for f in ("pth.json", "onnx.json"))
    assert via_onnx["error_rate"]["exact"] == pth["error_rate"]["exact"]
    assert via_onnx["regions"] == pth["regions"]
    assert "1 in 12,914.64" in out


def test_import_recovers_the_exact_float32_weights(tmp_path: Path) -> None:
    for weights in (load_weights(M16), random_weights(3, 4, seed=2)):
        onnx.save(build_onnx(weights), str(tmp_path / "w.onnx"))
        back = load_weights(tmp_path / "w.onnx")
        for a, b in ((weights.w_hi, back.w_hi), (weights.w_hh, back.w_hh), (weights.w_oh, back.w_oh)):
            assert a.dtype == b.dtype == np.float32 and np.array_equal(a, b)


def test_torch_onnx_export_with_the_rnn_operator_loads(tmp_path: Path) -> None:
    weights = load_weights(M22)
    path = tmp_path / "torch.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(build_module(weights), (torch.zeros(1, 2),), str(path), dynamo=False,
                              input_names=["X"], output_names=["Y"])
        except ImportError as exc:  # pragma: no cover - only a missing exporter dependency skips
            pytest.skip(f"torch.onnx.export needs a package that is not installed: {exc}")
    assert "RNN" in {node.op_type for node in onnx.load(str(path)).graph.node}
    back = load_weights(path)
    assert np.array_equal(back.w_hh, weights.w_hh) and np.array_equal(back.w_oh, weights.w_oh)
    assert np.array_equal(back.w_hi, weights.w_hi)


def _graph_file(tmp_path: Path, name: str, nodes: list, inits: list, n: int = 2) -> Path:  # type: ignore[type-arg]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, n])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, n])], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def test_other_onnx_models_are_one_line_errors(tmp_path: Path) -> None:
    eye = numpy_helper.from_array(np.eye(2, dtype=np.float32), "W")
    bias = numpy_helper.from_array(np.ones(2, dtype=np.float32), "B")
    exported = build_onnx(load_weights(HANDCRAFTED))
    with_bias = onnx.ModelProto()
    with_bias.CopyFrom(exported)
    readout = with_bias.graph.node[-1]
    readout.output[0] = "Y_nobias"
    with_bias.graph.node.append(helper.make_node("Add", ["Y_nobias", "B"], ["Y"]))
    with_bias.graph.initializer.append(bias)
    (tmp_path / "bias.onnx").write_bytes(with_bias.SerializeToString())
    tampered = onnx.ModelProto()
    tampered.CopyFrom(exported)
    for init in tampered.graph.initializer:
        if init.name == "A_1":  # step 1 also reads x_0: no longer an RNN
            array = numpy_helper.to_array(init).copy()
            array[0] = array[1]
            init.CopyFrom(numpy_helper.from_array(array, "A_1"))
    (tmp_path / "tampered.onnx").write_bytes(tampered.SerializeToString())
    rnn_tanh = [helper.make_node("Unsqueeze", ["X", "axes"], ["Xs"]),
                helper.make_node("RNN", ["Xs", "Wr", "Rr"], ["all", "last"], hidden_size=2),
                helper.make_node("Squeeze", ["last", "axes0"], ["h"]),
                helper.make_node("MatMul", ["h", "W"], ["Y"])]
    rnn_inits = [numpy_helper.from_array(np.array([2], dtype=np.int64), "axes"),
                 numpy_helper.from_array(np.array([0], dtype=np.int64), "axes0"),
                 numpy_helper.from_array(np.ones((1, 2, 1), dtype=np.float32), "Wr"),
                 numpy_helper.from_array(np.ones((1, 2, 2), dtype=np.float32), "Rr"), eye]
    (tmp_path / "garbage.onnx").write_bytes(b"\x08\x07garbage")
    cases = {
        _graph_file(tmp_path, "relu_only.onnx", [helper.make_node("Relu", ["X"], ["Y"])], []): "not a supported",
        _graph_file(tmp_path, "tanh_rnn.onnx", rnn_tanh, rnn_inits): "activation",
        tmp_path / "bias.onnx": "not a supported",
        tmp_path / "tampered.onnx": "reads inputs other than",
        tmp_path / "garbage.onnx": "not a readable ONNX model",
        tmp_path / "missing.onnx": "no such file",
    }
    for path, words in cases.items():
        code, _, err = run("check", str(path))
        assert code == 2 and err.count("\n") == 1 and words in err, (path.name, err)


# ---------------------------------------------------------------- VNN-LIB


def _value(expr: object, xs: list[Fraction], ys: list[Fraction]) -> Fraction:
    """An independent reading of a parsed VNN-LIB arithmetic term (linear: terms + constant)."""
    linear = expr.to_linear_expr()  # type: ignore[attr-defined]
    total = Fraction(linear.constant)
    for term in linear.terms:
        var = term.var
        assert var.indices[0] == 0
        source = xs if var.name == "X" else ys
        total += Fraction(term.coeff) * source[var.indices[1]]
    return total


def holds(expr: object, xs: list[Fraction], ys: list[Fraction]) -> bool:
    kind = type(expr).__name__
    if kind == "And":
        return all(holds(a, xs, ys) for a in expr.args)  # type: ignore[attr-defined]
    if kind == "Or":
        return any(holds(a, xs, ys) for a in expr.args)  # type: ignore[attr-defined]
    lhs, rhs = _value(expr.lhs, xs, ys), _value(expr.rhs, xs, ys)  # type: ignore[attr-defined]
    return {"GreaterThan": lhs > rhs, "GreaterEqual": lhs >= rhs, "LessThan": lhs < rhs,
            "LessEqual": lhs <= rhs, "Equal": lhs == rhs, "NotEqual": lhs != rhs}[kind]


def satisfied(query: object, xs: list[Fraction], ys: list[Fraction]) -> bool:
    return all(holds(a.expr, xs, ys) for a in query.assertions)  # type: ignore[attr-defined]


def input_part_holds(query: object, xs: list[Fraction]) -> bool:
    """Only the assertions over X (box and ordering)."""
    return all(holds(a.expr, xs, []) for a in query.assertions if "Y" not in str(a))  # type: ignore[attr-defined]


def export_properties(model: str, tmp_path: Path) -> list[Path]:
    code, out, err = run("export", model, "--onnx", str(tmp_path / "m.onnx"), "--vnnlib", str(tmp_path / "props"))
    assert code == 0, err
    return sorted((tmp_path / "props" / "vnnlib").glob("*.vnnlib"))


def test_vnnlib_files_parse_and_pair_with_the_onnx_in_instances_csv(tmp_path: Path) -> None:
    files = export_properties(M22, tmp_path)
    assert len(files) == 2  # two input orderings for n = 2
    for path in files:
        query = vnnlib.parse_query_file(str(path))
        (network,) = query.networks
        assert [i.name for i in network.inputs] == ["X"] and [o.name for o in network.outputs] == ["Y"]
        assert list(network.inputs[0].shape) == [1, 2]
    folder = tmp_path / "props"
    rows = list(csv.reader((folder / "instances.csv").open()))
    assert [r[1] for r in rows] == [f"vnnlib/{p.name}" for p in files]
    assert {r[0] for r in rows} == {"onnx/2nd_argmax_2_2.onnx"}  # inside the folder, relative (issue 16)
    assert all(r[2] == "300" for r in rows)
    # the benchmark's copy of the network is the --onnx file, byte for byte
    assert (folder / rows[0][0]).read_bytes() == (tmp_path / "m.onnx").read_bytes()


def test_the_harness_counterexample_satisfies_its_violation_property(tmp_path: Path) -> None:
    files = export_properties(M22, tmp_path)
    queries = [vnnlib.parse_query_file(str(p)) for p in files]
    weights = load_weights(M22)
    net = ExactRNN.from_weights(weights)
    result = check_model(weights)
    assert result.counterexamples
    for cex in result.counterexamples:
        scale = max(abs(v) for v in cex.x_exact)
        xs = [v / scale for v in cex.x_exact]  # into the box [-1, 1]^2: exact, the claim is scale-invariant
        ys = list(net.logits(xs))
        hits = [p.name for p, q in zip(files, queries) if satisfied(q, xs, ys)]
        assert len(hits) == 1, hits
        # and in float32, as onnxruntime computes the exported network
        x32 = np.array([float(v) for v in xs], dtype=np.float32)
        y32 = onnxruntime_logits(tmp_path / "m.onnx", x32[None, :])[0]
        ordering = [p.name for p, q in zip(files, queries) if input_part_holds(q, [Fraction(float(v)) for v in x32])]
        assert hits == ordering
        assert int(np.argmax(y32)) != cex.expected


def test_a_correct_model_never_satisfies_a_property_on_random_points(tmp_path: Path) -> None:
    files = export_properties(HANDCRAFTED, tmp_path)
    queries = [vnnlib.parse_query_file(str(p)) for p in files]
    net = ExactRNN.from_weights(load_weights(HANDCRAFTED))
    rng = np.random.default_rng(3)
    for x in rng.uniform(-1, 1, size=(300, 2)):
        xs = [Fraction(float(v)) for v in x]
        ys = list(net.logits(xs))
        assert not any(satisfied(q, xs, ys) for q in queries)


def test_three_inputs_properties_match_the_model_pointwise(tmp_path: Path) -> None:
    """Oracle: at a random point exactly one ordering applies, and its property holds iff PyTorch errs."""
    weights = random_weights(3, 3, seed=5)
    torch.save(weights.state_dict(), tmp_path / "r.pth")
    files = export_properties(str(tmp_path / "r.pth"), tmp_path)
    assert len(files) == 6
    queries = [vnnlib.parse_query_file(str(p)) for p in files]
    net = ExactRNN.from_weights(weights)
    rng = np.random.default_rng(11)
    wrong_seen = right_seen = 0
    for x in rng.uniform(-1, 1, size=(300, 3)).astype(np.float32):
        xs = [Fraction(float(v)) for v in x]
        ys = list(net.logits(xs))
        applicable = [q for q in queries if input_part_holds(q, xs)]
        assert len(applicable) == 1
        second = int(np.argsort(-x, kind="stable")[1])
        wrong = int(np.argmax(torch_logits(weights, x[None, :])[0])) != second
        exact_first_max = max(range(3), key=lambda j: (ys[j], -j))
        if abs(float(ys[exact_first_max]) - sorted(float(v) for v in ys)[-2]) < 1e-4:
            continue  # float32 and exact may disagree this close to a tie
        assert satisfied(applicable[0], xs, ys) == wrong
        wrong_seen += wrong
        right_seen += not wrong
    assert wrong_seen and right_seen  # both kinds of points were exercised


def test_export_needs_something_to_write() -> None:
    code, _, err = run("export", HANDCRAFTED)
    assert code == 2 and err.count("\n") == 1


# ---------------------------------------------------------------- ONNX forms (issue 16)


def test_onnx_form_rnn_writes_one_rnn_node_that_check_reads_back_bit_for_bit(tmp_path: Path) -> None:
    code, out, err = run("export", M22, "--onnx", str(tmp_path / "rnn.onnx"), "--onnx-form", "rnn")
    assert code == 0, err
    ops = [node.op_type for node in onnx.load(str(tmp_path / "rnn.onnx")).graph.node]
    assert ops.count("RNN") == 1 and "Relu" not in ops  # the recurrent operator, not the unrolled steps
    weights, back = load_weights(M22), load_weights(tmp_path / "rnn.onnx")
    for a, b in ((weights.w_hi, back.w_hi), (weights.w_hh, back.w_hh), (weights.w_oh, back.w_oh)):
        assert np.array_equal(a, b)
    xs = np.random.default_rng(5).standard_normal((500, 2)).astype(np.float32)
    expected = torch_logits(weights, xs)
    got = onnxruntime_logits(tmp_path / "rnn.onnx", xs)
    assert np.all(np.abs(got - expected) <= 1e-5 * np.maximum(1.0, np.abs(expected).max(axis=1, keepdims=True)))


def test_a_model_with_an_rnn_node_exports_to_the_unrolled_graph_peers_read(tmp_path: Path) -> None:
    assert run("export", M22, "--onnx", str(tmp_path / "rnn.onnx"), "--onnx-form", "rnn")[0] == 0
    code, _, err = run("export", str(tmp_path / "rnn.onnx"), "--onnx", str(tmp_path / "flat.onnx"),
                       "--vnnlib", str(tmp_path / "bench"))
    assert code == 0, err
    for path in (tmp_path / "flat.onnx", tmp_path / "bench" / "onnx" / "rnn.onnx"):
        assert {node.op_type for node in onnx.load(str(path)).graph.node} == {"MatMul", "Add", "Relu"}
        assert np.array_equal(load_weights(path).w_hh, load_weights(M22).w_hh)
