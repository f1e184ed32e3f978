"""Partition-wise release builds: the release rules per HEALPix pixel, over N connections.

The sky is cut into the NESTED pixels of order k. Each pixel runs the same rule files
as the single-table build (``builder``), over its own working rows plus a margin of the
rows around it (the HATS "margin cache"): every point within the margin of the pixel,
wide enough for the largest duplicate match radius plus the nearest-neighbour search
of ``prox``, and for the largest galaxy ellipse. The rules write only the rows the
pixel owns (view ``part``: its ``hpx`` range), so that each source is decided by one
pixel, the one that owns its ``hpx``. Phases, each over ``jobs`` connections:

1. global, in the snapshot: the library, spec, steps < 20 (what the build reads, scan
   selection, the artifact pass's parents) and copies of ``wdb.scan``, ``wdb.pts`` and
   ``wdb.ext``, the latter two in hpx order. The coordinator's REPEATABLE READ
   transaction exported the snapshot (``pg_export_snapshot``) and this step imported it
   (``SET TRANSACTION SNAPSHOT``): the build reads one state of wdb, the one at its
   start, and takes no lock that blocks ingest. Nothing after it reads wdb: later
   transactions, which cannot see the snapshot's rows, read the copies. (An incremental
   build compares the snapshot with OLD first and copies only the sky it rebuilds.);
2. views: each pixel's work schema with views ``w_pts``, ``w_ext`` of its rows and
   margin in the copies;
3. rules 20-45 per pixel: candidates, duplicates, artifacts, the pixel's catalog rows
   numbered within the pixel (table ``member``);
4. numbering (global): the keys of each pixel start after those of the pixels before
   it (``hpx`` order, as the single build numbers);
5. rules 50-60 per pixel, with the margin's catalog rows and their final keys: prox,
   value-added columns, the pixel's release rows. A row whose nearest neighbour lies
   beyond the margin (or that has none in it) is left to phase 6;
6. one final transaction: the far neighbours over all catalog rows, the pixels' rows
   into the release tables, steps >= 62 (views, indexes, meta), the registry, and the
   rename of the staging schema to ``rel_<name>``. Until it commits nothing is visible
   but the work schemas ``_build_<name>__*``, which a failed build drops (a killed one
   leaves them to the next build of the name, which drops them first).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql
from tqdm import tqdm

from twomass.core import database
from twomass.core.database import Database
from twomass.core.healpix import margin_ranges, pixel_range
from twomass.release import builder, incremental
from twomass.release.metadata import describe_release
from twomass.release.registry import ReleaseError, _lock, schema_for
from twomass.release.spec import ReleaseSpec

#: Default pixel order (order 3: 768 pixels of 7.3 deg; see docs/release-rules.md).
DEFAULT_ORDER = 3

#: The nearest-neighbour part of the margin [arcsec]: a row whose neighbour is farther is
#: looked up in the final step over all catalog rows.
PROX_MARGIN_ARCSEC = 120.0

#: The order of the cells of step 0's hashes (05_wdb_hash.sql: hpx >> 38).
CELL_ORDER = 10

#: The release tables a pixel writes, and their key column.
RELEASE_TABLES = (("psc", "pts_key"), ("psc_reject_row", "pts_key"), ("xsc", "ext_key"),
                  ("xsc_reject_row", "ext_key"), ("scan_info", "scan_key"))

#: Called once the snapshot is taken and the global step committed (tests: an ingest).
Hook = Callable[[], None]


@dataclass
class Pixel:
    """One pixel of the build: its ``hpx`` range, its region (range and margin) and the
    counts the numbering needs."""

    pixel: int
    lo: int
    hi: int
    region: list[tuple[int, int]]
    n_pts: int = 0
    n_ext: int = 0

    def schema(self, name: str) -> str:
        return f"_build_{name}__p{self.pixel}"


def build(db: Database, name: str, spec: ReleaseSpec, *, jobs: int = 2,
          order: int | None = None, margin_arcsec: float | None = None,
          progress: bool = True, step_seconds: dict[str, float] | None = None,
          on_snapshot: Hook | None = None, incremental_from: str | None = None
          ) -> dict[str, float]:
    """Build release ``name`` pixel by pixel over ``jobs`` connections (unpublished).

    With ``incremental_from`` (a release built by this code with this spec), only the
    pixels within reach of what changed since it run the rules; the others are copied
    from it (``twomass.release.incremental``).

    Returns the number of pixels, the pixels rebuilt, the margin [arcsec] and the number
    of catalog rows whose nearest neighbour was looked up beyond the margin.

    Raises
    ------
    ReleaseError
        If the name is invalid, a release of that name exists, or a step fails
        (nothing is then left behind).
    """
    order = DEFAULT_ORDER if order is None else order
    if not 0 <= order <= CELL_ORDER:
        raise ReleaseError(f"pixel order must be in [0, {CELL_ORDER}], got {order}")
    schema = schema_for(name)
    work, stage = f"_build_{name}__w", f"_build_{name}__rel"
    seconds = step_seconds if step_seconds is not None else {}
    start = time.perf_counter()
    with database.connection(db.url) as coord:
        coord.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        _lock(coord, f"build {name}")
        builder.refuse_existing(coord, name, schema)
        old = (incremental.check_old(coord, incremental_from, spec)
               if incremental_from is not None else None)
        _drop_work(db, name)
        with database.connection(db.url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(work)))
        snapshot = coord.execute("SELECT pg_export_snapshot()").fetchone()[0]
        pool = _Pool(db.url, max(1, jobs), progress)
        done = False
        try:
            phase = time.perf_counter()
            margin = _global_step(pool.conns[0], snapshot, work, spec, margin_arcsec)
            pixels = _pixels(pool.conns[0], work, order, margin)
            rebuilt, ruled, runs = pixels, pixels, {}
            if old is None:
                _copy_snapshot(pool.conns[0], order, None)
            else:
                # What changed since OLD, in the snapshot; then only the rows of the
                # pixels holding the rebuilt pixels' regions, and of those pixels'
                # neighbours (the rows of a whole margin pixel are read) are copied.
                plan = incremental.plan(pool.conns[0], work, old, pixels, order, margin)
                runs = incremental.old_key_runs(pool.conns[0], old, pixels)
                rebuilt = ruled = [p for p in pixels if p.pixel in plan.rebuild]
                _copy_snapshot(pool.conns[0], order, sorted(
                    incremental.with_neighbours(plan.margins, pixels, order)))
                if progress:
                    print(f"release {name}: since {incremental_from}, {plan.changed_cells:,d} "
                          f"cells, {plan.changed_scans:,d} chosen scans and "
                          f"{plan.changed_parents:,d} artifact parents changed: "
                          f"{len(rebuilt):,d} of {len(pixels):,d} pixels rebuilt",
                          file=sys.stderr, flush=True)
            seconds["global"] = time.perf_counter() - phase
            if on_snapshot is not None:
                on_snapshot()
            phase = time.perf_counter()
            pool.run("views", ruled, lambda conn, p: _views(conn, name, work, p))
            seconds["views"] = time.perf_counter() - phase
            # (nothing reads wdb from here on; the coordinator's transaction stays open
            # for the release lock only)
            phase = time.perf_counter()
            pool.run("rules A", ruled, lambda conn, p: _rules_a(conn, name, work, p))
            seconds["rules A"] = time.perf_counter() - phase
            phase = time.perf_counter()
            if old is not None:
                _old_members(pool.conns[0], work, old, pixels, plan, runs)
            reject_keys = _number(pool.conns[0], work, pixels)
            seconds["numbering"] = time.perf_counter() - phase
            phase = time.perf_counter()
            pool.run("rules B", rebuilt,
                     lambda conn, p: _rules_b(conn, name, work, p, reject_keys[p.pixel], margin))
            seconds["rules B"] = time.perf_counter() - phase
            if old is not None:
                phase = time.perf_counter()
                conn0 = pool.conns[0]
                incremental.key_shift_table(conn0, work, pixels, runs, plan.rebuild, order)
                conn0.execute(sql.SQL("CREATE INDEX ON {} (cat, scan_key, id)").format(
                    sql.Identifier(work, "member")))
                conn0.commit()
                copied = [p for p in pixels if p.pixel not in plan.rebuild]
                pool.run("copy", copied, lambda conn, p: incremental.copy_pixel(
                    conn, p.schema(name), work, old, p, runs, reject_keys[p.pixel], margin))
                seconds["copy"] = time.perf_counter() - phase
            phase = time.perf_counter()
            far = _final(pool.conns[0], name, schema, work, stage, spec, pixels, margin, start,
                         seconds)
            seconds["final"] = time.perf_counter() - phase
            done = True
            return {"pixels": len(pixels), "rebuilt": len(rebuilt),
                    "margin_arcsec": margin * 3600, "far": far}
        finally:
            pool.close()
            if not done:
                _drop_work(db, name)


def _drop_work(db: Database, name: str) -> None:
    """Drop the work schemas of a build of ``name`` (left by a killed build)."""
    with database.connection(db.url, autocommit=True) as conn:
        schemas = [r[0] for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
            (f"\\_build\\_{name}\\_\\_%",)).fetchall()]
        for schema in schemas:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


class _Pool:
    """``jobs`` connections of the build, each running pixel tasks from a shared list."""

    def __init__(self, url: str, jobs: int, progress: bool) -> None:
        self.conns = [database.connect(url) for _ in range(jobs)]
        self.progress = progress

    def run(self, desc: str, pixels: Sequence[Pixel],
            task: Callable[[psycopg.Connection, Pixel], None]) -> None:
        todo = list(pixels)
        lock = threading.Lock()
        errors: list[BaseException] = []
        bar = tqdm(total=len(todo), desc=f"release {desc}", unit="pixel", file=sys.stderr,
                   disable=not self.progress)

        def worker(conn: psycopg.Connection) -> None:
            while True:
                with lock:
                    if errors or not todo:
                        return
                    pixel = todo.pop(0)
                try:
                    task(conn, pixel)
                    conn.commit()
                except BaseException as exc:  # (stop the other connections' statements)
                    conn.rollback()
                    with lock:
                        errors.append(exc)
                    for other in self.conns:
                        if other is not conn:
                            other.cancel()
                    return
                with lock:
                    bar.update(1)

        threads = [threading.Thread(target=worker, args=(c,)) for c in self.conns]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        bar.close()
        if errors:
            raise errors[0]

    def close(self) -> None:
        for conn in self.conns:
            conn.close()


def _run_steps(conn: psycopg.Connection, selected: Callable[[int | None], bool],
               where: str) -> None:
    """Run the build steps whose number ``selected`` accepts (None: the library)."""
    for step, text in builder.steps():
        if not selected(builder.step_number(step)):
            continue
        try:
            conn.execute(text)
        except psycopg.Error as exc:
            reason = " ".join(str(exc).split())
            raise ReleaseError(f"release step {step} failed ({where}): {reason}; "
                               "nothing was written") from None


def _snapshot(conn: psycopg.Connection, snapshot: str) -> None:
    """Start a REPEATABLE READ transaction that reads the build's snapshot."""
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))


