"""Read the weights of a bias-free ReLU RNN back from an ONNX file, and only from a known graph.

An ONNX file is a program, and a program that merely contains the right weights can compute
something else (a review found one that zeroes the hidden state when x0 > 2.5 and was
"proved"). So a graph is accepted only when a structural match proves, op by op, attribute by
attribute, shape by shape and constant by constant, that it is one of two templates whose
meaning is exactly the bias-free ReLU RNN:

* the unrolled MatMul/Add/Relu graph that `verify export` writes (see `verify.formats.onnx_out`);
* what `torch.onnx.export` (TorchScript exporter, opset 9 or later, fixed or dynamic batch)
  makes of AlgZoo's module: Unsqueeze -> Transpose -> one `RNN` node (Relu, forward, no bias,
  no clip, zero initial state) -> Squeeze of its last hidden state -> MatMul readout.

Everything in the file must be accounted for: one graph input, one output, one ONNX opset, no
local functions, no unused node, initializer or constant. The first thing that does not fit is
named in a one-line `InputError`. Only then, as a second check, onnxruntime (never with custom
ops) runs the file on random inputs against the PyTorch model built from the recovered weights.
Nothing else in the file is ever executed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from verify.core.errors import InputError
from verify.core.weights import ModelWeights
from verify.formats.files import MAX_FILE_BYTES, check_model_file, sha256_of
from verify.formats.state_dict import weights_from_state_dict

SUPPORTED = "only the unrolled graph of `verify export` and torch.onnx.export's one-RNN graph are read"
MIN_OPSET = 9
MAX_FIXED_BATCH = 1024  # a graph exported for a fixed batch is run in chunks of that size
CHECK_SAMPLES = 256
ONNX_DOMAINS = ("", "ai.onnx")


@dataclass(frozen=True)
class RecoveredRnn:
    """What the structural match proved: the weights (float32, bit for bit) and the interface."""

    w_hi: np.ndarray  # (d, 1)
    w_hh: np.ndarray  # (d, d)
    w_oh: np.ndarray  # (n, d)
    template: str  # "unrolled" or "rnn-operator"
    input_name: str
    output_name: str
    batch: int | None  # the graph's fixed batch size, None when dynamic


def _one_line(text: str, limit: int = 80) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class _Match:
    """One structural match of a graph against the templates; records every part it uses."""

    def __init__(self, model: Any, path: Path) -> None:
        from onnx import numpy_helper

        self.to_array = numpy_helper.to_array
        self.path = path
        self.graph = model.graph
        self.nodes = list(model.graph.node)
        self.opset = self._opset(model)
        self.inits = {init.name: init for init in model.graph.initializer}
        if len(self.inits) != len(model.graph.initializer):
            raise self.bad("two initializers share a name")
        self.producer: dict[str, int] = {}
        for index, node in enumerate(self.nodes):
            for out in node.output:
                if out and (out in self.producer or out in self.inits):
                    raise self.bad_node(index, f"redefines the value '{_one_line(out)}'")
                if out:
                    self.producer[out] = index
        self.matched: set[int] = set()
        self.used_inits: set[str] = set()
        self.x = ""
        self.n = 0
        self.batch: int | None = None

    # ------------------------------------------------------------------ messages

    def bad(self, why: str) -> InputError:
        return InputError(f"{self.path}: not a supported ONNX RNN: {why}; {SUPPORTED}")

    def describe(self, index: int) -> str:
        node = self.nodes[index]
        label = _one_line(node.name) if node.name else f"#{index}"
        domain = "" if node.domain in ONNX_DOMAINS else f" in domain '{_one_line(node.domain, 40)}'"
        return f"'{label}' ({_one_line(node.op_type, 40)}{domain})"

    def bad_node(self, index: int, why: str) -> InputError:
        return self.bad(f"unexpected node {self.describe(index)}: {why}")

    # ------------------------------------------------------------------ model level

    def _opset(self, model: Any) -> int:
        if len(model.functions):
            raise self.bad(f"the file defines {len(model.functions)} local function(s)")
        if len(model.graph.sparse_initializer):
            raise self.bad("the file has sparse initializers")
        if len(model.training_info):
            raise self.bad("the file carries training algorithms")
        for index, node in enumerate(self.nodes):
            if node.domain not in ONNX_DOMAINS:
                raise self.bad_node(index, "only ONNX's own operators are read")
        imports = [(o.domain, o.version) for o in model.opset_import]
        foreign = [d for d, _ in imports if d not in ONNX_DOMAINS]
        if foreign:
            raise self.bad(f"the file imports the operator domain '{_one_line(foreign[0], 40)}'")
        if len(imports) != 1:
            raise self.bad(f"{len(imports)} opset imports, expected exactly one (ONNX)")
        from onnx import defs

        version = int(imports[0][1])
        if not MIN_OPSET <= version <= defs.onnx_opset_version():
            raise self.bad(f"opset {version}, expected {MIN_OPSET} to {defs.onnx_opset_version()}")
        return version

    def interface(self) -> str:
        """Check the one input X [batch, n] and the one output Y [batch, n]; return Y's name."""
        from onnx import TensorProto

        inputs, outputs = list(self.graph.input), list(self.graph.output)
        if len(inputs) != 1:
            extra = inputs[1].name if len(inputs) > 1 else ""
            raise self.bad(f"{len(inputs)} graph inputs" + (f" (extra input '{_one_line(extra)}')" if extra else "")
                           + ", expected exactly one, X[batch, n]")
        if len(outputs) != 1:
            extra = outputs[1].name if len(outputs) > 1 else ""
            origin = f" from node {self.describe(self.producer[extra])}" if extra in self.producer else ""
            raise self.bad(f"{len(outputs)} graph outputs" + (f" (extra output '{_one_line(extra)}'{origin})" if extra else "")
                           + ", expected exactly one, the logits")
        x, y = inputs[0], outputs[0]
        if x.name in self.inits:
            raise self.bad(f"the graph input '{_one_line(x.name)}' is also an initializer")
        if x.name in self.producer:
            raise self.bad_node(self.producer[x.name], f"redefines the graph input '{_one_line(x.name)}'")
        x_dims = self._float_matrix(x, "input", TensorProto.FLOAT)
        y_dims = self._float_matrix(y, "output", TensorProto.FLOAT)
        n = x_dims[1]
        if not isinstance(n, int) or n < 2:
            raise self.bad(f"the input's second dimension is {n}, expected a fixed sequence length n >= 2")
        if y_dims[1] != n:
            raise self.bad(f"the output's second dimension is {y_dims[1]}, expected n = {n}")
        batch = x_dims[0]
        if isinstance(batch, int) and y_dims[0] != batch:
            raise self.bad(f"the output's batch dimension is {y_dims[0]}, the input's {batch}")
        if isinstance(batch, int) and not 1 <= batch <= MAX_FIXED_BATCH:
            raise self.bad(f"a fixed batch size of {batch}, expected 1 to {MAX_FIXED_BATCH} or a dynamic one")
        self.x, self.n, self.batch = x.name, n, batch if isinstance(batch, int) else None
        return str(y.name)

    def _float_matrix(self, value: Any, what: str, elem_type: int) -> list[int | str]:
        tensor = value.type.tensor_type if value.type.HasField("tensor_type") else None
        if tensor is None or tensor.elem_type != elem_type:
            raise self.bad(f"the graph {what} '{_one_line(value.name)}' is not a float32 tensor")
        if not tensor.HasField("shape") or len(tensor.shape.dim) != 2:
            raise self.bad(f"the graph {what} '{_one_line(value.name)}' is not a matrix [batch, n]")
        return [d.dim_value if d.HasField("dim_value") else "?" for d in tensor.shape.dim]

    # ------------------------------------------------------------------ parts

    def peek(self, name: str) -> Any:
        index = self.producer.get(name)
        return None if index is None else self.nodes[index]

    def node(self, name: str, op_type: str, role: str, inputs: tuple[int, int] = (1, 1),
             attrs: tuple[str, ...] = ()) -> tuple[int, Any]:
        """The node producing `name`: it must be `op_type` in ONNX's domain, used once, with the
        given number of inputs and no attributes outside `attrs`."""
        index = self.producer.get(name)
        if index is None:
            what = "the graph input" if name == self.x else ("a constant" if name in self.inits else "an undefined value")
            raise self.bad(f"{role} is {what} '{_one_line(name)}', expected the output of a {op_type} node")
        node = self.nodes[index]
        if node.domain not in ONNX_DOMAINS or node.op_type != op_type:
            raise self.bad_node(index, f"expected {op_type} as {role}")
        if index in self.matched:
            raise self.bad_node(index, f"is used twice ({role})")
        low, high = inputs
        if not low <= len(node.input) <= high:
            raise self.bad_node(index, f"{len(node.input)} inputs, expected {low}" + (f" to {high}" if high != low else ""))
        for attr in node.attribute:
            if attr.name not in attrs:
                raise self.bad_node(index, f"attribute '{_one_line(attr.name, 40)}' is not part of the template")
        self.matched.add(index)
        return index, node

    def attr(self, index: int, name: str, kind: str, default: Any = None) -> Any:
        """The value of attribute `name` of node `index`, which must be of type `kind` (e.g. "INTS")."""
        from onnx import AttributeProto, helper

        for attr in self.nodes[index].attribute:
            if attr.name == name:
                if attr.type != getattr(AttributeProto, kind):
                    raise self.bad_node(index, f"attribute '{name}' is not of type {kind}")
                return helper.get_attribute_value(attr)
        return default

    def const(self, name: str, role: str, dtype: type, shape: tuple[int, ...] | None = None) -> np.ndarray:
        """A constant operand (initializer or Constant node) of exactly this dtype and shape."""
        if name in self.inits:
            self.used_inits.add(name)
            tensor = self.inits[name]
        else:
            index = self.producer.get(name)
            if index is None:
                what = "the graph input" if name == self.x else "an undefined value"
                raise self.bad(f"{role} is {what} '{_one_line(name)}', expected a constant")
            node = self.nodes[index]
            if node.domain not in ONNX_DOMAINS or node.op_type != "Constant":
                raise self.bad_node(index, f"expected a constant as {role}")
            if len(node.attribute) != 1 or len(node.input):
                raise self.bad_node(index, "a Constant must hold exactly one 'value' tensor")
            tensor = self.attr(index, "value", "TENSOR")
            if tensor is None:
                raise self.bad_node(index, "a Constant must hold exactly one 'value' tensor")
            self.matched.add(index)  # constants may be shared between roles
        return self.array(tensor, f"{role} '{_one_line(name)}'", dtype, shape)

    def array(self, tensor: Any, what: str, dtype: type, shape: tuple[int, ...] | None) -> np.ndarray:
        from onnx import TensorProto

        if tensor.data_location == TensorProto.EXTERNAL:
            raise self.bad(f"{what} refers to external data")
        try:
            array = np.asarray(self.to_array(tensor))
        except Exception as exc:  # noqa: BLE001 - a malformed tensor in an untrusted file
            raise self.bad(f"{what} cannot be read ({_one_line(str(exc), 60) or type(exc).__name__})") from None
        if array.dtype != np.dtype(dtype):
            raise self.bad(f"{what} has dtype {array.dtype}, expected {np.dtype(dtype)}")
        if shape is not None and array.shape != shape:
            raise self.bad(f"{what} has shape {array.shape}, expected {shape}")
        return array

    def axes(self, index: int, node: Any, role: str) -> list[int]:
        """Squeeze/Unsqueeze axes: an attribute before opset 13, a constant input from 13 on."""
        if self.opset < 13:
            if len(node.input) != 1:
                raise self.bad_node(index, f"{len(node.input)} inputs, expected 1 at opset {self.opset}")
            return [int(v) for v in self.attr(index, "axes", "INTS", [])]
        if len(node.input) != 2 or any(a.name == "axes" for a in node.attribute):
            raise self.bad_node(index, f"expected its axes as a second input at opset {self.opset}")
        return [int(v) for v in self.const(node.input[1], f"the axes of {role}", np.int64).reshape(-1)]

    def leftovers(self) -> None:
        """Nothing unreachable: every node and every initializer took part in the match."""
        for index in range(len(self.nodes)):
            if index not in self.matched:
                raise self.bad_node(index, "it is not part of the template (every node must feed the logits as the RNN does)")
        for name in self.inits:
            if name not in self.used_inits:
                raise self.bad(f"the initializer '{_one_line(name)}' is not used by the template")


