"""The cone search service against the SQL it runs: latency of a 60" cone over HTTP
against the same cone with ``psc_cone`` in SQL.

In one run, on one server, in a scratch database (created and dropped):

1. a published release whose ``psc`` holds ``--rows`` rows (default 200,000) with every
   column filled, in a patch of sky at ``--density`` rows per square degree (default
   40,000, the Galactic plane of 2MASS; a 60" cone then holds about 35 rows);
2. ``twomass serve`` started as its own process on a free localhost port, logged in as
   the read-only role (created for the run and dropped after);
3. for ``--repeat`` random centres in the patch (default 200), interleaved centre by
   centre, each after an untimed warm-up of the same cone: the client wall-clock time
   of ``SELECT * FROM psc_cone(ra, dec, 60)`` fetched by psycopg over the read-only
   role's connection, and of ``GET /scs/psc?RA=..&DEC=..&SR=60/3600&VERB=3`` (the same
   columns, as a VOTable) read whole over one kept-alive HTTP connection; also VERB=2
   and VERB=1.

Prints the medians, the ratio HTTP / SQL (the issue's figure: <= 3) and a one-line
summary.

    python benchmarks/bench_serve.py [--db URL] [--rows N] [--density N] [--repeat K]
"""

from __future__ import annotations

import argparse
import http.client
import io
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from tqdm import tqdm

from twomass import release
from twomass.core import database, healpix
from twomass.core.database import Database
from twomass.migrations import revision
from twomass.serve import reader

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CENTRE = (150.0, 2.0)
RADIUS_ARCSEC = 60.0


def fill_psc(url: str, schema: str, n: int, density: float, rng: np.random.Generator) -> float:
    """Load ``n`` rows with every column set into ``schema.psc``; return the patch's
    half width [deg]."""
    half = math.sqrt(n / density) / 2
    ra = CENTRE[0] + rng.uniform(-half, half, n) / math.cos(math.radians(CENTRE[1]))
    dec = CENTRE[1] + rng.uniform(-half, half, n)
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT column_name, data_type, character_maximum_length FROM "
            "information_schema.columns WHERE table_schema = %s AND table_name = 'psc' "
            "ORDER BY ordinal_position", (schema,)).fetchall()
        data = {}
        for name, kind, length in columns:
            if name in ("ra", "dec"):
                data[name] = ra if name == "ra" else dec
            elif name == "hpx":
                data[name] = healpix.ang2hpx(ra, dec)
            elif name in ("designation", "pts_key"):
                data[name] = [f"J{i:016d}" for i in range(n)] if name == "designation" \
                    else np.arange(n)
            elif kind in ("real", "double precision"):
                data[name] = rng.uniform(5, 17, n).astype(np.float32 if kind == "real" else float)
            elif kind in ("smallint", "integer", "bigint"):
                data[name] = rng.integers(0, 1000, n)
            elif kind == "date":
                data[name] = ["2000-05-01"] * n
            else:  # character(n)
                letters = np.array(list("ABCDEU0123"))
                data[name] = ["".join(r) for r in letters[rng.integers(0, 10, (n, length or 1))]]
        frame = pd.DataFrame(data)
        text = io.StringIO()
        frame.to_csv(text, sep="\t", header=False, index=False)
        names = sql.SQL(", ").join(sql.Identifier(c) for c, _, _ in columns)
        with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(schema, "psc"), names)) as copy:
            copy.write(text.getvalue())
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, "psc")))
    return half


