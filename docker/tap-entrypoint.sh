#!/bin/sh
# Creates the DaCHS site on first start (DACHS_DB_URL: a superuser of DaCHS's database),
# then runs DaCHS's server in the foreground; other arguments run as a command instead.
set -eu
if [ ! -f "$GAVOSETTINGS" ]; then
    twomass tap init "$(dirname "$GAVOSETTINGS")" --dachs-db "$DACHS_DB_URL" \
        --host 0.0.0.0 --port 8080 --server-url "${DACHS_SERVER_URL:-http://localhost:8080}"
fi
if [ "$#" -gt 0 ]; then
    exec "$@"
fi
exec gavo serve start --foreground
