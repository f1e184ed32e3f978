"""Shards (postgres_fdw): every query run both ways, as Qserv tests itself.

The same rows are in two databases: ``oracle``, on the test server, with ``wdb.pts``
one unpartitioned table, and ``sharded``, on a server with postgres_fdw, with
``wdb.pts`` partitioned by RANGE (hpx) at HEALPix order 2 and its partitions spread over
the coordinator and two shard clusters. Cones (hpx_radial_query, ellipse, polygon, the
statement of wdb_cone) and cross-matches (hpx_xmatch, both of its plans) must return
exactly the same rows in both, and the cones the rows a brute-force numpy search finds.
The rows sit around corners of the order-2 pixels, the poles and RA 0, so that cones
span local and foreign partitions.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import psycopg
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from twomass.core import database
from twomass.core.database import Database
from twomass.core.healpix import ang2hpx
from twomass.migrations import revision
from twomass.scale import shards

ORDER = 2
#: Corners of order-2 pixels (face corners, the polar-cap boundary dec = asin(2/3)),
#: the poles, RA 0, and one ordinary place.
CENTRES = [(45.0, 0.0), (0.0, 41.8103149), (90.0, -41.8103149), (0.0, 90.0), (10.0, -90.0),
           (0.0, 0.5), (67.5, 19.4712206), (200.0, 30.0)]
ROWS_PER_CENTRE = 2500
RADII_DEG = [2 / 3600, 60 / 3600, 0.3, 1.0, 2.5]


def make_rows(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Points uniform on caps of 3 deg around the centres, unique ids."""
    ra, dec = [], []
    for ra0, dec0 in CENTRES:
        sep = np.degrees(np.arccos(1 - rng.uniform(0, 1, ROWS_PER_CENTRE)
                                   * (1 - np.cos(np.radians(3.0)))))
        c = SkyCoord(ra0 * u.deg, dec0 * u.deg).directional_offset_by(
            rng.uniform(0, 360, ROWS_PER_CENTRE) * u.deg, sep * u.deg)
        ra.append(c.ra.deg)
        dec.append(c.dec.deg)
    ra, dec = np.concatenate(ra), np.clip(np.concatenate(dec), -90, 90)
    return {"id": np.arange(1, len(ra) + 1), "ra": ra, "dec": dec, "hpx": ang2hpx(ra, dec),
            "j_m": rng.uniform(8, 16, len(ra)).astype(np.float32)}


def relayout(conn: psycopg.Connection, order: int | None) -> None:
    """wdb.pts rebuilt unpartitioned (order None) or partitioned at ``order``, whatever
    its layout at the head revision (the procedure the migrations use)."""
    conn.execute("CALL public._hpx_repartition('wdb.pts', %s)", (order,))


def load(conn: psycopg.Connection, rows: dict[str, np.ndarray]) -> None:
    """The rows into wdb.pts, other required columns constant; tables for cross-matches."""
    required = [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'wdb' "
        "AND table_name = 'pts' AND is_nullable = 'NO' AND column_default IS NULL "
        "AND column_name NOT IN ('scan_key', 'id', 'ra', 'dec', 'hpx') ORDER BY 1")]
    columns = ["scan_key", "id", "ra", "dec", "hpx", "j_m", *required]
    with conn.cursor().copy(f"COPY wdb.pts ({', '.join(map(repr, columns))}) FROM STDIN"
                            .replace("'", '"')) as copy:
        for i in range(len(rows["id"])):
            copy.write_row([1, int(rows["id"][i]), float(rows["ra"][i]), float(rows["dec"][i]),
                            int(rows["hpx"][i]), float(rows["j_m"][i])] + ["0"] * len(required))
    # Targets: 69 rows 1" from catalog rows (hpx_xmatch probes the catalog's index);
    # neighbours: most rows again, moved by up to 4" (hpx_xmatch hashes both sides).
    for name, step, shift in (("targets", 250, 1 / 3600), ("neighbours", 1, 4 / 3600)):
        conn.execute(f"""
            CREATE TABLE public.{name} AS
            SELECT id, ra, dec, hpx_ang2ipix(ra, dec) AS hpx FROM (
                SELECT id, ra + {shift} * cos(id) / greatest(cosd(dec), 0.01)
                           - 360 * floor((ra + {shift} * cos(id) / greatest(cosd(dec), 0.01))
                                         / 360) AS ra,
                       least(90, greatest(-90, dec + {shift} * sin(id))) AS dec
                FROM wdb.pts WHERE id % {step} = 0 AND id % 7 <> 0) AS s""")
    conn.execute("ANALYZE")


