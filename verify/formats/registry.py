"""`load_weights(path)`: one entry point for every model format, chosen by the file's suffix.

A new format adds one reader to `READERS`; a suffix not listed is read as a torch state dict
(AlgZoo's own files carry `.pth`, others `.pt` or none).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from verify.core.weights import ModelWeights
from verify.formats.state_dict import load_state_dict_weights

Reader = Callable[["str | os.PathLike[str]"], ModelWeights]  # gets the path as given: reports name it so


def _load_onnx(path: "str | os.PathLike[str]") -> ModelWeights:
    """The ONNX reader, imported only when an .onnx file is read (a state-dict check never pays for it)."""
    from verify.formats.onnx_in import load_onnx_weights

    return load_onnx_weights(path)


READERS: dict[str, Reader] = {".onnx": _load_onnx}
DEFAULT_READER: Reader = load_state_dict_weights


def load_weights(path: str | os.PathLike[str]) -> ModelWeights:
    """Load and validate a model file with the reader its suffix names (bad input: one-line InputError)."""
    reader = READERS.get(Path(path).suffix.lower(), DEFAULT_READER)
    return reader(path)
