"""Output files: validated before a check starts, written so that a failure is one line, never a traceback.

`prepare_file` / `prepare_folder` are called by the CLI before any model is checked, so a bad
`--json`, `--junit` or `--report` path is exit 2 at once; `write_text` / `write_report_dir` turn
any OSError at write time (a full disk, /dev/full) into the same one-line InputError.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Sequence

from verify.check.pipeline import CheckResult
from verify.check.regression import RegressionResult
from verify.core.errors import InputError
from verify.render.json_report import dumps

PICTURE = "partition.png"
PICTURE_SVG = "partition.svg"
REPORT_FILES = ("report.json", "report.md", "report.html", PICTURE, PICTURE_SVG)  # what --report DIR writes


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def prepare_file(path: Path, option: str) -> None:
    """Check that `path` can be written as a file (its folder is created); nothing is left behind."""
    if path.is_dir():
        raise InputError(f"{option} {path}: is a directory, not a file")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot write ({_reason(exc)})") from None
    try:
        if mode is not None:
            if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
                raise InputError(f"{option} {path}: not a regular file")
            if not os.access(path, os.W_OK):
                raise InputError(f"{option} {path}: cannot write (permission denied)")
            return  # opened for writing only at the end: an existing file is not truncated early
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x"):
            pass
        path.unlink()
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot write ({_reason(exc)})") from None


def prepare_folder(folder: Path, option: str) -> None:
    """Create `folder` (or accept an existing one) and check that files can be written in it."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{option} {folder}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".verify-write-test"
        with open(probe, "w"):
            pass
        probe.unlink()
    except OSError as exc:
        raise InputError(f"{option} {folder}: cannot write ({_reason(exc)})") from None


def write_text(path: Path, text: str, option: str = "") -> None:
    """Write `text` to `path`; any OSError becomes a one-line InputError naming the file."""
    label = f"{option} {path}" if option else str(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"{label}: cannot write ({_reason(exc)})") from None


def unique_names(paths: Sequence[Path]) -> list[str]:
    """A distinct folder name per model: its stem, then `stem-2`, `stem-3`, ... for repeated stems."""
    names: list[str] = []
    taken: set[str] = set()
    for path in paths:
        stem = path.stem or "model"
        name, k = stem, 1
        while name in taken:
            k += 1
            name = f"{stem}-{k}"
        taken.add(name)
        names.append(name)
    return names


def _remove_stale(folder: Path) -> None:
    for name in (PICTURE, PICTURE_SVG):
        stale = folder / name
        if stale.exists() or stale.is_symlink():
            stale.unlink()


def draw_pictures(result: CheckResult, folder: Path) -> list[Path]:
    """partition.png and partition.svg for n = 2 (the plane) and n = 3 (the sphere); none otherwise."""
    paths = [folder / PICTURE, folder / PICTURE_SVG]
    if result.network.seq_len == 2:
        from verify.render.picture_plane import draw_partition

        draw_partition(result, *paths)
    elif result.network.seq_len == 3:
        from verify.render.picture_sphere import draw_sphere

        draw_sphere(result, *paths)
    else:
        return []
    return paths


def write_report_dir(result: CheckResult, report: dict[str, Any], folder: Path) -> list[Path]:
    """report.json, report.md, report.html and (n = 2, 3) partition.png / .svg; stale pictures from an
    earlier run are removed. The Markdown embeds the picture; the HTML inlines it."""
    from verify.render.html import render_html  # here, not at the top: `verify check` without --report skips them
    from verify.render.markdown import render_markdown

    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale(folder)
    except OSError as exc:
        raise InputError(f"--report {folder}: cannot write ({_reason(exc)})") from None
    written = [folder / "report.json"]
    write_text(written[0], dumps(report), "--report")
    try:
        pictures = draw_pictures(result, folder)
        png = pictures[0].read_bytes() if pictures else None
    except OSError as exc:
        raise InputError(f"--report {folder / PICTURE}: cannot write ({_reason(exc)})") from None
    markdown, html = folder / "report.md", folder / "report.html"
    write_text(markdown, render_markdown(report, PICTURE if pictures else None), "--report")
    write_text(html, render_html(report, png), "--report")
    return written + [markdown, html] + pictures


def write_regression_report_dir(report: dict[str, Any], folder: Path, result: RegressionResult | None = None) -> list[Path]:
    """report.json, report.md, report.html of a regression (median) check and, given the result with
    n = 2 or 3, partition.png / .svg (the ratio |y - median| / max|x_i| by direction); stale pictures
    from an earlier run in the same folder are removed."""
    from verify.render.regression import regression_html, regression_markdown

    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale(folder)
    except OSError as exc:
        raise InputError(f"--report {folder}: cannot write ({_reason(exc)})") from None
    written = [folder / "report.json", folder / "report.md", folder / "report.html"]
    write_text(written[0], dumps(report), "--report")
    pictures: list[Path] = []
    png = None
    if result is not None and result.seq_len in (2, 3):
        from verify.render.picture_regression import draw_regression_picture

        pictures = [folder / PICTURE, folder / PICTURE_SVG]
        try:
            draw_regression_picture(result, *pictures)
            png = pictures[0].read_bytes()
        except OSError as exc:
            raise InputError(f"--report {folder / PICTURE}: cannot write ({_reason(exc)})") from None
    write_text(written[1], regression_markdown(report, PICTURE if pictures else None), "--report")
    write_text(written[2], regression_html(report, png), "--report")
    return written + pictures
