"""fidelity.catalog_vs_sky on a hand-built sky: static sources, a minor planet seen where
it was when observed, a spurious source."""

import numpy as np

from twomass.pipeline.sim.minorplanets import MovingSources
from twomass.pipeline.stages import fidelity

EPOCH = 2451000.5
# Corners in the 2MASS order: east and west at the start, east and west at the end.
SCAN = {"ra_1": 10.1, "dec_1": -0.1, "ra_2": 9.9, "dec_2": -0.1, "ra_3": 10.1, "dec_3": 0.1,
        "ra_4": 9.9, "dec_4": 0.1, "j_msnr10": 16.0, "h_msnr10": 15.0, "k_msnr10": 14.5}


def _catalog(ra, dec, jdate) -> dict:
    n = len(ra)
    cat = {"ra": np.asarray(ra, float), "dec": np.asarray(dec, float),
           "jdate": np.asarray(jdate, float)}
    for b in "jhk":
        cat[f"{b}_m"], cat[f"{b}_snr"] = np.full(n, 13.0), np.full(n, 50.0)
        cat[f"{b}_msigcom"] = np.full(n, 0.03)
    return cat


def test_a_minor_planet_is_real_where_it_was_at_the_rows_time() -> None:
    sky = {"type": ["star"], "ra": [10.0], "dec": [0.0],
           "j_m": [13.0], "h_m": [13.0], "k_m": [13.0]}
    # 0.3 deg/day westward: 45" an hour.
    planet = MovingSources(np.array([1]), np.array([10.02]), np.array([0.01]),
                           np.array([-0.3]), np.array([0.0]), np.array([13.0]),
                           np.array([EPOCH]))
    t = EPOCH + 2.0 / 24.0
    seen_at_t = 10.02 - 0.3 * 2.0 / 24.0
    cat = _catalog([10.0, seen_at_t, seen_at_t, 10.05],
                   [0.0, 0.01, 0.01, -0.02],
                   [EPOCH, t, t - 1.0 / 24.0, EPOCH])
    # Rows: the star; the planet at its time; the same position an hour earlier (the
    # planet was 45" east then); a source on nothing.
    f = fidelity.catalog_vs_sky(cat, sky, [SCAN], minor_planets=planet)
    assert (f.n_catalog, f.n_real, f.n_minor_planets) == (4, 2, 1)
    # Without the minor planets only the star is real.
    f = fidelity.catalog_vs_sky(cat, sky, [SCAN])
    assert (f.n_real, f.n_minor_planets) == (1, 0)
    assert f.n_true == 1 and f.n_found == 1
