# PostgreSQL 15 with q3c and pg_sphere, for DaCHS's database (docs/tap.md).
# The official image installs PostgreSQL from the PostgreSQL project's apt repository,
# whose pg_sphere (>= 1.4) is created as an extension on every 15.x minor release.
FROM postgres:15
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15-q3c postgresql-15-pgsphere \
 && rm -rf /var/lib/apt/lists/*
