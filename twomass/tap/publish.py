"""``twomass tap publish NAME``: a release's ``psc`` and ``xsc`` into a DaCHS site.

1. The resource descriptor (``rd.py``) is written to ``inputs/twomass/q.rd`` of the
   site, and ``gavo imp`` creates the empty tables ``twomass.psc`` and ``twomass.xsc``
   with their ADQL metadata (TAP_SCHEMA, VOSI tables).
2. Their indexes are dropped and the rows stream from ``rel_NAME`` with binary
   ``COPY ... TO STDOUT`` into ``COPY ... FROM STDIN`` on the DaCHS database: one
   buffer in memory at a time, whatever the table's size, and no index kept up per row.
3. DaCHS builds the indexes (q3c, hpx, key) once over all rows; ``ANALYZE`` gives the
   planner its statistics.

The tables are replaced: a TAP user sees the previous release until step 1, then the
new one growing until step 3.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql
from tqdm import tqdm

from twomass import release
from twomass.core.database import Database, connect
from twomass.schema.catalogs import RELEASE_TABLES, TABLE_DESCRIPTIONS
from twomass.tap.rd import TapTable, resource_descriptor, tap_column
from twomass.tap.site import DachsSite, TapError, require_extensions

#: The DaCHS resource directory and database schema (ADQL tables ``twomass.psc``, ...).
RESOURCE_DIR = "twomass"
TAP_SCHEMA = "twomass"
#: Published release table -> its key column.
PUBLISHED_TABLES = {"psc": "pts_key", "xsc": "ext_key"}


# Run by DaCHS's interpreter: make the indexes the RD declares, by DaCHS's own index
# code (``gavo imp -I`` would too, but needs DaCHS's ObsCore tables to exist).
_MAKE_INDEXES = """
import sys
from gavo import api, base
rd = api.getRD(sys.argv[1])
with base.getWritableAdminConn() as conn:
    for table_id in sys.argv[2:]:
        api.TableForDef(rd.getById(table_id), connection=conn).makeIndices()
"""


@dataclass(frozen=True)
class PublishResult:
    """What a publication copied."""

    name: str
    rows: dict[str, int]
    rd_path: Path
    seconds: float

    def line(self) -> str:
        counts = ", ".join(f"{TAP_SCHEMA}.{t} {n:,} rows" for t, n in self.rows.items())
        return (f"published release {self.name} to DaCHS: {counts} "
                f"({self.rd_path}) in {self.seconds:.1f} s")


def release_tables(db: Database, schema: str) -> list[TapTable]:
    """``psc`` and ``xsc`` of the release schema, typed as the tables hold them."""
    tables = []
    with db.connection() as conn:
        for name, key in PUBLISHED_TABLES.items():
            types = dict((row[0], row[1:]) for row in conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod), attnotnull "
                "FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
                "AND NOT attisdropped", (f"{schema}.{name}",)))
            missing = [c.name for c in RELEASE_TABLES[name] if c.name not in types]
            if missing:
                raise TapError(f"{schema}.{name} lacks columns {', '.join(missing)}")
            columns = [tap_column(c, *types[c.name]) for c in RELEASE_TABLES[name]]
            tables.append(TapTable(name, TABLE_DESCRIPTIONS[name], key, columns))
    return tables


def publish(db: Database, name: str, site: DachsSite, *, progress: bool = True
            ) -> PublishResult:
    """Publish release ``name``'s ``psc`` and ``xsc`` to the DaCHS ``site``."""
    start = time.perf_counter()
    record = release.show(db, name)
    tables = release_tables(db, record.schema_name)
    described = site.describe()
    target = site.feed_url(described)
    require_extensions(target)

    rd_dir = Path(described["inputs_dir"]) / RESOURCE_DIR
    rd_dir.mkdir(parents=True, exist_ok=True)
    rd_path = rd_dir / "q.rd"
    rd_path.write_text(resource_descriptor(TAP_SCHEMA, tables, {
        "title": f"twomass release {name}: Point and Extended Source Catalogs",
        "description": (f"The Point Source Catalog (psc) and Extended Source Catalog (xsc) "
                        f"of twomass release {name}, built by the 2MASS release rules "
                        f"(code {record.code_version}, content checksum "
                        f"{record.content_checksum})."),
        "creationDate": record.built_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "subject": "Infrared sources",
        "creator.name": "twomass",
    }))
    rd_id = f"{RESOURCE_DIR}/q"
    _write_examples(Path(described["config_dir"]))
    site.gavo("imp", rd_id)
    rows = {t.name: _copy_rows(db, record.schema_name, t, target, progress)
            for t in tables}
    site.python(_MAKE_INDEXES, rd_id, *PUBLISHED_TABLES)
    with connect(target, autocommit=True) as conn:
        for table in tables:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(TAP_SCHEMA, table.name)))
    return PublishResult(name, rows, rd_path, time.perf_counter() - start)


