"""Model files in and out: torch state dicts, the float32 PyTorch model, ONNX, VNN-LIB.

Lives here: `files` (checks every format shares), `state_dict` (AlgZoo state dicts, read with
`weights_only=True`), `onnx_in` / `onnx_out` (the ONNX graphs, proven against a template),
`torch_model` (the real float32 module every counterexample is re-run on), `vnnlib` (the claim's
violation queries), `registry` (`load_weights(path)` through a {suffix: reader} table).
May import: `verify.core`.
"""

from verify.formats.registry import READERS, load_weights

__all__ = ["READERS", "load_weights"]
