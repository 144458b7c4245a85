"""Load an AlgZoo-format state dict safely and check it describes a bias-free one-layer ReLU RNN.

`linear.weight` is n x d for the classification tasks (one logit per input) or 1 x d for AlgZoo's
median ScalarRNN (one output; its sequence length is not in the weights, see
verify.check.regression). Which claim fits which is decided by `verify.core.claim.mismatch`.

Only `torch.load(..., weights_only=True)` is used, so a pickle that carries code is refused
rather than run. Every problem becomes an `InputError` whose message is a single line.
"""

from __future__ import annotations

import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from verify.core.errors import InputError
from verify.core.weights import W_HH, W_HI, W_OH, EXPECTED_NAMES, ModelWeights
from verify.formats.files import MAX_FILE_BYTES, check_model_file, sha256_of

BIAS_NAMES = ("rnn.bias_ih_l0", "rnn.bias_hh_l0", "linear.bias")
NESTED_KEYS = ("state_dict", "model", "model_state_dict", "net", "module")  # common checkpoint wrappers


def _read_state_dict(path: Path) -> object:
    import pickle

    import torch

    size = check_model_file(path, "model file")
    if size == 0:
        raise InputError(f"{path}: empty file, not a PyTorch state dict")
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"{path}: {size} bytes is too large for a tiny RNN state dict (limit {MAX_FILE_BYTES})"
        )
    with open(path, "rb") as handle:
        head = handle.read(8)
    is_zip = head.startswith(b"PK")
    if not is_zip and not head.startswith(b"\x80"):
        hint = " (it looks like JSON: pass the .pth file, not its model card)" if head.lstrip()[:1] in (b"{", b"[") else ""
        raise InputError(f"{path}: not a PyTorch state dict file: neither a zip archive nor a pickle{hint}")
    try:
        with warnings.catch_warnings():  # e.g. quantized or sparse tensors: the one-line error says enough
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise InputError(
                f"{path}: refused to load: the file holds Python objects other than tensors "
                "(loaded with weights_only=True; nothing in it was executed)"
            ) from None
        raise InputError(f"{path}: not a PyTorch state dict ({first})") from None
    except zipfile.BadZipFile:
        raise InputError(f"{path}: corrupt or truncated PyTorch zip archive") from None
    except (RuntimeError, EOFError, ValueError, OSError, AttributeError, KeyError) as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        if is_zip and not zipfile.is_zipfile(path):
            raise InputError(f"{path}: corrupt or truncated zip archive (its zip directory cannot be read)") from None
        if is_zip and "inline_container" in text:
            detail = text.split("] .", 1)[-1].strip()[:120]
            raise InputError(f"{path}: a zip archive, but not a PyTorch state dict ({detail})") from None
        if len(text) > 160:
            text = text[:157] + "..."
        raise InputError(f"{path}: not a readable PyTorch state dict ({text})") from None
    except Exception as exc:  # noqa: BLE001 - any failure of an untrusted file is bad input
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"{path}: cannot load ({type(exc).__name__}: {text[:160]})") from None


def weights_from_state_dict(state: object, *, path: str = "<memory>", sha256: str = "") -> ModelWeights:
    """Validate a state dict (names, shapes, dtype, finiteness, no biases) and return its weights (n x d or 1 x d output)."""
    import torch

    if not isinstance(state, dict):
        raise InputError(f"{path}: expected a state dict (a dict of tensors), got {type(state).__name__}")
    names = set(state)
    nested = [str(k) for k in NESTED_KEYS if k in state and isinstance(state[k], dict)]
    if nested and not set(EXPECTED_NAMES) <= names:
        key = nested[0]
        raise InputError(f"{path}: a checkpoint with the state dict nested under {key!r}, not a state dict; "
                         f"unwrap it first: torch.save(torch.load(FILE, weights_only=True)[{key!r}], 'model.pth')")
    biases = sorted(name for name in names if str(name).endswith("bias") or "bias_" in str(name))
    if biases:
        raise InputError(f"{path}: biases present ({', '.join(map(str, biases))}); only bias-free RNNs are supported")
    missing = [name for name in EXPECTED_NAMES if name not in names]
    extra = sorted(str(name) for name in names if name not in EXPECTED_NAMES)
    if missing or extra:
        detail = []
        if missing:
            detail.append("missing " + ", ".join(missing))
        if extra:
            shown = extra[:4] + (["..."] if len(extra) > 4 else [])
            detail.append("unexpected " + ", ".join(shown))
        raise InputError(
            f"{path}: not a one-layer 2nd-argmax RNN state dict ({'; '.join(detail)}); "
            f"expected exactly {', '.join(EXPECTED_NAMES)}"
        )
    arrays = {}
    for name in EXPECTED_NAMES:
        tensor = state[name]
        if not isinstance(tensor, torch.Tensor):
            raise InputError(f"{path}: {name} is a {type(tensor).__name__}, not a tensor")
        if tensor.dtype != torch.float32:
            raise InputError(f"{path}: {name} has dtype {tensor.dtype}; expected torch.float32")
        if tensor.layout != torch.strided:
            raise InputError(f"{path}: {name} is a {tensor.layout} tensor; expected a dense tensor")
        if tensor.dim() != 2:
            raise InputError(f"{path}: {name} has shape {tuple(tensor.shape)}; expected a matrix")
        try:
            arrays[name] = tensor.detach().cpu().numpy().astype(np.float32, copy=True)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: {name} cannot be read as an array ({' '.join(str(exc).split())[:120]})") from None
    w_hi, w_hh, w_oh = arrays[W_HI], arrays[W_HH], arrays[W_OH]
    d = w_hh.shape[0]
    if d == 0:
        raise InputError(f"{path}: hidden size is 0; the RNN has no neurons")
    if w_hi.shape != (d, 1):
        raise InputError(f"{path}: {W_HI} has shape {tuple(w_hi.shape)}; expected ({d}, 1) (input size 1)")
    if w_hh.shape != (d, d):
        raise InputError(f"{path}: {W_HH} has shape {tuple(w_hh.shape)}; expected a square ({d}, {d}) matrix")
    n = w_oh.shape[0]
    if w_oh.shape[1] != d:
        raise InputError(f"{path}: {W_OH} has shape {tuple(w_oh.shape)}; expected (n, {d})")
    if n == 0:
        raise InputError(f"{path}: {W_OH} has 0 outputs; expected one logit per input (n, {d}) or one output (1, {d})")
    for name, array in ((W_HI, w_hi), (W_HH, w_hh), (W_OH, w_oh)):
        if not np.all(np.isfinite(array)):
            bad = "NaN" if np.any(np.isnan(array)) else "Inf"
            raise InputError(f"{path}: {name} contains {bad} values")
    return ModelWeights(w_hi=w_hi, w_hh=w_hh, w_oh=w_oh, path=path, sha256=sha256)


def load_state_dict_weights(path: str | os.PathLike[str]) -> ModelWeights:
    """Load and validate an AlgZoo state dict (`.pth`, `.pt`, anything that is not another format)."""
    file = Path(path)
    state = _read_state_dict(file)
    return weights_from_state_dict(state, path=str(path), sha256=sha256_of(file))
