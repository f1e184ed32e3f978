"""The one typed settings object, read from ``TWOMASS_*`` environment variables.

Settings are read when a command runs, never at import time, so that tests and
library users can construct their own.
"""

from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: HEALPix order of the sky partitions of a new database (12 * 4**k partitions of
#: wdb.pts, wdb.ext and the catalogs), chosen by measurement: docs/partitioning.md.
DEFAULT_PARTITION_ORDER = 0
#: The orders a database can be partitioned at (0: 12 partitions ... 4: 3,072).
PARTITION_ORDERS = range(0, 5)


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("twomass", appauthor=False))


class Settings(BaseSettings):
    """Runtime configuration.

    Attributes
    ----------
    database_url
        ``postgres://`` or ``postgresql://`` URL of a PostgreSQL >= 15 server.
        When unset, an embedded server is started under ``home``.
    home
        Directory for the embedded server's data and other local state.
    partition_order
        HEALPix order at which ``db init`` partitions the big tables by sky, or None
        (``none``) for plain tables. Frozen in the database: a database partitioned
        otherwise is refused, with the value that reads it.
    """

    model_config = SettingsConfigDict(env_prefix="TWOMASS_", extra="ignore")

    database_url: str | None = None
    home: Path = Field(default_factory=_default_home)
    partition_order: int | None = DEFAULT_PARTITION_ORDER

    @field_validator("partition_order", mode="before")
    @classmethod
    def _order(cls, value: object) -> object:
        """``none`` (any case) means plain tables; otherwise an order of PARTITION_ORDERS."""
        if isinstance(value, str) and value.strip().lower() == "none":
            return None
        if value is not None and int(value) not in PARTITION_ORDERS:
            raise ValueError(f"must be 'none' or an order from {PARTITION_ORDERS.start} "
                             f"to {PARTITION_ORDERS.stop - 1}, got {value}")
        return value

    @property
    def embedded_pgdata(self) -> Path:
        """Data directory of the embedded PostgreSQL server."""
        return self.home / "pgdata"
