"""SQL files shipped with the package: spatial functions, flags, release steps."""

from importlib.resources import files


def read(name: str) -> str:
    """Text of the SQL file ``name`` (a path relative to this package, e.g. ``hpx.sql``)."""
    return files(__name__).joinpath(name).read_text(encoding="utf-8")


def execute(bind, text: str) -> None:
    """Run ``text`` on the SQLAlchemy connection ``bind`` through a plain DBAPI cursor.

    No parameter formatting: the SQL files hold colons and percent signs that
    SQLAlchemy's ``text()`` or a formatting ``execute`` would misread.
    """
    cursor = bind.connection.cursor()
    try:
        cursor.execute(text)
    finally:
        cursor.close()
