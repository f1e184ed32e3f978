"""The optional bright-star list of a night: loaded with its night, validated, dropped."""

from __future__ import annotations

import healpy as hp
import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from twomass.ingest.load import ingest_night
from twomass.ingest.nights import drop_night
from twomass.ingest.products import ProductError
from twomass.schema.products import product_schema


def _write_stars(directory, ids, ra, dec) -> None:
    n = len(ids)
    columns = {"id": pa.array(ids, pa.int64()), "ra": pa.array(ra), "dec": pa.array(dec),
               "j_m": pa.array(np.full(n, 5.2), pa.float32()),
               "h_m": pa.array(np.full(n, 5.1), pa.float32()),
               "k_m": pa.array(np.full(n, 5.0), pa.float32())}
    schema = product_schema("bright_stars.parquet")
    pq.write_table(pa.Table.from_pydict(columns, schema=schema),
                   directory / "bright_stars.parquet")


def _stars(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, ra, dec, hpx, k_m FROM wdb.bright_star "
                            "ORDER BY id").fetchall()


def test_bright_stars_load_with_their_night_and_go_with_it(db, db_url, make_night):
    night = make_night()
    ra, dec = np.array([0.3, 359.9]), np.array([10.2, -45.0])
    _write_stars(night.directory, [7, 3], ra, dec)
    result = ingest_night(db, night.directory, progress=False)
    assert result.rows["bright_star"] == 2
    expected_hpx = hp.ang2pix(2**29, ra, dec, nest=True, lonlat=True)
    assert _stars(db_url) == [(3, 359.9, -45.0, int(expected_hpx[1]), 5.0),
                              (7, 0.3, 10.2, int(expected_hpx[0]), 5.0)]
    drop_night(db, "2000-06-01n")
    assert _stars(db_url) == []


def test_night_without_a_list_loads(db, db_url, make_night):
    night = make_night()
    result = ingest_night(db, night.directory, progress=False)
    assert "bright_star" not in result.rows
    assert _stars(db_url) == []


def test_duplicate_star_id_is_refused(db, db_url, make_night):
    night = make_night()
    _write_stars(night.directory, [5, 5], [1.0, 2.0], [0.0, 0.0])
    with pytest.raises(ProductError) as error:
        ingest_night(db, night.directory, progress=False)
    message = str(error.value)
    assert "bright_stars.parquet" in message and "row 1" in message and "column id" in message
    assert "duplicate bright star id 5" in message
    assert _stars(db_url) == []
