-- The read-only role the cone search service connects as (twomass.serve.reader).
-- Run by the database owner after the role exists; every statement is idempotent, so
-- `twomass db grant-reader` and `twomass serve` can run it at every start.
-- {role} and {database} are identifiers filled in by the caller.

-- Every transaction of the role is read-only unless it asks otherwise; the privileges
-- below are what make writing impossible, this is a second guard.
ALTER ROLE {role} SET default_transaction_read_only = on;

GRANT CONNECT ON DATABASE {database} TO {role};

-- The revision check reads twomass_meta; the cone functions live in public.
GRANT USAGE ON SCHEMA public, twomass_meta TO {role};
GRANT SELECT ON twomass_meta.alembic_version, twomass_meta.database TO {role};

-- The published views: those that exist now, and (default privileges of the owner who
-- publishes) those a first publish creates later. A view reads its release tables with
-- its owner's rights, so the role needs nothing on rel_* or wdb, and gets nothing.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {role};
