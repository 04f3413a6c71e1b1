#!/usr/bin/env bash
# Install the offline warehouse stand-ins used by tests/standins (idempotent; safe as root on a
# fresh machine; a second run with nothing to do takes well under a second).
#
#   Snowflake -> fakesnow HTTP server        venv  $CACHE/fakesnow
#   BigQuery  -> bqemulator (DuckDB 1.5.5)   venv  $CACHE/bqemulator  + DuckDB extensions in ~/.duckdb
#   Redshift  -> PostgreSQL server binaries  /usr/lib/postgresql/*/bin (apt-get install postgresql),
#                also the PostgreSQL target's own engine (its client: .ci/postgres.sh)
#
# Each engine gets its own venv so its duckdb/sqlglot pins never meet the product's test env.
# Every version is pinned (full resolved sets, checked working together): bump them deliberately.
# CACHE = ${JOURNEYCTL_STANDINS:-$HOME/.cache/journeyctl-standins}
set -euo pipefail
HOME="${HOME:-$(getent passwd "$(id -un)" | cut -d: -f6)}"  # DuckDB looks for extensions under $HOME

CACHE="${JOURNEYCTL_STANDINS:-$HOME/.cache/journeyctl-standins}"
PYTHON="${PYTHON:-python3}"
DUCKDB_EXT_DIR="$HOME/.duckdb/extensions/v1.5.5/linux_amd64"

log() { echo "standins: $*" >&2; }
die() { echo "standins: ERROR: $*" >&2; exit 1; }
trap 'die "failed at line $LINENO: $BASH_COMMAND"' ERR

# fakesnow 0.12.1 server + snowflake connector 4.x (5.x breaks fakesnow: no snowflake.connector.converter)
FAKESNOW_PINS="
fakesnow[server]==0.12.1
snowflake-connector-python==4.8.1
duckdb==2.0.1
sqlglot==30.22.0
pyarrow==26.0.1
starlette==1.10.0
uvicorn==0.54.0
anyio==4.16.0
h11==0.16.0
asn1crypto==1.5.1
boto3==1.44.8
botocore==1.44.8
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.3
click==8.5.1
cryptography==50.0.2
filelock==4.3.1
idna==3.20
jmespath==1.1.0
packaging==26.4
platformdirs==4.14.8
pycparser==3.12
PyJWT==2.15.1
pyOpenSSL==26.4.0
python-dateutil==2.9.0.post0
pytz==2026.6
requests==2.34.2
s3transfer==0.19.3
six==1.17.0
sortedcontainers==2.4.0
tomlkit==0.15.2
typing_extensions==4.16.0
urllib3==2.8.0
"

# bqemulator 1.4.0 needs duckdb 1.5.5 exactly, plus its spatial/avro extensions shipped as wheels.
BQEMULATOR_PINS="
bqemulator==1.4.0
duckdb==1.5.5
duckdb-extension-spatial==1.5.5
duckdb-extension-avro==1.5.5
numpy==2.4.6
testcontainers==4.15.0
sqlglot==30.11.0
alembic==1.20.1
annotated-doc==0.0.7
annotated-types==0.8.0
anyio==4.16.0
asgiref==3.13.0
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.3
click==8.5.1
cryptography==50.0.2
docker==7.2.0
fastapi==0.165.0
fastavro==1.13.1
google-api-core==2.44.0
google-auth==2.63.0
google-cloud-bigquery-storage==2.43.0
googleapis-common-protos==1.76.0
grpcio==1.85.3
grpcio-health-checking==1.80.1
grpcio-status==1.85.3
grpcio-tools==1.80.1
h11==0.16.0
httpcore==1.0.9
httptools==0.9.0
httpx==0.28.1
idna==3.20
Mako==1.4.3
MarkupSafe==3.0.4
opentelemetry-api==1.45.2
opentelemetry-exporter-http-transport==0.66b2
opentelemetry-exporter-otlp==1.45.2
opentelemetry-exporter-otlp-common==0.66b2
opentelemetry-exporter-otlp-proto-common==1.45.2
opentelemetry-exporter-otlp-proto-grpc==1.45.2
opentelemetry-exporter-otlp-proto-http==1.45.2
opentelemetry-instrumentation==0.66b2
opentelemetry-instrumentation-asgi==0.66b2
opentelemetry-instrumentation-fastapi==0.66b2
opentelemetry-instrumentation-grpc==0.66b2
opentelemetry-proto==1.45.2
opentelemetry-sdk==1.45.2
opentelemetry-semantic-conventions==0.66b2
opentelemetry-util-http==0.66b2
orjson==3.13.0
packaging==26.4
prometheus_client==0.26.0
proto-plus==1.29.0
protobuf==6.33.6
pyarrow==26.0.1
pyasn1==0.6.5
pyasn1_modules==0.4.2
pycparser==3.12
pydantic==2.14.4
pydantic-settings==2.16.3
pydantic_core==2.50.5
PyJWT==2.15.1
python-dotenv==1.2.4
pytz==2026.6
PyYAML==6.0.4
requests==2.34.2
SQLAlchemy==2.1.9
starlette==1.10.0
structlog==26.1.0
typing-inspection==0.4.5
typing_extensions==4.16.0
urllib3==2.8.0
uvicorn==0.54.0
uvloop==0.23.0
watchfiles==1.3.0
websockets==17.4
wrapt==2.5.2
"

# shellcheck source=.ci/venv.sh
source "$(dirname "$0")/venv.sh"

mkdir -p "$CACHE"
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null \
  || die "$PYTHON must be Python >= 3.11 (set PYTHON=...)"

venv fakesnow "$FAKESNOW_PINS" "import fakesnow.server, uvicorn"
venv bqemulator "$BQEMULATOR_PINS" "import bqemulator, duckdb_extension_spatial, duckdb_extension_avro"

# bqemulator otherwise downloads these at start (spatial: dies offline; avro: stalls ~30 s).
mkdir -p "$DUCKDB_EXT_DIR"
for ext in "$CACHE"/bqemulator/lib/python3*/site-packages/duckdb_extension_*/extensions/v1.5.5/*.duckdb_extension; do
  [[ -f "$ext" ]] || die "no DuckDB extension files found in the bqemulator venv"
  cmp -s "$ext" "$DUCKDB_EXT_DIR/$(basename "$ext")" || { cp "$ext" "$DUCKDB_EXT_DIR/"; log "copied $(basename "$ext")"; }
done

# PostgreSQL server for the Redshift stand-in (initdb/postgres are run as the 'postgres' user).
if compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
  log "postgresql: $(ls -d /usr/lib/postgresql/*/bin | tail -1)"
else
  [[ $EUID -eq 0 ]] || die "PostgreSQL server missing; as root run: apt-get update && apt-get install -y postgresql"
  log "postgresql: apt-get install postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends postgresql >&2 \
    || die "apt-get install postgresql failed"
  compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || die "postgresql installed but no initdb found"
fi
if [[ $EUID -eq 0 ]] && ! id postgres > /dev/null 2>&1; then
  die "no 'postgres' OS user: reinstall the Debian postgresql package, which creates it"
fi
log "ready in $CACHE"
