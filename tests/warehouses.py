"""journeyctl targets on the warehouse stand-ins (and real engines), each test in its own namespace.

`warehouse` (a fixture, parametrised over ENGINES) gives a target on a fresh database
(Snowflake), dataset (BigQuery) or schema (Redshift, PostgreSQL) of the session's engine, so
tests never see each other's tables; `every_engine` adds DuckDB (a file in tmp_path).
`journeyctl(...)` runs the real CLI through click's CliRunner with a journeyctl.toml
written to tmp_path.
"""

from __future__ import annotations

import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlglot import exp

from journeyctl.cli import cli
from journeyctl.config import Target
from journeyctl.connectors import connect
from journeyctl.connectors.base import Connector
from journeyctl.layout import LAYOUTS
from journeyctl.names import SchemaName, TableName
from journeyctl.render import PipelineParams
from tests import edge_events as E
from tests.helpers import published_relations

ENGINES = ["snowflake", "bigquery", "redshift", "postgres", "clickhouse", "spark"]
REQUIRED = ["id", "anonymous_id", "user_id", "timestamp", "event"]


@dataclass
class Warehouse:
    engine: str
    options: dict
    source: str
    """The source table as the target's config names it."""
    schema: str
    """The output schema, as [pipeline] schema."""
    base_dir: Path
    extra_pipeline: dict = field(default_factory=dict)

    def connector(self, **overrides) -> Connector:
        return connect(Target(self.engine, self.engine, self.options | overrides, self.base_dir))

    def params(self, **kw) -> PipelineParams:
        """The pipeline parameters a run on this target uses (source, schema and layout as configured)."""
        layout = {"layout": self.extra_pipeline["layout"]} if "layout" in self.extra_pipeline else {}
        return PipelineParams(source=TableName.parse(self.source), schema=SchemaName.parse(self.schema),
                              **(layout | kw))

    def in_layout(self, layout: str) -> Warehouse:
        """This target with [pipeline] layout = `layout`."""
        self.extra_pipeline["layout"] = layout
        return self

    @property
    def relations(self) -> set[str]:
        """What a run publishes in its layout: the five, and the views layout's event table."""
        return published_relations(self.params())

    def config(self, **overrides) -> Path:
        """journeyctl.toml with this target (options overridden) and the pipeline's source/schema."""
        options = {k: v for k, v in (self.options | overrides).items() if v is not None}
        pipeline = {"source": self.source, "schema": self.schema} | self.extra_pipeline
        lines = ["[pipeline]", *(f"{k} = {_toml(v)}" for k, v in pipeline.items()),
                 f"\n[targets.{self.engine}]", f'type = "{self.engine}"',
                 *(f"{k} = {_toml(v)}" for k, v in options.items())]
        path = self.base_dir / "journeyctl.toml"
        path.write_text("\n".join(lines) + "\n")
        tomllib.loads(path.read_text())  # written right
        return path

    def load(self, rows=E.ROWS, columns=E.COLUMNS, table: str | None = None) -> None:
        """Create the source table (and its schema) with `rows`, through the connector under test."""
        name = TableName.parse(table or self.source)
        with self.connector() as c:
            if len(name.parts) > 1:
                schema = exp.Table(this=exp.to_identifier(name.parts[-2]))
                c.execute(c.render(exp.Create(this=schema, kind="SCHEMA", exists=True)))
            c.create_table(name, columns)
            c.insert_rows(name, columns, rows)


def _toml(value) -> str:
    if isinstance(value, dict):  # an inline table (Spark's conf)
        return "{" + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def journeyctl(config: Path, *args: str) -> Result:
    """`journeyctl --config CONFIG ARGS…` in-process; stdout and stderr kept apart."""
    return CliRunner().invoke(cli, ["--config", str(config), *args], obj={}, catch_exceptions=False)


