"""``twomass release``: build, list, show, publish (and validate) catalog releases."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from twomass import release
from twomass.cli import INTERRUPTED
from twomass.cli.context import Context
from twomass.qa.table2 import ValidationParams, validate
from twomass.release.spec import load_spec


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "release", help="build and publish catalog releases from the working database")
    commands = parser.add_subparsers(dest="release_command", required=True, metavar="ACTION")

    build = commands.add_parser("build", help="run the release rules into schema rel_NAME")
    build.add_argument("name", help="release name (lower case letters, digits, _)")
    build.add_argument("--spec", type=Path, metavar="FILE",
                       help="TOML release spec (default: the 2MASS All-Sky values)")
    build.add_argument("--no-publish", action="store_true",
                       help="build only; leave the public views as they are")
    build.add_argument("--report", type=Path, metavar="OUT.html",
                       help="then write the release's QA report (`twomass qa release`)")
    build.add_argument("--jobs", type=int, default=1, metavar="N",
                       help="N > 1: build HEALPix pixel by pixel over N connections, from "
                       "the working database as it was at the start (ingest is not blocked); "
                       "1 (default): one transaction over all of wdb")
    build.add_argument("--order", type=int, metavar="K",
                       help="HEALPix order of the pixels of a --jobs build (default 3)")
    build.add_argument("--incremental-from", metavar="OLD",
                       help="run the rules only where the working database changed since "
                       "release OLD (built by this version with the same spec); copy the "
                       "rest of the sky from it")
    build.set_defaults(handler=run_build)

    commands.add_parser("list", help="list the releases").set_defaults(handler=run_list)

    show = commands.add_parser("show", help="describe one release")
    show.add_argument("name")
    show.set_defaults(handler=run_show)

    publish = commands.add_parser("publish", help="point the public views at a release")
    publish.add_argument("name")
    publish.set_defaults(handler=run_publish)

    drop = commands.add_parser("drop", help="remove an unpublished release")
    drop.add_argument("name")
    drop.set_defaults(handler=run_drop)

    check = commands.add_parser(
        "validate", help="measure the survey paper's Table 2 against a simulator truth table")
    check.add_argument("name")
    check.add_argument("--truth", type=Path, required=True, metavar="FILE",
                       help="truth.parquet written by `twomass simulate`")
    check.add_argument("--match-arcsec", type=float, default=ValidationParams.match_arcsec,
                       help="catalog-truth match radius [arcsec] (default %(default)s)")
    check.add_argument("--avoid-radius-arcsec", type=float,
                       default=ValidationParams.avoid_radius_arcsec,
                       help="bright-star avoidance radius at Ks = 8 [arcsec], growing as "
                       "the square root of the star's flux (default %(default)s)")
    check.set_defaults(handler=run_validate)


def run_build(args: argparse.Namespace, ctx: Context) -> int:
    start = time.perf_counter()
    spec = load_spec(args.spec)
    db = ctx.current_db()
    record = release.build(db, args.name, spec, publish_after=False, jobs=args.jobs,
                           order=args.order, incremental_from=args.incremental_from)
    if not args.no_publish:
        # The build is committed: an interrupt now leaves it built and unpublished.
        try:
            record = release.publish(db, args.name)
        except KeyboardInterrupt:
            print(f"twomass: interrupted; release {args.name} is built but not published: "
                  f"`twomass release publish {args.name}` publishes it", file=sys.stderr)
            return INTERRUPTED
    _print_counts(record)
    state = "published" if record.is_published else "not published"
    print(f"{release.summary(record)}; {state}; built in {time.perf_counter() - start:.1f} s")
    if args.report:
        from twomass.qa.release_report import write_release_report  # matplotlib: load on use

        print(write_release_report(db, args.name, args.report).line())
    return 0


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    records = release.list_releases(ctx.current_db())
    for r in records:
        mark = "*" if r.is_published else " "
        print(f"{mark} {r.name:<20} {r.counts.get('psc', 0):>12,d} psc "
              f"{r.counts.get('xsc', 0):>9,d} xsc  built {r.built_at:%Y-%m-%d %H:%M:%S}  "
              f"{r.content_checksum[:12]}")
    published = next((r.name for r in records if r.is_published), "none")
    print(f"release list: {len(records)} release(s); published: {published}")
    return 0


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    record = release.show(ctx.current_db(), args.name)
    print(f"name              {record.name}")
    print(f"schema            {record.schema_name}")
    print(f"code version      {record.code_version}")
    print(f"wdb checksum      {record.wdb_checksum}")
    print(f"content checksum  {record.content_checksum}")
    print(f"built at          {record.built_at:%Y-%m-%d %H:%M:%S %Z} "
          f"in {record.build_seconds:.1f} s")
    published = f"{record.published_at:%Y-%m-%d %H:%M:%S %Z}" if record.published_at else "never"
    print(f"published at      {published}{' (current)' if record.is_published else ''}")
    _print_counts(record)
    print("spec              " + json.dumps(record.spec, sort_keys=True))
    print(release.summary(record))
    return 0


def run_publish(args: argparse.Namespace, ctx: Context) -> int:
    record = release.publish(ctx.current_db(), args.name)
    print(f"release publish: public views now show {record.name} ({record.schema_name})")
    return 0


def run_drop(args: argparse.Namespace, ctx: Context) -> int:
    release.drop(ctx.current_db(), args.name)
    print(f"release drop: removed {args.name}")
    return 0


def run_validate(args: argparse.Namespace, ctx: Context) -> int:
    params = ValidationParams(match_arcsec=args.match_arcsec,
                              avoid_radius_arcsec=args.avoid_radius_arcsec)
    report = validate(ctx.current_db(), args.name, args.truth, params)
    for line in report.lines():
        print(line)
    print(report.summary())
    return 0


def _print_counts(record: release.ReleaseRecord) -> None:
    counts = record.counts
    for table in ("psc", "psc_reject", "xsc", "xsc_reject", "scan_info"):
        print(f"  {table:<12} {counts.get(table, 0):>12,d} rows")
    for kind in ("psc", "xsc"):
        for reason, n in sorted(counts.get(f"{kind}_reject_reasons", {}).items()):
            print(f"    {kind} rejected, {reason:<18} {n:>10,d}")
