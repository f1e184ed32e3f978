"""Band merging on hand-built source lists and a hand-built Atlas Image."""

from __future__ import annotations

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from twomass.pipeline.stages import atlas, bandmerge, scansources, tan
from twomass.pipeline.stages import instrument as inst
from twomass.pipeline.stages.bandmerge import BandSources

RA0, DEC0 = 150.0, 10.0
BASE = SkyCoord(RA0 * u.deg, DEC0 * u.deg)


def _sources(offsets_arcsec, sigma: float = 0.2, mag: float = 14.0) -> BandSources:
    """A band's list at (east, north) offsets [arcsec] from BASE."""
    offsets = np.asarray(offsets_arcsec, float).reshape(-1, 2)
    n = len(offsets)
    pos = BASE.spherical_offsets_by(offsets[:, 0] * u.arcsec, offsets[:, 1] * u.arcsec)
    return BandSources(
        ra=pos.ra.deg, dec=pos.dec.deg, sigma_ra=np.full(n, sigma), sigma_dec=np.full(n, sigma),
        mag=np.full(n, mag), msig=np.full(n, 0.02), cmsig=np.full(n, 0.02),
        snr=np.full(n, 50.0), rd=np.full(n, 2), bl=np.ones(n, int), psfchi=np.ones(n),
        m_stdap=np.full(n, mag), msig_stdap=np.full(n, 0.02), ndet=np.full(n, "66"),
        coadd=np.ones(n, int), msig_cal=np.zeros(n))


def _row_of(merged, band: int, row: int) -> int:
    return int(np.flatnonzero(merged.index[:, band] == row)[0])


def test_weighted_position_and_error_ellipse() -> None:
    j = _sources([(0.0, 0.0)], sigma=0.1)
    h = _sources([(0.3, 0.0)], sigma=0.2)
    k = _sources([(0.0, 0.6)], sigma=0.3)
    m = bandmerge.merge_bands([j, h, k], RA0)
    assert len(m.ra) == 1 and (m.index[0] == 0).all()
    w = 1.0 / np.array([0.1, 0.2, 0.3]) ** 2
    east = np.sum(w * [0.0, 0.3, 0.0]) / w.sum()
    north = np.sum(w * [0.0, 0.0, 0.6]) / w.sum()
    expected = BASE.spherical_offsets_by(east * u.arcsec, north * u.arcsec)
    got = SkyCoord(m.ra[0] * u.deg, m.dec[0] * u.deg)
    assert got.separation(expected).arcsec < 0.002
    sigma = np.sqrt(1.0 / w.sum() + bandmerge.SYSTEMATIC_ARCSEC**2)
    assert m.err_maj[0] == pytest.approx(sigma, rel=1e-6)
    assert m.err_min[0] == pytest.approx(sigma, rel=1e-6)
    assert not m.confused.any() and not m.inconsistent.any()
    assert m.cnf[0].tolist() == [1, 1, 1, 1, 1, 1]


def test_split_in_one_band_flags_the_others() -> None:
    """J resolves a pair 1.6" apart; H and Ks see one source between them."""
    j = _sources([(0.0, 0.0), (0.0, 1.6)])
    h = _sources([(0.0, 0.5)])
    k = _sources([(0.0, 0.5)])
    m = bandmerge.merge_bands([j, h, k], RA0)
    assert len(m.ra) == 2
    first, second = _row_of(m, 0, 0), _row_of(m, 0, 1)
    # The single H and Ks go with the nearer J component...
    assert m.index[first].tolist() == [0, 0, 0]
    assert m.index[second].tolist() == [1, -1, -1]
    # ...flagged as bandmerge-confused (each had two J candidates)...
    assert m.confused[first].tolist() == [False, True, True]
    assert not m.confused[second].any()
    # ...and the other J component gets rd_flg 6 in H and Ks, not 0.
    assert m.inconsistent[second].tolist() == [False, True, True]
    assert m.cnf[first].tolist() == [1, 1, 2, 1, 2, 1]
    assert m.cnf[second].tolist() == [1, 1, 0, 0, 0, 0]


def test_chain_is_cut_at_its_longest_link() -> None:
    """J1 - H1 - J2 - H2 along a line, 1.4", 1.5" and 1.6" apart: two sources."""
    j = _sources([(0.0, 0.0), (0.0, 2.9)])
    h = _sources([(0.0, 1.4), (0.0, 4.5)])
    k = _sources(np.zeros((0, 2)))
    m = bandmerge.merge_bands([j, h, k], RA0)
    assert sorted(map(tuple, m.index[:, :2].tolist())) == [(0, 0), (1, 1)]
    one, two = _row_of(m, 0, 0), _row_of(m, 0, 1)
    assert m.confused[one].tolist() == [False, True, False]  # H1 had J1 and J2
    assert m.confused[two].tolist() == [True, False, False]  # J2 had H1 and H2


