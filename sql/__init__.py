"""SQL files shipped with the package: spatial functions, flags, release steps."""

from importlib.resources import files


def read(name: str) -> str:
    """Text of the SQL file ``name`` (a path relative to this package, e.g. ``hpx.sql``)."""
    return files(__name__).joinpath(name).read_text(encoding="utf-8")