def _global_step(conn: psycopg.Connection, snapshot: str, work: str, spec: ReleaseSpec,
                 margin_arcsec: float | None) -> float:
    """Phase 1: library, spec, steps < 20, a copy of wdb.scan; returns the margin [deg].
    Leaves the snapshot's transaction open for ``_copy_snapshot``."""
    _snapshot(conn, snapshot)
    builder.set_build_session(conn, [work])
    builder.write_spec(conn, spec)
    conn.execute("CREATE UNLOGGED TABLE w_scan AS SELECT * FROM wdb.scan")
    conn.execute("ALTER TABLE w_scan ADD PRIMARY KEY (scan_key)")
    conn.execute("ANALYZE w_scan")
    builder.write_part(conn, 0, builder.ALL_SKY_HI)
    _run_steps(conn, lambda n: n is None or n < 20, "global step")
    conn.execute(
        "CREATE UNLOGGED TABLE member (pixel bigint, cat char(1), scan_key integer, "
        "id integer, k bigint, hpx bigint, ra float8, dec float8, x float8, y float8, "
        "z float8, use_src smallint, dup_src smallint, key integer)")
    conn.execute("CREATE UNLOGGED TABLE far (pixel bigint, cat char(1), key integer, "
                 "ra float8, dec float8)")
    # The margin: the largest match radius and the neighbour search, and at least the
    # largest galaxy ellipse (gal_contam) a point of the pixel may lie in.
    largest = conn.execute(
        "SELECT greatest(s.psc_match_arcsec, s.xsc_match_arcsec), "
        "(SELECT max(r_k20fe) FROM wdb.ext) * s.gal_contam_scale FROM spec AS s").fetchone()
    margin = (margin_arcsec if margin_arcsec is not None
              else float(largest[0]) + PROX_MARGIN_ARCSEC)
    margin = max(margin, float(largest[1] or 0) + 1)
    return margin / 3600


