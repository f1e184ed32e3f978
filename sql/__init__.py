"""SQL files shipped with the package: spatial functions, flags, cone search, ingest
statements and the release steps.

``FUNCTION_FILES`` are the files whose functions a twomass database holds. They say what
the functions are today; migrations never read them. A revision that changes a function
carries a frozen copy of the new definition (``migrations/versions/``), and a test checks
that a database migrated to head holds exactly what these files define.
"""

import re
from functools import cache
from importlib.resources import files

#: Files of functions installed in the database, in the order they must run.
FUNCTION_FILES = (
    "hpx/pixels.sql", "hpx/cover.sql", "hpx/queries.sql", "xmatch.sql", "flags.sql", "cone.sql",
    "partitions.sql",
)


def read(name: str) -> str:
    """Text of the SQL file ``name`` (a path relative to this package, e.g. ``flags.sql``)."""
    return files(__name__).joinpath(name).read_text(encoding="utf-8")


@cache
def statements(name: str) -> dict[str, str]:
    """Named statements of the SQL file ``name``: sections that start with ``-- name: NAME``."""
    parts = re.split(r"^-- name: (\w+)\s*$", read(name), flags=re.MULTILINE)
    return {key: body.strip() for key, body in zip(parts[1::2], parts[2::2], strict=True)}


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
