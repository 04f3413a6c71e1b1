"""`journeyctl debug` on each stand-in: a checklist of OK/FAIL lines and a telling exit code."""

from __future__ import annotations

import pytest

from tests import edge_events as E
from tests.warehouses import encrypted_key, journeyctl

WITHOUT_EVENT = [(name, kind) for name, kind in E.COLUMNS if name != "event"]
TEXT_TIMESTAMP = [(name, "VARCHAR" if name == "timestamp" else kind) for name, kind in E.COLUMNS]


def rows_without(column: str):
    index = [name for name, _ in E.COLUMNS].index(column)
    return [row[:index] + row[index + 1:] for row in E.ROWS]


def rows_as_text(column: str):
    index = [name for name, _ in E.COLUMNS].index(column)
    return [(*row[:index], None if row[index] is None else str(row[index]), *row[index + 1:])
            for row in E.ROWS]


def debug(warehouse, **overrides):
    result = journeyctl(warehouse.config(**overrides), "debug", "--target", warehouse.engine)
    return result, result.stdout


def status(output: str) -> dict[str, str]:
    """check name → OK / FAIL, from the checklist lines."""
    return {line[6:].split("  ")[0].strip(): line[:4].strip()
            for line in output.splitlines() if line[:4].strip() in ("OK", "FAIL")}


def test_ready_target(warehouse):
    warehouse.load()
    result, out = debug(warehouse)
    assert result.exit_code == 0, out
    assert status(out) == {"config": "OK", "dialect": "OK", "connection": "OK",
                           "source table": "OK", "output schema": "OK"}
    assert f"dialect        {warehouse.engine}" in out
    assert "ready to run" in out


def test_missing_source_table(warehouse):
    result, out = debug(warehouse)
    assert result.exit_code == 2
    assert status(out)["source table"] == "FAIL" and status(out)["output schema"] == "OK"
    assert "does not exist" in out and "journeyctl sample" in out


def test_missing_column(warehouse):
    warehouse.load(rows=rows_without("event"), columns=WITHOUT_EVENT)
    result, out = debug(warehouse)
    assert result.exit_code == 2
    assert status(out)["source table"] == "FAIL"
    assert "lacks column(s): event" in out


def test_timestamp_that_is_not_a_timestamp(warehouse):
    warehouse.load(rows=rows_as_text("timestamp"), columns=TEXT_TIMESTAMP)
    result, out = debug(warehouse)
    assert result.exit_code == 2
    assert "not a timestamp" in out and "cast it in a view" in out


@pytest.fixture
def wrong_credentials(warehouse, tmp_path, monkeypatch):
    """Target options that fail the login, and the secret that must not be shown.

    fakesnow accepts any password, so Snowflake gets an encrypted key with a wrong
    passphrase; the emulator accepts anyone, so BigQuery gets no credentials at all.
    """
    if warehouse.engine == "snowflake":
        encrypted_key(tmp_path / "rsa.p8", b"Right-Passphrase-1")
        return {"password": None, "private_key_path": "rsa.p8",
                "private_key_passphrase": "Wrong-Passphrase-2"}, "Wrong-Passphrase-2"
    if warehouse.engine == "bigquery":
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
        return {"anonymous": None}, None
    if warehouse.engine == "spark":  # a token makes the client insist on TLS, which the server lacks
        return {"remote": warehouse.options["remote"] + "/;token=Wrong-Tok-77", "timeout": 4}, "Wrong-Tok-77"
    return {"password": "Wrong-Pw-77"}, "Wrong-Pw-77"


def test_wrong_credentials(warehouse, wrong_credentials):
    options, secret = wrong_credentials
    result, out = debug(warehouse, **options)
    assert result.exit_code == 3
    assert status(out) == {"config": "OK", "dialect": "OK", "connection": "FAIL"}
    assert "cannot connect" in out or "no Google credentials" in out
    assert "→ check" in out
    if secret:
        assert secret not in out + result.stderr


def test_unknown_target_is_a_config_failure(warehouse):
    result = journeyctl(warehouse.config(), "debug", "--target", "nope")
    assert result.exit_code == 2
    assert status(result.stdout) == {"config": "FAIL"}
    assert "no target named 'nope'" in result.stdout


def test_duckdb_target(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "journeyctl.toml"
    config.write_text('[targets.local]\ntype = "duckdb"\npath = "j.duckdb"\n')
    assert journeyctl(config, "sample", "--target", "local", "--events", "100").exit_code == 0
    result = journeyctl(config, "debug", "--target", "local")
    assert result.exit_code == 0, result.stdout
    assert "received_at present" in result.stdout
