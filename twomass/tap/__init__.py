"""TAP and ADQL through GAVO DaCHS: a release's ``psc`` and ``xsc`` published to a DaCHS site.

DaCHS (Debian ``python3-gavo``) serves TAP, ADQL, UWS, uploads and the VOSI tables
itself; twomass only generates the resource descriptor from the release's column
metadata (``schema/catalogs.py``) and streams the rows over with binary COPY. DaCHS needs
a PostgreSQL server with the ``q3c`` and ``pg_sphere`` extensions: the embedded server
cannot load extensions.
"""

from twomass.tap.publish import PUBLISHED_TABLES, RESOURCE_DIR, TAP_SCHEMA, publish
from twomass.tap.site import DachsSite, TapError, init_site

__all__ = ["PUBLISHED_TABLES", "RESOURCE_DIR", "TAP_SCHEMA", "DachsSite", "TapError",
           "init_site", "publish"]