def _copy_snapshot(conn: psycopg.Connection, order: int, only: list[int] | None) -> None:
    """The snapshot's working rows (those of the order-``order`` pixels ``only``, else all)
    in hpx order, so that a pixel and its margin are a few contiguous stretches of the
    table (wdb is in load order: a range of hpx read through its index jumps all over the
    table); then the snapshot's transaction commits. (One pass over wdb with a hashed
    list of pixels: reading the pixels' ranges through the hpx index took 10 times as
    long, the rows being scattered over the table.)"""
    for table, source in (("snap_pts", "wdb.pts"), ("snap_ext", "wdb.ext")):
        where = sql.SQL("")
        if only is not None:
            where = sql.SQL("WHERE hpx >> {} = ANY({}::bigint[])").format(
                sql.Literal(2 * (29 - order)), sql.Literal(sorted(only)))
        conn.execute(sql.SQL("CREATE UNLOGGED TABLE {} AS SELECT * FROM {} {} ORDER BY hpx")
                     .format(sql.Identifier(table), sql.Identifier(*source.split(".")), where))
        conn.execute(sql.SQL("CREATE INDEX ON {} (hpx)").format(sql.Identifier(table)))
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    conn.commit()
    conn.isolation_level = None


def _pixels(conn: psycopg.Connection, work: str, order: int, margin_deg: float) -> list[Pixel]:
    """The pixels holding working rows or a chosen scan's centre, in hpx order."""
    shift = 2 * (CELL_ORDER - order)
    rows = conn.execute(sql.SQL(
        "SELECT DISTINCT cell >> {shift} FROM {work}.wdb_hash "
        "WHERE name IN ('wdb.pts', 'wdb.ext') "
        "UNION SELECT hpx >> {full} FROM {work}.chosen_scan ORDER BY 1").format(
            shift=sql.Literal(shift), full=sql.Literal(2 * (29 - order)),
            work=sql.Identifier(work))).fetchall()
    return [Pixel(p, *pixel_range(p, order), margin_ranges(p, order, margin_deg))
            for (p,) in rows]


