"""What every command handler receives: settings and the database URL, resolved lazily."""

from __future__ import annotations

from dataclasses import dataclass, field

from twomass import database, revision
from twomass.settings import Settings


@dataclass
class Context:
    """Per-invocation state. The database is located (or started) only when asked for."""

    settings: Settings
    _url: str | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        """Database URL; starts the embedded server when no URL is configured."""
        if self._url is None:
            self._url = database.resolve_url(self.settings)
        return self._url

    def current_url(self) -> str:
        """Database URL after checking the schema revision and frozen settings."""
        revision.require_current(self.url)
        return self.url
