"""Incremental release builds: rebuild only the pixels whose sky changed since a release.

``release build NEW --incremental-from OLD`` runs the partition-wise build
(``partitioned``) with a plan: the pixels within reach of a change run the rules, the
others take their rows from OLD with their keys shifted. What changed is read from what
OLD recorded of the working database it read (``wdb_cell_hash``: the count and hash sum
of the rows of every order-10 cell; ``artifact_parent``: the parents of its artifact
pass, 70_meta.sql), against the same figures of the build's snapshot:

- the cells whose rows differ (new, removed or changed rows of wdb.pts, wdb.ext,
  wdb.scan at the scan centre, wdb.bright_star);
- the scans chosen by one build and not the other (their whole area);
- the artifact parents of one build and not the other (their zones reach up to 30').

A source's fate depends on the rows within the margin of it (duplicates, artifacts of
the pass within a pixel, galaxy ellipses), its value-added columns on the fate of the
rows within the margin of those: a pixel is *rebuilt* when a change lies within twice
the margin of it (the reach of a parent, plus twice the margin). Its neighbours, whose
rows the rebuilt pixels' value-added step reads, give them from OLD with all the columns
that step reads (the working row's id found again by scan, hpx and position).

Every other pixel is *copied*: its rows are those of OLD, the keys shifted by the
difference of the pixel's first key (keys are numbered in hpx order, so a pixel's keys
are one run), and the keys its rows refer to (``pxcntr``, ``psc.ext_key``,
``xsc.pts_key``) shifted by their own pixel's difference, or, when that pixel is
rebuilt, found again by identity (the same scan and position; the working row's id).
Rows whose nearest neighbour lies beyond the margin with a rebuilt pixel nearer than it
join the final nearest-neighbour pass, which also finds every XSC row's neighbour anew.
The result is the release a full build gives (tested against one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg import sql

from twomass.core.healpix import HPX_ORDER, hpx2ang, pixel_radius_deg, pixels_within
from twomass.release import builder
from twomass.release.registry import ReleaseError, schema_for
from twomass.release.spec import ReleaseSpec

#: The order of the cells OLD recorded (05_wdb_hash.sql: hpx >> 38).
CELL_ORDER = 10

#: The catalogs, their release table, key column and reject table.
CATALOGS = (("P", "psc", "pts_key", "psc_reject_row"), ("X", "xsc", "ext_key", "xsc_reject_row"))


@dataclass
class Plan:
    """Which pixels run which rules, and what was found changed."""

    rebuild: set[int]
    margins: set[int]
    changed_cells: int = 0
    changed_scans: int = 0
    changed_parents: int = 0


def check_old(conn: psycopg.Connection, old: str, spec: ReleaseSpec) -> str:
    """The schema of release ``old``, if an incremental build can start from it."""
    schema = schema_for(old)
    row = conn.execute("SELECT spec, code_version FROM twomass_meta.release WHERE name = %s",
                       (old,)).fetchone()
    if row is None:
        raise ReleaseError(f"--incremental-from: no release named {old!r}")
    if row[0] != spec.as_dict():
        raise ReleaseError(f"--incremental-from: release {old!r} was built with another "
                           "spec; an incremental build keeps the spec (build in full)")
    if row[1] != builder.code_version():
        raise ReleaseError(f"--incremental-from: release {old!r} was built by other code "
                           f"({row[1]}, now {builder.code_version()}); build in full")
    has = conn.execute("SELECT to_regclass(%s), to_regclass(%s)",
                       (f"{schema}.wdb_cell_hash", f"{schema}.artifact_parent")).fetchone()
    if None in has:
        raise ReleaseError(f"--incremental-from: release {old!r} does not record what it "
                           "read (built before incremental builds existed); build in full")
    return schema


def plan(conn: psycopg.Connection, work: str, old: str, pixels: list, order: int,
         margin_deg: float) -> Plan:
    """Compare the snapshot's cells, chosen scans and parents with OLD's; choose pixels."""
    ident = {"work": sql.Identifier(work), "old": sql.Identifier(old)}
    cells = [c for (c,) in conn.execute(sql.SQL(
        "SELECT coalesce(n.cell, o.cell) FROM {work}.wdb_hash AS n "
        "FULL JOIN {old}.wdb_cell_hash AS o ON o.name = n.name AND o.cell = n.cell "
        "WHERE n.n IS DISTINCT FROM o.n OR n.h IS DISTINCT FROM o.h "
        "GROUP BY 1").format(**ident)).fetchall()]
    # Scans chosen by one build only: their centre and the radius of their area.
    scans = conn.execute(sql.SQL(
        "WITH flipped AS ((SELECT scan_key FROM {work}.chosen_scan "
        "                  EXCEPT SELECT scan_key FROM {old}.scan_info) "
        "                 UNION (SELECT scan_key FROM {old}.scan_info "
        "                        EXCEPT SELECT scan_key FROM {work}.chosen_scan)), "
        "area AS (SELECT ra, dec, ra_1, dec_1, ra_2, dec_2, ra_3, dec_3, ra_4, dec_4 "
        "         FROM {work}.w_scan WHERE scan_key IN (SELECT scan_key FROM flipped) "
        "         UNION SELECT ra, dec, ra_1, dec_1, ra_2, dec_2, ra_3, dec_3, ra_4, dec_4 "
        "         FROM {old}.scan_info WHERE scan_key IN (SELECT scan_key FROM flipped)) "
        "SELECT ra, dec, greatest(public.hpx_dist(ra, dec, ra_1, dec_1), "
        "    public.hpx_dist(ra, dec, ra_2, dec_2), public.hpx_dist(ra, dec, ra_3, dec_3), "
        "    public.hpx_dist(ra, dec, ra_4, dec_4)) FROM area").format(**ident)).fetchall()
    # Parents of one build only, and the reach of their zones (40_artifacts.sql).
    parents = conn.execute(sql.SQL(
        "WITH differ AS ((SELECT ra, dec, j, h, ks FROM {work}.mapcor_parent "
        "                 EXCEPT ALL SELECT ra, dec, j, h, ks FROM {old}.artifact_parent) "
        "                UNION ALL (SELECT ra, dec, j, h, ks FROM {old}.artifact_parent "
        "                 EXCEPT ALL SELECT ra, dec, j, h, ks FROM {work}.mapcor_parent)) "
        "SELECT d.ra, d.dec, least(m.reach_max_arcsec, greatest(m.spike_arcsec, m.halo_arcsec) "
        "    * power(10, 0.2 * (m.parent_ks_max - d.ks))) / 3600 "
        "FROM differ AS d CROSS JOIN {work}.mapcor AS m").format(**ident)).fetchall()
    reach = 2 * margin_deg
    discs: list[tuple[float, float, float]] = []
    if cells:
        ra, dec = hpx2ang(np.array(cells), CELL_ORDER)
        cell_radius = pixel_radius_deg(CELL_ORDER)
        discs += [(float(a), float(d), cell_radius + reach)
                  for a, d in zip(ra, dec, strict=True)]
    discs += [(a, d, r + reach) for a, d, r in scans]
    discs += [(a, d, r + reach) for a, d, r in parents]
    rebuild = pixels_within(discs, order) & {p.pixel for p in pixels}
    return Plan(rebuild, with_neighbours(rebuild, pixels, order), len(cells), len(scans),
                len(parents))


def with_neighbours(rebuild: set[int], pixels: list, order: int) -> set[int]:
    """The pixels to rebuild and those holding rows of their margins (the rebuilt pixels'
    second half of the rules reads these pixels' catalog rows)."""
    present = {p.pixel: p for p in pixels}
    shift = 2 * (HPX_ORDER - order)
    ruled = set(rebuild)
    for pixel in rebuild:
        for lo, hi in present[pixel].region:
            ruled.update(range(lo >> shift, (hi >> shift) + 1))
    return ruled & present.keys()


def old_key_runs(conn: psycopg.Connection, old: str, pixels: list) -> dict:
    """``(pixel, table) -> (first, last)`` key of OLD's rows in each pixel: keys are
    numbered in hpx order (the rejects' after the catalog rows'), so a pixel's keys are
    one run, found at its two ends of the hpx index."""
    runs: dict = {}
    for table, key in (("psc", "pts_key"), ("psc_reject_row", "pts_key"),
                       ("xsc", "ext_key"), ("xsc_reject_row", "ext_key")):
        ends = [sql.SQL(
            "SELECT {k} FROM {t} WHERE hpx BETWEEN %s AND %s "
            "ORDER BY hpx {d}, {k} {d} LIMIT 1").format(
                k=sql.Identifier(key), t=sql.Identifier(old, table), d=sql.SQL(direction))
            for direction in ("ASC", "DESC")]
        for p in pixels:
            first = conn.execute(ends[0], (p.lo, p.hi)).fetchone()
            if first is not None:
                last = conn.execute(ends[1], (p.lo, p.hi)).fetchone()
                runs[(p.pixel, table)] = (first[0], last[0])
    return runs


def key_shift_table(conn: psycopg.Connection, work: str, pixels: list, runs: dict,
                    rebuild: set[int], order: int) -> None:
    """Table ``key_shift``: per catalog and pixel, OLD's key run and what to add to it (the
    new first key minus the old one); ``rebuilt`` where the pixel runs the rules again."""
    conn.execute(sql.SQL(
        "CREATE UNLOGGED TABLE {}.key_shift (cat char(1), pixel bigint, key_lo integer, "
        "key_hi integer, shift integer, rebuilt boolean)").format(sql.Identifier(work)))
    offsets = {(p, c): k for p, c, k in conn.execute(sql.SQL(
        "SELECT pixel, cat, key0 FROM {}.key_offset").format(sql.Identifier(work))).fetchall()}
    for cat, table, _, _ in CATALOGS:
        for p in pixels:
            if (p.pixel, table) in runs:
                lo, hi = runs[(p.pixel, table)]
                conn.execute(sql.SQL("INSERT INTO {}.key_shift VALUES (%s, %s, %s, %s, %s, %s)")
                             .format(sql.Identifier(work)),
                             (cat, p.pixel, lo, hi, offsets[(p.pixel, cat)] + 1 - lo,
                              p.pixel in rebuild))
    # The rebuilt pixels as discs (centre, radius [deg]) for copy_pixel's far rows.
    conn.execute(sql.SQL("CREATE UNLOGGED TABLE {}.rebuilt_pixel (ra float8, dec float8, "
                         "radius float8)").format(sql.Identifier(work)))
    if rebuild:
        ra, dec = hpx2ang(np.array(sorted(rebuild)), order)
        with conn.cursor().copy(sql.SQL("COPY {}.rebuilt_pixel FROM STDIN").format(
                sql.Identifier(work))) as copy:
            for a, d in zip(ra, dec, strict=True):
                copy.write_row((float(a), float(d), pixel_radius_deg(order)))
    conn.execute(sql.SQL("CREATE INDEX ON {}.key_shift (cat, key_lo)").format(
        sql.Identifier(work)))
    conn.execute(sql.SQL("ANALYZE {}.key_shift").format(sql.Identifier(work)))
    # new_key(cat, key): OLD's key in the new numbering; NULL if its pixel is rebuilt.
    conn.execute(sql.SQL(
        "CREATE FUNCTION {}.new_key(c char(1), old integer) RETURNS integer "
        "LANGUAGE sql STABLE AS $$ SELECT CASE WHEN NOT s.rebuilt THEN old + s.shift END "
        "FROM {}.key_shift AS s WHERE s.cat = c AND s.key_lo <= old "
        "ORDER BY s.key_lo DESC LIMIT 1 $$").format(sql.Identifier(work), sql.Identifier(work)))


def old_members(conn: psycopg.Connection, work: str, old: str, pixel, runs: dict,
                whole: bool) -> None:
    """The catalog rows of a pixel that runs no rules into ``member``, from OLD (its sky
    is unchanged, so are their fate and position): positions and keys within the pixel,
    what the final nearest-neighbour pass reads; ``whole``, for a pixel in a rebuilt
    pixel's margin, every column the rebuilt pixel's second half reads (the working
    row's id found by its scan, hpx and position; the unit vector as step 2 computes it)."""
    columns = {
        "P": ("w.scan_key, w.id, work_key(w.scan_key, w.id), t.hpx, t.ra, t.dec, "
              "cosd(t.dec) * cosd(t.ra), cosd(t.dec) * sind(t.ra), sind(t.dec), "
              "t.use_src, t.dup_src",
              "JOIN {work}.snap_pts AS w ON w.hpx = t.hpx AND w.scan_key = t.scan_key "
              "AND w.ra = t.ra AND w.dec = t.dec"),
        "X": ("t.scan_key, t.id, work_key(t.scan_key, t.id), t.hpx, t.ra, t.dec, "
              "cosd(t.dec) * cosd(t.ra), cosd(t.dec) * sind(t.ra), sind(t.dec), "
              "t.use_src, t.dup_src", ""),
    }
    for cat, table, key, _ in CATALOGS:
        if (pixel.pixel, table) not in runs:
            continue
        if whole:
            select, join = columns[cat]
            target = ("pixel, cat, scan_key, id, k, hpx, ra, dec, x, y, z, use_src, dup_src, "
                      "key")
        else:
            select, join = "t.hpx, t.ra, t.dec", ""
            target = "pixel, cat, hpx, ra, dec, key"
        conn.execute(sql.SQL(
            "INSERT INTO {work}.member (" + target + ") "
            "SELECT %s, %s, " + select + ", t.{k} - %s + 1 FROM {t} AS t " + join
            + " WHERE t.hpx BETWEEN %s AND %s").format(
                work=sql.Identifier(work), k=sql.Identifier(key),
                t=sql.Identifier(old, table)),
            (pixel.pixel, cat, runs[(pixel.pixel, table)][0], pixel.lo, pixel.hi))


def copy_pixel(conn: psycopg.Connection, schema: str, work: str, old: str, pixel,
               runs: dict, reject_starts: tuple[int, int], margin_deg: float) -> None:
    """A pixel that is not rebuilt: its release tables from OLD's, keys shifted; its rows
    whose nearest neighbour may have changed into table ``far``."""
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    shifts = {cat: conn.execute(sql.SQL(
        "SELECT key_lo, key_hi, shift FROM {}.key_shift WHERE cat = %s AND pixel = %s").format(
            sql.Identifier(work)), (cat, pixel.pixel)).fetchone() for cat, *_ in CATALOGS}
    ident = sql.Identifier(work)

    def mapped(column: str, cat: str) -> sql.Composable:
        """The column's key in the new numbering: its own pixel's run first, else looked
        up (NULL when that pixel is rebuilt)."""
        run = shifts[cat] or (0, -1, 0)
        return sql.SQL("CASE WHEN t.{col} IS NULL THEN NULL "
                       "WHEN t.{col} BETWEEN {lo} AND {hi} THEN t.{col} + {s} "
                       "ELSE {w}.new_key({c}, t.{col}) END").format(
            col=sql.Identifier(column), lo=sql.Literal(run[0]), hi=sql.Literal(run[1]),
            s=sql.Literal(run[2]), w=ident, c=sql.Literal(cat))

    # The matching row of the other catalog when its pixel is rebuilt: by identity.
    xsc_of_point = sql.SQL(
        "(SELECT m.key + o.key0 FROM {old}.xsc AS x "
        " JOIN {w}.member AS m ON m.cat = 'X' AND m.scan_key = x.scan_key AND m.id = x.id "
        " JOIN {w}.key_offset AS o ON o.pixel = m.pixel AND o.cat = 'X' "
        " WHERE x.ext_key = t.ext_key)").format(old=sql.Identifier(old), w=ident)
    point_of_xsc = sql.SQL(
        "(SELECT m.key + o.key0 FROM {w}.snap_ext AS e "
        " JOIN {w}.member AS m ON m.cat = 'P' AND m.scan_key = e.scan_key AND m.id = e.pts_id "
        " JOIN {w}.key_offset AS o ON o.pixel = m.pixel AND o.cat = 'P' "
        " WHERE e.hpx = t.hpx AND e.scan_key = t.scan_key AND e.id = t.id)").format(w=ident)
    # A neighbour in a rebuilt pixel is the same row as before (its sky is unchanged
    # within the margin of this pixel): found by its scan and position.
    neighbour = sql.SQL(
        "(SELECT m.key + o.key0 FROM {old}.psc AS q "
        " JOIN {w}.member AS m ON m.cat = 'P' AND m.hpx = q.hpx AND m.scan_key = q.scan_key "
        "  AND m.ra = q.ra AND m.dec = q.dec "
        " JOIN {w}.key_offset AS o ON o.pixel = m.pixel AND o.cat = 'P' "
        " WHERE q.pts_key = t.pxcntr)").format(old=sql.Identifier(old), w=ident)
    replace = {
        "psc": {"pts_key": _plus("pts_key", shifts["P"]),
                "pxcntr": _or_identity("pxcntr", mapped("pxcntr", "P"), neighbour),
                "ext_key": _or_identity("ext_key", mapped("ext_key", "X"), xsc_of_point)},
        "xsc": {"ext_key": _plus("ext_key", shifts["X"]), "pxcntr": mapped("pxcntr", "X"),
                "pts_key": _or_identity("pts_key", mapped("pts_key", "P"), point_of_xsc)},
    }
    rejects = dict(zip(("psc_reject_row", "xsc_reject_row"), reject_starts, strict=True))
    for table in ("psc", "psc_reject_row", "xsc", "xsc_reject_row", "scan_info"):
        columns = [c for (c,) in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            (sql.Identifier(old, table).as_string(conn),)).fetchall()]
        changes = dict(replace.get(table, {}))
        if table in rejects:
            key = "pts_key" if table == "psc_reject_row" else "ext_key"
            run = runs.get((pixel.pixel, table))
            shift = 0 if run is None else rejects[table] + 1 - run[0]
            changes[key] = sql.SQL("t.{} + {}").format(sql.Identifier(key), sql.Literal(shift))
        select = sql.SQL(", ").join(
            sql.SQL("{} AS {}").format(changes[c], sql.Identifier(c)) if c in changes
            else sql.SQL("t.{}").format(sql.Identifier(c)) for c in columns)
        order = {"scan_info": "hpx, scan_key"}.get(table, "hpx")
        conn.execute(sql.SQL(
            "CREATE TABLE {target} AS SELECT {select} FROM {source} AS t "
            "WHERE t.hpx BETWEEN {lo} AND {hi} ORDER BY {order}").format(
                target=sql.Identifier(schema, table), select=select,
                source=sql.Identifier(old, table), lo=sql.Literal(pixel.lo),
                hi=sql.Literal(pixel.hi), order=sql.SQL(order)))
    # PSC rows whose nearest neighbour may have changed: the final pass looks them up
    # again (it finds every XSC row's anew): those without one, and those whose neighbour
    # lies beyond the margin when a rebuilt pixel is nearer than it.
    conn.execute(sql.SQL(
        "INSERT INTO {w}.far SELECT %s, 'P', t.pts_key, t.ra, t.dec FROM {t} AS t "
        "WHERE t.pxcntr IS NULL OR t.prox IS NULL "
        "   OR (t.prox >= %s AND EXISTS (SELECT 1 FROM {w}.rebuilt_pixel AS r "
        "       WHERE public.hpx_dist(t.ra, t.dec, r.ra, r.dec) "
        "             < t.prox / 3600 + r.radius))").format(
            w=ident, t=sql.Identifier(schema, "psc")),
        (pixel.pixel, margin_deg * 3600 * (1 - 1e-6)))


def _or_identity(column: str, shifted: sql.Composable, identity: sql.Composable
                 ) -> sql.Composable:
    return sql.SQL("CASE WHEN t.{} IS NULL THEN NULL ELSE coalesce({}, {}) END").format(
        sql.Identifier(column), shifted, identity)


def _plus(column: str, run: tuple | None) -> sql.Composable:
    shift = 0 if run is None else run[2]
    return sql.SQL("t.{} + {}").format(sql.Identifier(column), sql.Literal(shift))
