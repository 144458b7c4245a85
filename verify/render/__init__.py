"""Everything a CheckResult becomes for people and tools: text, JSON, Markdown, JUnit, pictures, SMT-LIB.

Lives here: `json_report` (the report, schema in docs/report-schema.md), `text` (the terminal
summary and the one error-rate wording), `markdown`, `junit`, `picture_plane` / `picture_sphere`
(matplotlib without pyplot), `encodings` (SMT-LIB files of every region query), `files`
(validated output paths and one-line write errors). Renderers only read results.
May import: `verify.check` and everything below it.
"""

from verify.render.json_report import build_report, dumps
from verify.render.text import summary_lines

__all__ = ["build_report", "dumps", "summary_lines"]