@pytest.fixture(scope="module")
def rows() -> dict[str, np.ndarray]:
    return make_rows(np.random.default_rng(20))


@pytest.fixture(scope="module")
def oracle(admin_url: str, template_db: str, rows) -> Iterator[str]:
    url = database.create_database(admin_url, "twomass_test", template_db)
    with psycopg.connect(url, autocommit=True) as conn:
        relayout(conn, None)
        load(conn, rows)
    yield url
    database.drop_database(admin_url, url)


@pytest.fixture(scope="module")
def sharded(clusters: dict[str, str], rows) -> Iterator[dict[str, str]]:
    """The sharded database and the shard databases: partitions of wdb.pts with rows go,
    in turn, to shard1, to shard2, or stay."""
    urls = {"coordinator": database.create_database(clusters["coordinator"], "twomass_test")}
    try:
        for name in ("shard1", "shard2"):
            urls[name] = database.create_database(clusters[name], "twomass_shard")
        with Database(urls["coordinator"]) as db:
            revision.init(db)
            with db.connection(autocommit=True) as conn:
                relayout(conn, ORDER)
                load(conn, rows)
            for name in ("shard1", "shard2"):
                assert shards.add_shard(db, name, urls[name]).startswith(f"shard {name}: ")
            pixels = sorted(set((rows["hpx"] >> (2 * (29 - ORDER))).tolist()))
            assert len(pixels) >= 12
            # The last pixel of shard1 moves through the command line (test below).
            shards.move(db, "wdb.pts", pixels[0::3][:-1], "shard1")
            shards.move(db, "wdb.pts", pixels[1::3], "shard2")
        urls["cli_pixel"] = str(pixels[0::3][-1])
        urls["local_pixel"] = str(pixels[2])
        yield urls
    finally:
        for name, url in urls.items():
            if name in clusters:
                database.drop_database(clusters[name], url)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twomass", *args], capture_output=True,
                          text=True, cwd="/", timeout=120)


def both(oracle: str, sharded: dict[str, str], query: str, params=()) -> tuple[list, list]:
    """The rows of ``query`` on the unpartitioned and on the sharded table, sorted."""
    found = []
    for url in (oracle, sharded["coordinator"]):
        with psycopg.connect(url) as conn:
            found.append(sorted(conn.execute(query, params).fetchall()))
    return found[0], found[1]


