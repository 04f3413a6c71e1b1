"""Session-scoped pytest fixtures for the stand-ins; load with
``pytest_plugins = ["tests.standins.fixtures"]``.

A missing engine SKIPs locally (the reason names ``bash .ci/standins.sh``) but FAILs when
``CI=true`` (see ``start_or_skip``).
"""

from __future__ import annotations

import pytest

from . import (start_bigquery, start_clickhouse, start_or_skip, start_postgres, start_redshift,
               start_snowflake, start_spark)


@pytest.fixture(scope="session")
def snowflake_standin():
    """A fakesnow server: ``snowflake.connector.connect(**snowflake_standin.connect_kwargs())``."""
    standin = start_or_skip(start_snowflake)
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def bigquery_standin():
    """A bqemulator: ``bigquery_standin.client()`` or project + api_endpoint."""
    standin = start_or_skip(start_bigquery)
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def redshift_standin():
    """PostgreSQL behind the Redshift proxy: ``redshift_connector.connect(**redshift_standin.connect_kwargs())``."""
    standin = start_or_skip(start_redshift)
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def postgres_standin():
    """Stock PostgreSQL, sessions in America/New_York: ``psycopg.connect(**postgres_standin.connect_kwargs())``."""
    standin = start_or_skip(start_postgres)
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def clickhouse_standin():
    """ClickHouse's HTTP interface over chdb: ``clickhouse_connect.get_client(**clickhouse_standin.connect_kwargs())``."""
    standin = start_or_skip(start_clickhouse)
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def spark_standin():
    """A Spark Connect server (real Spark, Hive catalog): ``spark_standin.remote`` is its sc:// URL."""
    standin = start_or_skip(start_spark)
    yield standin
    standin.stop()
