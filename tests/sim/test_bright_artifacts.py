"""The bright-star list and the artifacts only the release's final pass can find.

Oracle: the truth table (which stars exist, where, how bright, which scans cover them)
and plain geometry in numpy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from twomass.core.sphere import nearest_within, unit_vectors
from twomass.pipeline.sim.artifacts import DB_PARENT_KS, db_reach


def test_bright_star_list_holds_the_very_bright_stars_the_night_covers(simulated) -> None:
    truth = simulated.truth.set_index("id")
    very = truth[(truth["type"] != "galaxy") & (truth["k_m"] < DB_PARENT_KS)]
    assert len(very), "the region must hold a very bright star"
    for night in simulated.nights:
        stars = pq.read_table(night / "bright_stars.parquet").to_pandas().set_index("id")
        assert stars.index.is_unique
        listed = truth.loc[stars.index]
        np.testing.assert_array_equal(stars[["ra", "dec"]], listed[["ra", "dec"]])
        np.testing.assert_allclose(stars[["j_m", "h_m", "k_m"]], listed[["j_m", "h_m", "k_m"]],
                                   rtol=0, atol=1e-6)
        assert (stars["k_m"] < DB_PARENT_KS).all()
        # every very bright star a scan of this night covers is listed
        date = pd.Timestamp(night.name[:10]).date()
        covered = [i for i, scans in very["scans"].items()
                   if any(s["date"] == date and s["hemis"] == night.name[-1] for s in scans)]
        assert set(covered) <= set(stars.index), night.name


def test_unflagged_spikes_with_the_parents_colours(simulated) -> None:
    """Rows with cc_flg '000', measured in J and Ks, on a spike axis of a listed star, with
    no true source within 2" and seen on more than one frame: the far artifacts, which
    carry the parent's J - Ks (those brighter than Ks 15, where the photometry is good;
    fainter spurious rows also fall on the axes)."""
    stars = pd.concat([pq.read_table(n / "bright_stars.parquet").to_pandas()
                       for n in simulated.nights]).drop_duplicates("id")
    pts = simulated.pts
    # measured in J and Ks: not upper limits (rd_flg 0 or 6)
    measured = pts["rd_flg"].str[0].isin(list("1234")) & pts["rd_flg"].str[2].isin(list("1234"))
    pts = pts[(pts["cc_flg"] == "000") & measured]
    truth = simulated.truth
    match, _ = nearest_within(unit_vectors(pts["ra"].to_numpy(), pts["dec"].to_numpy()),
                              unit_vectors(truth["ra"].to_numpy(), truth["dec"].to_numpy()),
                              2.0)
    spurious = pts[match < 0]
    # Bright transients (seen on one frame per band, any colour) are no spikes.
    single_frame = spurious["ndet"].str[0::2] == "111"
    spurious = spurious[~single_frame.to_numpy()]
    colours = []
    for star in stars.itertuples():
        spike, _ = db_reach(star.k_m)
        de = ((spurious["ra"] - star.ra + 180) % 360 - 180) * np.cos(np.radians(star.dec)) * 3600
        dn = (spurious["dec"] - star.dec) * 3600
        r = np.hypot(de, dn)
        on_axis = ((np.abs(de) < 3) | (np.abs(dn) < 3)) & (r > 20) & (r < spike)
        rows = spurious[on_axis.to_numpy()]
        colours.extend(zip(rows["k_m"], (rows["j_m"] - rows["k_m"]) - (star.j_m - star.k_m),
                           strict=True))
    bright = [c for k, c in colours if k < 15.0]
    assert len(bright) >= 3
    assert np.max(np.abs(bright)) < 0.3
