#!/usr/bin/env bash
# Install dbt with the DuckDB, Snowflake, BigQuery and Redshift adapters for tests/test_dbt_export.py
# (dbt build of the DuckDB export; dbt parse of the others). Idempotent; its own venv, so dbt's
# pins never meet journeyctl's. dbt-core stays on 1.10: 1.12 needs dbt-core-experimental-parser,
# which downloads a binary while it builds. Every version pinned (the full resolved set).
# CACHE = ${JOURNEYCTL_STANDINS:-$HOME/.cache/journeyctl-standins}; the venv is $CACHE/dbt.
set -euo pipefail
HOME="${HOME:-$(getent passwd "$(id -un)" | cut -d: -f6)}"

CACHE="${JOURNEYCTL_STANDINS:-$HOME/.cache/journeyctl-standins}"
PYTHON="${PYTHON:-python3}"

log() { echo "dbt: $*" >&2; }
die() { echo "dbt: ERROR: $*" >&2; exit 1; }
trap 'die "failed at line $LINENO: $BASH_COMMAND"' ERR

DBT_PINS="
agate==1.9.1
annotated-types==0.8.0
anyio==4.16.0
asn1crypto==1.5.1
attrs==26.1.0
babel==2.19.0
backports.tarfile==1.2.0
beautifulsoup4==4.15.0
boto3==1.44.8
botocore==1.44.8
certifi==2025.1.31
cffi==2.1.1
charset-normalizer==3.5.3
click==8.5.1
colorama==0.4.6
cryptography==50.0.2
daff==1.4.2
db-dtypes==1.9.0
dbt-adapters==1.24.5
dbt-bigquery==1.10.3
dbt-common==1.39.0
dbt-core==1.10.23
dbt-duckdb==1.9.6
dbt-extractor==0.6.0
dbt-postgres==1.11.0
dbt-protos==1.0.615
dbt-redshift==1.10.2
dbt-semantic-interfaces==0.9.0
dbt-snowflake==1.10.8
deepdiff==8.6.2
distro==1.9.0
docstring_parser==0.18.0
duckdb==2.0.1
fastjsonschema==2.22.3
filelock==3.32.7
google-api-core==2.44.0
google-auth==2.63.0
google-auth-oauthlib==1.5.0
google-cloud-aiplatform==2.7.0
google-cloud-bigquery==3.47.0
google-cloud-core==2.8.0
google-cloud-dataproc==5.32.0
google-cloud-resource-manager==1.19.0
google-cloud-storage==3.1.1
google-crc32c==1.9.0
google-genai==2.34.0
google-resumable-media==2.11.0
googleapis-common-protos==1.76.0
grpc-google-iam-v1==0.14.6
grpcio==1.85.3
grpcio-status==1.85.3
h11==0.16.0
httpcore==1.0.9
httpx==0.28.1
idna==3.20
importlib_metadata==8.9.0
isodate==0.7.2
jaraco.classes==3.4.0
jaraco.context==6.1.2
jaraco.functools==4.6.0
jeepney==0.9.0
Jinja2==3.1.6
jmespath==1.1.0
jsonschema==4.26.0
jsonschema-specifications==2025.9.1
jupyter_core==5.9.1
keyring==25.7.0
leather==0.4.1
lxml==6.1.3
MarkupSafe==3.0.4
mashumaro==3.14
more-itertools==10.8.0
msgpack==1.2.4
nbformat==5.11.1
networkx==3.6.1
numpy==2.4.6
oauthlib==4.0.1
opentelemetry-api==1.45.2
orderly-set==5.5.0
packaging==26.4
pandas==3.1.1
pandas-gbq==0.35.3
parsedatetime==2.6
pathspec==0.12.1
platformdirs==4.14.9
proto-plus==1.29.0
protobuf==6.33.6
psutil==7.2.2
psycopg2-binary==2.9.13
pyarrow==26.0.1
pyasn1==0.6.5
pyasn1_modules==0.4.2
pycparser==3.12
pydantic==2.14.4
pydantic_core==2.50.5
pydata-google-auth==1.9.1
PyJWT==2.15.1
pyOpenSSL==26.4.0
python-dateutil==2.9.0.post0
python-slugify==9.2.0
pytimeparse==1.1.10
pytz==2026.6
PyYAML==6.0.4
redshift_connector==2.1.17
referencing==0.37.0
requests==2.34.2
requests-oauthlib==2.0.0
rpds-py==2026.9.1
s3transfer==0.19.3
scramp==1.4.18
SecretStorage==3.5.0
six==1.17.0
sniffio==1.3.1
snowflake-connector-python==4.8.0
snowplow-tracker==1.1.0
sortedcontainers==2.4.0
soupsieve==4.1.3
sqlparse==0.5.4
tenacity==9.1.4
text-unidecode==1.3
tomlkit==0.15.2
traitlets==5.16.1
typing-inspection==0.4.5
typing_extensions==4.16.0
urllib3==2.8.0
websockets==17.4
zipp==4.1.2
"

# shellcheck source=.ci/venv.sh
source "$(dirname "$0")/venv.sh"
mkdir -p "$CACHE"
venv dbt "$DBT_PINS" "import dbt.adapters.duckdb, dbt.adapters.snowflake, dbt.adapters.bigquery, dbt.adapters.redshift"
log "ready: $CACHE/dbt/bin/dbt"
