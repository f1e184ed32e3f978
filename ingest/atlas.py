"""Loading a night's Atlas Image inventory (``atlas.parquet``) into ``wdb.atlas_image``.

The pipeline writes the inventory beside the images; loading it replaces the rows of
the same night (site and date) in one transaction, so re-running the pipeline and
loading again leaves one row per image.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from psycopg import sql

from twomass.core.database import Database
from twomass.core.errors import TwomassError
from twomass.schema.atlas import SCHEMA as ATLAS_SCHEMA
from twomass.schema.wdb import atlas_image

FILE = "atlas.parquet"


class AtlasInventoryError(TwomassError):
    """An Atlas Image inventory cannot be loaded."""


def load_atlas_inventory(db: Database, night_dir: Path) -> int:
    """Replace the night's rows of ``wdb.atlas_image`` by its ``atlas.parquet``; rows loaded."""
    path = night_dir / FILE
    try:
        doc = json.loads((night_dir / "night.json").read_text())
        table = pq.read_table(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise AtlasInventoryError(f"{path}: cannot read the Atlas Image inventory "
                                  f"({exc})") from None
    if not table.schema.equals(ATLAS_SCHEMA, check_metadata=False):
        raise AtlasInventoryError(f"{path}: columns differ from the Atlas Image inventory's")
    names = [c.name for c in atlas_image.columns]
    rows = table.select(names).to_pylist()
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(atlas_image.schema, atlas_image.name),
        sql.SQL(", ").join(sql.Identifier(n) for n in names))
    with db.connection() as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM wdb.atlas_image WHERE hemis = %s AND date = %s",
                    (doc["hemis"], doc["date"]))
        with cur.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[n] for n in names])
    return len(rows)