def _region_join(pixel: Pixel, table: str, alias: str) -> sql.Composed:
    """``unnest(lo[], hi[]) JOIN table ON hpx in a range``: the pixel's rows and margin."""
    lows, highs = zip(*pixel.region, strict=True)
    return sql.SQL(
        "unnest({}::bigint[], {}::bigint[]) AS r (lo, hi) "
        "JOIN {} AS {} ON {}.hpx BETWEEN r.lo AND r.hi").format(
            sql.Literal(list(lows)), sql.Literal(list(highs)),
            sql.Identifier(*table.split(".")), sql.Identifier(alias), sql.Identifier(alias))


def _views(conn: psycopg.Connection, name: str, work: str, pixel: Pixel) -> None:
    """Phase 2: the pixel's work schema, its views w_pts, w_ext of its rows and margin
    (of the snapshot's copy), and its counts of owned working rows."""
    conn.isolation_level = None
    schema = pixel.schema(name)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    for view, table in (("w_pts", "snap_pts"), ("w_ext", "snap_ext")):
        conn.execute(sql.SQL("CREATE VIEW {} AS SELECT t.* FROM {}").format(
            sql.Identifier(schema, view), _region_join(pixel, f"{work}.{table}", "t")))
    pixel.n_pts, pixel.n_ext = conn.execute(sql.SQL(
        "SELECT (SELECT count(*) FROM {pts} WHERE hpx BETWEEN {lo} AND {hi}), "
        "(SELECT count(*) FROM {ext} WHERE hpx BETWEEN {lo} AND {hi})").format(
            pts=sql.Identifier(work, "snap_pts"), ext=sql.Identifier(work, "snap_ext"),
            lo=sql.Literal(pixel.lo), hi=sql.Literal(pixel.hi))).fetchone()


