# GAVO DaCHS serving twomass releases over TAP (docs/tap.md). Build from the repository root:
#   docker build -f docker/tap.Dockerfile -t twomass-tap .
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-gavo python3-venv python3-pip \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY twomass ./twomass
COPY schema ./schema
COPY migrations ./migrations
COPY ingest ./ingest
COPY pipeline ./pipeline
COPY sql ./sql
RUN python3 -m venv /opt/twomass && /opt/twomass/bin/pip install --no-cache-dir . \
 && ln -s /opt/twomass/bin/twomass /usr/local/bin/twomass && rm -rf /src

COPY docker/tap-entrypoint.sh /usr/local/bin/tap-entrypoint
ENV GAVOSETTINGS=/var/gavo/gavo.rc TWOMASS_HOME=/data
EXPOSE 8080
ENTRYPOINT ["tap-entrypoint"]