def start_service(url: str, role: str, home: Path) -> tuple[subprocess.Popen, str, int]:
    """``twomass serve`` on a free port; returns the process, host and port."""
    script = Path(sys.executable).with_name("twomass")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "twomass"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOMASS_")}
    env["TWOMASS_HOME"] = str(home)
    process = subprocess.Popen([*command, "--db", url, "serve", "--port", "0", "--role", role],
                               cwd=home, env=env, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:
        found = re.search(r"listening on http://([^:/]+):(\d+)/", line)
        if found:
            return process, found.group(1), int(found.group(2))
    raise SystemExit(f"twomass serve did not start (status {process.wait()})")


def http_get(conn: http.client.HTTPConnection, ra: float, dec: float, verb: int) -> int:
    """One cone over HTTP, read whole; returns the body's length."""
    query = urlencode({"RA": repr(ra), "DEC": repr(dec), "SR": repr(RADIUS_ARCSEC / 3600),
                       "VERB": verb})
    conn.request("GET", f"/scs/psc?{query}")
    response = conn.getresponse()
    body = response.read()
    assert response.status == 200 and b'value="OK"' in body, body[:500]
    return len(body)


def sql_cone(conn: psycopg.Connection, ra: float, dec: float) -> int:
    rows = conn.execute("SELECT * FROM psc_cone(%s, %s, %s)", (ra, dec, RADIUS_ARCSEC)).fetchall()
    return len(rows)


def timed(function, *args) -> tuple[float, int]:
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_URL, help=f"server URL (default {DEFAULT_URL})")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--density", type=float, default=40_000, help="rows per deg²")
    parser.add_argument("--repeat", type=int, default=200, help="cones")
    args = parser.parse_args()
    admin_url = database.normalize_url(args.db)
    url = database.create_database(admin_url, "twomass_bench_serve")
    role = f"twomass_bench_reader_{uuid.uuid4().hex[:8]}"
    process = None
    try:
        with Database(url) as db:
            revision.init(db)
            release.build(db, "bench", progress=False)
        start = time.perf_counter()
        rng = np.random.default_rng(60)
        half = fill_psc(url, "rel_bench", args.rows, args.density, rng)
        print(f"psc: {args.rows:,d} rows loaded in {time.perf_counter() - start:.0f} s",
              file=sys.stderr)
        with tempfile.TemporaryDirectory() as home:
            process, host, port = start_service(url, role, Path(home))
            ras = CENTRE[0] + rng.uniform(-0.8, 0.8, args.repeat) * half \
                / math.cos(math.radians(CENTRE[1]))
            decs = CENTRE[1] + rng.uniform(-0.8, 0.8, args.repeat) * half
            times: dict[str, list[float]] = {"sql": [], "http3": [], "http2": [], "http1": []}
            rows, sizes = [], []
            web = http.client.HTTPConnection(host, port, timeout=60)
            with psycopg.connect(reader.reader_url(url, role), autocommit=True) as conn:
                for ra, dec in tqdm(zip(ras.tolist(), decs.tolist(), strict=True),
                                    total=args.repeat, desc="cones", file=sys.stderr):
                    sql_cone(conn, ra, dec)           # untimed: the cone's pages read in
                    http_get(web, ra, dec, 3)
                    steps = [("sql", sql_cone, (conn, ra, dec))] + [
                        (f"http{v}", http_get, (web, ra, dec, v)) for v in (3, 2, 1)]
                    if len(rows) % 2:                 # alternate who goes first
                        steps.reverse()
                    for name, function, fargs in steps:
                        seconds, result = timed(function, *fargs)
                        times[name].append(seconds)
                        if name == "sql":
                            rows.append(result)
                        elif name == "http3":
                            sizes.append(result)
            web.close()
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=60)
        database.drop_database(admin_url, url)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))

    median = {name: statistics.median(values) for name, values in times.items()}
    server = urlsplit(admin_url)
    print(f"\n60\" cone search, {args.rows:,d} psc rows at {args.density:,.0f} per deg² "
          f"({server.hostname or 'socket'}), median of {args.repeat} cones, "
          f"{statistics.median(rows):.0f} rows per cone (median), "
          f"{statistics.median(sizes) / 1024:.0f} KiB per VERB=3 answer")
    print(f"{'what':<34} {'median ms':>10} {'/ SQL':>7}")
    labels = {"sql": "SQL psc_cone, all columns", "http3": "HTTP /scs/psc VERB=3 (all)",
              "http2": "HTTP /scs/psc VERB=2", "http1": "HTTP /scs/psc VERB=1"}
    for name, label in labels.items():
        print(f"{label:<34} {median[name] * 1e3:10.2f} {median[name] / median['sql']:7.2f}")
    ratio = median["http3"] / median["sql"]
    print(f"bench_serve: 60\" cone over HTTP (VERB=3) {median['http3'] * 1e3:.2f} ms vs SQL "
          f"psc_cone {median['sql'] * 1e3:.2f} ms: ratio {ratio:.2f} (target <= 3); "
          f"VERB=2 {median['http2'] / median['sql']:.2f}, VERB=1 "
          f"{median['http1'] / median['sql']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
