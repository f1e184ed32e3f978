"""HATS export read by LSDB: an lsdb cone search returns the rows of ``psc_cone``, and
the partitioning index is our ``hpx`` as HATS computes ``_healpix_29`` itself."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.access.conftest import rows_of
from twomass.access import selections
from twomass.access.export import export


# lsdb, hats and nested-pandas use pandas features that pandas 3.1 deprecates.
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_lsdb_cone_search_matches_psc_cone(scene, tmp_path):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The 'mode.chained_assignment'")
        import lsdb
        from hats.pixel_math.spatial_index import compute_spatial_index
    out = tmp_path / "psc_hats"
    summary = export(scene.db, "psc", "hats", out, selection=selections.box(0, 360, -60, 60),
                     columns=["pts_key", "ra", "dec", "j_m", "hpx"], progress=False)
    everything = rows_of(scene, "SELECT pts_key FROM public.psc WHERE dec BETWEEN -60 AND 60")
    assert summary.rows == len(everything)
    catalog = lsdb.read_hats(out)
    frame = catalog.compute()
    assert sorted(frame["pts_key"].tolist()) == sorted(r["pts_key"] for r in everything)
    assert frame.index.name == "_healpix_29"
    assert np.array_equal(frame.index.to_numpy(dtype=np.int64),
                          compute_spatial_index(frame["ra"].to_numpy(),
                                                frame["dec"].to_numpy()))
    for ra, dec, radius in ((10.0, 20.0, 900.0), (0.2, -30.0, 1800.0)):
        found = catalog.cone_search(ra, dec, radius).compute()
        oracle = rows_of(scene, "SELECT pts_key, j_m FROM psc_cone(%s, %s, %s)",
                         (ra, dec, radius))
        assert sorted(found["pts_key"].tolist()) == sorted(r["pts_key"] for r in oracle)
        assert len(oracle) > 30
        j_m = dict(zip(found["pts_key"], found["j_m"], strict=True))
        for row in oracle:  # NULL stays NULL, values stay float32-exact
            got = j_m[row["pts_key"]]
            if row["j_m"] is None:
                assert got is None or got is pd.NA or got != got
            else:
                assert np.float32(got) == np.float32(row["j_m"])
