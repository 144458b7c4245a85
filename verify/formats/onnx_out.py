"""The RNN unrolled over its n steps as a plain ONNX graph of MatMul, Add and Relu.

Standard verifiers (Marabou, alpha-beta-CROWN, nnenum) read feed-forward ONNX graphs, not the
recurrent `RNN` operator, so the n steps are written out: with X of shape [batch, n],

    h_1     = Relu(X @ A_0)
    h_{t+1} = Relu(h_t @ W_hh^T + X @ A_t)      t = 1 .. n-1
    Y       = h_n @ W_oh^T

where A_t (n x d) is zero except its row t, which is W_hi^T: X @ A_t = x_t W_hi^T exactly (the
other products are exact zeros). No biases anywhere. The weights are the model's float32
values, bit for bit. `check_export` runs the graph in onnxruntime against the PyTorch model.

`build_rnn_onnx` writes the other form `verify check` reads, torch.onnx.export's graph with one
`RNN` node: onnxruntime runs it, but Marabou and most VNN-COMP tools do not read that operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from verify import __version__
from verify.core.weights import ModelWeights

FORMAT = "relu-verify/unrolled-rnn/1"
OPSET = 13
IR_VERSION = 8  # readable by onnxruntime and the ONNX parsers of VNN-COMP tools
INPUT, OUTPUT = "X", "Y"


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        from verify.core.errors import InputError

        raise InputError("ONNX export needs the 'onnx' package (pip install 'relu-verify[ecosystem]')") from None
    return onnx


def build_onnx(weights: ModelWeights) -> Any:
    """The unrolled network as an `onnx.ModelProto` (input X [batch, n], output Y [batch, n])."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    d, n = weights.hidden_size, weights.seq_len
    w_hi = np.asarray(weights.w_hi, dtype=np.float32)[:, 0]
    inits = [
        numpy_helper.from_array(np.ascontiguousarray(weights.w_hh.T, dtype=np.float32), "W_hh_T"),
        numpy_helper.from_array(np.ascontiguousarray(weights.w_oh.T, dtype=np.float32), "W_oh_T"),
    ]
    nodes = []
    h = ""
    for t in range(n):
        a_t = np.zeros((n, d), dtype=np.float32)
        a_t[t] = w_hi
        inits.append(numpy_helper.from_array(a_t, f"A_{t}"))
        nodes.append(helper.make_node("MatMul", [INPUT, f"A_{t}"], [f"u_{t}"], name=f"input_{t}"))
        pre = f"u_{t}"
        if t > 0:
            nodes.append(helper.make_node("MatMul", [h, "W_hh_T"], [f"r_{t}"], name=f"recur_{t}"))
            nodes.append(helper.make_node("Add", [f"r_{t}", f"u_{t}"], [f"z_{t}"], name=f"sum_{t}"))
            pre = f"z_{t}"
        h = f"h_{t + 1}"
        nodes.append(helper.make_node("Relu", [pre], [h], name=f"relu_{t}"))
    nodes.append(helper.make_node("MatMul", [h, "W_oh_T"], [OUTPUT], name="readout"))
    graph = helper.make_graph(
        nodes,
        "unrolled_relu_rnn",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", n])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", n])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="relu-verify", producer_version=__version__)
    model.ir_version = IR_VERSION
    model.doc_string = (f"Bias-free ReLU RNN M_{{{d},{n}}} unrolled over {n} steps; "
                        f"source {weights.path} (sha256 {weights.sha256 or 'in memory'})")
    helper.set_model_props(model, {"format": FORMAT, "hidden_size": str(d), "seq_len": str(n),
                                   "source_sha256": weights.sha256})
    onnx.checker.check_model(model, full_check=True)
    return model


def build_rnn_onnx(weights: ModelWeights) -> Any:
    """torch.onnx.export's form (TorchScript exporter): one `RNN` node, input X, output Y."""
    import io
    import warnings

    import torch

    from verify.formats.torch_model import build_module

    onnx = _onnx()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(build_module(weights), (torch.zeros(1, weights.seq_len),), buffer, dynamo=False,
                          input_names=[INPUT], output_names=[OUTPUT], dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}})
    model = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(model, full_check=True)
    return model


@dataclass(frozen=True)
class ExportCheck:
    """onnxruntime against PyTorch on random inputs; `worst_ratio` <= 1 means within tolerance."""

    samples: int
    max_abs_diff: float
    worst_ratio: float  # max over inputs of |difference| / that input's float32 tolerance

    @property
    def ok(self) -> bool:
        return self.worst_ratio <= 1.0


def float32_tolerance(reference: np.ndarray) -> np.ndarray:
    """Per input: room for another float32 summation order, 256 ulps of its largest logit."""
    scale = np.maximum(1.0, np.abs(reference).max(axis=-1, keepdims=True))
    return 256 * float(np.finfo(np.float32).eps) * scale


def run_onnxruntime(model_bytes: bytes, xs: np.ndarray) -> np.ndarray:
    try:
        import onnxruntime
    except ImportError:
        from verify.core.errors import InputError

        raise InputError("checking the ONNX export needs 'onnxruntime' (pip install 'relu-verify[ecosystem]')") from None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    return np.asarray(session.run([OUTPUT], {INPUT: np.asarray(xs, dtype=np.float32)})[0])


def check_export(model: Any, weights: ModelWeights, *, samples: int = 2000, seed: int = 0) -> ExportCheck:
    """Run the ONNX graph in onnxruntime and PyTorch's model on the same Gaussian inputs."""
    from verify.formats.torch_model import Float32Model

    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((samples, weights.seq_len)).astype(np.float32)
    xs[: samples // 4] *= np.float32(1000.0)  # large inputs too: the network is homogeneous
    reference = Float32Model(weights).logits(xs)
    got = run_onnxruntime(model.SerializeToString(), xs)
    diff = np.abs(got.astype(np.float64) - reference.astype(np.float64))
    return ExportCheck(samples, float(diff.max()), float((diff / float32_tolerance(reference)).max()))
