"""GALWORKS on hand-built Atlas Images: a bright galaxy is found and its isophotal and
total magnitudes match the rendered profile's; a close star pair and an isolated star
are not extended. And the night products carry the scans' ``ext`` rows."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from twomass.ingest.products import read_night
from twomass.ingest.validate import validate
from twomass.pipeline.stages import atlas, galclass, galimage, galphot, galworks, render, tan
from twomass.schema.products import product_schema

ZP = 20.0  # mag of 1 ADU per frame: 20 mag/arcsec^2 is 1 ADU per 1" pixel
NOISE = 1.8  # pixel rms: a Ks 14.3 star has S/N 10 in the 4" aperture
PSF_SIGMA = 1.4  # [arcsec], core of the Atlas PSF
COLOURS = (0.95, 0.30, 0.0)  # galaxy J-Ks, H-Ks, Ks-Ks
STAR_COLOURS = (0.5, 0.1, 0.0)
CRVAL = (150.0, 20.0)


def _images(galaxies=(), stars=(), seed=1):
    """Three bands of one 1024 x 512 Atlas-like image: ``galaxies`` (x, y, Ks, scale
    length [arcsec]) rendered as ``observe`` renders them, ``stars`` (x, y, Ks) with the
    Atlas PSF, sky noise; and the point sources' (ra, dec, mags per band)."""
    rng = np.random.default_rng(seed)
    apcor = galphot._encircled(4.0, PSF_SIGMA) / galphot._encircled(12.0, PSF_SIGMA)
    images = []
    for b in range(3):
        img = np.zeros(atlas.inst.ATLAS_SHAPE)
        for x, y, k, scale in galaxies:
            flux = 10 ** (-0.4 * (k + COLOURS[b] - ZP))
            render.add_galaxies(img, np.array([x]), np.array([y]), np.array([flux]),
                                np.array([scale]), np.array([PSF_SIGMA]))
        for x, y, k in stars:
            flux = 10 ** (-0.4 * (k + STAR_COLOURS[b] - ZP))
            parts = galphot.psf_components(PSF_SIGMA, 1)
            render.add_mixtures(img, np.array([x]), np.array([y]),
                                [(flux * w, s) for w, s in parts], 20)
        img += rng.normal(0.0, NOISE, img.shape)
        images.append(atlas.AtlasImage(1, CRVAL, img.astype(np.float32),
                                       np.full(img.shape, 6, np.uint8), apcor))
    # The point-source pipeline's view: each star, and a galaxy's core as a point
    # source fainter than the galaxy.
    px = [s[0] for s in stars] + [g[0] + 0.3 for g in galaxies]
    py = [s[1] for s in stars] + [g[1] - 0.2 for g in galaxies]
    ks = [s[2] for s in stars] + [g[2] + 0.8 for g in galaxies]
    colours = [STAR_COLOURS] * len(stars) + [COLOURS] * len(galaxies)
    ra, dec = tan.pix_to_world(CRVAL, atlas.ATLAS_CD, atlas.ATLAS_CRPIX, np.array(px, float),
                               np.array(py, float))
    mags = [np.array([k + c[b] for k, c in zip(ks, colours, strict=True)]) for b in range(3)]
    return [galimage.prepare(images[b], ZP, float("nan"), ra, dec, mags[b]) for b in range(3)]


def _near(found, x, y, radius=5.0):
    return [s for s in found if np.hypot(s.x - x, s.y - y) < radius]


def _catalog(sources):
    return [s for s in sources if min(s.e_score, s.g_score) <= galclass.CATALOG_SCORE]


def test_bright_galaxy_found_with_its_isophotal_magnitude():
    x, y, k, scale = 200.3, 300.6, 12.8, 2.5
    found = galworks.measure_image(_images(galaxies=[(x, y, k, scale)]))
    mine = _catalog(_near(found, x, y))
    assert len(mine) == 1
    src = mine[0]
    # The oracle: the rendered profile through the PSF and the 1" pixel, above 20
    # mag/arcsec^2 (1 ADU per pixel here).
    radius, flux = render.galaxy_isophote(10 ** (-0.4 * (k - ZP)), scale,
                                          np.sqrt(PSF_SIGMA**2 + 1.0 / 12.0), 1.0)
    mag, err = src.mags(src.flux_k20fe, src.err_k20fe, np.full(3, ZP))
    assert abs(mag[2] - (ZP - 2.5 * np.log10(flux))) < max(3 * err[2], 0.05)
    # The radius is noise-limited: at the isophote an annulus' mean has ~0.4 ADU of
    # noise where the profile falls 0.4 ADU per arcsec.
    assert abs(src.r_k20fe - radius) < 0.2 * radius
    # J and H in the same ellipse keep the galaxy's colours (same profile shape).
    assert mag[0] - mag[2] == pytest.approx(COLOURS[0], abs=0.1)
    total, _ = src.mags(src.flux_ext, src.err_ext, np.full(3, ZP))
    assert abs(total[2] - k) < 0.15
    assert src.sup_ba > 0.8  # round


@pytest.mark.parametrize("separation", [3.0, 4.0, 5.0])
def test_close_star_pair_is_not_a_galaxy(separation):
    angle = np.radians(35.0)
    x, y = 300.2, 600.4
    stars = [(x, y, 12.0),
             (x + separation * np.cos(angle), y + separation * np.sin(angle), 12.4)]
    found = galworks.measure_image(_images(stars=stars, seed=2))
    assert _catalog(_near(found, x, y, 8.0)) == []


def test_isolated_star_is_not_a_galaxy():
    bands = _images(stars=[(150.7, 800.2, 10.5)], seed=3)
    assert _catalog(galworks.measure_image(bands)) == []
    src = galworks.classify(bands, 150.7, 800.2, 151.0, 800.0)
    assert src.e_score > 1.9


def test_extended_source_on_an_artifact_takes_its_letter():
    pts = {"id": np.array([4, 9, 12]), "cc_flg": np.array(["000", "ddP", "S00"])}
    flags = galworks._artifact_flags(np.array([9, 4, -1, 12]), pts)
    assert flags.tolist() == ["P", "0", "0", "S"]


def test_night_products_hold_the_ext_rows(processed):
    validate(read_night(processed.products), on_warning="error")  # what ingest accepts
    ext = pq.read_table(processed.products / "ext.parquet")
    assert ext.schema.equals(product_schema("ext.parquet"))
    scans = pq.read_table(processed.products / "scans.parquet").to_pydict()
    cols = ext.to_pydict()
    assert sum(scans["n_ext"]) == ext.num_rows
    if ext.num_rows:
        assert sorted(cols["id"]) == list(range(1, ext.num_rows + 1))
        assert all(s in scans["scan"] for s in cols["scan"])
