"""The cone search service as users meet it: pyvo's SCSService against a real
``twomass serve`` process, answers checked against a brute-force search with astropy
and the VOTables against STILTS votlint."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import shutil
import subprocess
import warnings

import numpy as np
import pytest
import pyvo
import requests
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io.votable import parse
from pyvo.dal import DALQueryError
from pyvo.io.vosi import parse_capabilities

from twomass.schema import catalogs
from twomass.serve import votable

from .conftest import CENTRE, Service, Sky, psc_designation, xsc_designation


def brute(ra: np.ndarray, dec: np.ndarray, ra0: float, dec0: float) -> np.ndarray:
    """Separations [deg] of every row from (ra0, dec0), by astropy."""
    return SkyCoord(ra * u.deg, dec * u.deg).separation(
        SkyCoord(ra0 * u.deg, dec0 * u.deg)).to_value(u.deg)


def votlint(documents: dict[str, bytes], tmp_path) -> dict[str, str]:
    """STILTS votlint's report on each document ('' when it finds nothing to say); the
    checks run side by side, as each starts a Java virtual machine."""
    stilts = shutil.which("stilts")
    assert stilts, "STILTS is missing: apt-get install stilts"
    running = {}
    for i, (name, document) in enumerate(documents.items()):
        path = tmp_path / f"answer{i}.xml"
        path.write_bytes(document)
        running[name] = subprocess.Popen(
            [stilts, "votlint", "ucd=true", "unit=true", f"votable={path}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return {name: child.communicate(timeout=180)[0].strip() for name, child in running.items()}


def status_infos(document: bytes) -> dict[str, str]:
    """QUERY_STATUS and Error INFOs of a VOTable, wherever they stand."""
    table = parse(io.BytesIO(document))
    infos = [*table.infos, *(i for r in table.resources for i in r.infos)]
    return {i.name: i.value for i in infos if i.name in ("QUERY_STATUS", "Error")}


@pytest.mark.parametrize(("ra0", "dec0", "sr"), [
    (CENTRE[0], CENTRE[1], 0.01), (150.03, 1.97, 60 / 3600), (150.098, 2.05, 0.02),
    (149.0, 2.0, 0.01)])  # the last one off the patch: no rows
def test_pyvo_search_returns_the_rows_within_sr_nearest_first(service: Service, sky: Sky,
                                                               ra0: float, dec0: float,
                                                               sr: float) -> None:
    answer = pyvo.dal.SCSService(f"{service.base}/scs/psc").search(pos=(ra0, dec0), radius=sr)
    sep = brute(sky.ra, sky.dec, ra0, dec0)
    inside = np.nonzero(sep < sr)[0]
    assert sorted(r.id for r in answer) == sorted(psc_designation(i) for i in inside)
    order = inside[np.argsort(sep[inside])]
    assert [r.id for r in answer] == [psc_designation(i) for i in order]
    for record in answer:  # pyvo's accessors find the three SCS 1.03 columns
        i = int(record.id[1:])
        assert record.pos.separation(SkyCoord(sky.ra[i] * u.deg, sky.dec[i] * u.deg)) \
            < 1e-6 * u.arcsec
    if len(answer):
        table = answer.to_table()
        dist = np.asarray(table["dist_arcsec"])
        assert np.allclose(dist, sep[order] * 3600, atol=1e-6)


def test_verbosity_chooses_the_columns_and_all_carry_their_metadata(service: Service,
                                                                    sky: Sky) -> None:
    svc = pyvo.dal.SCSService(f"{service.base}/scs/psc")
    pos, sr = CENTRE, 0.01
    few, usual, every = (svc.search(pos=pos, radius=sr, verbosity=v) for v in (1, 2, 3))
    assert len(few) == len(usual) == len(every) > 10
    assert list(few.fieldnames) == ["designation", "ra", "dec"]
    assert {"j_m", "h_m", "k_m", "ph_qual", "dist_arcsec"} <= set(usual.fieldnames)
    assert len(usual.fieldnames) < len(every.fieldnames)
    assert list(every.fieldnames) == [c.name for c in catalogs.PSC] + ["dist_arcsec"]
    described = {c.name: c for c in (*catalogs.PSC, catalogs.DIST_ARCSEC)}
    ucd1 = {"designation": "ID_MAIN", "ra": "POS_EQ_RA_MAIN", "dec": "POS_EQ_DEC_MAIN"}
    fields = every.votable.get_first_table().fields
    for field in fields:
        info = described[field.name]
        assert field.ucd == ucd1.get(field.name, info.ucd)
        assert field.unit == (u.Unit(info.unit, format="vounit") if info.unit else None)
        assert field.description == info.description
    assert {f.name: f.datatype for f in fields if f.name in ucd1} == {
        "designation": "char", "ra": "double", "dec": "double"}
    # Values as loaded: j_m (float32) exactly, NULL masked; strings and dates as text.
    table = every.to_table()
    index = np.array([int(d[1:]) for d in table["designation"]])
    expected = sky.j_m[index]
    j_m = table["j_m"]
    assert np.array_equal(np.ma.getmaskarray(j_m), np.isnan(expected))
    assert np.array_equal(np.asarray(j_m)[~np.isnan(expected)], expected[~np.isnan(expected)])
    assert set(table["ph_qual"]) == {"AAA"} and set(table["date"]) == {"2000-05-01"}
    assert np.ma.getmaskarray(table["h_m"]).all()


def test_xsc_is_served_too(service: Service, sky: Sky) -> None:
    answer = pyvo.dal.SCSService(f"{service.base}/scs/xsc").search(pos=CENTRE, radius=0.05,
                                                                    verbosity=3)
    sep = brute(sky.xra, sky.xdec, *CENTRE)
    inside = np.nonzero(sep < 0.05)[0]
    assert [r.id for r in answer] == [xsc_designation(k) for k in inside[np.argsort(sep[inside])]]
    assert list(answer.fieldnames) == [c.name for c in catalogs.XSC] + ["dist_arcsec"]
    assert set(answer.to_table()["k_m_k20fe"]) == {np.float32(11.5)}


def test_maxrec_cuts_to_the_nearest_rows_and_says_overflow(service: Service, sky: Sky) -> None:
    svc = pyvo.dal.SCSService(f"{service.base}/scs/psc")
    sep = brute(sky.ra, sky.dec, *CENTRE)
    nearest = [psc_designation(i) for i in np.argsort(sep)]
    assert np.count_nonzero(sep < 0.01) > 20
    cut = svc.search(pos=CENTRE, radius=0.01, MAXREC=20, verbosity=1)
    assert [r.id for r in cut] == nearest[:20]
    assert status_infos(_get(service, "psc", RA=CENTRE[0], DEC=CENTRE[1], SR=0.01, MAXREC=20)
                        ) == {"QUERY_STATUS": "OVERFLOW"}
    whole = np.count_nonzero(sep < 0.01)
    assert status_infos(_get(service, "psc", RA=CENTRE[0], DEC=CENTRE[1], SR=0.01,
                             MAXREC=whole)) == {"QUERY_STATUS": "OK"}
    # The service's own limit (300 rows here) holds whatever MAXREC asks.
    assert np.count_nonzero(sep < 0.05) > 300
    big = svc.search(pos=CENTRE, radius=0.05, MAXREC=100_000, verbosity=1)
    assert [r.id for r in big] == nearest[:300]
    assert status_infos(_get(service, "psc", RA=CENTRE[0], DEC=CENTRE[1], SR=0.05)
                        ) == {"QUERY_STATUS": "OVERFLOW"}


def _get(service: Service, catalog: str, expect: int = 200, **params: object) -> bytes:
    response = requests.get(f"{service.base}/scs/{catalog}", params=params, timeout=60)
    assert response.status_code == expect, response.text
    assert response.headers["content-type"].startswith("text/xml")
    return response.content


@pytest.mark.parametrize(("catalog", "params", "expect", "message"), [
    ("psc", {"RA": 150, "DEC": 2, "SR": 0.5}, 200,
     "SR = 0.5 deg exceeds this service's maximum search radius of 0.05 deg"),
    ("psc", {"DEC": 2, "SR": 0.01}, 200, "missing required parameter RA"),
    ("psc", {"RA": 150, "DEC": "two", "SR": 0.01}, 200,
     "parameter DEC must be a number (declination in degrees, ICRS), got 'two'"),
    ("psc", {"RA": "nan", "DEC": 2, "SR": 0.01}, 200, "parameter RA must be a finite number"),
    ("psc", {"RA": 361, "DEC": 2, "SR": 0.01}, 200, "RA must be in [0, 360] degrees, got 361"),
    ("psc", {"RA": 150, "DEC": 91, "SR": 0.01}, 200, "DEC must be in [-90, 90] degrees"),
    ("psc", {"RA": 150, "DEC": 2, "SR": -1}, 200, "SR must be >= 0 degrees, got -1"),
    ("psc", {"RA": 150, "DEC": 2, "SR": 0.01, "VERB": 4}, 200, "VERB must be 1, 2 or 3, got 4"),
    ("psc", {"RA": 150, "DEC": 2, "SR": 0.01, "MAXREC": "ten"}, 200,
     "parameter MAXREC must be an integer, got 'ten'"),
    ("psc", {"RA": [150, 151], "DEC": 2, "SR": 0.01}, 200, "parameter RA is given 2 times"),
    ("nosuch", {"RA": 150, "DEC": 2, "SR": 0.01}, 404,
     "no catalog 'nosuch' here: the cone searches are /scs/psc, /scs/xsc"),
    ("wdb", {"RA": 150, "DEC": 2, "SR": 0.01}, 404, "no catalog 'wdb' here"),
])
def test_bad_requests_get_a_votable_error(service: Service, catalog: str, params: dict,
                                          expect: int, message: str) -> None:
    document = _get(service, catalog, expect, **params)
    assert b"Traceback" not in document
    infos = status_infos(document)
    assert infos["QUERY_STATUS"] == "ERROR"
    assert infos["Error"].startswith(message)


@pytest.mark.parametrize(("catalog", "radius", "keywords", "message"), [
    ("psc", 0.5, {}, "SR = 0.5 deg exceeds this service's maximum search radius"),
    ("psc", 0.01, {"MAXREC": "ten"}, "parameter MAXREC must be an integer, got 'ten'"),
    ("nosuch", 0.01, {}, "no catalog 'nosuch' here"),
])
def test_pyvo_raises_the_services_message(service: Service, catalog: str, radius: float,
                                          keywords: dict, message: str) -> None:
    with pytest.raises(DALQueryError, match="^" + re.escape(message)):
        pyvo.dal.SCSService(f"{service.base}/scs/{catalog}").search(
            pos=CENTRE, radius=radius, **keywords)


def test_names_are_case_blind_and_post_works(service: Service) -> None:
    by_get = _get(service, "psc", ra=CENTRE[0], Dec=CENTRE[1], sr=0.01, verb=1)
    response = requests.post(f"{service.base}/scs/psc", timeout=60, data={
        "RA": CENTRE[0], "DEC": CENTRE[1], "SR": 0.01, "VERB": 1})
    assert response.status_code == 200
    assert response.content == by_get
    assert parse(io.BytesIO(by_get)).get_first_table().nrows > 10


def test_answers_pass_votlint(service: Service, tmp_path) -> None:
    documents = {  # every kind of answer: all columns and overflow, none, an error
        "psc": _get(service, "psc", RA=CENTRE[0], DEC=CENTRE[1], SR=0.01, VERB=3, MAXREC=20),
        "xsc": _get(service, "xsc", RA=CENTRE[0], DEC=CENTRE[1], SR=0.05, VERB=3),
        "no rows": _get(service, "psc", RA=10, DEC=-30, SR=0.01),
        "error": _get(service, "psc", RA=150, DEC=2, SR=5),
        "edge values": votable.results(EDGE_FIELDS, EDGE_ROWS, description="edge values"),
    }
    assert parse(io.BytesIO(documents["psc"])).get_first_table().nrows == 20
    assert votlint(documents, tmp_path) == dict.fromkeys(documents, "")


EDGE_FIELDS = [votable.Field("d", "double", None, "deg", "pos.eq.ra", "a double"),
               votable.Field("f", "float", None, "mag", "phot.mag", "a float"),
               votable.Field("n", "long", None, "", "meta.id", "a long"),
               votable.Field("s", "char", "*", "", "meta.note", "a <string> & more"),
               votable.Field("t", "char", "*", "", "time.epoch", "a date", xtype="timestamp"),
               votable.Field("b", "boolean", None, "", "meta.code", "a boolean")]
EDGE_ROWS = [(1.0000000000000002, 12.345000267028809, 2**62, "<a & b>  ", dt.date(2000, 5, 1),
              True),
             (math.nan, math.inf, None, None, None, False),
             (-math.inf, None, -1, "", None, None)]


def test_values_read_back_as_written() -> None:
    """Every value type, NULL, NaN, infinities and characters XML must escape."""
    table = parse(io.BytesIO(votable.results(EDGE_FIELDS, EDGE_ROWS, description="x"))
                  ).get_first_table().to_table()
    assert table["d"][0] == 1.0000000000000002 and table["d"][2] == -np.inf
    assert table["d"].mask.tolist() == [False, True, False]  # NaN reads as NULL
    assert table["f"].dtype == np.float32 and table["f"][0] == np.float32(12.345)
    assert table["f"][1] == np.inf and table["f"].mask.tolist() == [False, False, True]
    assert table["n"][0] == 2**62 and table["n"].mask.tolist() == [False, True, False]
    assert table["s"].tolist()[:2] == ["<a & b>", ""]  # an empty string is NULL
    assert table["t"][0] == "2000-05-01"
    assert table["b"].tolist()[:2] == [True, False] and table["b"].mask.tolist()[2]


def test_votlint_reports_a_broken_votable(tmp_path) -> None:
    """The check above can fail: votlint names a bad cell."""
    broken = (b'<?xml version="1.0"?><VOTABLE version="1.4" '
              b'xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>'
              b'<FIELD name="a" datatype="int"/><DATA><TABLEDATA><TR><TD>x</TD></TR>'
              b'</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>')
    assert "Bad integer string 'x'" in votlint({"broken": broken}, tmp_path)["broken"]


def test_root_page_capabilities_and_availability(service: Service) -> None:
    root = requests.get(f"{service.base}/", timeout=60)
    assert root.status_code == 200 and f"{service.base}/scs/psc" in root.text
    assert "Largest SR: 0.05 deg; at most 300 rows" in root.text
    capabilities = requests.get(f"{service.base}/capabilities", timeout=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyvo's schema warnings about optional elements
        parsed = parse_capabilities(io.BytesIO(capabilities.content))
    assert [c.standardid for c in parsed] == ["ivo://ivoa.net/std/ConeSearch"] * 2
    assert [c.interfaces[0].accessurls[0].content for c in parsed] == [
        f"{service.base}/scs/psc", f"{service.base}/scs/xsc"]
    available = requests.get(f"{service.base}/availability", timeout=60)
    assert "<vosi:available>true</vosi:available>" in available.text
