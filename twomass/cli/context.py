"""What every command handler receives: settings and the database, opened once."""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from twomass.core.database import Database
from twomass.core.settings import Settings
from twomass.migrations import revision


@dataclass
class Context:
    """Per-invocation state. The database is located (or started) only when asked for,
    opened once and closed when the command ends."""

    settings: Settings
    _db: Database | None = field(default=None, init=False, repr=False)

    @property
    def db(self) -> Database:
        """The database; starts the embedded server when no URL is configured."""
        if self._db is None:
            self._db = Database.from_settings(self.settings)
        return self._db

    def current_db(self) -> Database:
        """The database, after checking its schema revision and frozen settings."""
        revision.require_current(self.db)
        return self.db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


@contextlib.contextmanager
def printed_warnings(*categories: type[Warning]) -> Iterator[None]:
    """Warnings of ``categories`` printed as one ``twomass: warning:`` line each, every
    time, instead of Python's warning format (and never raised as errors)."""
    with warnings.catch_warnings():
        for category in categories:
            warnings.simplefilter("always", category)
        warnings.showwarning = _print_warning
        yield


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"twomass: warning: {message}", file=sys.stderr)
