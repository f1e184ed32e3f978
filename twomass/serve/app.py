"""The Starlette application: ``/scs/psc`` and ``/scs/xsc``, a root page, VOSI
capabilities and availability.

Every answer of a cone search URL is a VOTable. A bad request (a parameter missing,
malformed or out of range, an unpublished catalog) is an error document with HTTP 200,
as Simple Cone Search 1.03 clients expect; an unknown catalog is the same document with
404, a database that cannot be reached 503. No answer carries a traceback: an
unexpected failure is logged on the server and answered with a one-line error.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from html import escape
from urllib.parse import parse_qsl

import psycopg
from psycopg_pool import PoolTimeout
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from twomass.core.database import Database
from twomass.core.errors import TwomassError
from twomass.query.cone import ConeSearchError
from twomass.serve import scs, votable

log = logging.getLogger("twomass.serve")


_FORM = "application/x-www-form-urlencoded"


def _votable(body: bytes, status_code: int = 200) -> Response:
    return Response(body, status_code=status_code, media_type=votable.MEDIA_TYPE)


async def _parameters(request: Request) -> dict[str, list[str]]:
    """Query-string and form parameters, names upper-cased (DALI: names are case-blind)."""
    params: dict[str, list[str]] = defaultdict(list)
    pairs = list(request.query_params.multi_items())
    if request.method == "POST":
        if not request.headers.get("content-type", "").startswith(_FORM):
            raise scs.RequestError(f"a POST request sends its parameters as {_FORM}")
        pairs += parse_qsl((await request.body()).decode("utf-8", "replace"))
    for name, value in pairs:
        params[name.upper()].append(value)
    return params


def create_app(db: Database, limits: scs.Limits | None = None) -> Starlette:
    """The service over ``db``, which should log in as the read-only role."""
    limits = limits or scs.Limits()
    served = {"requests": 0, "errors": 0}

    async def cone_search(request: Request) -> Response:
        catalog = request.path_params["catalog"]
        served["requests"] += 1
        if catalog not in scs.TITLES:
            served["errors"] += 1
            return _votable(votable.error(
                f"no catalog {catalog!r} here: the cone searches are "
                + ", ".join(f"/scs/{name}" for name in scs.TITLES)), 404)
        try:
            cone = scs.parse(await _parameters(request), limits)
            return _votable(await run_in_threadpool(scs.search, db, catalog, cone))
        except (scs.RequestError, ConeSearchError) as exc:
            served["errors"] += 1
            return _votable(votable.error(str(exc)))
        except (TwomassError, psycopg.OperationalError, PoolTimeout) as exc:
            served["errors"] += 1
            log.error("database unavailable: %s", " ".join(str(exc).split()))
            return _votable(votable.error("the catalog database is unavailable; "
                                          "try again later"), 503)
        except Exception:
            served["errors"] += 1
            log.exception("cone search failed")
            return _votable(votable.error("internal error of the service; it is logged"), 500)

    async def root(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        items = "".join(
            f"<li><a href='{base}/scs/{name}?RA=10.68&amp;DEC=41.27&amp;SR=0.01'>"
            f"{base}/scs/{name}</a>: {escape(title)}</li>" for name, title in scs.TITLES.items())
        return HTMLResponse(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>twomass cone search"
            "</title></head><body><h1>twomass: IVOA Simple Cone Search 1.03</h1>"
            f"<ul>{items}</ul><p>Parameters: RA, DEC, SR in degrees (ICRS); VERB 1, 2 "
            "(default) or 3; MAXREC. Largest SR: "
            f"{limits.max_radius_deg:g} deg; at most {limits.max_rows} rows per answer, "
            "nearest first (the answer says OVERFLOW when more lie within SR).</p>"
            f"<p><a href='{base}/capabilities'>VOSI capabilities</a>, "
            f"<a href='{base}/availability'>availability</a></p></body></html>")

    async def capabilities(request: Request) -> Response:
        return Response(_capabilities(str(request.base_url).rstrip("/"), limits),
                        media_type="text/xml")

    async def availability(request: Request) -> Response:
        try:
            await run_in_threadpool(_ping, db)
            up, note = "true", "the catalog database answers"
        except Exception as exc:  # any failure means: not available
            up, note = "false", f"the catalog database does not answer: {type(exc).__name__}"
        return Response(
            '<?xml version="1.0" encoding="UTF-8"?>\n<vosi:availability '
            'xmlns:vosi="http://www.ivoa.net/xml/VOSIAvailability/v1.0">'
            f"<vosi:available>{up}</vosi:available><vosi:note>{escape(note)}</vosi:note>"
            "</vosi:availability>\n", media_type="text/xml")

    app = Starlette(routes=[
        Route("/", root),
        Route("/capabilities", capabilities),
        Route("/availability", availability),
        Route("/scs/{catalog}", cone_search, methods=["GET", "POST"]),
    ])
    app.state.served = served
    return app


def _ping(db: Database) -> None:
    with db.connection() as conn:
        conn.execute("SELECT 1")


def _capabilities(base: str, limits: scs.Limits) -> bytes:
    """VOSI capabilities: one ConeSearch capability per catalog."""
    entries = "".join(
        '<capability standardID="ivo://ivoa.net/std/ConeSearch" xsi:type="cs:ConeSearch">'
        '<interface xsi:type="vs:ParamHTTP" role="std">'
        f"<accessURL use=\"base\">{escape(base)}/scs/{name}</accessURL></interface>"
        f"<maxSR>{limits.max_radius_deg:g}</maxSR><maxRecords>{limits.max_rows}</maxRecords>"
        "<verbosity>true</verbosity>"
        f"<testQuery><ra>10.68</ra><dec>41.27</dec><sr>0.01</sr></testQuery></capability>"
        for name in scs.TITLES)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<vosi:capabilities '
            'xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1" '
            'xmlns:cs="http://www.ivoa.net/xml/ConeSearch/v1.0">'
            f"{entries}</vosi:capabilities>\n").encode()


