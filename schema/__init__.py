"""Table definitions (SQLAlchemy Core) of the databases twomass manages.

``metadata`` is what the migrations must produce; a test upgrades an empty database
to head and compares it with this metadata.
"""

from twomass.schema import meta, release, wdb  # noqa: F401  (registers the tables)
from twomass.schema.base import metadata

__all__ = ["metadata"]
