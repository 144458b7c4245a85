"""report.html: the proof report as one self-contained file, rendered from the JSON report.

Everything is inline (style, script, the picture as a data: URL), so the file can be mailed or
archived alone. Tables of regions, misclassified cones and counterexamples sort by any column
(click a header; `#sort=TABLE:COLUMN:asc|desc` in the address sorts on load). Every number cell
carries the JSON's value in `data-sort` (and exact strings in `data-exact`), so what the page
shows can be checked against report.json.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Any, Sequence

from verify.render.digest import UNDECIDED_SHOWN, coverage_of, misclassified_by_measure, summarize_undecided
from verify.render.glossary import (
    EXACT_RULE, MARGIN_GLOSS, PATTERN_GLOSS, RATE_GLOSS, STRICT_GLOSS, TIE_GLOSS, region_id, show_float, show_value,
)
from verify.render.markdown import certainty_words
from verify.render.palette import CORRECT, MISCLASSIFIED, TIE, UNDECIDED
from verify.render.rate import measure_words, sampled_share_words

MAX_HTML_ROWS = 5000  # rows per table; beyond, report.json has the rest

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 78rem; margin: 1.5rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; }
th, td { border: 1px solid #ccc; padding: .2rem .45rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } th button { all: unset; cursor: pointer; font-weight: bold; }
th[aria-sort=ascending] button::after { content: " \\25B2"; } th[aria-sort=descending] button::after { content: " \\25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } code, .pattern { font-family: ui-monospace, monospace; }
td.pattern { word-break: break-all; max-width: 40rem; } details { margin: .5rem 0 1rem; }
.verdict { font-size: 1.2rem; font-weight: bold; } .gloss { color: #555; font-size: .9rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
.correct { background: CORRECT; } .misclassified { background: MISCLASSIFIED; color: #fff; }
.tie { background: TIE; } .undecided { background: UNDECIDED; }
""".replace("CORRECT", CORRECT.colour).replace("MISCLASSIFIED", MISCLASSIFIED.colour).replace(
    "TIE", TIE.colour).replace("UNDECIDED", UNDECIDED.colour)

SCRIPT = """
(function () {
  function key(cell, numeric) {
    var v = cell.getAttribute('data-sort');
    if (v === null) v = cell.textContent;
    if (!numeric) return v;
    var f = parseFloat(v);
    return isNaN(f) ? -Infinity : f;
  }
  function sortTable(table, col, dir) {
    var th = table.tHead.rows[0].cells[col];
    var numeric = th.getAttribute('data-type') === 'num';
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
      var c = x < y ? -1 : x > y ? 1 : 0;
      return dir === 'desc' ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir === 'desc' ? 'descending' : 'ascending');
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      var button = document.createElement('button');
      button.textContent = th.textContent;
      th.textContent = '';
      th.appendChild(button);
      button.addEventListener('click', function () {
        sortTable(table, col, th.getAttribute('aria-sort') === 'ascending' ? 'desc' : 'asc');
      });
    });
  });
  var m = /^#sort=([\\w-]+):(\\d+):(asc|desc)$/.exec(window.location.hash);
  if (m) {
    var table = document.getElementById(m[1]);
    if (table) sortTable(table, parseInt(m[2], 10), m[3]);
  }
  document.documentElement.setAttribute('data-ready', 'yes');
})();
"""


def _num(value: float | None, text: str | None = None, exact: str | None = None) -> str:
    """A numeric cell: shown `text`, sorted (and checked) by the JSON's `value`, exact string kept."""
    if value is None:
        return '<td class="num" data-sort="">n/a</td>'
    attrs = f' data-sort="{value!r}"' + (f' data-exact="{escape(exact)}"' if exact is not None else "")
    return f'<td class="num"{attrs}>{escape(text if text is not None else show_float(value))}</td>'


def _text(value: str, cls: str = "") -> str:
    return f'<td{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}>{escape(value)}</td>'


def _measure_cell(m: dict[str, Any] | None) -> str:
    if m is None:
        return _num(None)
    return _num(m["value"], measure_words(m, ratio=False, compact=True), m["exact"])


