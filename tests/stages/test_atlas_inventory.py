"""The Atlas Image inventory in wdb: the images covering a position, found with SQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

from twomass.ingest.atlas import load_atlas_inventory

#: Half the diagonal of a 512" x 1024" image, plus a margin [deg].
REACH_DEG = 0.16


def _covering(products: Path, ra: float, dec: float) -> set[str]:
    """Files whose pixel grid holds (ra, dec), by astropy's WCS of each file."""
    found = set()
    for path in (products / "atlas").glob("*.fits"):
        with fits.open(path) as hdul:
            w = WCS(hdul[0].header)
            x, y = w.world_to_pixel(SkyCoord(ra, dec, unit="deg"))
            ny, nx = hdul[0].data.shape
            if -0.5 <= x < nx - 0.5 and -0.5 <= y < ny - 0.5:
                found.add(f"atlas/{path.name}")
    return found


def test_images_covering_a_position_are_found_with_sql(processed, db) -> None:
    rows = load_atlas_inventory(db, processed.products)
    assert rows == processed.summary.atlas_images
    assert load_atlas_inventory(db, processed.products) == rows  # loading again replaces
    ra, dec = 105.03, 9.30
    with db.connection() as conn:
        count = conn.execute("SELECT count(*) FROM wdb.atlas_image").fetchone()[0]
        near = conn.execute(
            "SELECT file, ra, dec, band FROM wdb.atlas_image "
            "WHERE hpx_radial_query(hpx, ra, dec, %s, %s, %s)", (ra, dec, REACH_DEG)).fetchall()
    assert count == rows
    truly = _covering(processed.products, ra, dec)
    assert len(truly) >= 3  # one image per band at least
    assert truly <= {f for f, *_ in near}
    sep = SkyCoord([r[1] for r in near], [r[2] for r in near], unit="deg").separation(
        SkyCoord(ra, dec, unit="deg")).deg
    assert np.all(sep < REACH_DEG)
