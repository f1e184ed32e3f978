"""Each release rule on a hand-built working database with a known answer.

Geometry: scans 8.5' wide (RA) and 1 deg long (Dec) at Dec 0. Tile 1 is centred on
RA 10; tile 2 lies east of it, overlapping by 60". A source 20" inside tile 1's east
edge is therefore 40" inside tile 2's west edge.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
import pytest

from twomass import release

ARCSEC = 1 / 3600.0
WIDTH = 8.5 / 60
EAST_1 = 10 + WIDTH / 2          # east edge of tile 1 at Dec 0
RA_2 = 10 + WIDTH - 60 * ARCSEC  # centre of tile 2


def _rows(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _catalog(url: str, name: str = "t") -> dict[tuple[int, int], tuple]:
    """(scan_key, id) -> (use_src, dup_src) of the psc rows, via the working ids."""
    return {(r[0], r[1]): (r[2], r[3]) for r in _rows(
        url, "SELECT p.scan_key, w.id, p.use_src, p.dup_src FROM rel_t.psc AS p "
             "JOIN wdb.pts AS w ON w.scan_key = p.scan_key AND w.hpx = p.hpx "
             "AND w.ra = p.ra AND w.dec = p.dec")}


def _rejects(url: str) -> dict[tuple[int, int], tuple]:
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in _rows(
        url, "SELECT p.scan_key, w.id, p.reject_reason, p.use_src, p.dup_src "
             "FROM rel_t.psc_reject AS p JOIN wdb.pts AS w ON w.scan_key = p.scan_key "
             "AND w.hpx = p.hpx AND w.ra = p.ra AND w.dec = p.dec")}


def test_one_scan_per_tile(wdb: Any) -> None:
    best = wdb.scan(1, 10.0, 0.0, qual=10)
    worse = wdb.scan(1, 10.0, 0.0, qual=8)
    shallow = wdb.scan(2, RA_2, 0.0, qual=9, j_msnr10=15.5)
    deep = wdb.scan(2, RA_2, 0.0, qual=9, j_msnr10=16.0)
    kept = [wdb.pts(best, 10.0, 0.0), wdb.pts(deep, RA_2, 0.0)]
    lost = [wdb.pts(worse, 10.0, 0.0), wdb.pts(shallow, RA_2, 0.0)]
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    assert sorted(r[0] for r in _rows(wdb.url, "SELECT scan_key FROM rel_t.scan_info")) == [
        best.scan_key, deep.scan_key]
    assert set(_catalog(wdb.url)) == set(kept)
    assert {k: v[0] for k, v in _rejects(wdb.url).items()} == {
        k: "scan_not_selected" for k in lost}


def test_source_filters(wdb: Any) -> None:
    a = wdb.scan(1, 10.0, 0.0)
    faint = {"j_snr": 3.0, "h_snr": 3.0, "k_snr": 3.0,
             "j_cmsig": 0.4, "h_cmsig": 0.4, "k_cmsig": 0.4}
    cases = {
        "pass": {},
        "pass_msig_only": dict(faint, h_msig=0.15),                   # msig 0.15 <= 0.1551
        "pass_faint_few_frames": {"ndet": "160616", "j_m": 15.0, "h_m": 14.5, "k_m": 14.0},
        "pass_three_bands_snr5": dict(faint, k_snr=5.5),
        "pass_lower_case_artifact": {"cc_flg": "c0d"},
        "pass_saturated_no_psfchi": {"rd_flg": "122", "j_psfchi": None, "h_psfchi": 20.0,
                                     "k_psfchi": 20.0, "ndet": "006666"},
        "edge": {"_ra": 10 + WIDTH / 2 - 9.5 * ARCSEC},
        "artifact": {"cc_flg": "0D0"},
        "no_valid_band": {"rd_flg": "400"},
        "snr": faint,
        "snr_two_bands": dict(faint, rd_flg="220", k_snr=6.0),
        # The published rule tests the working database's msig, not cmsig.
        "snr_cmsig_only": dict(faint, h_cmsig=0.15, h_msig=0.3),
        "psfchi": {"j_psfchi": 11.0, "h_psfchi": 12.0, "k_psfchi": None},
        "ndet": {"ndet": "160616"},
    }
    keys = {}
    for i, (name, columns) in enumerate(cases.items()):
        columns = dict(columns)
        ra = columns.pop("_ra", 10.0)
        keys[name] = wdb.pts(a, ra, -0.3 + i * 0.01, **columns)
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    catalog, rejects = _catalog(wdb.url), _rejects(wdb.url)
    for name, key in keys.items():
        if name.startswith("pass"):
            assert key in catalog, name
        else:
            expected = {"snr_two_bands": "snr", "snr_cmsig_only": "snr"}.get(name, name)
            assert rejects[key][0] == expected, name


def test_spec_thresholds_reach_the_frame_rule_and_ph_qual(wdb: Any) -> None:
    """The frame-detection and psfchi fields of the spec set both the filter and the
    ph_qual letters (J 14.0, H 13.5, Ks 13.2 by default: bright in every band)."""
    from twomass.release.spec import ReleaseSpec

    a = wdb.scan(1, 10.0, 0.0)
    one_frame = wdb.pts(a, 10.0, -0.2, ndet="161616")
    poor_fit = wdb.pts(a, 10.0, -0.1, h_psfchi=12.0)
    two_of_five = wdb.pts(a, 10.0, 0.0, ndet="252525")
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    loose = ReleaseSpec(ndet_bright_j_mag=13.0, ndet_bright_h_mag=13.0, ndet_bright_k_mag=13.0,
                        psfchi_max=15.0, ndet_min_ratio=0.4)
    release.build(wdb.db, "loose", loose, progress=False, publish_after=False)

    def letters(name: str) -> dict[tuple[int, int], str]:
        return {(k, i): q for k, i, q in _rows(
            wdb.url, f"SELECT p.scan_key, w.id, p.ph_qual FROM rel_{name}.psc AS p "
                     "JOIN wdb.pts AS w ON w.scan_key = p.scan_key AND w.ra = p.ra "
                     "AND w.dec = p.dec")}

    assert _rejects(wdb.url)[one_frame][0] == "ndet"
    assert _rejects(wdb.url)[two_of_five][0] == "ndet"
    assert letters("t") == {poor_fit: "AEA"}
    assert letters("loose") == {one_frame: "AAA", poor_fit: "AAA", two_of_five: "AAA"}


def test_overlap_seen_twice_farthest_from_edge_wins(wdb: Any) -> None:
    a, b = wdb.scan(1, 10.0, 0.0), wdb.scan(2, RA_2, 0.0)
    in_a = wdb.pts(a, EAST_1 - 20 * ARCSEC, 0.1)                     # 20" from A's edge
    in_b = wdb.pts(b, EAST_1 - 20.5 * ARCSEC, 0.1)                   # ~40" from B's edge
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    assert _catalog(wdb.url) == {in_b: (1, 1)}
    assert _rejects(wdb.url) == {in_a: ("duplicate", 0, 1)}


def test_overlap_seen_once(wdb: Any) -> None:
    a, b = wdb.scan(1, 10.0, 0.0), wdb.scan(2, RA_2, 0.0)
    virtual_wins = wdb.pts(a, EAST_1 - 20 * ARCSEC, 0.1)   # B covers it 40" inside
    real_wins = wdb.pts(a, EAST_1 - 45 * ARCSEC, 0.2)      # B covers it 15" inside
    uncovered = wdb.pts(a, EAST_1 - 55 * ARCSEC, 0.3)      # 5" inside B: B's border
    b_only = wdb.pts(b, EAST_1 - 30 * ARCSEC, 0.4)         # A at 30" beats B at 30"? tie
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    catalog = _catalog(wdb.url)
    assert catalog[virtual_wins] == (0, 0)       # kept with caution
    assert catalog[real_wins] == (1, 0)
    assert catalog[uncovered] == (1, 0)
    assert catalog[b_only] == (1, 0)             # equal distance: the real one is kept
    assert _rejects(wdb.url) == {}


def test_confused_groups(wdb: Any) -> None:
    """Confused groups keep every apparition of the winning scan (docs/release-rules.md).

    B's apparitions lie 30" inside B and 29" inside A, so B wins, except in the triangle
    ``tri_a``, which lies 40" inside A and 20" inside B.
    """
    a, b = wdb.scan(1, 10.0, 0.0), wdb.scan(2, RA_2, 0.0)
    x = EAST_1 - 30 * ARCSEC
    # dup_src 3: B splits the source in two (b1, b2 1.2" apart), A sees one; B wins.
    tri_b = [wdb.pts(a, x + 1 * ARCSEC, -0.2), wdb.pts(b, x, -0.2 + 0.6 * ARCSEC),
             wdb.pts(b, x, -0.2 - 0.6 * ARCSEC)]
    # dup_src 3 again, but A's single apparition is farther from its edges: A wins.
    xa = EAST_1 - 40 * ARCSEC
    tri_a = [wdb.pts(a, xa, -0.1), wdb.pts(b, xa - 1 * ARCSEC, -0.1 + 0.6 * ARCSEC),
             wdb.pts(b, xa - 1 * ARCSEC, -0.1 - 0.6 * ARCSEC)]
    # dup_src 4: both scans split, every cross pair within 2"; B wins.
    both = [wdb.pts(a, x + 1 * ARCSEC, 0.0), wdb.pts(a, x + 1 * ARCSEC, 0.0 + 0.8 * ARCSEC),
            wdb.pts(b, x, 0.0), wdb.pts(b, x, 0.0 + 0.8 * ARCSEC)]
    # dup_src 5: a chain a1 - b1 - a2 - b2, 1.5" steps along Dec; B wins.
    chain = [wdb.pts(a, x + 1 * ARCSEC, 0.2), wdb.pts(b, x, 0.2 + 1.5 * ARCSEC),
             wdb.pts(a, x + 1 * ARCSEC, 0.2 + 3 * ARCSEC), wdb.pts(b, x, 0.2 + 4.5 * ARCSEC)]
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    catalog, rejects = _catalog(wdb.url), _rejects(wdb.url)
    expected = {  # group, its dup_src, the apparitions kept
        "tri_b": (tri_b, 3, tri_b[1:]), "tri_a": (tri_a, 3, tri_a[:1]),
        "both": (both, 4, both[2:]), "chain": (chain, 5, chain[1::2]),
    }
    for name, (group, dup, kept) in expected.items():
        assert sorted(k for k in group if k in catalog) == sorted(kept), name
        for k in group:
            if k in kept:
                assert catalog[k] == (1, dup), name
            else:
                assert rejects[k] == ("duplicate", 0, dup), name
    # No two released sources of different scans closer than 2" (spec 2.4).
    assert _rows(wdb.url, "SELECT count(*) FROM rel_t.psc AS p JOIN rel_t.psc AS q "
                          "ON p.scan_key < q.scan_key "
                          "AND hpx_dist(p.ra, p.dec, q.ra, q.dec) < 2 / 3600.0") == [(0,)]


def test_bright_star_artifacts(wdb: Any) -> None:
    a = wdb.scan(1, 10.0, 0.0)
    upper = [wdb.pts(a, 10.0, 0.01 * i, cc_flg=f) for i, f in enumerate(("C00", "0P0", "00G"))]
    lower = [wdb.pts(a, 10.01, 0.01 * i, cc_flg=f)
             for i, f in enumerate(("c00", "0p0", "00d", "s0b"))]
    # Upper case outside C-P is not an artifact for the [C-P] rule.
    other = wdb.pts(a, 10.02, 0.0, cc_flg="S00")
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    catalog, rejects = _catalog(wdb.url), _rejects(wdb.url)
    assert all(rejects[k][0] == "artifact" for k in upper)
    assert all(k in catalog for k in lower + [other])


def test_final_artifact_pass(wdb: Any) -> None:
    """DB_MAPCOR: spikes and halos of very bright parents off the scan, from another scan
    and from the bright-star list (zones and thresholds: sql/release/40_artifacts.sql).

    Scan A (tile 1) holds the candidates, all more than 60" from scan B (tile 2). Parent
    ``listed`` (J H Ks 3.7 3.6 3.5, bright-star list only) lies 30" west of A: spikes
    120" x 10**(0.2 x 2.5) = 379" long, halo 25" x 10**0.5 = 79"; parent ``in_b``
    (4.3 4.1 4.0, seen by B only) 100" east of A: spikes 301". A candidate in a zone is
    an artifact when its magnitudes are the parent's plus 7 + 2.5 log10(r / 20") within
    0.7 mag, with the parent's colours within 0.2 mag.
    """
    a, b = wdb.scan(1, 10.0, 0.0), wdb.scan(2, RA_2, 0.0)
    west = 10 - WIDTH / 2
    wdb.bright_star(1, west - 30 * ARCSEC, -0.2, 3.5)
    wdb.bright_star(2, west - 30 * ARCSEC, -0.3, 7.0)        # not very bright: no parent
    wdb.pts(b, EAST_1 + 100 * ARCSEC, 0.3, rd_flg="111", cc_flg="000",
            j_m=4.3, h_m=4.1, k_m=4.0)
    wdb.pts(b, EAST_1 + 100 * ARCSEC, 0.4, rd_flg="100", j_m=5.0, h_m=None, k_m=None)

    def like(parent: tuple[float, float, float], r: float, dj: float = 0.0) -> dict:
        dm = 7 + 2.5 * np.log10(r / 20) + 0.3   # (0.3 mag fainter than predicted)
        return {"j_m": parent[0] + dm + dj, "h_m": parent[1] + dm, "k_m": parent[2] + dm}

    listed, in_b = (3.7, 3.6, 3.5), (4.3, 4.1, 4.0)
    cases = {  # name: (position, columns, expected cc_flg, rejected)
        # halo: r = 53.9"
        "halo_artifact": ((west + 20 * ARCSEC, -0.2 + 20 * ARCSEC), like(listed, 53.9),
                          "CCC", True),
        "halo_real": ((west + 20 * ARCSEC, -0.2 - 20 * ARCSEC),
                      {"j_m": 9.3, "h_m": 9.1, "k_m": 9.0}, "ccc", False),
        # spike (east-west arm): r = 180", beyond the halo
        "spike_artifact": ((west + 150 * ARCSEC, -0.2 + 1 * ARCSEC), like(listed, 180),
                           "DDD", True),
        "spike_two_bands": ((west + 150 * ARCSEC, -0.2 - 1 * ARCSEC),
                            dict(like(listed, 180), rd_flg="220", k_m=None, k_snr=None,
                                 k_cmsig=None, k_psfchi=None), "DD0", True),
        "spike_other_colour": ((west + 150 * ARCSEC, -0.2 - 2 * ARCSEC),
                               like(listed, 180, dj=0.5), "ddd", False),
        # p and c outrank d and stay; s is below d and is raised
        "spike_real_never_lowered": ((west + 150 * ARCSEC, -0.2 + 2 * ARCSEC),
                                     {"j_m": 11.0, "h_m": 11.0, "k_m": 11.0,
                                      "cc_flg": "pcs"}, "pcd", False),
        "off_spike": ((west + 150 * ARCSEC, -0.2 + 10 * ARCSEC), like(listed, 180), "000",
                      False),
        # no parent: the listed Ks 7 star
        "not_very_bright": ((west + 20 * ARCSEC, -0.3 + 20 * ARCSEC), like(listed, 53.9),
                            "000", False),
        # spike of the star only scan B saw, r = 200"
        "spike_of_other_scan": ((EAST_1 - 100 * ARCSEC, 0.3 + 0.5 * ARCSEC), like(in_b, 200),
                                "DDD", True),
        # the single-band detection in B is no parent
        "near_one_band_star": ((EAST_1 - 100 * ARCSEC, 0.4 + 0.5 * ARCSEC), like(in_b, 200),
                               "000", False),
    }
    keys = {name: wdb.pts(a, pos[0], pos[1], **cols)
            for name, (pos, cols, _, _) in cases.items()}
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    flags = {(r[0], r[1]): (r[2], r[3]) for r in _rows(
        wdb.url, "SELECT p.scan_key, w.id, p.cc_flg, NULL FROM rel_t.psc AS p "
                 "JOIN wdb.pts AS w ON w.scan_key = p.scan_key AND w.hpx = p.hpx "
                 "UNION ALL SELECT p.scan_key, w.id, p.cc_flg, p.reject_reason "
                 "FROM rel_t.psc_reject AS p "
                 "JOIN wdb.pts AS w ON w.scan_key = p.scan_key AND w.hpx = p.hpx")}
    for name, (_, _, cc_flg, rejected) in cases.items():
        assert flags[keys[name]] == (cc_flg, "artifact_final" if rejected else None), name


def test_designation_collisions_get_suffixes(wdb: Any) -> None:
    a = wdb.scan(1, 10.0, 0.0)
    wdb.pts(a, 10.0000010, 0.1000001)
    wdb.pts(a, 10.0000020, 0.1000002)      # same truncated coordinates, same scan
    wdb.pts(a, 10.0100000, 0.1000000)
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    names = [r[0] for r in _rows(wdb.url, "SELECT designation FROM rel_t.psc ORDER BY pts_key")]
    assert sorted(n.strip() for n in names) == [
        "00400000+0006000A", "00400000+0006000B", "00400240+0006000"]


def test_prox_is_nearest_neighbour_without_radius_limit(wdb: Any) -> None:
    a = wdb.scan(1, 10.0, 0.0, height=2.0)
    wdb.pts(a, 10.0, 0.0)
    wdb.pts(a, 10.0, 3 * ARCSEC)
    wdb.pts(a, 10.0, 0.9)                 # isolated: its neighbour is 0.9 deg away
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    rows = _rows(wdb.url, "SELECT pts_key, dec, prox, pxpa, pxcntr FROM rel_t.psc ORDER BY dec")
    key = {r[1]: r[0] for r in rows}
    assert rows[0][2] == pytest.approx(3.0, abs=1e-3) and rows[0][3] == 0
    assert rows[0][4] == key[3 * ARCSEC]
    assert rows[1][3] == 180 and rows[1][4] == key[0.0]
    assert rows[2][2] == pytest.approx(0.9 * 3600 - 3, abs=0.01)
    assert rows[2][3] == 180 and rows[2][4] == key[3 * ARCSEC]


def test_galaxy_contamination_and_ext_key(wdb: Any) -> None:
    a = wdb.scan(1, 10.0, 0.0)
    core = wdb.pts(a, 10.0, 0.0)
    inside = wdb.pts(a, 10.0, 12 * ARCSEC)      # inside 1.1 x 15" along the major axis
    outside = wdb.pts(a, 10.0 + 12 * ARCSEC, 0.0)  # 12" along the minor axis (b = 7.5")
    far = wdb.pts(a, 10.0, 0.1)
    wdb.ext(a, 10.0, 0.0, pts_id=core[1], r_k20fe=15.0, k_ba=0.5, k_phi=0)
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    rows = _rows(wdb.url, "SELECT p.ra, p.dec, p.gal_contam, p.ext_key, x.ext_key "
                          "FROM rel_t.psc AS p CROSS JOIN rel_t.xsc AS x")
    by_pos = {(r[0], r[1]): r for r in rows}
    pos = {k: (r, d) for k, (r, d) in zip(
        ("core", "inside", "outside", "far"),
        ((10.0, 0.0), (10.0, 12 * ARCSEC), (10.0 + 12 * ARCSEC, 0.0), (10.0, 0.1)),
        strict=True)}
    assert by_pos[pos["core"]][2:4] == (1, by_pos[pos["core"]][4])
    assert by_pos[pos["inside"]][2:4] == (2, None)
    assert by_pos[pos["outside"]][2] == 0
    assert by_pos[pos["far"]][2] == 0
    assert inside and outside and far


def test_xsc_rules(wdb: Any) -> None:
    """XSC: 15" edge border, CDIA artifact letters, S/N, extent, 5" duplicate radius."""
    a, b = wdb.scan(1, 10.0, 0.0), wdb.scan(2, RA_2, 0.0)
    kept = wdb.ext(a, 10.0, 0.0)
    edge = wdb.ext(a, EAST_1 - 12 * ARCSEC, -0.2)            # 12" from A's east edge
    artifact = wdb.ext(a, 10.0, 0.1, cc_flg="D")
    faint = wdb.ext(a, 10.0, 0.2, k_msig_k20fe=0.3)
    point_like = wdb.ext(a, 10.0, 0.3, e_score=1.6, g_score=1.7)
    # Seen by both scans 4" apart (a match for the XSC, not for the PSC radius of 2"):
    # B's apparition lies farther from its own edges and wins.
    in_a = wdb.ext(a, EAST_1 - 20 * ARCSEC, 0.4)
    in_b = wdb.ext(b, EAST_1 - 24 * ARCSEC, 0.4)
    wdb.commit()
    release.build(wdb.db, "t", progress=False)
    catalog = {(r[0], r[1]): (r[2], r[3]) for r in _rows(
        wdb.url, "SELECT scan_key, id, use_src, dup_src FROM rel_t.xsc")}
    assert catalog == {kept: (1, 0), in_b: (1, 1)}
    rejects = {(r[0], r[1]): r[2] for r in _rows(
        wdb.url, "SELECT scan_key, id, reject_reason FROM rel_t.xsc_reject")}
    assert rejects == {edge: "edge", artifact: "artifact", faint: "snr",
                       point_like: "not_extended", in_a: "duplicate"}
    # Every XSC row has a designation, a nearest XSC neighbour and unique keys.
    rows = _rows(wdb.url, "SELECT designation, prox, ext_key FROM rel_t.xsc")
    assert all(r[0] and r[1] is not None for r in rows)
    assert len({r[2] for r in rows}) == len(rows)
