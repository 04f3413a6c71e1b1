"""BigQuery: google-cloud-bigquery jobs; a schema is a dataset, and DDL is not transactional."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import date, datetime
from typing import Any, Iterable, Sequence

import google.auth
from google.api_core import exceptions as api_exceptions
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from google.oauth2 import service_account
from requests import RequestException
from sqlglot import exp

from journeyctl.connectors.base import Connector, Option
from journeyctl.dialects import drop_table
from journeyctl.errors import ConfigError, ConnectionFailed, ExecutionError
from journeyctl.names import SchemaName, TableName

DEFAULT_TIMEOUT = 30
LABELS = {"tool": "journeyctl"}
SCOPES = ["https://www.googleapis.com/auth/bigquery"]
_POSITION = re.compile(r"at \[(\d+):\d+\]")
_JOB_ID = re.compile(r"Job ID: (\S+)")


class BigQueryConnector(Connector):
    type = "bigquery"
    dialect_name = "bigquery"
    transactional_ddl = False  # DDL is refused inside a multi-statement transaction
    extra = "bigquery"
    options = {
        "project": Option("Google Cloud project that runs the jobs and holds unqualified datasets",
                          required=True),
        "dataset": Option("dataset for the journey tables (default: [pipeline] schema); also where "
                          "an unqualified source table is looked up"),
        "location": Option("location of the datasets and jobs, e.g. US or europe-west1"),
        "keyfile": Option("service-account JSON key, relative to journeyctl.toml "
                          "(default: Application Default Credentials)"),
        "maximum_bytes_billed": Option("fail any query that would bill more bytes than this",
                                       kinds=(int,)),
        "timeout": Option(f"seconds to wait for each API request (default {DEFAULT_TIMEOUT})",
                          kinds=(int, float)),
        "api_endpoint": Option("API root URL, only for a local emulator (http://127.0.0.1:9050)"),
        "anonymous": Option("send no credentials (only for a local emulator)", kinds=(bool,)),
    }

    @property
    def timeout(self) -> float:
        return float(self.settings.get("timeout", DEFAULT_TIMEOUT))

    def describe(self) -> str:
        s = self.settings
        extra = "".join(f", {k} {s[k]}" for k in ("location", "api_endpoint") if s.get(k))
        return f"bigquery target {self.target.name!r} (project {s['project']}{extra})"

    def output_schema(self) -> str | None:
        return self.settings.get("dataset")

    # --- connection -------------------------------------------------------------
    def credentials(self):
        if self.settings.get("anonymous"):
            return AnonymousCredentials()
        if "keyfile" in self.settings:
            path = self.target.base_dir / self.settings["keyfile"]
            return service_account.Credentials.from_service_account_file(str(path), scopes=SCOPES)
        credentials, _ = google.auth.default(scopes=SCOPES)
        return credentials

    def job_config(self) -> bigquery.QueryJobConfig:
        """Every query job: labelled, capped in bytes, unqualified tables read from `dataset`."""
        config = bigquery.QueryJobConfig(labels=dict(LABELS))
        if "maximum_bytes_billed" in self.settings:
            config.maximum_bytes_billed = self.settings["maximum_bytes_billed"]
        if "dataset" in self.settings:
            config.default_dataset = f"{self.settings['project']}.{self.settings['dataset']}"
        return config

    def open(self) -> None:
        """Build the client and run `SELECT 1`: proves credentials, project and endpoint."""
        s = self.settings
        hint = (f"check project and credentials in [targets.{self.target.name}]: set keyfile to a "
                "service-account JSON key, or run `gcloud auth application-default login`")
        try:
            self.client = bigquery.Client(
                project=s["project"], credentials=self.credentials(), location=s.get("location"),
                client_options=ClientOptions(api_endpoint=s["api_endpoint"]) if "api_endpoint" in s else None,
                default_query_job_config=self.job_config())
            retry = bigquery.DEFAULT_RETRY.with_deadline(self.timeout)
            self.client.query("SELECT 1", timeout=self.timeout, retry=retry,
                              job_retry=None).result(timeout=self.timeout)
        except auth_exceptions.DefaultCredentialsError as e:
            raise ConnectionFailed(f"no Google credentials for {self.describe()}: {e}", hint=hint)
        except (OSError, ValueError) as e:  # an unreadable or malformed keyfile
            raise ConnectionFailed(f"cannot use the service-account key of {self.describe()}: {e}",
                                   hint=hint)
        except (api_exceptions.GoogleAPIError, auth_exceptions.GoogleAuthError,
                RequestException, TimeoutError) as e:
            raise ConnectionFailed(f"cannot connect to {self.describe()}: {_message(e)}", hint=hint)

    def close(self) -> None:
        if getattr(self, "client", None) is not None:
            self.client.close()
            self.client = None

    def execute(self, sql: str) -> None:
        self.client.query(sql, timeout=self.timeout).result()

    def query(self, sql: str) -> list[tuple]:
        return [tuple(row.values()) for row in self.client.query(sql, timeout=self.timeout).result()]

    def execution_error(self, error: Exception, sql: str, stage: str) -> ExecutionError:
        """BigQuery's message without the REST call around it; `at [line:column]` gives the line."""
        failure = super().execution_error(error, sql, stage)
        text = _message(error)
        position = _POSITION.search(text)
        return ExecutionError(
            f"stage {stage} failed on {self.describe()} (dialect {self.dialect.name}): {text}",
            hint=failure.hint, sql=sql, line=int(position.group(1)) if position else failure.line)

    # --- tables -----------------------------------------------------------------
    def table_id(self, table: TableName) -> str:
        """project.dataset.table for the API; an unqualified table lives in `dataset`."""
        parts = table.parts
        if len(parts) == 1:
            if "dataset" not in self.settings:
                raise ConfigError(f"table {table} needs a dataset on {self.describe()}",
                                  hint="write it as dataset.table, or set dataset in the target")
            parts = (self.settings["dataset"], *parts)
        if len(parts) == 2:
            parts = (self.settings["project"], *parts)
        return ".".join(parts)

    def columns(self, table: TableName) -> dict[str, str] | None:
        try:
            found = self.client.get_table(self.table_id(table), timeout=self.timeout)
        except api_exceptions.NotFound:
            return None
        return {f.name.lower(): f.field_type.upper() for f in found.schema}

    def tables_in_schema(self, schema: SchemaName) -> list[TableName]:
        """The dataset's tables and views through the API (no query, nothing billed); none if it is missing."""
        return [schema.table(t.table_id) for t in self._list(schema)]

    def views_in_schema(self, schema: SchemaName) -> list[str]:
        return [t.table_id for t in self._list(schema) if t.table_type == "VIEW"]

    def _list(self, schema: SchemaName) -> list:
        parts = schema.parts if len(schema.parts) == 2 else (self.settings["project"], *schema.parts)
        try:
            return list(self.client.list_tables(".".join(parts), timeout=self.timeout))
        except api_exceptions.NotFound:
            return []

    def create_table(self, table: TableName, columns: Sequence[tuple[str, str]]) -> None:
        """As the base does, but a neutral TIMESTAMP becomes BigQuery's TIMESTAMP (an instant, what
        RudderStack writes), not the DATETIME sqlglot would make of it."""
        super().create_table(table, [(name, "TIMESTAMPTZ" if kind.upper() == "TIMESTAMP" else kind)
                                     for name, kind in columns])

    def insert_rows(self, table: TableName, columns: Sequence[tuple[str, str]],
                    rows: Iterable[Sequence[Any]]) -> None:
        """Bulk path: one load job from newline-delimited JSON (free, unlike INSERT DML),
        sent as a resumable upload (the emulator refuses the multipart one)."""
        names = [name for name, _ in columns]
        with tempfile.TemporaryFile("w+b") as f:
            for row in rows:
                record = {n: _json_value(v) for n, v in zip(names, row)}
                f.write(json.dumps(record).encode() + b"\n")
            if not f.tell():
                return
            f.seek(0)
            config = bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
                write_disposition=bigquery.WriteDisposition.WRITE_APPEND, labels=dict(LABELS))
            self.client.load_table_from_file(f, self.table_id(table), job_config=config,
                                             timeout=self.timeout).result()

    # --- publishing ---------------------------------------------------------------
    def swap_statements(self, pairs: Sequence[tuple[TableName, TableName]]) -> list[exp.Expression]:
        """Per table: `CREATE OR REPLACE TABLE final AS SELECT * FROM staging`, then drop staging.

        BigQuery has no transactional DDL, so the set is not published atomically: each
        table is replaced atomically (readers see the old or the new table, never none
        and never a half-written one), one after the other. The copy bills the staging
        table's bytes once; `CREATE OR REPLACE TABLE … COPY …` would bill nothing, but the
        bqemulator stand-in cannot run it, and an untested publish is worse.
        """
        statements: list[exp.Expression] = []
        for staging, final in pairs:
            copy = exp.select(exp.Star()).from_(staging.to_table())
            statements.append(exp.Create(this=final.to_table(), kind="TABLE", replace=True,
                                         expression=copy))
            statements.append(drop_table(staging.to_table()))
        return statements

    def run_publish(self, statements: Sequence[str], execute) -> None:
        """Run them in order; there is no transaction to roll back."""
        for sql in statements:
            execute(sql)

    def run_transaction(self, statements: Sequence[str], execute, check=None) -> None:
        """One script (one query job): BigQuery keeps a multi-statement transaction only within a
        script, and rolls it back whole when a statement fails. `check` cannot run inside it; a
        concurrent transaction on the same tables makes BigQuery abort one of the two instead."""
        execute(";\n".join([self.render(exp.Transaction()), *statements, self.render(exp.Commit())]) + ";")


def _message(error: Exception) -> str:
    """A Google API error's own message: the job's first error (and the job id), else the
    response's message, without the HTTP verb and URL in front of it."""
    if not isinstance(error, api_exceptions.GoogleAPICallError):
        return str(error).strip()
    first = error.errors[0] if error.errors and isinstance(error.errors[0], dict) else {}
    text = str(first.get("message") or error.message).strip()
    job = _JOB_ID.search(str(error.message))
    return text + (f" (job {job.group(1)})" if job and job.group(1) not in text else "")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value
