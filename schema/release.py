"""Table ``twomass_meta.release``: the registry of release builds.

One row per release schema ``rel_<name>``: what it was built from (spec, code version,
checksum of the working database it read), what it holds (counts, content checksum)
and when it was built and last published.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from twomass.schema.base import col, metadata, req

SCHEMA = "twomass_meta"

release = sa.Table(
    "release",
    metadata,
    req("name", sa.Text, "release name, as given to `twomass release build`", primary_key=True),
    req("schema_name", sa.Text, "schema holding the release tables (rel_<name>)"),
    req("spec", JSONB, "release spec the build used: every threshold, by field name"),
    req("code_version", sa.Text, "twomass version and digest of the release SQL that built it"),
    req("wdb_checksum", sa.Text, "order-independent checksum of the working-database "
        "tables the build read"),
    req("content_checksum", sa.Text, "order-independent checksum of the release tables"),
    req("counts", JSONB, "rows per release table and rejects per reason"),
    req("build_seconds", sa.Double(), "wall-clock duration of the build [s]"),
    req("built_at", sa.DateTime(timezone=True), "when the build committed [UTC]",
        server_default=sa.func.now()),
    col("published_at", sa.DateTime(timezone=True),
        "when the public views last pointed at this release [UTC]; NULL if never"),
    sa.UniqueConstraint("schema_name"),
    schema=SCHEMA,
    comment="Registry of release builds; the published one has the latest published_at.",
)
