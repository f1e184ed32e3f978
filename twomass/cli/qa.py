"""``twomass qa``: quality reports of a night or a release, as self-contained HTML.

Each writes OUT.html, OUT.json (the numbers) and OUT.moc.fits (the coverage MOC) beside
it, and with ``--png-dir`` every figure as a PNG file; progress goes to stderr and one
summary line to stdout. The report modules (matplotlib, mocpy) are imported by the
handlers, not here: every command builds this parser, and only these need them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from twomass.cli.context import Context


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "qa", help="quality reports of a night or a release (HTML with figures, JSON, MOC)")
    commands = parser.add_subparsers(dest="qa_command", required=True, metavar="REPORT")

    night = commands.add_parser(
        "night", help="one night: its scans, their QA inputs and scores, coverage, depth")
    night.add_argument("night", metavar="NIGHT_DIR|NIGHT_NAME",
                       help="a night product directory, or a loaded night's name such as "
                       "2000-05-01n (read from the working database)")
    night.add_argument("out", type=Path, metavar="OUT.html", help="report file to write")
    night.add_argument("--png-dir", type=Path, metavar="DIR",
                       help="also write every figure as DIR/<figure>.png")
    night.set_defaults(handler=run_night)

    rel = commands.add_parser(
        "release", help="one release: coverage, density, depth, overlaps, rejects, scans")
    rel.add_argument("name", help="release name")
    rel.add_argument("out", type=Path, metavar="OUT.html", help="report file to write")
    rel.add_argument("--truth", type=Path, metavar="FILE",
                     help="truth.parquet of `twomass simulate`: adds Table 2 and its figures")
    rel.add_argument("--png-dir", type=Path, metavar="DIR",
                     help="also write every figure as DIR/<figure>.png")
    rel.set_defaults(handler=run_release)


def run_night(args: argparse.Namespace, ctx: Context) -> int:
    from twomass.qa.night_data import is_night_directory
    from twomass.qa.night_report import write_night_report

    db = None if is_night_directory(args.night) else ctx.current_db()
    written = write_night_report(args.night, args.out, db=db, png_dir=args.png_dir)
    print(written.line())
    return 0


def run_release(args: argparse.Namespace, ctx: Context) -> int:
    from twomass.qa.release_report import write_release_report

    written = write_release_report(ctx.current_db(), args.name, args.out,
                                   truth_path=args.truth, png_dir=args.png_dir)
    print(written.line())
    return 0