def _rules_a(conn: psycopg.Connection, name: str, work: str, pixel: Pixel) -> None:
    """Phase 3: steps 20-45 over the pixel and its margin; its catalog rows to member."""
    conn.isolation_level = None
    builder.set_build_session(conn, [pixel.schema(name), work])
    builder.write_part(conn, pixel.lo, pixel.hi)
    _run_steps(conn, lambda n: n is not None and 20 <= n < 50, f"pixel {pixel.pixel}")
    conn.execute(sql.SQL("INSERT INTO member SELECT {}, c.* FROM cat_keys AS c").format(
        sql.Literal(pixel.pixel)))


def _old_members(conn: psycopg.Connection, work: str, old: str, pixels: list[Pixel],
                 plan: incremental.Plan, runs: dict) -> None:
    """The catalog rows of the pixels that run no rules, from release ``old``, into
    member, and their working-row counts (catalog and rejects: their sky is unchanged)."""
    conn.isolation_level = None
    builder.set_build_session(conn, [work])
    for p in pixels:
        if p.pixel in plan.rebuild:
            continue
        incremental.old_members(conn, work, old, p, runs, whole=p.pixel in plan.margins)
        sizes = {t: (runs[(p.pixel, t)][1] - runs[(p.pixel, t)][0] + 1
                     if (p.pixel, t) in runs else 0)
                 for t in ("psc", "psc_reject_row", "xsc", "xsc_reject_row")}
        p.n_pts = sizes["psc"] + sizes["psc_reject_row"]
        p.n_ext = sizes["xsc"] + sizes["xsc_reject_row"]
    conn.commit()


def _number(conn: psycopg.Connection, work: str, pixels: list[Pixel]) -> dict[int, tuple]:
    """Phase 4: key offsets per pixel and catalog (table key_offset), reject key starts."""
    conn.isolation_level = None
    builder.set_build_session(conn, [work])
    conn.execute("CREATE INDEX ON member (hpx)")
    conn.execute("ANALYZE member")
    counts = {(p, c): n for p, c, n in conn.execute(
        "SELECT pixel, cat, count(*) FROM member GROUP BY pixel, cat").fetchall()}
    total = {c: sum(n for (_, cat), n in counts.items() if cat == c) for c in "PX"}
    conn.execute("CREATE UNLOGGED TABLE key_offset (pixel bigint, cat char(1), key0 integer, "
                 "PRIMARY KEY (pixel, cat))")
    key0 = {"P": 0, "X": 0}
    reject0 = dict(total)
    starts = {}
    for p in pixels:
        starts[p.pixel] = (reject0["P"], reject0["X"])
        for cat, n_rows in (("P", p.n_pts), ("X", p.n_ext)):
            n = counts.get((p.pixel, cat), 0)
            conn.execute("INSERT INTO key_offset VALUES (%s, %s, %s)", (p.pixel, cat, key0[cat]))
            key0[cat] += n
            reject0[cat] += n_rows - n
    conn.execute("ANALYZE key_offset")
    conn.commit()
    return starts