def _table(table_id: str, head: Sequence[tuple[str, str]], rows: Sequence[str], total: int) -> list[str]:
    """A sortable table; `head` is (title, 'num'|'text') per column, `rows` the <tr> bodies."""
    out = [f'<table class="sortable" id="{table_id}" data-rows="{total}"><thead><tr>']
    out += [f'<th data-type="{kind}">{escape(title)}</th>' for title, kind in head]
    out.append("</tr></thead><tbody>")
    out += [f"<tr>{row}</tr>" for row in rows[:MAX_HTML_ROWS]]
    out.append("</tbody></table>")
    if total > min(len(rows), MAX_HTML_ROWS):
        out.append(f"<p>Showing {min(len(rows), MAX_HTML_ROWS)} of {total} (all in report.json).</p>")
    return out


def _point(values: Sequence[str]) -> str:
    return "(" + ", ".join(show_value(v) for v in values) + ")"


def _summary(report: dict[str, Any], picture_png: bytes | None) -> list[str]:
    model, claim = report["model"], report["claim"]
    out = [f"<h1>Proof report ({escape(claim['name'])}): <code>{escape(model['path'])}</code></h1>", "<h2>Summary</h2>"]
    if report.get("interrupted"):
        out.append(f"<p><strong>INTERRUPTED</strong> ({escape(report['stop_reason'])}): this report is partial; "
                   "nothing was proved.</p>")
    out.append(f'<p class="verdict">Verdict: <span id="verdict">{escape(report["verdict"].upper())}</span> '
               f'— {escape(report["verdict_reason"])}.</p>')
    err = report["error_rate"]
    exact_attr = f' data-exact="{escape(err["exact"])}"' if err is not None else ""
    words = certainty_words(report).replace("**", "")
    out.append(f'<p><strong>Error rate</strong>: <span id="error-rate"{exact_attr}>{escape(words)}</span>. '
               f'<span class="gloss">{escape(RATE_GLOSS)}</span></p>')
    if picture_png is not None:
        data = base64.b64encode(picture_png).decode("ascii")
        out.append(f'<figure><img id="picture" alt="The input space divided into regions, coloured by outcome" '
                   f'src="data:image/png;base64,{data}"></figure>')
    out.append("<ul>")
    out.append(f"<li>Claim ({escape(claim['name'])}): {escape(claim['statement'])}.</li>")
    out.append(f"<li>Model: M<sub>{model['hidden_size']},{model['seq_len']}</sub>, {model['n_params']} parameters, "
               f"sha256 <code>{escape(model['sha256'])}</code>.</li>")
    tie = report["tie_measure"]
    if tie is not None and tie["upper"] > 0:
        strict = report["error_rate_strict"]
        out.append(f'<li>Tie measure: <span id="tie-measure" data-exact="{escape(tie["exact"])}">'
                   f'{escape(measure_words(tie, ratio=False))}</span>. <span class="gloss">{escape(TIE_GLOSS)}</span></li>')
        out.append(f'<li>Strict error rate: <span id="strict-error-rate" data-exact="{escape(strict["exact"]) if strict else ""}">'
                   f'{escape(measure_words(strict))}</span>. <span class="gloss">{escape(STRICT_GLOSS)}</span></li>')
    search = "search complete" if report["complete"] else "search INCOMPLETE: " + report["stop_reason"]
    out.append(f'<li>Regions: <span id="region-count">{len(report["regions"])}</span> ({escape(search)}); '
               f'solver {escape(report["solver"]["name"])} {escape(str(report["solver"]["version"]))}, '
               f'{report["solver"]["checks"]} checks, {report["timing"]["seconds"]:.3f} s.</li>')
    if report.get("float32_uncertain_measure") is not None:
        out.append(f"<li>float32 uncertain measure: {escape(measure_words(report['float32_uncertain_measure'], ratio=False))}"
                   " (PyTorch's error rate lies within this distance of the exact one).</li>")
    out += [f"<li>Note: {escape(note)}</li>" for note in report.get("notes", [])]
    return out + ["</ul>"]


