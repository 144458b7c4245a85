"""Write a report folder: report.json, report.md and the partition picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from verify.analysis import CheckResult
from verify.report_json import dumps
from verify.report_markdown import render_markdown


def write_report_dir(result: CheckResult, report: dict[str, Any], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "report.json", folder / "report.md"]
    written[0].write_text(dumps(report))
    written[1].write_text(render_markdown(report))
    if result.network.seq_len == 2:
        from verify.picture import draw_partition

        png = folder / "partition.png"
        draw_partition(result, png)
        written.append(png)
    elif result.network.seq_len == 3:
        try:
            from verify.picture_sphere import draw_sphere
        except ImportError:
            pass
        else:
            png = folder / "partition.png"
            draw_sphere(result, png)
            written.append(png)
    return written