def _rules_b(conn: psycopg.Connection, name: str, work: str, pixel: Pixel,
             reject_keys: tuple[int, int], margin_deg: float) -> None:
    """Phase 5: steps 50-60 with the catalog rows of the pixel and margin, final keys."""
    builder.set_build_session(conn, [pixel.schema(name), work])
    builder.write_part(conn, pixel.lo, pixel.hi, *reject_keys)
    conn.execute("DROP VIEW cat_keys")
    conn.execute(sql.SQL(
        "CREATE VIEW cat_keys AS "
        "SELECT m.cat, m.scan_key, m.id, m.k, m.hpx, m.ra, m.dec, m.x, m.y, m.z, "
        "m.use_src, m.dup_src, (m.key + o.key0)::integer AS key "
        "FROM {} JOIN key_offset AS o ON o.pixel = m.pixel AND o.cat = m.cat").format(
            _region_join(pixel, f"{work}.member", "m")))
    _run_steps(conn, lambda n: n is not None and 50 <= n < 62, f"pixel {pixel.pixel}")
    # Rows whose nearest neighbour may lie beyond the margin: left to the final step.
    conn.execute(
        "INSERT INTO far SELECT %s, c.cat, c.key, c.ra, c.dec FROM cat_row AS c "
        "LEFT JOIN cat_nn AS n ON n.cat = c.cat AND n.key = c.key "
        "WHERE c.hpx BETWEEN %s AND %s AND (n.prox IS NULL OR n.prox >= %s)",
        (pixel.pixel, pixel.lo, pixel.hi, margin_deg * 3600 * (1 - 1e-6)))


def _final(conn: psycopg.Connection, name: str, schema: str, work: str, stage: str,
           spec: ReleaseSpec, pixels: list[Pixel], margin_deg: float, start: float,
           seconds: dict[str, float]) -> int:
    """Phase 6, one transaction: far neighbours, release tables, steps >= 62, registry.
    Returns the number of far neighbours looked up."""
    conn.isolation_level = None
    builder.set_build_session(conn, [work])
    far = conn.execute("SELECT count(*) FROM far").fetchone()[0]
    phase = time.perf_counter()
    _far_neighbours(conn, name, work, pixels, margin_deg)
    seconds["final: far neighbours"] = time.perf_counter() - phase
    phase = time.perf_counter()
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(stage)))
    builder.set_build_session(conn, [stage, work])
    builder.write_spec(conn, spec)
    for table, _ in RELEASE_TABLES:
        parts = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT * FROM {}").format(sql.Identifier(p.schema(name), table))
            for p in pixels)
        conn.execute(sql.SQL("CREATE TABLE {} AS {} WITH NO DATA").format(
            sql.Identifier(stage, table), parts))
        if table != "scan_info":
            # The working database's layout first (step 62 then finds it done): the rows
            # are written once, into their partitions.
            conn.execute("CALL partition_like_wdb(%s)",
                         (sql.Identifier(stage, table).as_string(conn),))
        conn.execute(sql.SQL("INSERT INTO {} {}").format(sql.Identifier(stage, table), parts))
    seconds["final: tables"] = time.perf_counter() - phase
    phase = time.perf_counter()
    _run_steps(conn, lambda n: n is not None and n >= 62 and n != 66, "final step")
    seconds["final: steps 62-70"] = time.perf_counter() - phase
    for table, _ in RELEASE_TABLES:
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(stage, table)))
    counts, wdb_checksum, content_checksum = conn.execute(
        "SELECT counts, wdb_checksum, content_checksum FROM meta").fetchone()
    for p in pixels:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(p.schema(name))))
    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(work)))
    conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
        sql.Identifier(stage), sql.Identifier(schema)))
    conn.execute(
        "INSERT INTO twomass_meta.release (name, schema_name, spec, code_version, "
        "wdb_checksum, content_checksum, counts, build_seconds) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (name, schema, json.dumps(spec.as_dict()), builder.code_version(), wdb_checksum,
         content_checksum, json.dumps(counts), time.perf_counter() - start))
    describe_release(conn, schema)
    conn.commit()
    return far