def _coverage(report: dict[str, Any]) -> list[str]:
    if report["complete"]:
        return []
    cover = coverage_of(report)
    out = ["<h2>Coverage of an incomplete search</h2>", "<ul>"]
    if cover["measure"] is not None:
        covered = f"{cover['regions']} region(s) of total measure {measure_words(cover['measure'], ratio=False)} (exact)"
    elif cover.get("sampled"):
        s = cover["sampled"]
        covered = (f"{cover['regions']} region(s); their measure is not certified for n = {report['model']['seq_len']}, "
                   f"so by sampling ({s['model']}, seed {s['seed']}) they hold {sampled_share_words(s)}")
    else:
        covered = f"{cover['regions']} region(s)"
    total = report.get("counterexamples_total", len(report["counterexamples"]))
    summary = summarize_undecided(report)
    out += [f"<li><strong>Covered</strong>: {escape(covered)}.</li>",
            f"<li><strong>Found</strong>: {total} counterexample(s), {len(report['misclassified_cones'])} misclassified cone(s).</li>",
            f"<li><strong>Remains</strong>: <span id=\"undecided-count\">{summary.count}</span> undecided subtree(s), "
            f"each a pattern prefix (of {summary.total_bits} bits). <span class=\"gloss\">{escape(PATTERN_GLOSS)}</span></li>",
            "</ul>"]
    d = report["model"]["hidden_size"]
    groups = [_num(float(step), str(step)) + _num(float(count), str(count))
              + _text(str(low) if low == high else f"{low} to {high}") for step, count, low, high in summary.by_open_step(d)]
    out += _table("undecided-steps", [("open from step", "num"), ("subtrees", "num"), ("bits fixed", "text")],
                  groups, len(groups))
    if summary.common_steps:
        out.append(f"<p>All share their first {len(summary.common_steps)} step(s): "
                   + ", ".join(f"<code>{escape(s)}</code>" for s in summary.common_steps) + "</p>")
    after = " after the shared steps" if summary.common_steps else ""
    shown = summary.shallowest(UNDECIDED_SHOWN)
    out.append(f"<p>The {len(shown)} largest (fewest bits fixed), each pattern{after} in full:</p>")
    head = [("#", "num"), ("bits fixed", "num"), ("pattern" + after, "text")]

    def row(k: int) -> str:
        return (_num(float(k), str(k)) + _num(float(summary.fixed_bits[k]), str(summary.fixed_bits[k]))
                + _text(summary.rests[k] or "(root)", "pattern"))

    out += _table("undecided-largest", head, [row(k) for k in shown], len(shown))
    if summary.count > len(shown):
        out.append(f"<details><summary>All {summary.count} undecided subtrees</summary>")
        out += _table("undecided", head, [row(k) for k in range(summary.count)], summary.count)
        out.append("</details>")
    return out


def _misclassified(report: dict[str, Any]) -> list[str]:
    out = ["<h2>Misclassified cones</h2>"]
    cones = misclassified_by_measure(report)
    if not cones:
        return out + ["<p>None: no cone of inputs is misclassified.</p>"]
    out.append(f'<p class="gloss">Largest measure first. The witness is an exact point inside the cone. '
               f"{escape(MARGIN_GLOSS)}</p>")
    rows = []
    for k, c in enumerate(cones):
        rows.append(_num(float(k), str(k)) + _text(region_id(c["region"])) + _text(c["piece"])
                    + _text(f"x{c['target']}") + _text(f"x{c['predicted']}" + (" (tie)" if c["tied"] else ""))
                    + _measure_cell(c["measure"])
                    + _text(_point(c["witness"]) if "witness" in c else "see report.json")
                    + (_num(c["margin"], show_float(c["margin"], 4), c.get("margin_exact")) if "margin" in c else _num(None)))
    head = [("#", "num"), ("region", "text"), ("input order", "text"), ("expected", "text"), ("predicted", "text"),
            ("measure", "num"), ("witness x", "text"), ("margin", "num")]
    return out + _table("misclassified", head, rows, len(cones))


def _counterexamples(report: dict[str, Any]) -> list[str]:
    out = ["<h2>Counterexamples (re-run on the real PyTorch model in float32)</h2>"]
    cexs = report["counterexamples"]
    total = report.get("counterexamples_total", len(cexs))
    if total > len(cexs):
        out.append(f"<p>Showing {len(cexs)} of {total} counterexamples (raise --max-counterexamples to list more).</p>")
    if not cexs:
        return out + ["<p>None.</p>"]
    rows = []
    for k, c in enumerate(cexs):
        note = " (boundary only, measure zero)" if c["measure_zero"] else (
            " (thin: cone too thin for a float32 witness)" if c.get("thin") else "")
        rows.append(_num(float(k), str(k)) + _text(region_id(c["region"])) + _text(_point(c["x_exact"]))
                    + _text("(" + ", ".join(show_float(v) for v in c["x_float32"]) + ")")
                    + _text(f"x{c['expected']}") + _text(f"x{c['predicted']}")
                    + (_num(c["margin"], show_float(c["margin"], 4), c.get("margin_exact")) if "margin" in c else _num(None))
                    + (_num(c["margin_float32"], show_float(c["margin_float32"], 4)) if "margin_float32" in c else _num(None))
                    + _text(("yes" if c["float32_confirmed"] else "no") + note))
    head = [("#", "num"), ("region", "text"), ("x exact", "text"), ("x (float32)", "text"), ("expected", "text"),
            ("predicted (float32)", "text"), ("margin (exact)", "num"), ("margin (float32)", "num"),
            ("float32 confirmed", "text")]
    return out + _table("counterexamples", head, rows, len(cexs))