def encrypted_key(path: Path, passphrase: bytes) -> Path:
    """A fresh RSA private key (PKCS#8 PEM, encrypted), as Snowflake key-pair login uses."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(passphrase)))
    return path


def make_warehouse(engine: str, standin, tmp_path: Path) -> Warehouse:
    tag = secrets.token_hex(4)
    if engine == "duckdb":  # no stand-in: a file of its own in tmp_path
        return Warehouse(engine, {"path": "journey.duckdb"}, source="tracks", schema="journey",
                         base_dir=tmp_path)
    if engine == "snowflake":
        # A fresh database per test (fakesnow creates it at login); not the stand-in's default
        # JOURNEY, which fakesnow confuses with the output schema of the same name.
        # fakesnow takes any password; a distinctive one keeps secret checks meaningful
        # (its own, "snow", is part of "snowflake").
        options = {"account": standin.account, "user": standin.user, "password": f"Pw-{tag}-never-shown",
                   "host": standin.host, "port": standin.port, "protocol": standin.protocol,
                   "database": f"T_{tag.upper()}", "schema": "PUBLIC"}
        return Warehouse(engine, options, source="TRACKS", schema="journey", base_dir=tmp_path)
    if engine == "bigquery":
        options = {"project": standin.project, "api_endpoint": standin.api_endpoint, "anonymous": True,
                   "dataset": f"out_{tag}"}
        return Warehouse(engine, options, source=f"src_{tag}.tracks", schema=f"out_{tag}",
                         base_dir=tmp_path)
    if engine == "redshift":
        options = {"host": standin.host, "port": standin.port, "database": standin.database,
                   "user": standin.user, "password": standin.password, "ssl": standin.ssl}
        return Warehouse(engine, options, source=f"src_{tag}.tracks", schema=f"out_{tag}",
                         base_dir=tmp_path)
    if engine == "postgres":
        options = {"host": standin.host, "port": standin.port, "database": standin.database,
                   "user": standin.user, "password": standin.password, "sslmode": "disable"}
        return Warehouse(engine, options, source=f"src_{tag}.tracks", schema=f"out_{tag}",
                         base_dir=tmp_path)
    if engine == "clickhouse":  # the server path: clickhouse-connect to the chdb HTTP front
        options = {"host": standin.host, "port": standin.port, "user": standin.user,
                   "password": standin.password}
        return Warehouse(engine, options, source=f"src_{tag}.tracks", schema=f"out_{tag}",
                         base_dir=tmp_path)
    if engine == "spark":  # a client of the session's Spark Connect server, which holds the catalog
        return Warehouse(engine, {"remote": standin.remote}, source=f"src_{tag}.tracks",
                         schema=f"out_{tag}", base_dir=tmp_path)
    raise ValueError(engine)


@pytest.fixture(params=LAYOUTS)
def layout(request) -> str:
    """Each layout of the published tables: a test taking it runs in both."""
    return request.param


@pytest.fixture(params=ENGINES)
def warehouse(request, tmp_path) -> Warehouse:
    standin = request.getfixturevalue(f"{request.param}_standin")
    return make_warehouse(request.param, standin, tmp_path)


@pytest.fixture(params=["duckdb", *ENGINES])
def every_engine(request, tmp_path) -> Warehouse:
    """As `warehouse`, and DuckDB (a file in tmp_path) as well."""
    standin = request.getfixturevalue(f"{request.param}_standin") if request.param != "duckdb" else None
    return make_warehouse(request.param, standin, tmp_path)


@pytest.fixture
def snowflake(snowflake_standin, tmp_path) -> Warehouse:
    return make_warehouse("snowflake", snowflake_standin, tmp_path)


@pytest.fixture
def bigquery(bigquery_standin, tmp_path) -> Warehouse:
    return make_warehouse("bigquery", bigquery_standin, tmp_path)


@pytest.fixture
def redshift(redshift_standin, tmp_path) -> Warehouse:
    return make_warehouse("redshift", redshift_standin, tmp_path)


@pytest.fixture
def postgres(postgres_standin, tmp_path) -> Warehouse:
    return make_warehouse("postgres", postgres_standin, tmp_path)


@pytest.fixture
def clickhouse(clickhouse_standin, tmp_path) -> Warehouse:
    return make_warehouse("clickhouse", clickhouse_standin, tmp_path)


@pytest.fixture
def spark(spark_standin, tmp_path) -> Warehouse:
    return make_warehouse("spark", spark_standin, tmp_path)
