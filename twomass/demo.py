"""The demonstration path: the whole system on a small simulated sky.

``run`` brings the database to the head revision, simulates a region of a few square
degrees (or reuses the products an earlier run left under ``$TWOMASS_HOME/demo``),
ingests its nights (nights already loaded from the same files are skipped: ingest is
idempotent), builds and publishes a release named ``demo`` (``demo_2``, ... when that
exists), cone-searches around a catalog source and measures the survey paper's
Table 2 against the simulator's truth. Rerunning it on the same database works and
adds one release.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from astropy.table import Table
from psycopg import sql

from twomass import release
from twomass.core.database import Database
from twomass.core.errors import TwomassError
from twomass.core.settings import Settings
from twomass.ingest.load import IngestSummary, NightAlreadyLoaded, ingest_nights
from twomass.migrations import revision
from twomass.qa.table2 import ValidationReport, validate
from twomass.query import cone
from twomass.schema import metadata

#: 3.9 deg^2 at Galactic latitude ~ +45 with seed 1: tile overlaps, re-observed tiles
#: and one chosen scan pointed 6' off its planned tile (tile 36834, 1998-02-18n scan 82),
#: which leaves a coverage gap and an off-tile scan for the validation to report.
REGION = ((148.0, 150.0), (14.0, 16.0))
SEED = 1
CONE_RADIUS_ARCSEC = 60.0


@dataclass(frozen=True)
class ConeResult:
    """The demo's cone search: its centre (a catalog source) and what it found."""

    designation: str
    ra: float
    dec: float
    radius_arcsec: float
    rows: Table


@dataclass(frozen=True)
class DemoReport:
    """Outcome of ``run``.

    Attributes
    ----------
    status
        Database status after initialization.
    products
        Directory of the simulated night products and ``truth.parquet``.
    simulated
        False when the products of an earlier run were reused.
    ingest
        What ingest did with each night.
    release
        The release built and published.
    cone
        The cone search around a catalog source.
    validation
        Table 2 measured against the truth.
    table_rows
        Row count of every working-database table, by qualified name.
    seconds
        Duration of each phase [s], in order.
    """

    status: revision.DatabaseStatus
    products: Path
    simulated: bool
    ingest: IngestSummary
    release: release.ReleaseRecord
    cone: ConeResult
    validation: ValidationReport
    table_rows: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """The closing line."""
        v = self.validation
        missed = [k for k, ok in v.targets().items() if not ok]
        verdict = "Table 2 targets met" if not missed else "MISSED: " + ", ".join(missed)
        return (f"demo: release {self.release.name} published with "
                f"{self.release.counts.get('psc', 0):,d} psc sources from "
                f"{sum(self.table_rows.values()):,d} working rows; cone search found "
                f"{len(self.cone.rows)} sources; completeness {100 * v.completeness:.2f}%, "
                f"reliability {100 * v.reliability:.3f}%; {verdict}; "
                f"{sum(self.seconds.values()):.1f} s")


def table_rows(db: Database) -> dict[str, int]:
    """Row count of every ``wdb`` table."""
    counts = {}
    with db.connection() as conn:
        for table in metadata.sorted_tables:
            if table.schema != "wdb":
                continue
            query = sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(table.schema, table.name)
            )
            counts[table.fullname] = conn.execute(query).fetchone()[0]
    return counts


def prepare(db: Database) -> revision.DatabaseStatus:
    """Initialize an empty database or upgrade an older one; refuse other settings."""
    current = revision.status(db)
    if current.revision is None:
        revision.init(db)
    elif current.revision != current.head:
        revision.upgrade(db)
    return revision.require_current(db)


def products(root: Path, progress: bool) -> tuple[Path, bool]:
    """The demo region's night products under ``root``; simulated unless already there.

    A directory without ``truth.parquet`` (the simulator writes it last) is an
    interrupted run and is simulated again.
    """
    from twomass.pipeline.sim.simulate import simulate

    (ra_lo, ra_hi), (dec_lo, dec_hi) = REGION
    out = root / f"ra{ra_lo:g}-{ra_hi:g}_dec{dec_lo:g}-{dec_hi:g}_seed{SEED}"
    if (out / "truth.parquet").is_file():
        return out, False
    shutil.rmtree(out, ignore_errors=True)
    simulate(out, *REGION, seed=SEED, progress=progress)
    return out, True


