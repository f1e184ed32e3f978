"""``truth.parquet``: every true source of a simulated sky and the scans that covered it.

The simulator writes it and the Table 2 validation reads it; both follow this contract.
Sources lie only inside the simulated region. Angles are in degrees (ICRS), sizes in
arcsec, magnitudes in the 2MASS system, times in Julian Days.
"""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa

FILE_NAME = "truth.parquet"

#: Values of ``type``. An artifact parent is a star with true Ks < 8 (it spawns artifacts).
STAR = "star"
ARTIFACT_PARENT = "artifact_parent"
GALAXY = "galaxy"
MINOR_PLANET = "minor_planet"
TYPES = (STAR, ARTIFACT_PARENT, GALAXY, MINOR_PLANET)

#: One scan that covered a source: the night (site and date) and its nightly scan number.
SCAN_REF = pa.struct([pa.field("hemis", pa.string(), nullable=False),
                      pa.field("date", pa.date32(), nullable=False),
                      pa.field("scan", pa.int16(), nullable=False)])


class Column(NamedTuple):
    """One column of the truth table: name, Arrow type, NOT NULL or not, meaning [unit]."""

    name: str
    type: pa.DataType
    required: bool
    meaning: str


COLUMNS = (
    Column("id", pa.int64(), True,
           "true source id; stars and galaxies: (cell << 24) + n, cell the HEALPix NESTED "
           "order-8 cell that generated it; minor planets: 2^60 + (date ordinal << 21) + "
           "(hemis s << 20) + n"),
    Column("type", pa.string(), True, "one of TYPES"),
    Column("ra", pa.float64(), True, "right ascension [deg]; minor planets at epoch_jd"),
    Column("dec", pa.float64(), True, "declination [deg]; minor planets at epoch_jd"),
    Column("j_m", pa.float32(), True, "true J magnitude (galaxies: total) [mag]"),
    Column("h_m", pa.float32(), True, "true H magnitude (galaxies: total) [mag]"),
    Column("k_m", pa.float32(), True, "true Ks magnitude (galaxies: total) [mag]"),
    Column("r_k20fe", pa.float32(), False,
           "galaxies: Ks 20 mag/arcsec^2 isophote semi-major axis [arcsec]"),
    Column("ba", pa.float32(), False, "galaxies: axis ratio"),
    Column("pa", pa.float32(), False, "galaxies: position angle east of north [deg]"),
    Column("epoch_jd", pa.float64(), False, "minor planets: epoch of ra, dec [JD]"),
    Column("ra_rate", pa.float64(), False,
           "minor planets: rate of the RA coordinate [deg/day]; ra + ra_rate (t - epoch_jd)"),
    Column("dec_rate", pa.float64(), False, "minor planets: rate of Dec [deg/day]"),
    Column("scans", pa.list_(pa.field("item", SCAN_REF, nullable=False)), True,
           "every written scan whose arrays covered the source (any band), in observing "
           "order"),
)

#: The Arrow schema of the file: ``COLUMNS`` in order.
SCHEMA = pa.schema([pa.field(c.name, c.type, nullable=not c.required) for c in COLUMNS])
