"""Errors a user can act on: the CLI prints their message on one line and exits 2."""


class TwomassError(Exception):
    """An error whose message tells the user what is wrong and how to fix it."""

    exit_status = 2


class DatabaseUnavailable(TwomassError):
    """The database URL is malformed, or the server cannot be reached."""


class DatabaseNotReady(TwomassError):
    """The database is not at the code's schema revision or frozen settings."""