def _weights(report: dict[str, Any]) -> list[str]:
    std = report["standardized"]
    out = ["<h2>Standardized weights</h2>",
           f'<p class="gloss">Each neuron i is rescaled by s_i = |W_hi[i]| (exactly the same logits). {escape(EXACT_RULE)}</p>']
    w_hi = ([[row[0] for row in std["W_hi"]["exact"]]], [[row[0] for row in std["classes"]["W_hi"]]])
    shapes = (("W_hi", "input weight of neuron j", "", *w_hi),
              ("W_hh", "row i: to neuron i, column j: from neuron j", "to neuron", std["W_hh"]["exact"], std["classes"]["W_hh"]),
              ("W_oh", "row k: logit k, column j: neuron j", "logit", std["W_oh"]["exact"], std["classes"]["W_oh"]))
    for name, caption, row_name, exact, classes in shapes:
        out.append(f'<table id="{name}"><caption>{name} ({caption}; hover a value for its class)</caption><tbody>')
        for i, row in enumerate(exact):
            cells = "".join(f'<td class="num" data-exact="{escape(e)}" title="{escape(c)}">{escape(show_value(e))}</td>'
                            for e, c in zip(row, classes[i]))
            out.append(f"<tr><th>{f'{row_name} {i}' if row_name else ''}</th>{cells}</tr>")
        out.append("</tbody></table>")
    return out


def _regions(report: dict[str, Any]) -> list[str]:
    two_d = report["model"]["seq_len"] == 2
    out = ["<h2>Regions</h2>", f'<p class="gloss">{escape(PATTERN_GLOSS)}</p>']
    rows = []
    for r in report["regions"]:
        m = r["measure"]
        cls = {"proved": "correct", "refuted": "misclassified"}.get(r["verdict"], "undecided")
        row = _text(region_id(r["index"])) + _text(r["pattern"] or "(root)", "pattern") + _text(r["verdict"], cls)
        row += _measure_cell(m)
        if two_d:
            c = r["coefficients"]
            rays = r.get("rays", {})
            start = rays.get("boundary", [{}])[0].get("angle_deg") if rays.get("boundary") else None
            row += (_num(float(start), show_float(float(start), 8), start) if start else _num(None))
            row += _num(c["a0_float"], show_value(c["a0"]), c["a0"]) + _num(c["a1_float"], show_value(c["a1"]), c["a1"])
        else:
            cone = r.get("cone")
            solid = cone["solid_angle"] if cone else None
            row += (_num(float(solid["steradians"]), show_float(float(solid["steradians"])), solid["steradians"])
                    if solid else _num(None))
            row += _num(float(len(cone["extreme_rays"])), str(len(cone["extreme_rays"]))) if cone else _num(None)
        rows.append(row)
    head = [("id", "text"), ("pattern", "text"), ("verdict", "text"), ("measure", "num")]
    head += [("from (deg)", "num"), ("a0", "num"), ("a1", "num")] if two_d else [("solid angle (sr)", "num"),
                                                                                ("extreme rays", "num")]
    return out + _table("regions", head, rows, len(report["regions"]))


def render_html(report: dict[str, Any], picture_png: bytes | None = None) -> str:
    """report.html; `picture_png` (the partition picture's bytes) is inlined when given."""
    body = _summary(report, picture_png) + _coverage(report) + _misclassified(report) + _counterexamples(report)
    body += _weights(report) + _regions(report)
    title = escape(f"Proof report ({report['claim']['name']}): {report['model']['path']}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>{STYLE}</style></head><body>\n" + "\n".join(body)
            + f"\n<script>{SCRIPT}</script>\n</body></html>\n")