def release_name(db: Database) -> str:
    """``demo``, or ``demo_N`` with the first N >= 2 not taken."""
    taken = {r.name for r in release.list_releases(db)}
    name, n = "demo", 1
    while name in taken:
        n += 1
        name = f"demo_{n}"
    return name


def phase_timer(started: float | None = None
                ) -> tuple[dict[str, float], Callable[[str], None]]:
    """Wall seconds per phase: ``done(phase)`` records the time since the previous phase
    ended (or since ``started``, a ``time.perf_counter`` value, or now)."""
    seconds: dict[str, float] = {}
    last = time.perf_counter() if started is None else started

    def done(phase: str) -> None:
        nonlocal last
        now = time.perf_counter()
        seconds[phase], last = now - last, now

    return seconds, done


def ingest_and_release(db: Database, nights: list[Path], progress: bool,
                       say: Callable[[str], None], done: Callable[[str], None]
                       ) -> tuple[IngestSummary, release.ReleaseRecord]:
    """Load the demo's nights and build and publish a release of them (both demos)."""
    try:
        loaded = ingest_nights(db, nights, progress=progress)
    except NightAlreadyLoaded as exc:
        raise TwomassError(f"demo: {exc}; the database holds other files for a demo night: "
                           f"use a new database or `twomass ingest --replace`") from None
    done("ingest")
    say(loaded.line())
    record = release.build(db, release_name(db), progress=progress)
    done("release")
    say(release.summary(record) + "; published")
    return loaded, record


def cone_around_a_source(db: Database, radius_arcsec: float = CONE_RADIUS_ARCSEC) -> ConeResult:
    """Cone search around the published catalog source nearest the region's centre."""
    (ra_lo, ra_hi), (dec_lo, dec_hi) = REGION
    centre = cone.cone(db, (ra_lo + ra_hi) / 2, (dec_lo + dec_hi) / 2, 600.0, limit=1)
    if len(centre) == 0:
        raise TwomassError("demo: the published catalog has no source near the region centre")
    ra, dec = float(centre["ra"][0]), float(centre["dec"][0])
    rows = cone.cone(db, ra, dec, radius_arcsec)
    return ConeResult(str(centre["designation"][0]).strip(), ra, dec, radius_arcsec, rows)


def run(db: Database, home: Path | None = None, *, progress: bool = False,
        say: Callable[[str], None] = lambda line: None,
        started: float | None = None) -> DemoReport:
    """Run the whole path on the database ``db``; products go under ``home/demo``
    (``home`` defaults to the configured ``TWOMASS_HOME``).

    ``say`` receives one line as each phase ends. ``started`` (a ``time.perf_counter``
    value) counts the time before the call, such as starting the embedded server, in
    the first phase.
    """
    seconds, done = phase_timer(started)
    status = prepare(db)
    done("database")
    out, simulated = products((home or Settings().home) / "demo", progress)
    nights = sorted(p for p in out.iterdir() if p.is_dir() and not p.name.endswith(".partial"))
    done("simulate")
    say(f"simulate: {len(nights)} nights in {out}"
        + ("" if simulated else " (reused from an earlier run)"))
    loaded, record = ingest_and_release(db, nights, progress, say, done)
    found = cone_around_a_source(db)
    done("cone")
    say(f"cone: {len(found.rows)} psc sources within {found.radius_arcsec:g} arcsec of "
        f"2MASS J{found.designation} ({found.ra:.5f}, {found.dec:+.5f})")
    report = validate(db, record.name, out / "truth.parquet")
    done("validate")
    return DemoReport(status, out, simulated, loaded, record, found, report, table_rows(db),
                      seconds)
