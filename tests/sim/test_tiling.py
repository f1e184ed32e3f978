"""Survey geometry: tile count, overlaps, extensions, corners, edges, full coverage."""

from __future__ import annotations

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from twomass.pipeline.sim import scanframe, tiling


@pytest.fixture(scope="module")
def tiles() -> tiling.Tiles:
    return tiling.full_sky()


def test_full_sky_count_within_3_percent_of_59650(tiles: tiling.Tiles) -> None:
    assert abs(len(tiles) / 59_650 - 1.0) < 0.03
    assert len(np.unique(tiles.tile)) == len(tiles)
    assert tiles.dec_band.min() == 0 and tiles.dec_band.max() == 29


@pytest.mark.parametrize("band", [0, 5, 14, 15, 20, 29])
def test_ra_overlap_at_equatorward_end_and_growing_poleward(tiles, band) -> None:
    geometry = tiling.SurveyGeometry()
    index = int(np.flatnonzero(tiles.dec_band == band)[3])
    lo, hi = tiles.phi_lo[index], tiles.phi_hi[index]
    equatorward, poleward = (lo, hi) if lo >= -1.0 else (hi, lo)
    nominal = geometry.ra_overlap * geometry.frame_arcsec
    at_eq = tiling.ra_overlap_arcsec(tiles, index, equatorward)
    assert nominal - 0.5 <= at_eq <= nominal + 6.0
    # Overlap seen at an independent position pair: astropy separation of meridians.
    same = np.sort(tiles.ra0[tiles.dec_band == band])
    sep = SkyCoord(same[0] * u.deg, equatorward * u.deg).separation(
        SkyCoord(same[1] * u.deg, equatorward * u.deg)).arcsec
    assert abs(geometry.frame_arcsec - sep - at_eq) < 0.05
    assert tiling.ra_overlap_arcsec(tiles, index, poleward) > at_eq


def test_tiles_extend_one_frame_into_the_next_band(tiles) -> None:
    north = tiles.take(tiles.dec_band == 20)  # 30..36 deg
    south = tiles.take(tiles.dec_band == 9)  # -36..-30 deg
    assert np.allclose(north.phi_lo, 30.0 - 510.0 / 3600.0)
    assert np.allclose(north.phi_hi, 36.0)
    assert np.allclose(south.phi_lo, -36.0)
    assert np.allclose(south.phi_hi, -30.0 + 510.0 / 3600.0)


def test_corners_are_one_frame_apart_and_6_degrees_long(tiles) -> None:
    c = tiles.take(np.array([12345])).corners()
    pos = {i: SkyCoord(c[f"ra_{i}"] * u.deg, c[f"dec_{i}"] * u.deg) for i in (1, 2, 3, 4)}
    assert pos[1].separation(pos[2]).arcsec[0] == pytest.approx(510.0, abs=0.01)
    assert pos[3].separation(pos[4]).arcsec[0] == pytest.approx(510.0, abs=0.01)
    length = pos[1].separation(pos[3]).deg[0]
    assert 6.0 < length < 6.0 + 510.0 / 3600.0 + 1e-6
    # Corner 1 is east (larger RA) of corner 2.
    assert ((c["ra_1"] - c["ra_2"]) % 360.0)[0] < 1.0


def test_edge_distances_match_construction() -> None:
    ra0, half = 100.0, 255.0 / 3600.0
    corners = {}
    for i, (sign, phi) in enumerate([(1, 20.0), (-1, 20.0), (1, 26.0), (-1, 26.0)], 1):
        ra, dec = scanframe.to_radec(ra0, sign * half, phi)
        corners[f"ra_{i}"], corners[f"dec_{i}"] = float(ra), float(dec)
    xi = np.array([100.0, -200.0, 0.0]) / 3600.0
    phi = np.array([20.0 + 30.0 / 3600.0, 23.0, 26.0 - 12.5 / 3600.0])
    ra, dec = scanframe.to_radec(ra0, xi, phi)
    ns, ew, flg = scanframe.edge_distances(ra, dec, corners, "n")
    assert list(ew) == [155, 55, 255]
    # Truncated to whole arcsec; the N/S edges are chords that bow by < 0.01".
    assert 29 <= ns[0] <= 30 and 11 <= ns[2] <= 12
    assert flg[0] == "se" and flg[1][1] == "w" and flg[2][0] == "n"


def _covered(tiles: tiling.Tiles, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Brute force: is each point inside at least one tile (all tiles tested)?"""
    hit = np.zeros(len(ra), bool)
    for k in range(len(ra)):
        xi, phi = scanframe.to_scan(tiles.ra0, np.full(len(tiles), ra[k]),
                                    np.full(len(tiles), dec[k]))
        inside = (np.abs(xi) <= tiles.half_width) & (phi >= tiles.phi_lo) & (
            phi <= tiles.phi_hi)
        hit[k] = inside.any()
    return hit


def test_every_point_of_the_sky_is_covered(tiles) -> None:
    rng = np.random.default_rng(7)
    n = 600
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    # Hard places: the poles, band boundaries, RA zero, midway between two tiles.
    band_edges = np.arange(-84.0, 85.0, 6.0)
    ra = np.concatenate([ra, [0.0, 123.0, 0.0, 359.9999], rng.uniform(0, 360, len(band_edges)),
                         tiles.ra0[:50] + 0.5 * 360.0 / 293])
    dec = np.concatenate([dec, [90.0, 90.0, -90.0, -89.9999], band_edges + 1e-7,
                          np.full(50, -84.0 - 1e-6)])
    assert _covered(tiles, ra, dec).all()


@pytest.mark.parametrize("box", [((150.0, 152.0), (20.0, 22.0)),
                                 ((359.0, 1.0), (-40.0, -38.0))])
def test_in_box_keeps_every_tile_touching_the_box(tiles, box) -> None:
    mask = tiling.in_box(tiles, *box)
    rng = np.random.default_rng(3)
    (ra0, ra1), (dec0, dec1) = box
    ra = (ra0 + rng.uniform(0, (ra1 - ra0) % 360.0, 200)) % 360.0
    dec = rng.uniform(dec0, dec1, 200)
    assert mask.sum() < 200  # a small box keeps a few tiles, not the whole band
    for k in range(len(ra)):
        xi, phi = scanframe.to_scan(tiles.ra0, np.full(len(tiles), ra[k]),
                                    np.full(len(tiles), dec[k]))
        inside = (np.abs(xi) <= tiles.half_width) & (phi >= tiles.phi_lo) & (
            phi <= tiles.phi_hi)
        assert not (inside & ~mask).any()
