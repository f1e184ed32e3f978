"""The synthetic sky and the schedule: densities, counts, colours, depth, re-observation."""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord

from twomass.pipeline.sim import photometry, quality, schedule, sky, tiling


def test_density_rises_toward_the_galactic_plane() -> None:
    b = np.array([80.0, 30.0, 10.0, 2.0])
    c = SkyCoord(l=np.full(4, 60.0) * u.deg, b=b * u.deg, frame="galactic").icrs
    d = sky.catalog_density(c.ra.deg, c.dec.deg)
    assert np.all(np.diff(d) > 0)


def test_cell_counts_colours_and_galaxies() -> None:
    cells = np.arange(1000, 1040) + (3 << 16)
    glon, glat = sky.galactic(*sky.cell_centres(cells))
    src = sky.Sources.concat([sky.cell_sources(int(c), 5, lo, la)
                              for c, lo, la in zip(cells, glon, glat, strict=True)])
    stars = src.take(src.kind == sky.KIND_STAR)
    hist = np.histogram(stars.mag[:, 2], bins=np.arange(8.0, 17.0, 1.0))[0]
    assert np.all(np.diff(hist) > 0)  # counts rise toward faint magnitudes
    jh = stars.mag[:, 0] - stars.mag[:, 1]
    hk = stars.mag[:, 1] - stars.mag[:, 2]
    assert 0.3 < np.median(jh) < 0.8 and 0.0 < np.median(hk) < 0.3
    galaxies = src.take(src.kind == sky.KIND_GALAXY)
    ratio = (galaxies.mag[:, 2] < 13.5).sum() / (stars.mag[:, 2] < sky.RELEASE_KS).sum()
    assert 1 / 2000 < ratio < 1 / 200
    assert np.all(galaxies.radius_arcsec > 0) and np.all((galaxies.ba > 0) & (galaxies.ba <= 1))
    # Positions lie in their own cell.
    assert np.array_equal(sky.cells_near(src.ra[:1], src.dec[:1]), [src.id[0] >> 24])


def test_cells_are_reproducible_in_any_order() -> None:
    a = sky.cell_sources(777, 1, 100.0, 40.0)
    b = sky.cell_sources(778, 1, 100.0, 40.0)
    a2 = sky.cell_sources(777, 1, 100.0, 40.0)
    assert np.array_equal(a.ra, a2.ra) and not np.array_equal(a.ra[:5], b.ra[:5])


def test_scan_depths_scatter_around_the_survey_values() -> None:
    rng = np.random.default_rng(2)
    draws = [quality.conditions(rng, marginal=False) for _ in range(2000)]
    msnr = np.array([[d[f"{b}_msnr10"] for b in "jhk"] for d in draws])
    median = np.median(msnr, axis=0)
    assert np.allclose(median, [16.4, 15.5, 14.85], atol=0.15)
    assert np.all((msnr > quality.REQUIREMENT).mean(axis=0) > 0.95)
    assert np.all(msnr.std(axis=0) > 0.1)
    quals = np.array([d["qual"] for d in draws])
    assert np.mean(quals == 10) > 0.6 and quals.min() < 4


def test_about_18_percent_of_tiles_are_reobserved_until_one_scan_passes() -> None:
    tiles = tiling.full_sky()
    wanted = np.isin(tiles.dec_band, [20, 21])
    nights = schedule.plan(tiles, wanted, seed=0, n_bands=30)
    scans = [s for n in nights for s in n.scans]
    visits = np.bincount([s.visit for s in scans])
    assert abs(visits[1] / visits[0] - 0.18) < 0.04
    # Every tile has a scan that passes QA (2MASS re-observed until it did).
    passing = {s.tile for s in scans if s.columns["qual"] >= quality.PASS_QUAL}
    assert passing == set(tiles.tile[wanted].tolist())
    assert visits[2] > 0  # some failed twice and were repeated
    dates = [n.date for n in nights]
    assert min(dates) >= schedule.SURVEY_START and max(dates) <= schedule.SURVEY_END
    keys = [(s.hemis, s.date, s.scan) for s in scans]
    assert len(set(keys)) == len(keys)
    assert {s.sd for s in scans} == {"n", "s"}
    offsets = np.abs([s.offset_arcsec for s in scans])
    assert (offsets > 100).any() and np.median(offsets) < 1.0


def test_completeness_curve_follows_the_pixel_pipeline() -> None:
    """The fractions of true stars the pixel pipeline detects, by true S/N bin (the
    lowest and highest band, bench_pixel_catalog in benchmarks/README.md), at the
    bins' centres within 0.03; 50 % at SNR50, next to none at S/N 1, all at S/N 10."""
    measured = {3.5: (0.68, 0.70), 4.5: (0.89, 0.90), 5.5: (0.95, 0.97), 6.5: (0.97, 0.99)}
    p = photometry.detection_probability(np.array(list(measured)))
    for q, (lo, hi) in zip(p, measured.values(), strict=True):
        assert lo - 0.03 <= q <= hi + 0.03
    p = photometry.detection_probability(np.array([photometry.SNR50, 1.0, 10.0]))
    assert abs(p[0] - 0.5) < 1e-9 and p[1] < 0.1 and p[2] > 0.99
