"""Read the weights of a bias-free ReLU RNN back from an ONNX file.

Two forms are understood: the unrolled MatMul/Add/Relu graph that `verify export` writes, and
the `RNN` operator (activation Relu, no bias) followed by a MatMul readout, which is what
`torch.onnx.export` makes of AlgZoo's model. The weights are found by the graph's structure,
then confirmed numerically: ONNX's reference evaluator runs the file on random inputs and must
agree with the PyTorch model built from the recovered weights, so a graph that only looks like
the RNN is refused. Every problem is an `InputError` with a one-line message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from verify.errors import InputError
from verify.loading import MAX_FILE_BYTES, ModelWeights, check_model_file, sha256_of, weights_from_state_dict

SUPPORTED = ("the unrolled MatMul/Add/Relu graph written by `verify export`, or an RNN node "
             "(activations Relu, no bias) followed by a MatMul readout")


class _Graph:
    """Name lookups over an ONNX graph: constant tensors and the node producing each value."""

    def __init__(self, graph: Any, path: Path) -> None:
        from onnx import numpy_helper

        self.path = path
        self.graph = graph
        self.consts: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        for node in graph.node:
            if node.op_type == "Constant":
                for attr in node.attribute:
                    if attr.name == "value":
                        self.consts[node.output[0]] = numpy_helper.to_array(attr.t)
        self.producer = {out: node for node in graph.node for out in node.output if out}
        self.inputs = [i.name for i in graph.input if i.name not in self.consts]

    def fail(self, why: str) -> InputError:
        return InputError(f"{self.path}: not a supported ONNX RNN ({why}); expected {SUPPORTED}")

    def skip_identity(self, name: str) -> str:
        while name in self.producer and self.producer[name].op_type == "Identity":
            name = self.producer[name].input[0]
        return name

    def node(self, name: str) -> Any:
        return self.producer.get(self.skip_identity(name))

    def const(self, name: str) -> np.ndarray | None:
        value = self.consts.get(self.skip_identity(name))
        return None if value is None else np.asarray(value)


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _linear(g: _Graph, name: str) -> tuple[str, np.ndarray] | None:
    """`name` = v @ M (MatMul, or Gemm without bias): return (v, M) with M as (in, out)."""
    node = g.node(name)
    if node is None or node.op_type not in ("MatMul", "Gemm"):
        return None
    left, right = node.input[0], node.input[1]
    matrix = g.const(right)
    if matrix is None or matrix.ndim != 2:
        return None
    if node.op_type == "Gemm":
        attrs = _attrs(node)
        if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0:
            return None
        if len(node.input) > 2 and node.input[2]:
            bias = g.const(node.input[2])
            if bias is None or np.any(bias != 0):
                raise g.fail("the readout has a bias")
        if attrs.get("transB", 0):
            matrix = matrix.T
    return g.skip_identity(left), matrix


def _unrolled(g: _Graph, x: str, y: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    readout = _linear(g, y)
    if readout is None:
        return None
    h, w_oh_t = readout
    steps: list[tuple[np.ndarray, np.ndarray | None]] = []  # (A_t, R_t) from the last step back
    while True:
        relu = g.node(h)
        if relu is None or relu.op_type != "Relu":
            return None
        pre = g.node(relu.input[0])
        if pre is not None and pre.op_type == "Add":
            terms = [_linear(g, name) for name in pre.input]
            if any(t is None for t in terms):
                return None
            from_x = [t for t in terms if t is not None and t[0] == x]
            from_h = [t for t in terms if t is not None and t[0] != x]
            if len(from_x) != 1 or len(from_h) != 1:
                return None
            steps.append((from_x[0][1], from_h[0][1]))
            h = from_h[0][0]
            continue
        first = _linear(g, relu.input[0])
        if first is None or first[0] != x:
            return None
        steps.append((first[1], None))
        break
    steps.reverse()
    n, d = len(steps), w_oh_t.shape[0]
    w_hi = None
    w_hh_t = None
    for t, (a_t, r_t) in enumerate(steps):
        if a_t.shape != (n, d):
            raise g.fail(f"step {t} reads the input through a {a_t.shape} matrix, expected ({n}, {d})")
        others = np.delete(a_t, t, axis=0)
        if np.any(others != 0):
            raise g.fail(f"step {t} reads inputs other than x_{t}")
        if w_hi is not None and not np.array_equal(a_t[t], w_hi):
            raise g.fail(f"step {t} uses different input weights from step 0")
        w_hi = a_t[t]
        if r_t is not None:
            if w_hh_t is not None and not np.array_equal(r_t, w_hh_t):
                raise g.fail(f"step {t} uses different recurrent weights")
            w_hh_t = r_t
    if w_hi is None:
        return None
    if w_hh_t is None:
        w_hh_t = np.zeros((d, d), dtype=np.float32)  # one step: the recurrence is never used
    return w_hi.reshape(d, 1), w_hh_t.T, w_oh_t.T


def _rnn_operator(g: _Graph, y: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    rnns = [node for node in g.graph.node if node.op_type == "RNN"]
    if not rnns:
        return None
    if len(rnns) > 1:
        raise g.fail(f"{len(rnns)} RNN nodes; exactly one layer is supported")
    rnn = rnns[0]
    attrs = _attrs(rnn)
    activations = [a.decode() if isinstance(a, bytes) else a for a in attrs.get("activations", [b"Tanh"])]
    if [a.lower() for a in activations] != ["relu"]:
        raise g.fail(f"RNN activation {activations}, expected Relu")
    if attrs.get("direction", b"forward") not in (b"forward", "forward") or "clip" in attrs:
        raise g.fail("the RNN must run forward, without clipping")
    w, r = g.const(rnn.input[1]), g.const(rnn.input[2])
    if w is None or r is None or w.ndim != 3 or r.ndim != 3 or w.shape[0] != 1 or w.shape[2] != 1:
        raise g.fail("RNN weights must be constant tensors W [1, d, 1] and R [1, d, d]")
    if len(rnn.input) > 3 and rnn.input[3]:
        bias = g.const(rnn.input[3])
        if bias is None or np.any(bias != 0):
            raise g.fail("the RNN has a bias")
    readout = _linear(g, y)
    if readout is None:
        raise g.fail("the output is not a MatMul readout of the hidden state")
    return w[0], r[0], readout[1].T


def _load_model(path: Path) -> Any:
    try:
        import onnx
    except ImportError:
        raise InputError(f"{path}: ONNX models need the 'onnx' package (pip install 'relu-verify[ecosystem]')") from None
    size = check_model_file(path, "ONNX model")
    if size == 0 or size > MAX_FILE_BYTES:
        raise InputError(f"{path}: {size} bytes is not a tiny ONNX model (limit {MAX_FILE_BYTES})")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - an untrusted file: any parse failure is bad input
        text = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise InputError(f"{path}: not a readable ONNX model ({text})") from None
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer):
        raise InputError(f"{path}: refers to external tensor data; only self-contained ONNX files are read")
    return model


def _confirm(model: Any, weights: ModelWeights, g: _Graph, x: str, y: str) -> None:
    """The file, run by onnxruntime (else ONNX's reference evaluator), must compute the recovered RNN."""
    from verify.float32 import Float32Model
    from verify.onnx_export import float32_tolerance

    rng = np.random.default_rng(0)
    xs = rng.standard_normal((64, weights.seq_len)).astype(np.float32)
    expected = Float32Model(weights).logits(xs)
    declared = [i for i in g.graph.input if i.name == x][0].type.tensor_type.shape.dim
    feed = xs.reshape(64, weights.seq_len, 1) if len(declared) == 3 else xs
    try:
        got = np.asarray(_run(model, x, y, feed), dtype=np.float64).reshape(expected.shape)
    except Exception as exc:  # noqa: BLE001 - the graph could not be run as an RNN of this shape
        raise g.fail(f"running it failed: {' '.join(str(exc).split())[:120]}") from None
    if np.any(np.abs(got - expected) > float32_tolerance(expected)):
        raise g.fail("its outputs differ from the RNN its weights describe")


def _run(model: Any, x: str, y: str, feed: np.ndarray) -> np.ndarray:
    """Outputs for every row of `feed`, one row at a time (exported models often fix batch 1)."""
    try:
        import onnxruntime
    except ImportError:
        from onnx.reference import ReferenceEvaluator

        evaluator = ReferenceEvaluator(model)
        return np.concatenate([np.asarray(evaluator.run([y], {x: row[None]})[0]) for row in feed])
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return np.concatenate([np.asarray(session.run([y], {x: row[None]})[0]) for row in feed])


def load_onnx_weights(path: str | os.PathLike[str]) -> ModelWeights:
    """Load an ONNX bias-free ReLU RNN as `ModelWeights`, or raise a one-line `InputError`."""
    import torch

    file = Path(path)
    model = _load_model(file)
    g = _Graph(model.graph, file)
    if len(g.inputs) != 1 or len(model.graph.output) != 1:
        raise g.fail(f"{len(g.inputs)} inputs and {len(model.graph.output)} outputs, expected one of each")
    x, y = g.inputs[0], model.graph.output[0].name
    found = _rnn_operator(g, y) or _unrolled(g, x, y)
    if found is None:
        raise g.fail("no recognisable structure")
    w_hi, w_hh, w_oh = found
    for array in found:
        if array.dtype != np.float32:
            raise g.fail(f"weights of type {array.dtype}, expected float32")
    state = {
        "rnn.weight_ih_l0": torch.from_numpy(np.array(w_hi, dtype=np.float32)),
        "rnn.weight_hh_l0": torch.from_numpy(np.array(w_hh, dtype=np.float32)),
        "linear.weight": torch.from_numpy(np.array(w_oh, dtype=np.float32)),
    }
    weights = weights_from_state_dict(state, path=str(path), sha256=sha256_of(file))
    _confirm(model, weights, g, x, y)
    return weights