# ---------------------------------------------------------------------- the two templates


def _readout(m: _Match, y: str) -> tuple[str, np.ndarray]:
    """Y = h @ M: return (h, M) with M of shape (d, n)."""
    index, mm = m.node(y, "MatMul", "the readout producing the output", inputs=(2, 2))
    matrix = m.const(mm.input[1], "the readout matrix", np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != m.n or matrix.shape[0] < 1:
        raise m.bad_node(index, f"readout matrix of shape {matrix.shape}, expected (d, {m.n})")
    return mm.input[0], matrix


def _unrolled(m: _Match, h: str, d: int) -> tuple[np.ndarray, np.ndarray]:
    """h_1 = Relu(X @ A_0), h_{t+1} = Relu(h_t @ R + X @ A_t): return (w_hi, R)."""
    n = m.n
    w_hi: np.ndarray | None = None
    recurrent: np.ndarray | None = None
    for t in reversed(range(n)):
        _, relu = m.node(h, "Relu", f"the activation of step {t}")
        pre = relu.input[0]
        if t > 0:
            _, add = m.node(pre, "Add", f"the sum of step {t}", inputs=(2, 2))
            first = m.peek(add.input[0])
            reads_x = first is not None and first.op_type == "MatMul" and len(first.input) and first.input[0] == m.x
            from_x, from_h = (add.input[0], add.input[1]) if reads_x else (add.input[1], add.input[0])
            r_index, rec = m.node(from_h, "MatMul", f"the recurrence of step {t}", inputs=(2, 2))
            r_t = m.const(rec.input[1], f"the recurrent matrix of step {t}", np.float32, (d, d))
            if recurrent is not None and r_t.tobytes() != recurrent.tobytes():
                raise m.bad_node(r_index, f"step {t} uses different recurrent weights")
            recurrent = r_t
            h = rec.input[0]
        else:
            from_x = pre
        a_index, read = m.node(from_x, "MatMul", f"the input term of step {t}", inputs=(2, 2))
        if read.input[0] != m.x:
            raise m.bad_node(a_index, f"step {t} must read the graph input '{_one_line(m.x)}'")
        a_t = m.const(read.input[1], f"the input matrix of step {t}", np.float32, (n, d))
        if np.any(np.delete(a_t, t, axis=0) != 0):
            raise m.bad_node(a_index, f"step {t} reads inputs other than x_{t}")
        if w_hi is not None and a_t[t].tobytes() != w_hi.tobytes():
            raise m.bad_node(a_index, f"step {t} uses different input weights from step {n - 1}")
        w_hi = a_t[t].copy()
    assert w_hi is not None and recurrent is not None  # n >= 2
    return w_hi.reshape(d, 1), recurrent.T.copy()


def _rnn_operator(m: _Match, h: str, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Squeeze(RNN(Transpose(Unsqueeze(X))).Y_h, 0): return (W[0], R[0])."""
    s_index, squeeze = m.node(h, "Squeeze", "the last hidden state", inputs=(1, 2), attrs=("axes",))
    if m.axes(s_index, squeeze, "the Squeeze") != [0]:
        raise m.bad_node(s_index, "expected to squeeze axis 0 only")
    r_index, rnn = m.node(squeeze.input[0], "RNN", "the recurrent layer", inputs=(3, 6),
                          attrs=("activations", "hidden_size", "direction", "layout"))
    if len(rnn.output) < 2 or squeeze.input[0] != rnn.output[1]:
        raise m.bad_node(r_index, "the readout must use its last hidden state (output Y_h)")
    activations = [a.decode(errors="replace") for a in m.attr(r_index, "activations", "STRINGS", [])]
    if activations != ["Relu"]:
        raise m.bad_node(r_index, f"activations {activations}, expected ['Relu']")
    hidden_size = m.attr(r_index, "hidden_size", "INT")
    if hidden_size != d:
        raise m.bad_node(r_index, f"hidden_size {hidden_size}, expected {d} (the readout's)")
    if m.attr(r_index, "direction", "STRING", b"forward") != b"forward":
        raise m.bad_node(r_index, "the direction must be forward")
    if m.attr(r_index, "layout", "INT", 0) != 0:
        raise m.bad_node(r_index, "layout must be 0 (sequence first)")
    w = m.const(rnn.input[1], "the RNN input weights W", np.float32, (1, d, 1))
    r = m.const(rnn.input[2], "the RNN recurrent weights R", np.float32, (1, d, d))
    if len(rnn.input) > 3 and rnn.input[3]:
        bias = m.const(rnn.input[3], "the RNN bias B", np.float32, (1, 2 * d))
        if np.any(bias != 0):
            raise m.bad_node(r_index, "its bias B is not exactly zero")
    if len(rnn.input) > 4 and rnn.input[4]:
        if m.batch is None:
            raise m.bad_node(r_index, "sequence_lens with a dynamic batch size")
        lens = m.const(rnn.input[4], "the RNN sequence_lens", np.int32, (m.batch,))
        if np.any(lens != m.n):
            raise m.bad_node(r_index, f"sequence_lens {lens.tolist()}, expected every sequence of length {m.n}")
    t_index, transpose = m.node(rnn.input[0], "Transpose", "the RNN's input", attrs=("perm",))
    if list(m.attr(t_index, "perm", "INTS", [])) != [1, 0, 2]:
        raise m.bad_node(t_index, "expected perm [1, 0, 2] (batch first to sequence first)")
    u_index, unsqueeze = m.node(transpose.input[0], "Unsqueeze", "the sequence as a [batch, n, 1] tensor",
                                inputs=(1, 2), attrs=("axes",))
    if unsqueeze.input[0] != m.x or m.axes(u_index, unsqueeze, "the Unsqueeze") not in ([2], [-1]):
        raise m.bad_node(u_index, f"expected to add a last axis to the graph input '{_one_line(m.x)}'")
    if len(rnn.input) > 5 and rnn.input[5]:
        batch_axis = {m.x: 0, unsqueeze.output[0]: 0, transpose.output[0]: 1}
        _zero_initial_state(m, rnn.input[5], d, batch_axis)
    return w[0].copy(), r[0].copy()


def _zero_initial_state(m: _Match, name: str, d: int, batch_axis: dict[str, int]) -> None:
    """initial_h: a zero constant, Expand(zero, [1, batch, d]) or ConstantOfShape([1, batch, d])."""
    index = m.producer.get(name)
    node = None if index is None else m.nodes[index]
    if node is not None and node.op_type == "Expand" and node.domain in ONNX_DOMAINS:
        e_index, expand = m.node(name, "Expand", "the initial state", inputs=(2, 2))
        zero = m.const(expand.input[0], "the initial state's value", np.float32, (1, 1, d))
        if np.any(zero != 0):
            raise m.bad_node(e_index, "the initial hidden state is not exactly zero")
        _batch_shape(m, expand.input[1], d, batch_axis)
    elif node is not None and node.op_type == "ConstantOfShape" and node.domain in ONNX_DOMAINS:
        c_index, fill = m.node(name, "ConstantOfShape", "the initial state", attrs=("value",))
        value = m.attr(c_index, "value", "TENSOR")
        if value is not None and np.any(m.array(value, "the initial state's value", np.float32, (1,)) != 0):
            raise m.bad_node(c_index, "the initial hidden state is not exactly zero")
        _batch_shape(m, fill.input[0], d, batch_axis)
    elif node is not None and node.op_type != "Constant":
        raise m.bad_node(index, "expected a zero initial state")  # type: ignore[arg-type]
    else:
        if m.batch is None:
            raise m.bad(f"the initial state '{_one_line(name)}' is a constant but the batch size is dynamic")
        zero = m.const(name, "the initial state", np.float32, (1, m.batch, d))
        if np.any(zero != 0):
            raise m.bad(f"the initial hidden state '{_one_line(name)}' is not exactly zero")


def _batch_shape(m: _Match, name: str, d: int, batch_axis: dict[str, int]) -> None:
    """Concat([1], Unsqueeze(Gather(Shape(v), k), 0), [d]) where axis k of v is the batch."""
    c_index, concat = m.node(name, "Concat", "the initial state's shape", inputs=(3, 3), attrs=("axis",))
    if m.attr(c_index, "axis", "INT") != 0:
        raise m.bad_node(c_index, "expected axis 0")
    first = m.const(concat.input[0], "the initial state's first dimension", np.int64, (1,))
    last = m.const(concat.input[2], "the initial state's last dimension", np.int64, (1,))
    if first[0] != 1 or last[0] != d:
        raise m.bad_node(c_index, f"the initial state's shape is not [1, batch, {d}]")
    u_index, unsqueeze = m.node(concat.input[1], "Unsqueeze", "the batch size as a vector", inputs=(1, 2), attrs=("axes",))
    if m.axes(u_index, unsqueeze, "the batch size") != [0]:
        raise m.bad_node(u_index, "expected axes [0]")
    g_index, gather = m.node(unsqueeze.input[0], "Gather", "the batch size", inputs=(2, 2), attrs=("axis",))
    if m.attr(g_index, "axis", "INT", 0) != 0:
        raise m.bad_node(g_index, "expected axis 0")
    position = m.const(gather.input[1], "the batch axis", np.int64, ())
    s_index, shape = m.node(gather.input[0], "Shape", "the input's shape")
    if batch_axis.get(shape.input[0]) != int(position):
        raise m.bad_node(g_index, "it does not read the batch size of the input")


def recover(model: Any, path: Path) -> RecoveredRnn:
    """Prove that `model` is one of the two templates and return its weights, or raise InputError."""
    m = _Match(model, path)
    y = m.interface()
    h, readout = _readout(m, y)
    d = int(readout.shape[0])
    first = m.peek(h)
    if first is not None and first.domain in ONNX_DOMAINS and first.op_type == "Relu":
        w_hi, w_hh = _unrolled(m, h, d)
        template = "unrolled"
    elif first is not None and first.domain in ONNX_DOMAINS and first.op_type == "Squeeze":
        w_hi, w_hh = _rnn_operator(m, h, d)
        template = "rnn-operator"
    elif first is not None:
        raise m.bad_node(m.producer[h], "expected the RNN's last hidden state (Squeeze of an RNN node, or a Relu) "
                                        "before the readout")
    else:
        raise m.bad(f"the readout reads '{_one_line(h)}', not a hidden state")
    m.leftovers()
    return RecoveredRnn(w_hi=w_hi, w_hh=w_hh, w_oh=readout.T.copy(), template=template,
                        input_name=m.x, output_name=y, batch=m.batch)


# ---------------------------------------------------------------------- file and second check


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


def _checker(model: Any, path: Path) -> None:
    import onnx

    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # noqa: BLE001 - the checker's verdict on an untrusted file
        raise InputError(f"{path}: not a valid ONNX model ({_one_line(str(exc), 160) or type(exc).__name__})") from None


def _confirm(model: Any, weights: ModelWeights, found: RecoveredRnn, path: Path) -> None:
    """Second check: onnxruntime must compute what PyTorch computes with the recovered weights."""
    from verify.formats.torch_model import Float32Model
    from verify.formats.onnx_out import float32_tolerance

    try:
        import onnxruntime
    except ImportError:
        raise InputError(f"{path}: checking an ONNX model needs 'onnxruntime' (pip install 'relu-verify[ecosystem]')") from None
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((CHECK_SAMPLES, weights.seq_len)).astype(np.float32)
    xs[: CHECK_SAMPLES // 4] *= np.float32(1000.0)  # large inputs too: the network is homogeneous
    expected = Float32Model(weights).logits(xs)
    chunk = found.batch or CHECK_SAMPLES
    padded = np.concatenate([xs, np.zeros((-len(xs) % chunk, weights.seq_len), dtype=np.float32)])
    try:
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        parts = [session.run([found.output_name], {found.input_name: padded[i:i + chunk]})[0]
                 for i in range(0, len(padded), chunk)]
        got = np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])[: len(xs)].reshape(expected.shape)
    except Exception as exc:  # noqa: BLE001 - onnxruntime refused or failed on the graph
        raise InputError(f"{path}: not a supported ONNX RNN: onnxruntime cannot run it ({_one_line(str(exc), 120)})") from None
    if np.any(np.abs(got - expected) > float32_tolerance(expected)):
        raise InputError(f"{path}: not a supported ONNX RNN: onnxruntime's outputs differ from the RNN its weights describe")


def load_onnx_weights(path: str | os.PathLike[str]) -> ModelWeights:
    """Load an ONNX bias-free ReLU RNN as `ModelWeights`, or raise a one-line `InputError`."""
    import torch

    file = Path(path)
    model = _load_model(file)
    try:
        found = recover(model, file)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed graph part the match did not foresee: refuse it
        text = _one_line(str(exc), 80) or type(exc).__name__
        raise InputError(f"{file}: not a supported ONNX RNN: malformed graph ({type(exc).__name__}: {text})") from None
    _checker(model, file)
    state = {
        "rnn.weight_ih_l0": torch.from_numpy(np.array(found.w_hi, dtype=np.float32)),
        "rnn.weight_hh_l0": torch.from_numpy(np.array(found.w_hh, dtype=np.float32)),
        "linear.weight": torch.from_numpy(np.array(found.w_oh, dtype=np.float32)),
    }
    weights = weights_from_state_dict(state, path=str(path), sha256=sha256_of(file))
    _confirm(model, weights, found, file)
    return weights
