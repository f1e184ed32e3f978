"""The one typed settings object, read from ``TWOMASS_*`` environment variables.

Settings are read when a command runs, never at import time, so that tests and
library users can construct their own.
"""

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    """

    model_config = SettingsConfigDict(env_prefix="TWOMASS_", extra="ignore")

    database_url: str | None = None
    home: Path = Field(default_factory=_default_home)

    @property
    def embedded_pgdata(self) -> Path:
        """Data directory of the embedded PostgreSQL server."""
        return self.home / "pgdata"