def _copy_rows(db: Database, schema: str, table: TapTable, target: str,
               progress: bool) -> int:
    """Stream ``schema.table`` into the DaCHS table with binary COPY; the rows copied."""
    names = sql.SQL(", ").join(sql.Identifier(c.meta.name) for c in table.columns)
    select = sql.SQL(", ").join(sql.SQL(c.select) for c in table.columns)
    source = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT (FORMAT binary)").format(
        select, sql.Identifier(schema, table.name))
    sink = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        sql.Identifier(TAP_SCHEMA, table.name), names)
    bar = tqdm(desc=f"copy {table.name}", unit="B", unit_scale=True, file=sys.stderr,
               disable=not progress, leave=False)
    with db.connection() as src, connect(target) as dst:
        for (index,) in dst.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
                (TAP_SCHEMA, table.name)).fetchall():
            dst.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(TAP_SCHEMA, index)))
        cursor = dst.cursor()
        with src.cursor().copy(source) as out, cursor.copy(sink) as into:
            for block in out:
                into.write(block)
                bar.update(len(block))
        rows = cursor.rowcount  # the server's "COPY n"
    bar.close()
    return rows


#: First line of the userconfig.rd twomass writes; a file without it is the site's own.
_EXAMPLES_MARK = "<!-- TAP examples of the twomass tables, written by twomass tap publish -->"

# DaCHS serves TAP examples (the endpoint's /examples) from the tapexamples STREAM of the
# site's userconfig.rd; everything else there falls back to DaCHS's defaults.
_EXAMPLES = _EXAMPLES_MARK + """
<resource schema="__system" resdir="__system">
  <STREAM id="tapexamples">
    <meta name="_example" title="Cone search of the Point Source Catalog">
      Point sources within 1 arcminute of a position, nearest first; DaCHS turns
      CONTAINS on the indexed (ra, dec) into a q3c search.

      .. tapquery::

        SELECT pts_key, designation, ra, dec, j_m, h_m, k_m, ph_qual,
          DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 150.25, 20.25)) * 3600
            AS dist_arcsec
        FROM twomass.psc
        WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 150.25, 20.25, 1.0 / 60))
        ORDER BY dist_arcsec
    </meta>
    <meta name="_example" title="Point sources inside extended sources">
      Point sources that are an extended source or lie in its ellipse (gal_contam),
      with the extended source's Ks magnitude.

      .. tapquery::

        SELECT TOP 100 p.designation, p.k_m, p.gal_contam, x.designation AS xsc_name,
          x.k_m_k20fe
        FROM twomass.psc AS p JOIN twomass.xsc AS x ON x.ext_key = p.ext_key
        WHERE p.gal_contam > 0
    </meta>
  </STREAM>
</resource>
"""


def _write_examples(config_dir: Path) -> None:
    """Write the TAP examples into the site's userconfig.rd, unless the site has its own."""
    path = config_dir / "userconfig.rd"
    if path.exists() and not path.read_text().startswith(_EXAMPLES_MARK):
        return
    path.write_text(_EXAMPLES)
