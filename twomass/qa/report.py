"""A QA report: a summary table, figures and tables, written as one self-contained HTML
file, a JSON of its numbers beside it, and optionally the figures as PNG files.

The HTML embeds every image as a ``data:`` URI and its style inline, and holds no
script and no link: it reads the same offline, attached to a mail or archived years
later. The JSON carries every number the summary and the figures show, so a pipeline
can gate on them without parsing HTML.
"""

from __future__ import annotations

import base64
import html
import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

#: Report JSON format; bumped when a key changes meaning.
JSON_FORMAT = 1

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1150px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #176a1b; } .missed { color: #b00020; font-weight: bold; }
figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #444; max-width: 1000px; }
"""


@dataclass(frozen=True)
class SummaryRow:
    """One line of the summary table: a figure, its value, and its target if it has one.

    ``passed`` is None for numbers without a target; ``key`` names the verdict in the
    JSON's ``targets``, stable where the label carries counts.
    """

    label: str
    value: str
    target: str = ""
    passed: bool | None = None
    key: str = ""


@dataclass(frozen=True)
class Figure:
    """One plot: its file name stem, heading, caption, PNG bytes and the numbers it shows."""

    name: str
    title: str
    caption: str
    png: bytes
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """A table of the report below the figures (e.g. a night's scans)."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Report:
    """Everything a report shows; ``numbers`` are the summary's machine-readable values."""

    kind: str  # "release" or "night"
    name: str
    title: str
    headline: str = ""  # the main figures in a few words, for the command's summary line
    summary: list[SummaryRow] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # what else was written, by role

    def json_dict(self) -> dict[str, Any]:
        """The JSON document: summary numbers, each figure's numbers, the tables."""
        return _finite({
            "format": JSON_FORMAT, "kind": self.kind, "name": self.name,
            "summary": self.numbers,
            "targets": {r.key or r.label: r.passed for r in self.summary
                        if r.passed is not None},
            "figures": {f.name: {"title": f.title, **f.numbers} for f in self.figures},
            "tables": {t.name: {"columns": t.columns, "rows": t.rows} for t in self.tables},
            "files": self.files,
        })

    def html(self) -> str:
        """The self-contained HTML page."""
        parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                 f"<title>{_e(self.title)}</title><style>{STYLE}</style></head><body>",
                 f"<h1>{_e(self.title)}</h1>", _summary_html(self.summary)]
        for fig in self.figures:
            data = base64.b64encode(fig.png).decode("ascii")
            parts.append(f"<h2 id=\"{_e(fig.name)}\">{_e(fig.title)}</h2><figure>"
                         f"<img alt=\"{_e(fig.title)}\" src=\"data:image/png;base64,{data}\">"
                         f"<figcaption>{_e(fig.caption)}</figcaption></figure>")
        for table in self.tables:
            parts.append(f"<h2 id=\"{_e(table.name)}\">{_e(table.title)}</h2>"
                         + _table_html(table.columns, table.rows))
        if self.files:
            items = "".join(f"<li>{_e(role)}: {_e(path)}</li>" for role, path in self.files.items())
            parts.append(f"<h2>Files</h2><ul>{items}</ul>")
        parts.append("</body></html>")
        return "\n".join(parts)

    def write(self, html_path: Path, png_dir: Path | None = None) -> Path:
        """Write the HTML at ``html_path``, its JSON beside it (same name, ``.json``), and
        each figure as ``png_dir/<name>.png`` when asked; returns the JSON's path."""
        json_path = html_path.with_suffix(".json")
        if png_dir is not None:
            png_dir.mkdir(parents=True, exist_ok=True)
            for fig in self.figures:
                (png_dir / f"{fig.name}.png").write_bytes(fig.png)
            self.files["png_dir"] = str(png_dir)
        self.files["json"] = str(json_path)
        html_path.write_text(self.html(), encoding="utf-8")
        json_path.write_text(json.dumps(self.json_dict(), indent=1) + "\n", encoding="utf-8")
        return json_path


@dataclass(frozen=True)
class ReportFiles:
    """What writing a report produced: the HTML, the JSON and the coverage MOC beside it."""

    html: Path
    json: Path
    moc: Path
    report: Report
    seconds: float

    def line(self) -> str:
        """The command's one-line summary."""
        r = self.report
        missed = sum(row.passed is False for row in r.summary)
        verdict = "all targets met" if not missed else f"{missed} target(s) MISSED"
        return (f"qa {r.kind} {r.name}: {r.headline}, {len(r.figures)} figures, {verdict}; "
                f"wrote {self.html}, {self.json.name}, {self.moc.name} in {self.seconds:.1f} s")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _summary_html(rows: list[SummaryRow]) -> str:
    body = []
    for r in rows:
        verdict = "" if r.passed is None else (
            "<span class=\"ok\">ok</span>" if r.passed else "<span class=\"missed\">MISSED</span>")
        body.append(f"<tr><td>{_e(r.label)}</td><td class=\"num\">{_e(r.value)}</td>"
                    f"<td>{_e(r.target)}</td><td>{verdict}</td></tr>")
    return ("<table id=\"summary\"><tr><th>figure</th><th>measured</th><th>target</th>"
            "<th></th></tr>" + "".join(body) + "</table>")


def _table_html(columns: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td class=\"num\">{_e(_cell(v))}</td>" if isinstance(v, int | float)
                         else f"<td>{_e(_cell(v))}</td>" for v in row) + "</tr>"
        for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _finite(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays as Python ones, NaN and infinities as None:
    JSON has no NaN."""
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


@contextmanager
def steps(desc: str, total: int, enabled: bool) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr; the yielded function starts the named step."""
    with tqdm(total=total, desc=desc, unit="step", file=sys.stderr, disable=not enabled) as bar:
        started = False

        def step(label: str) -> None:
            nonlocal started
            if started:
                bar.update()
            started = True
            bar.set_postfix_str(label)

        yield step
        bar.update()
