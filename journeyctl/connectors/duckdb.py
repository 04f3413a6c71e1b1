"""DuckDB: the embedded default, a single local file."""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import duckdb

from journeyctl.connectors.base import Connector, Option, csv_line
from journeyctl.errors import ConnectionFailed
from journeyctl.names import SchemaName, TableName


CATALOG = "journeyctl_target"
SCRATCH = "journeyctl_scratch"
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in .*?\(PID (\d+)\)")


class DuckDBConnector(Connector):
    type = "duckdb"
    dialect_name = "duckdb"
    single_writer = True
    default_concurrency = 2  # benchmarks/RESULTS.md: independent stages side by side on 2 cores
    options = {
        "path": Option("database file, relative to journeyctl.toml (default journey.duckdb)"),
        "memory_limit": Option("DuckDB memory_limit, e.g. \"2GB\""),
        "threads": Option("worker threads", kinds=(int,)),
        "compress_strings": Option("compress text columns: files ~3x smaller, runs ~20% slower "
                                   "(default false)", kinds=(bool,)),
    }

    @property
    def path(self) -> Path:
        return self.target.base_dir / self.settings.get("path", "journey.duckdb")

    def describe(self) -> str:
        return f"duckdb target {self.target.name!r} ({self.path})"

    def open(self) -> None:
        config: dict[str, Any] = {}
        if "memory_limit" in self.settings:
            config["memory_limit"] = self.settings["memory_limit"]
        if "threads" in self.settings:
            config["threads"] = self.settings["threads"]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Attached under a fixed alias: a file named like the output schema
            # (journey.duckdb, schema journey) would otherwise make names ambiguous.
            self.connection = duckdb.connect(":memory:", config=config)
            self.connection.execute(f"ATTACH ? AS {CATALOG}", [str(self.path)])
            self.connection.execute(f"USE {CATALOG}")
            # The tables are multisets (the contract orders nothing by storage): letting DuckDB
            # write rows in any order saves buffering on every 10M-row write.
            self.connection.execute("SET GLOBAL preserve_insertion_order = false")
            # Only an incremental run deletes rows, a few % of each table; compacting the
            # tables around them (checkpoint vacuum) made its commit 4-6x slower. The space
            # comes back when --full-refresh rewrites the tables.
            self.connection.execute("SET GLOBAL max_vacuum_tasks = 0")
            if not self.settings.get("compress_strings", False):
                # dict_fsst is DuckDB's only string compression in this storage format; on
                # random ids it makes each 10M-row write ~2x slower (whole run: ~20%), for
                # files ~3x smaller. Speed is the default; compress_strings = true flips it.
                self.connection.execute("SET disabled_compression_methods = 'dict_fsst'")
        except (duckdb.Error, OSError) as e:
            holder = _LOCK_HOLDER.search(str(e))
            if holder:  # DuckDB's file lock: one writing process per database file
                raise ConnectionFailed(
                    f"DuckDB database {self.path} is in use by another process (PID {holder.group(1)}); "
                    "DuckDB lets one process write a database file at a time",
                    hint="wait for the other run (or program) to finish with the file, then run again")
            raise ConnectionFailed(f"cannot open DuckDB database {self.path}: {e}",
                                   hint="check the path and that no other process holds the file")

    def worker(self) -> DuckDBConnector:
        """A cursor of the same database: DuckDB runs statements of several cursors at once."""
        other = copy.copy(self)
        other.connection = self.connection.cursor()
        other.connection.execute(f"USE {CATALOG}")  # a cursor starts in the default catalog
        return other

    def scratch_schema(self, schema: SchemaName) -> SchemaName:
        """In an in-memory database beside the file (one per process, seen by every cursor): the
        working tables then never reach the WAL or the file. At 2M events an incremental run
        wrote 154 MB with 28 fsyncs before, 46 MB with 3 now."""
        self.connection.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCRATCH}")
        return SchemaName((SCRATCH, schema.parts[-1]))

    def interrupt(self) -> None:
        self.connection.interrupt()

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)

    def query(self, sql: str) -> list[tuple]:
        return self.connection.execute(sql).fetchall()

    def insert_rows(self, table: TableName, columns: Sequence[tuple[str, str]],
                    rows: Iterable[Sequence[Any]]) -> None:
        """Bulk path: a CSV file read by DuckDB, far faster than INSERTs."""
        with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", delete=False) as f:
            f.writelines(csv_line(row) for row in rows)
        try:
            self.connection.execute(
                f"INSERT INTO {self.render(table.to_table())} SELECT * FROM read_csv(?, header = false, "
                "nullstr = '', allow_quoted_nulls = false, delim = ',', quote = '\"', escape = '\"', "
                "auto_detect = false, columns = ?)",
                [f.name, {name: kind for name, kind in columns}])
        finally:
            Path(f.name).unlink()
