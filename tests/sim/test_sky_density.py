"""The sky model's catalog densities against real 2MASS counts, and the survey's dates
and coverage.

The real counts (complete cone searches and the all-sky PSC total) are copied as
numbers, with their sources, in ``tests/data/sky_density/real_cones.csv``. The full
simulate -> ingest -> release comparison at the same cones is
``benchmarks/bench_sky_density.py``; here the model the simulator draws from is checked.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from twomass.pipeline.sim import schedule, sky, starcounts, tiling

CONES = pd.read_csv(Path(__file__).parents[1] / "data" / "sky_density" / "real_cones.csv",
                    comment="#")
ALL_SKY_PSC = 470_992_970 / 41_253.0


def _cone_sample(ra: float, dec: float, radius: float, n: int = 2000):
    """Positions spread evenly over a cone (a sunflower pattern)."""
    i = np.arange(n) + 0.5
    at = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(
        i * 2.399963229728653 * u.rad, radius * np.sqrt(i / n) * u.deg)
    return at.ra.deg, at.dec.deg


@pytest.mark.parametrize("cone", list(CONES.itertuples()), ids=list(CONES["name"]))
def test_model_count_at_each_real_cone_is_within_20_percent(cone) -> None:
    area = 2 * np.pi * (1 - np.cos(np.radians(cone.radius_deg))) * (180 / np.pi) ** 2
    density = sky.catalog_density if cone.catalog == "psc" else sky.xsc_density
    predicted = float(np.mean(density(*_cone_sample(cone.ra, cone.dec, cone.radius_deg))))
    assert abs(predicted * area / cone.rows - 1.0) < 0.20, (predicted * area, cone.rows)


def test_all_sky_means_match_the_real_catalogs() -> None:
    psc = sky.all_sky_mean()
    assert abs(psc / ALL_SKY_PSC - 1.0) < 0.10
    assert abs(sky.all_sky_xsc_mean() / psc * 286 - 1.0) < 0.10
    # The sample is the whole sky: the plane holds most sources, the poles few.
    ra, dec, glon, glat = starcounts.sky_sample()
    assert len(ra) == 12 * 4**5
    plane = starcounts.galactic_density(glon, glat)[np.abs(glat) < 10].sum()
    assert plane / (psc * len(ra)) > 0.5


def test_generated_stars_reach_the_model_density() -> None:
    """Stars a high-latitude patch generates, brighter than the release's effective
    limit once dimmed, and its galaxies (all of which reach the PSC) match the model's
    catalog density (Poisson tolerance)."""
    ra0, dec0 = 150.0, 20.0
    cells = sky.cells_near(*_cone_sample(ra0, dec0, 1.0, 4000))
    glon, glat = sky.galactic(*sky.cell_centres(cells))
    src = sky.Sources.concat([sky.cell_sources(int(c), 3, lo, la)
                              for c, lo, la in zip(cells, glon, glat, strict=True)])
    stars = src.take(src.kind == sky.KIND_STAR)
    fraction = np.mean([sky._release_fraction(float(sky.extinction_ks(np.array(b))))
                        for b in glat])
    n_gal = (src.kind == sky.KIND_GALAXY).sum()
    expected = np.sum(sky.catalog_density(*sky.cell_centres(cells))) * sky._CELL_AREA_DEG2
    found = len(stars) * fraction + n_gal * sky.GALAXY_PSC_FRACTION
    assert abs(found / expected - 1.0) < 5.0 / np.sqrt(expected)
    galaxies = n_gal * sky.XSC_FRACTION
    expected_gal = np.sum(sky.xsc_density(*sky.cell_centres(cells))) * sky._CELL_AREA_DEG2
    assert abs(galaxies / expected_gal - 1.0) < 5.0 / np.sqrt(expected_gal)


def test_m31_is_resolved_into_a_crowd_of_stars() -> None:
    def count(dec: float) -> int:
        cell = sky.cells_near(np.array([10.68479]), np.array([dec]))
        glon, glat = sky.galactic(*sky.cell_centres(cell))
        return len(sky.cell_sources(int(cell[0]), 1, float(glon[0]), float(glat[0])))

    assert count(41.26906) > 5 * count(40.0)


def test_every_night_lies_within_the_survey() -> None:
    tiles = tiling.full_sky()
    nights = schedule.night_dates(tiles, seed=0, n_bands=30)
    dates = [d for _, d in nights]
    assert min(dates) >= dt.date(1997, 6, 7) and max(dates) <= dt.date(2001, 2, 15)
    assert len(set(nights)) == len(nights) > 1000
    assert not any(h == "n" and d.month in (7, 8) for h, d in nights)