def test_partitions_are_spread(sharded):
    result = run_cli("--db", sharded["coordinator"], "shard", "move", "wdb.pts",
                     sharded["cli_pixel"], "--to", "shard1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("shard shard1: 1 partitions of wdb.pts (order 2)")
    listing = run_cli("--db", sharded["coordinator"], "shard", "list", "wdb.pts")
    assert listing.returncode == 0, listing.stderr
    where = {line.split("\t")[0]: line.split("\t")[2] for line in listing.stdout.splitlines()
             if "\t" in line}
    assert where[sharded["cli_pixel"]] == "shard1"
    assert {"local", "shard1", "shard2"} <= set(where.values())
    with psycopg.connect(sharded["shard2"]) as remote:
        assert remote.execute("SELECT count(*) FROM pg_proc "
                              "WHERE proname = 'hpx_radial_query'").fetchone()[0] == 1


def test_writes_reach_the_shard(sharded):
    """A row inserted into the table for a moved pixel lands on the shard; a delete
    through the table removes it there."""
    pixel = int(sharded["cli_pixel"])
    with psycopg.connect(sharded["coordinator"]) as conn:
        conn.execute("CREATE TEMPORARY TABLE one AS SELECT * FROM wdb.pts "
                     "WHERE hpx >> %s = %s LIMIT 1", (2 * (29 - ORDER), pixel))
        conn.execute("UPDATE one SET id = -1")
        conn.execute("INSERT INTO wdb.pts SELECT * FROM one")
    with psycopg.connect(sharded["shard1"]) as remote:
        assert remote.execute(f"SELECT count(*) FROM wdb.pts_p{pixel} WHERE id = -1"
                              ).fetchone()[0] == 1
    with psycopg.connect(sharded["coordinator"]) as conn:
        assert conn.execute("DELETE FROM wdb.pts WHERE id = -1").rowcount == 1
    with psycopg.connect(sharded["shard1"]) as remote:
        assert remote.execute(f"SELECT count(*) FROM wdb.pts_p{pixel} WHERE id = -1"
                              ).fetchone()[0] == 0


@pytest.mark.parametrize("centre", CENTRES)
def test_cones_both_ways(oracle, sharded, rows, centre):
    ra0, dec0 = centre
    c = SkyCoord(rows["ra"] * u.deg, rows["dec"] * u.deg)
    dist = c.separation(SkyCoord(ra0 * u.deg, dec0 * u.deg)).deg
    for radius in RADII_DEG:
        flat, parted = both(oracle, sharded, "SELECT id FROM wdb.pts WHERE "
                            "hpx_radial_query(hpx, ra, dec, %s, %s, %s)", (ra0, dec0, radius))
        assert parted == flat
        assert [r[0] for r in flat] == sorted(rows["id"][dist < radius].tolist())
        if radius > 0.5:
            assert len(flat) > 100
        # wdb_cone's statement (cover rows joined with the table), every column.
        flat, parted = both(oracle, sharded, "SELECT * FROM wdb_cone(%s, %s, %s)",
                            (ra0, dec0, radius * 3600))
        assert parted == flat and len(flat) == int((dist < radius).sum())
    flat, parted = both(oracle, sharded, "SELECT id FROM wdb.pts WHERE "
                        "hpx_ellipse_query(hpx, ra, dec, %s, %s, 2, 0.4, 30)", centre)
    assert parted == flat and flat
    poly = [ra0 - 1, dec0 - 1, ra0 + 1.5, dec0 - 1, ra0, min(dec0 + 1.2, 89.9)]
    if abs(dec0) < 80:
        flat, parted = both(oracle, sharded, "SELECT id FROM wdb.pts WHERE "
                            "hpx_poly_query(hpx, ra, dec, %s::float8[])", (poly,))
        assert parted == flat and flat


@pytest.mark.parametrize(("table", "radius_arcsec"), [("targets", 2), ("neighbours", 5)])
def test_xmatch_both_ways(oracle, sharded, rows, table, radius_arcsec):
    """hpx_xmatch's two plans: targets probe the catalog's index (69 rows against 20,000),
    neighbours hash both sides."""
    flat, parted = both(oracle, sharded, "SELECT id_a, id_b, dist_arcsec FROM "
                        f"hpx_xmatch('public.{table}', 'wdb.pts', %s)",
                        (radius_arcsec / 3600,))
    assert [r[:2] for r in parted] == [r[:2] for r in flat]
    np.testing.assert_allclose([r[2] for r in parted], [r[2] for r in flat], rtol=0, atol=1e-9)
    with psycopg.connect(oracle) as conn:
        a = np.array(conn.execute(f"SELECT id, ra, dec FROM public.{table} ORDER BY id")
                     .fetchall())
    pairs = SkyCoord(a[:, 1] * u.deg, a[:, 2] * u.deg).search_around_sky(
        SkyCoord(rows["ra"] * u.deg, rows["dec"] * u.deg), radius_arcsec * u.arcsec)
    brute = sorted(zip(a[pairs[1], 0].astype(int).tolist(),
                       rows["id"][pairs[0]].tolist(), strict=True))
    assert [r[:2] for r in flat] == brute and len(brute) >= 60


def test_cone_conditions_run_on_the_shard(sharded):
    """A constant cone on a foreign partition: the partitions it does not touch are
    pruned, and its cover's hpx ranges and the exact distance test are in the SQL sent
    to the shard (they inline to built-in operators)."""
    with psycopg.connect(sharded["coordinator"]) as conn:
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN VERBOSE SELECT id FROM wdb.pts "
            "WHERE hpx_radial_query(hpx, ra, dec, 45.0, 0.0, 0.3)"))
        assert plan.count("Foreign Scan on wdb.pts_p") >= 1, plan
        assert plan.count(" on wdb.pts_p") <= 4, plan
        for line in (x for x in plan.splitlines() if "Remote SQL:" in x):
            assert "WHERE" in line and "(hpx >= " in line and "sin(" in line, line