def _image(rng, sigma_pix: float, star_flux: float, ra: float, dec: float
           ) -> atlas.AtlasImage:
    """A flat Atlas Image of white noise, six frames deep, with one Gaussian star."""
    ny, nx = inst.ATLAS_SHAPE
    image = rng.normal(0.0, sigma_pix, (ny, nx))
    crval = (RA0, DEC0)
    x, y = tan.world_to_pix(crval, atlas.ATLAS_CD, atlas.ATLAS_CRPIX, np.array([ra]),
                            np.array([dec]))
    yy, xx = np.mgrid[0:ny, 0:nx]
    s = 1.2
    image += star_flux * np.exp(-((xx - x[0]) ** 2 + (yy - y[0]) ** 2) / (2 * s * s)) \
        / (2 * np.pi * s * s)
    return atlas.AtlasImage(1, crval, image.astype(np.float32),
                            np.full((ny, nx), 6, np.uint8), apcor=1.0)


def test_single_band_source_gets_upper_limits_elsewhere() -> None:
    """A star seen in J only: J keeps its measurement, H and Ks get 95 % upper limits
    from their Atlas Images at the merged position (rd_flg 0, ndet 00)."""
    rng = np.random.default_rng(3)
    pos = BASE.spherical_offsets_by(20 * u.arcsec, -30 * u.arcsec)
    sigma_pix, magzp = 2.0, 20.0
    j = _sources([(20.0, -30.0)])
    empty = _sources(np.zeros((0, 2)))
    merged = bandmerge.merge_bands([j, empty, empty], RA0)
    assert len(merged.ra) == 1
    # H: nothing there; Ks: a star at aperture S/N ~1 (below any detection).
    white = sigma_pix * np.sqrt(np.pi * 16.0)  # 4" aperture noise of white pixels
    images = [_image(rng, sigma_pix, 0.0, pos.ra.deg, pos.dec.deg),
              _image(rng, sigma_pix, 1.0 * white, pos.ra.deg, pos.dec.deg)]
    limits = [scansources.upper_limits([im], magzp, merged.ra, merged.dec, RA0)
              for im in images]
    for lim in limits:
        assert np.isfinite(lim.mag[0])
    flux_h = 10 ** (-0.4 * (limits[0].mag[0] - magzp))
    assert 1.5 * white < flux_h < 6.0 * white
    true_k = magzp - 2.5 * np.log10(0.9 * white)  # ~90 % of the star's flux within 4"
    assert limits[1].mag[0] < true_k  # an upper limit on the flux: brighter than the star
    assert limits[1].mag[0] > true_k - 2.0
    geometry = scansources.ScanGeometry(
        RA0, "n", DEC0 - 0.1, DEC0 + 0.1, 0.07, -0.07, np.array([DEC0 - 0.1, DEC0 + 0.1]),
        np.zeros(2), np.array([2451000.5, 2451000.51]))
    no_limit = scansources.UpperLimits(*(np.zeros(0) for _ in range(3)))
    cols = scansources.pts_columns(7, merged, [j, empty, empty],
                                   [no_limit, *limits], geometry, np.array([16.0, 15.0, 14.5]),
                                   np.array([0.004, 0.003, 0.003]))
    assert cols["rd_flg"][0] == "200"
    assert cols["ndet"][0] == "660000"
    assert cols["bl_flg"][0] == "100"
    assert cols["cc_flg"][0] == "000"
    assert cols["h_m"][0] == pytest.approx(limits[0].mag[0])
    assert np.isnan(cols["h_cmsig"][0]) and np.isnan(cols["h_snr"][0])
    # The total error: cmsig, the J zero point's error, the catalog's zero-point term and
    # the flat-field residual.
    assert cols["j_msigcom"][0] == pytest.approx(np.sqrt(0.02**2 + 0.004**2 + 0.0106**2
                                                         + 0.005**2))
    assert cols["j_m"][0] == 14.0 and cols["j_snr"][0] == pytest.approx(10 * 10 ** 0.8)
    # 30" south of the scan's middle, 20" east of its meridian.
    assert cols["x_scan"][0] == pytest.approx(-20.0, abs=0.05)
    assert cols["y_scan"][0] == pytest.approx(0.1 * 3600 - 30.0, abs=0.05)
    assert cols["dist_edge_flg"][0] == "se"
    assert abs(cols["dist_edge_ew"][0] - (0.07 * 3600 - 20.0)) <= 1
    assert abs(cols["dist_edge_ns"][0] - (0.1 * 3600 - 30.0)) <= 1
