"""Malformed model files: each is refused with exit code 2 and one clear line, never a traceback,
and nothing in the file is ever executed.

Every case builds its file in a temporary folder and runs `verify.cli.main.main` in-process, so a
traceback would surface as an exception (failing the test) and stderr is checked line by line.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Callable

import pytest
import torch

from verify.cli.main import main
from verify.corpus.handcrafted import handcrafted_2_2
from verify.core.weights import W_HH, W_HI, W_OH
from verify.formats.files import MAX_FILE_BYTES

MARKER = "payload-ran.marker"


def good_state() -> dict[str, torch.Tensor]:
    return handcrafted_2_2().state_dict()


def save(state: object, path: Path) -> Path:
    torch.save(state, path)
    return path


class Payload:
    """Unpickling this calls open(marker, 'w'): if the marker file ever exists, code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (self.marker, "w"))


def _with(**changes: object) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        state: dict[str, object] = dict(good_state())
        for name, value in changes.items():
            key = {"w_hi": W_HI, "w_hh": W_HH, "w_oh": W_OH}.get(name, name)
            if value is None:
                state.pop(key)
            else:
                state[key] = value
        return save(state, folder / "model.pth")

    return build


def _text(content: bytes, name: str = "model.pth") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path

    return build


def _missing(folder: Path) -> Path:
    return folder / "does-not-exist.pth"


def _directory(folder: Path) -> Path:
    path = folder / "a-folder.pth"
    path.mkdir()
    return path


