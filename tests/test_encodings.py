"""Issues 2 and 9: the SMT-LIB 2 encodings are current, replay to the recorded answers, and
name no machine path (regenerating them anywhere gives the same bytes)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import z3

from verify.check.pipeline import CheckOptions, check_model
from verify.cli.main import main
from verify.formats import load_weights
from verify.render.encodings import write_encodings

ENCODINGS = Path("encodings")
REPO = Path(__file__).resolve().parent.parent
# Two bundled models: a proved one and a refuted one (n = 2 and n = 3), quick to encode.
BYTE_CHECKED = ("handcrafted_2_2", "trained_2_3")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def replay_with_z3_text_frontend(text: str) -> list[str]:
    """Feed a file we wrote ourselves to Z3's own SMT-LIB parser (not the term builder that produced the answers)."""
    ctx = z3.Context()
    output = z3.Z3_eval_smtlib2_string(ctx.ref(), text)
    return [line.strip() for line in output.splitlines() if line.strip() in ("sat", "unsat", "unknown")]


def test_bundled_encodings_are_up_to_date(tmp_path: Path) -> None:
    """Every bundled model's encodings match a fresh run, up to the model's name (checked byte for byte below)."""
    for model in sorted(Path("models").glob("*.pth")):
        folder = ENCODINGS / model.stem
        assert (folder / "index.json").exists(), f"run `verify encode` to create {folder}"
        result = check_model(load_weights(model), CheckOptions(collect_queries=True))
        fresh = tmp_path / model.stem
        write_encodings(result, fresh, model_label=f"models/{model.name}")
        assert files_of(fresh) == files_of(folder), f"{folder} is stale: run `verify encode`"


def test_verify_encode_reproduces_the_committed_bytes(tmp_path: Path) -> None:
    """issue 9 #2: `verify encode` twice, into fresh folders, gives exactly the committed files."""
    models = [f"models/{stem}.pth" for stem in BYTE_CHECKED]
    for attempt in ("first", "second"):
        out = tmp_path / attempt
        code, _, err = run("encode", *models, "--out", str(out))
        assert code == 0, err
        for stem in BYTE_CHECKED:
            assert files_of(out / stem) == files_of(ENCODINGS / stem), (attempt, stem)


def test_encode_from_another_folder_with_an_absolute_path_gives_the_same_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The label is relative to the repository root, whatever the working folder or the path's spelling."""
    model = REPO / "models" / "handcrafted_2_2.pth"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = run("encode", str(model), "--out", str(tmp_path / "out"))
    assert code == 0, err
    assert files_of(tmp_path / "out" / "handcrafted_2_2") == files_of(REPO / ENCODINGS / "handcrafted_2_2")
    assert out.startswith("models/handcrafted_2_2.pth: 4 region files")


def test_no_committed_encoding_names_a_machine_path() -> None:
    """issue 9 #2: no absolute path (of this checkout, or any other) in index.json or a header."""
    checkout = str(REPO)
    indexes = sorted(ENCODINGS.glob("*/index.json"))
    assert len(indexes) == len(list(Path("models").glob("*.pth")))
    for index_path in indexes:
        index = json.loads(index_path.read_text())
        model = Path(index["model"])
        assert not model.is_absolute() and ".." not in model.parts, index["model"]
        assert index["model"] == f"models/{index_path.parent.name}.pth"
        for path in [index_path, *index_path.parent.glob("*.smt2")]:
            text = path.read_text()
            assert checkout not in text, path
            for line in text.splitlines():
                if line.startswith("; model sha256"):
                    assert line.endswith(f" ({index['model']})"), (path, line)


def test_a_model_outside_the_repository_is_named_by_its_file_name(tmp_path: Path) -> None:
    outside = tmp_path / "deep" / "folder" / "mine.pth"
    outside.parent.mkdir(parents=True)
    outside.write_bytes(Path("models/handcrafted_2_2.pth").read_bytes())
    code, _, err = run("encode", str(outside), "--out", str(tmp_path / "out"))
    assert code == 0, err
    index = json.loads((tmp_path / "out" / "mine" / "index.json").read_text())
    assert index["model"] == "mine.pth"
    for path in (tmp_path / "out" / "mine").iterdir():
        assert str(tmp_path) not in path.read_text(), path


def test_write_encodings_defaults_to_the_file_name(tmp_path: Path) -> None:
    result = check_model(load_weights(str(REPO / "models" / "handcrafted_2_2.pth")), CheckOptions(collect_queries=True))
    index = write_encodings(result, tmp_path)
    assert index["model"] == "handcrafted_2_2.pth"
    assert "(handcrafted_2_2.pth)\n" in (tmp_path / index["regions"][0]["file"]).read_text().splitlines(keepends=True)[0]


def test_two_models_with_one_folder_name_are_refused(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.pth").write_bytes(Path("models/handcrafted_2_2.pth").read_bytes())
    code, out, err = run("encode", str(tmp_path / "a" / "model.pth"), str(tmp_path / "b" / "model.pth"),
                         "--out", str(tmp_path / "out"))
    assert code == 2 and err.count("\n") == 1 and "model" in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_an_unwritable_output_folder_is_bad_input(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = run("encode", "models/handcrafted_2_2.pth", "--out", str(locked))
    finally:
        locked.chmod(0o700)
    assert code == 2 and err.count("\n") == 1 and "cannot write" in err, err


def test_an_output_path_that_is_a_file_is_bad_input(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("keep me")
    code, _, err = run("encode", "models/handcrafted_2_2.pth", "--out", str(target))
    assert code == 2 and err.count("\n") == 1 and "not a folder" in err, err
    assert target.read_text() == "keep me"
    for unwritable in (target / "sub", Path("/proc/no/such/folder")):
        code, _, err = run("encode", "models/handcrafted_2_2.pth", "--out", str(unwritable))
        assert code == 2 and err.count("\n") == 1 and "cannot write" in err, err


def test_every_query_replays_to_its_recorded_answer() -> None:
    indexes = sorted(ENCODINGS.glob("*/index.json"))
    assert indexes
    for index_path in indexes:
        index = json.loads(index_path.read_text())
        for entry in index["regions"]:
            text = (index_path.parent / entry["file"]).read_text()
            assert replay_with_z3_text_frontend(text) == entry["expected"]


def test_algzoo_queries_replay(tmp_path: Path) -> None:
    result = check_model(load_weights("models/algzoo/2nd_argmax_2_2.pth"), CheckOptions(collect_queries=True))
    index = write_encodings(result, tmp_path)
    answers = [a for e in index["regions"] for a in e["expected"]]
    assert "sat" in answers and "unsat" in answers
    for entry in index["regions"]:
        assert replay_with_z3_text_frontend((tmp_path / entry["file"]).read_text()) == entry["expected"]
