"""``atlas.parquet``: the inventory of a night's Atlas Images (one row per image).

The pipeline writes it beside the images (``atlas/*.fits``); ``wdb.atlas_image`` holds
the same columns so that the images covering a position can be found with SQL.
Angles in degrees (ICRS); ``hpx`` is the HEALPix NESTED index of the centre at the
order of ``twomass.core.healpix.HPX_ORDER``.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA = pa.schema([
    pa.field("date", pa.date32(), nullable=False),
    pa.field("hemis", pa.string(), nullable=False),
    pa.field("scan", pa.int16(), nullable=False),
    pa.field("band", pa.string(), nullable=False),  # j, h or k
    pa.field("image", pa.int16(), nullable=False),  # number along the scan, from 1
    pa.field("file", pa.string(), nullable=False),  # path relative to the night directory
    pa.field("ra", pa.float64(), nullable=False),
    pa.field("dec", pa.float64(), nullable=False),
    pa.field("hpx", pa.int64(), nullable=False),
    *[pa.field(f"{c}_{i}", pa.float64(), nullable=False)
      for i in (1, 2, 3, 4) for c in ("ra", "dec")],
    pa.field("seeing", pa.float32()),  # median FWHM of frame detections [arcsec]
    pa.field("magzp", pa.float32(), nullable=False),  # mag = magzp - 2.5 log10(ADU)
    pa.field("sky", pa.float32()),  # sky level before subtraction [ADU per frame]
    pa.field("n_frames", pa.int16(), nullable=False),  # largest coverage
    pa.field("cov_median", pa.float32()),  # median coverage of covered pixels
])