def _truncated(folder: Path) -> Path:
    whole = save(good_state(), folder / "whole.pth").read_bytes()
    path = folder / "model.pth"
    path.write_bytes(whole[: len(whole) // 2])
    return path


def _zip_not_torch(folder: Path) -> Path:
    path = folder / "model.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return path


def _pickle_in_torch_zip(folder: Path) -> Path:
    state: dict[str, object] = dict(good_state())
    state["rnn.weight_ih_l0"] = Payload(str(folder / MARKER))
    return save(state, folder / "model.pth")


def _raw_pickle(folder: Path) -> Path:
    path = folder / "model.pth"
    path.write_bytes(pickle.dumps({"rnn.weight_ih_l0": Payload(str(folder / MARKER))}, protocol=2))
    return path


def _huge(folder: Path) -> Path:
    path = folder / "model.pth"
    with open(path, "wb") as handle:  # sparse: no disk is written
        handle.truncate(MAX_FILE_BYTES + 1)
    return path


def _transformer(folder: Path) -> Path:
    state = {
        "embed.weight": torch.zeros(10, 8),
        "layers.0.self_attn.in_proj_weight": torch.zeros(24, 8),
        "layers.0.self_attn.out_proj.weight": torch.zeros(8, 8),
        "layers.0.linear1.weight": torch.zeros(16, 8),
        "layers.0.linear2.weight": torch.zeros(8, 16),
        "unembed.weight": torch.zeros(10, 8),
    }
    return save(state, folder / "model.pth")


def _sparse(folder: Path) -> Path:
    return _with(w_hh=torch.eye(2).to_sparse())(folder)


def _newline_name(folder: Path) -> Path:
    return folder / "two\nlines.pth"


def _lightning_checkpoint(folder: Path) -> Path:
    return save({"state_dict": good_state(), "epoch": 3}, folder / "model.pth")


# case id -> (builder, a word the one-line message must contain)
CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing file": (_missing, "no such file"),
    "directory": (_directory, "directory"),
    "empty file": (_text(b""), "empty"),
    "not a zip (text)": (_text(b"this is not a model\n" * 10), "neither a zip archive nor a pickle"),
    "json model card instead": (_text(b'{"format": "algzoo", "weights": "00ff"}', "model.json"), "looks like JSON"),
    "truncated zip": (_truncated, "truncated"),
    "zip that is not a torch archive": (_zip_not_torch, "zip archive, but not a PyTorch"),
    "pickle payload in torch zip": (_pickle_in_torch_zip, "nothing in it was executed"),
    "raw pickle payload": (_raw_pickle, "nothing in it was executed"),
    "huge file": (_huge, "too large"),
    "wrong tensor names": (_with(w_hi=None, **{"rnn.weight_in": torch.zeros(2, 1)}), "missing"),
    "missing tensor": (_with(w_oh=None), "missing"),
    "extra tensor": (_with(**{"rnn.extra": torch.zeros(2)}), "unexpected"),
    "biases present": (_with(**{"rnn.bias_ih_l0": torch.zeros(2), "rnn.bias_hh_l0": torch.zeros(2)}), "bias"),
    "wrong shape W_hi (d, 2)": (_with(w_hi=torch.zeros(2, 2)), "shape"),
    "wrong shape W_hh not square": (_with(w_hh=torch.zeros(2, 3)), "shape"),
    "wrong shape W_oh columns": (_with(w_oh=torch.zeros(2, 3)), "shape"),
    "1-D tensor": (_with(w_hi=torch.zeros(2)), "shape"),
    "3-D tensor": (_with(w_hh=torch.zeros(2, 2, 1)), "shape"),
    "wrong dtype float64": (_with(w_hh=torch.zeros(2, 2, dtype=torch.float64)), "dtype"),
    "wrong dtype int64": (_with(w_oh=torch.zeros(2, 2, dtype=torch.int64)), "dtype"),
    "wrong dtype float16": (_with(w_hi=torch.zeros(2, 1, dtype=torch.float16)), "dtype"),
    "NaN weight": (_with(w_hh=torch.tensor([[float("nan"), 1.0], [1.0, -1.0]])), "NaN"),
    "Inf weight": (_with(w_oh=torch.tensor([[1.0, float("inf")], [-1.0, 1.0]])), "Inf"),
    "zero hidden size": (_with(w_hi=torch.zeros(0, 1), w_hh=torch.zeros(0, 0), w_oh=torch.zeros(2, 0)), "hidden size"),
    "output size 1 (not 2nd argmax)": (_with(w_oh=torch.zeros(1, 2)), "output"),
    "transformer state dict": (_transformer, "not a one-layer"),
    "not a dict (a tensor)": (lambda folder: save(torch.zeros(3), folder / "model.pth"), "state dict"),
    "not a dict (a list)": (lambda folder: save([torch.zeros(2, 1)], folder / "model.pth"), "state dict"),
    "value not a tensor": (_with(w_hi=[[1.0], [-1.0]]), "not a tensor"),
    "sparse tensor": (_sparse, "sparse"),
    "nested checkpoint": (_lightning_checkpoint, "unwrap it first"),
    "file name with a newline, missing": (_newline_name, "no such file"),
}


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def assert_one_clear_line(code: int, err: str, word: str) -> str:
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert re.match(r"verify( [a-z]+)?: error: ", line) and line.count("error:") == 1, line
    assert "Traceback" not in line and "File \"" not in line
    assert word.lower() in line.lower(), line
    assert len(line) < 400
    return line


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_model_file(case: str, tmp_path: Path) -> None:
    build, word = CASES[case]
    path = build(tmp_path)
    code, out, err = run_cli("check", str(path))
    assert_one_clear_line(code, err, word)
    assert out == ""
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize("case", ["pickle payload in torch zip", "raw pickle payload", "NaN weight", "truncated zip"])
@pytest.mark.parametrize("command", ["sample", "encode"])
def test_other_commands_refuse_the_same_files(case: str, command: str, tmp_path: Path) -> None:
    build, word = CASES[case]
    path = build(tmp_path)
    argv = [command, str(path)] + (["-n", "10"] if command == "sample" else ["--out", str(tmp_path / "enc")])
    code, _, err = run_cli(*argv)
    assert_one_clear_line(code, err, word)
    assert not (tmp_path / MARKER).exists()


def test_payload_would_run_if_unpickled_unsafely(tmp_path: Path) -> None:
    """The control: the payload files really do run code when loaded without weights_only."""
    path = _raw_pickle(tmp_path)
    with open(path, "rb") as handle:
        pickle.load(handle)  # noqa: S301 - deliberately unsafe, on our own test file
    assert (tmp_path / MARKER).exists()
    (tmp_path / MARKER).unlink()
    path = _pickle_in_torch_zip(tmp_path)
    torch.load(path, weights_only=False)
    assert (tmp_path / MARKER).exists()


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000 does not stop root, so when running as root the denial is simulated at os.access."""
    path = save(good_state(), tmp_path / "model.pth")
    path.chmod(0)
    if os.geteuid() == 0:
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if Path(p) == path else real_access(p, mode, *a, **k))
    try:
        code, _, err = run_cli("check", str(path))
    finally:
        path.chmod(0o644)
    assert_one_clear_line(code, err, "permission denied")


def test_bad_options_are_one_line(tmp_path: Path) -> None:
    path = save(good_state(), tmp_path / "model.pth")
    for argv, word in [
        (["check", str(path), "--max-regions", "0"], "must be positive"),
        (["check", str(path), "--time-budget", "-1"], "must be positive"),
        (["check", str(path), "--max-regions", "many"], "invalid"),
        (["check", str(path), "--claim", "3rd-argmax"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
        ([], "command"),
    ]:
        code, _, err = run_cli(*argv)
        assert_one_clear_line(code, err, word)


def test_the_good_file_is_accepted(tmp_path: Path) -> None:
    """The control for the corpus: the unmodified state dict checks fine (proved, exit 0)."""
    path = save(good_state(), tmp_path / "model.pth")
    code, out, err = run_cli("check", str(path))
    assert code == 0 and err == "" and "PROVED" in out