def test_failed_move_leaves_the_partition(sharded, rows):
    """The shard refuses the rows (a trigger set on every table created there): the move
    fails in one line, the partition stays local with its rows, nothing is left there."""
    pixel = int(sharded["local_pixel"])
    with psycopg.connect(sharded["coordinator"]) as conn:
        name, where = next((p.name, p.server) for p in shards.partitions(conn, "wdb.pts")
                           if p.lo >> (2 * (29 - ORDER)) == pixel)
        before = conn.execute(f"SELECT id FROM wdb.{name} ORDER BY id").fetchall()
    assert where is None and before
    with psycopg.connect(sharded["shard1"], autocommit=True) as remote:
        remote.execute("""
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'shard is read-only'; END $$;
            CREATE FUNCTION arm() RETURNS event_trigger LANGUAGE plpgsql AS $$
            DECLARE r record;
            BEGIN
                FOR r IN SELECT * FROM pg_event_trigger_ddl_commands()
                         WHERE command_tag = 'CREATE TABLE' LOOP
                    EXECUTE format('CREATE TRIGGER refuse BEFORE INSERT ON %s FOR EACH ROW '
                                   'EXECUTE FUNCTION refuse()', r.object_identity);
                END LOOP;
            END $$;
            CREATE EVENT TRIGGER arm ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
                EXECUTE FUNCTION arm();""")
    try:
        with Database(sharded["coordinator"]) as db, \
                pytest.raises(shards.ShardError, match="shard is read-only") as failed:
            shards.move(db, "wdb.pts", [pixel], "shard1")
        assert "\n" not in str(failed.value) and "stays here" in str(failed.value)
    finally:
        with psycopg.connect(sharded["shard1"], autocommit=True) as remote:
            remote.execute("DROP EVENT TRIGGER arm")
    with psycopg.connect(sharded["coordinator"]) as conn:
        part = next(p for p in shards.partitions(conn, "wdb.pts") if p.name == name)
        assert part.server is None
        assert conn.execute(f"SELECT id FROM wdb.{name} ORDER BY id").fetchall() == before
        assert conn.execute("SELECT count(*) FROM wdb.pts").fetchone()[0] == len(rows["id"])
    with psycopg.connect(sharded["shard1"]) as remote:
        assert remote.execute("SELECT to_regclass(%s)", (f"wdb.{name}",)).fetchone()[0] is None


def test_embedded_server_refuses_in_one_line(tmp_path, sharded):
    """The embedded server has no postgres_fdw: one line and status 2, not a traceback."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    server = pgserver.get_server(tmp_path / "pg", cleanup_mode="delete")
    try:
        result = run_cli("--db", server.get_uri("postgres"), "shard", "add", "s",
                         sharded["shard1"])
    finally:
        server.cleanup()
    assert result.returncode == 2
    assert "postgres_fdw" in result.stderr and "embedded" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