def _far_neighbours(conn: psycopg.Connection, name: str, work: str, pixels: list[Pixel],
                    margin_deg: float) -> None:
    """prox / pxpa / pxcntr of every XSC row and of the PSC rows of table far, over every
    catalog row, written into their pixels' rows. The XSC as the single build does it
    (find_nearest_neighbours, sql/lib/cross_matches.sql): it is sparse, most of its rows'
    neighbours lie beyond the margin, and its passes find them all at once, where
    looking each up alone took about 9 ms a row; the PSC's far rows by the index passes
    (find_far_neighbours)."""
    key = "(m.key + o.key0)::integer AS key, m.hpx, m.ra, m.dec"
    join = "FROM member AS m JOIN key_offset AS o ON o.pixel = m.pixel AND o.cat = m.cat"
    conn.execute(f"CREATE UNLOGGED TABLE cat_row AS SELECT m.cat, {key}, "
                 "cosd(m.dec) * cosd(m.ra) AS x, cosd(m.dec) * sind(m.ra) AS y, "
                 f"sind(m.dec) AS z {join} WHERE m.cat = 'X'")
    conn.execute("ANALYZE cat_row")
    conn.execute("CALL find_nearest_neighbours()")
    conn.execute("DROP TABLE cat_row")
    if conn.execute("SELECT EXISTS (SELECT 1 FROM far WHERE cat = 'P')").fetchone()[0]:
        conn.execute(f"CREATE VIEW cat_row AS SELECT m.cat, {key} {join} WHERE m.cat = 'P'")
        conn.execute("CREATE UNLOGGED TABLE nn_alone AS SELECT cat, key, ra, dec FROM far "
                     "WHERE cat = 'P'")
        conn.execute("ANALYZE member")
        conn.execute("CALL find_far_neighbours(%s)", (min(4.0, 2 * margin_deg),))
        conn.execute("DROP VIEW cat_row")
        conn.execute("DROP TABLE nn_alone")
    by_pixel = {p.pixel: p for p in pixels}
    for (pixel,) in conn.execute("SELECT DISTINCT pixel FROM far WHERE cat = 'P'").fetchall():
        conn.execute(sql.SQL(
            "UPDATE {t} AS t SET prox = n.prox, pxpa = n.pxpa, pxcntr = n.pxcntr "
            "FROM far AS f LEFT JOIN cat_nn AS n ON n.cat = f.cat AND n.key = f.key "
            "WHERE f.pixel = {p} AND f.cat = 'P' AND t.pts_key = f.key").format(
                t=sql.Identifier(by_pixel[pixel].schema(name), "psc"), p=sql.Literal(pixel)))
    for p in pixels:
        conn.execute(sql.SQL(
            "UPDATE {t} AS t SET prox = n.prox, pxpa = n.pxpa, pxcntr = n.pxcntr "
            "FROM {t} AS x LEFT JOIN cat_nn AS n ON n.cat = 'X' AND n.key = x.ext_key "
            "WHERE t.ext_key = x.ext_key AND (t.prox, t.pxpa, t.pxcntr) "
            "IS DISTINCT FROM (n.prox, n.pxpa, n.pxcntr)").format(
                t=sql.Identifier(p.schema(name), "xsc")))
