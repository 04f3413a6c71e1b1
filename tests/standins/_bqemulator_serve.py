"""Run bqemulator (with the bqemulator venv's python, not the test env) with one gap closed.

bqemulator 1.4.0 keeps its table catalog (tables.list, tables.get, INFORMATION_SCHEMA) in step
with CREATE and DROP statements, but not with ALTER TABLE: after `ALTER TABLE d.a RENAME TO b` it
still lists `a` and not `b`, and after `DROP COLUMN` it still shows the column, although the
data (DuckDB underneath) has changed. BigQuery updates its catalog with the statement; so here,
after a successful ALTER TABLE, the old entry goes and the table is registered again from DuckDB,
by the same code the emulator runs after CREATE TABLE. Arguments are bqemulator's own.

A second gap: BigQuery's `TIMESTAMP_TRUNC(ts, ISOWEEK)` (the Monday-start week) reached DuckDB
as `DATE_TRUNC('ISOWEEK', ts)`, which DuckDB rejects; DuckDB's 'WEEK' is that same ISO week, so
a translation rule renames the unit, as the emulator's own rules do for EXTRACT(ISOWEEK …).
"""

import sqlglot
from sqlglot import exp

from bqemulator.sql.rules import register
from bqemulator.sql.rules._base import TranslationRule


@register
class IsoWeekTruncRule(TranslationRule):
    """DATE_TRUNC('ISOWEEK', x) → DATE_TRUNC('WEEK', x): DuckDB's week is the ISO week."""

    name = "JOURNEYCTL_TRUNC_ISOWEEK"

    def applies_to(self, node: exp.Expression) -> bool:
        unit = node.args.get("unit") if isinstance(node, (exp.DateTrunc, exp.TimestampTrunc)) else None
        return unit is not None and (unit.name or str(unit.this or "")).upper() == "ISOWEEK"

    def rewrite(self, node: exp.Expression) -> exp.Expression:
        renamed = node.copy()
        renamed.set("unit", exp.Var(this="WEEK"))
        return renamed


# Imported after the rule is registered: they build their translators (with the rules) on import.
import bqemulator.jobs.executor as executor  # noqa: E402
import bqemulator.scripting.interpreter as interpreter  # noqa: E402
from bqemulator import cli  # noqa: E402
from bqemulator.catalog import ddl_sync  # noqa: E402

_sync_dropped_object = ddl_sync.sync_dropped_object


def _sync_dropped_or_altered(bq_sql: str, project_id: str, ctx) -> None:
    _sync_dropped_object(bq_sql, project_id, ctx)
    try:
        tree = sqlglot.parse_one(bq_sql, read="bigquery")
    except Exception:  # not SQL this shim is about
        return
    if not isinstance(tree, exp.Alter) or (tree.args.get("kind") or "").upper() != "TABLE":
        return
    table = tree.this
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.AlterRename):  # same dataset, new name
            _sync_dropped_object(f"DROP TABLE {table.sql('bigquery')}", project_id, ctx)
            table = table.copy()
            table.set("this", action.this.this.copy())
    ddl_sync.sync_created_table(f"CREATE TABLE {table.sql('bigquery')} (x INT64)", project_id, ctx)


executor.sync_dropped_object = _sync_dropped_or_altered
interpreter.sync_dropped_object = _sync_dropped_or_altered

if __name__ == "__main__":
    cli.main()
