"""Spark: the embedded (local) target, and what is special about Spark targets.

The Spark Connect target runs the shared equivalence and safe-run tests (tests/warehouses.py,
against the `spark_standin` server). Here, a local target runs in this process: one Spark
session for the whole module (a process holds one), with the Spark session's and the JVM's
zone set to America/New_York, and this process's zone too while a test runs; tables in a
Hive catalog (embedded Derby) under the module's warehouse_dir.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest
from sqlglot import exp

from journeyctl.names import TableName
from tests import edge_events as E
from tests.helpers import duckdb_connector, load, normalised, params, read_tables, run_pipeline
from tests.reference import journeys
from tests.standins import StandinNotInstalled, free_port, missing, spark_installed
from tests.test_connectors_equivalence import assert_same_rows, duckdb_rows
from tests.test_reference import COLUMNS as ADVERSARIAL_COLUMNS, adversarial_rows
from tests.warehouses import Warehouse, journeyctl

NEW_YORK = {"spark.sql.session.timeZone": "America/New_York",
            "spark.driver.extraJavaOptions": "-Duser.timezone=America/New_York",
            "spark.sql.shuffle.partitions": 4}
OPTIONS = {"master": "local[2]", "warehouse_dir": "warehouse", "conf": NEW_YORK}


@pytest.fixture(scope="module")
def local_base(tmp_path_factory):
    try:
        spark_installed()
    except StandinNotInstalled as e:
        missing(str(e))
    return tmp_path_factory.mktemp("spark-local")


@pytest.fixture
def local(local_base, request):
    """A local target (the module's one session), its source and schema named after the test."""
    zone = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    tag = secrets.token_hex(4)
    yield Warehouse("spark", OPTIONS, source=f"src_{tag}.tracks", schema=f"out_{tag}", base_dir=local_base)
    if zone is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = zone
    time.tzset()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_a_gap_across_a_dst_change_is_its_length(local):
    """20 minutes across New York's spring-forward and fall-back, with every zone in New York:
    idle 20.0 (Spark's TIMESTAMPDIFF would read 80 and -40), one session each."""
    rows = [("s1", None, "spring", utc("2024-03-10 06:50:00"), "a"),  # 01:50 EST
            ("s2", None, "spring", utc("2024-03-10 07:10:00"), "b"),  # 03:10 EDT
            ("f1", None, "fall", utc("2024-11-03 05:50:00"), "a"),    # 01:50 EDT
            ("f2", None, "fall", utc("2024-11-03 06:10:00"), "b")]    # 01:10 EST
    columns = [("id", "VARCHAR"), ("anonymous_id", "VARCHAR"), ("user_id", "VARCHAR"),
               ("timestamp", "TIMESTAMP"), ("event", "VARCHAR")]
    local.load(rows=rows, columns=columns)
    result = journeyctl(local.config(), "run", "--target", "spark")
    assert result.exit_code == 0, result.stderr
    with local.connector() as c:
        tables = read_tables(c, local.params())
    assert tables["dbt_mapped_tracks"] == {
        ("s1", None, "spring", datetime(2024, 3, 10, 6, 50), "a", None),
        ("s2", None, "spring", datetime(2024, 3, 10, 7, 10), "b", 20.0),
        ("f1", None, "fall", datetime(2024, 11, 3, 5, 50), "a", None),
        ("f2", None, "fall", datetime(2024, 11, 3, 6, 10), "b", 20.0)}
    assert {row[0] for row in tables["dbt_session_tracks"]} == {"1 - spring", "1 - fall"}


def test_edge_events_give_duckdbs_rows_and_data_tests_pass(local):
    """Naive timestamps loaded in a New York session are still UTC; `journeyctl test` passes."""
    local.load()
    config = local.config()
    result = journeyctl(config, "run", "--target", "spark")
    assert result.exit_code == 0, result.stderr
    with local.connector() as c:
        assert_same_rows(read_tables(c, local.params()), duckdb_rows())
        assert {t.name for t in c.tables_in_schema(local.params().schema)} == local.relations
    result = journeyctl(config, "test", "--target", "spark")
    assert result.exit_code == 0, result.stdout + result.stderr


@pytest.mark.parametrize("seed,timeout,length", [(0, 30, 5), (1, 45, 3), (2, 0.5, 2)])
def test_adversarial_events_give_duckdbs_rows(local, tmp_path, seed, timeout, length):
    """The contract tests' random events (ties, copies, gaps at the timeout ± 1 µs): the rows of
    DuckDB and of the plain-Python reference, in all five tables."""
    rows = [tuple(r[c] for c, _ in ADVERSARIAL_COLUMNS) for r in adversarial_rows(seed)]
    local.load(rows=rows, columns=ADVERSARIAL_COLUMNS)
    p = local.params(idle_timeout_minutes=timeout, journey_length=length)
    with local.connector() as c:
        run_pipeline(c, p)
        built = read_tables(c, p)
    with duckdb_connector(tmp_path / "j.duckdb") as c:
        load(c, "tracks", ADVERSARIAL_COLUMNS, rows)
        reference = params(idle_timeout_minutes=timeout, journey_length=length)
        run_pipeline(c, reference)
        assert_same_rows(built, read_tables(c, reference))
    assert built == normalised(journeys(adversarial_rows(seed), timeout, length))


def command(config, *args: str) -> list[str]:
    return [sys.executable, "-m", "journeyctl", "--config", str(config), *args]


def test_a_warehouse_in_use_by_another_process_is_exit_3(local):
    """Embedded Derby admits one process per catalog: this one holds it, so a second fails at once."""
    local.load(rows=E.ROWS[:2])
    proc = subprocess.run(command(local.config(), "run", "--target", "spark"), capture_output=True,
                          text=True, timeout=180, check=False)
    assert proc.returncode == 3, proc.stderr
    assert "is in use by another process" in proc.stderr and "Traceback" not in proc.stderr


def test_tables_outlive_the_process(tmp_path):
    """`sample` in one process, `run` in the next: the source was kept in the catalog (no New
    York settings here: a warehouse of its own, never opened by this process)."""
    config = tmp_path / "journeyctl.toml"
    config.write_text('[targets.spark]\ntype = "spark"\nmaster = "local[1]"\n')
    for args in (("sample", "--events", "120", "--seed", "5"), ("run", "--format", "json")):
        proc = subprocess.run(command(config, *args, "--target", "spark"), capture_output=True, text=True,
                              timeout=300, check=False, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert summary["source_rows"] > 100 and summary["dialect"] == "spark"
    assert (tmp_path / "spark-warehouse" / "metastore_db").is_dir()


def test_no_secret_in_any_output(spark, tmp_path):
    """A Spark Connect token (in the URL) and a conf secret: never printed, whatever fails —
    also when Spark's own error quotes the secret (a view whose event cast fails on it)."""
    token, key = "TokSecret-5e1f", "ConfPw-77ab"
    closed = free_port()
    spark.load()
    bad = spark.source.replace("tracks", "bad_tracks")
    with spark.connector() as c:
        event = exp.cast(exp.func("concat", exp.Literal.string(f"{key} "), exp.column("id")), "INT")
        view = (exp.select("id", "anonymous_id", "user_id", "timestamp", exp.cast(event, "VARCHAR").as_("event"))
                .from_(TableName.parse(spark.source).to_table()))
        c.execute(c.render(exp.Create(this=TableName.parse(bad).to_table(), kind="VIEW", expression=view)))
    conf = f'conf = {{"spark.journeyctl.test.password" = "{key}"}}\n'
    config = tmp_path / "journeyctl.toml"
    config.write_text(
        f'[pipeline]\nsource = "{spark.source}"\nschema = "{spark.schema}"\n'
        f'[targets.live]\ntype = "spark"\nremote = "{spark.options["remote"]}"\n{conf}'
        f'[targets.closed]\ntype = "spark"\nremote = "sc://127.0.0.1:{closed}/;token={token}"\n{conf}'
        f'[targets.typo]\ntype = "spark"\nremote = "sc://127.0.0.1:{closed}/;token={token}"\nmastr = "x"\n')
    cases = {("--verbose", "run", "--target", "closed"): 3, ("debug", "--target", "closed"): 3,
             ("run", "--dry-run", "--target", "closed"): 0, ("run", "--target", "typo"): 2,
             ("debug", "--target", "live"): 0,
             ("--verbose", "run", "--target", "live", "--source", bad): 4}
    for args, code in cases.items():
        proc = subprocess.run(command(config, *args), capture_output=True, text=True, timeout=120,
                              check=False)
        assert proc.returncode == code, (args, proc.stderr)
        output = proc.stdout + proc.stderr
        assert token not in output and key not in output, (args, output)
    assert "***" in output and "failing SQL:" in output, output  # the secret was there, and masked


def test_remote_and_a_local_warehouse_are_exclusive(tmp_path):
    config = tmp_path / "journeyctl.toml"
    config.write_text('[targets.spark]\ntype = "spark"\nremote = "sc://h:15002"\nwarehouse_dir = "w"\n')
    result = journeyctl(config, "run", "--target", "spark", "--dry-run")
    assert result.exit_code == 2 and "sets remote and warehouse_dir" in result.stderr
