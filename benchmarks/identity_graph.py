"""Identity graph mode on DuckDB: rounds and seconds of build_graph_aliases.

Three inputs: the benchmarks' 1M-row `uniform` events (identity-like: shared devices, users
on two devices), beside a full default-mode run over the same rows; 1M events over a random
graph of 400k anonymous and 200k user ids (half the events identified), dense enough for a
giant component, which the default guardrail (50 users) sends back to the default rule; and 10
shuffled chains of 100k ids each (anonymous id – user id – anonymous id – …, one event per link,
ids random so their numbering is unrelated to the chain), the worst shape for label propagation.

Example: python benchmarks/identity_graph.py [--size 1M] [--chains 10] [--chain-ids 100000]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import generate  # noqa: E402

from journeyctl.config import Target  # noqa: E402
from journeyctl.connectors import connect  # noqa: E402
from journeyctl.identity import build_graph_aliases  # noqa: E402
from journeyctl.names import SchemaName, TableName  # noqa: E402
from journeyctl.render import PipelineParams  # noqa: E402
from journeyctl.preflight import preflight  # noqa: E402
from journeyctl.runner import execute_run, plan_run  # noqa: E402

EVENTS, OUT = TableName.parse("journey.counted_events"), TableName.parse("journey.graph_aliases")

# Benchmark-only shortcuts in DuckDB SQL (the product computes these through its templates).
COUNTED_EVENTS_SQL = """
CREATE OR REPLACE TABLE journey.counted_events AS
SELECT id, anonymous_id, user_id, timestamp, event FROM tracks
WHERE id IS NOT NULL AND timestamp IS NOT NULL AND (anonymous_id IS NOT NULL OR user_id IS NOT NULL)
QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY received_at NULLS LAST, timestamp) = 1
"""
RANDOM_SQL = """
CREATE OR REPLACE TABLE journey.counted_events AS
SELECT md5('event-' || i) AS id,
       'anon-' || (hash(i, 1) % 400000) AS anonymous_id,
       CASE WHEN hash(i, 2) % 2 = 0 THEN 'user-' || (hash(i, 3) % 200000) END AS user_id,
       TIMESTAMP '2026-01-01' + to_microseconds(CAST(hash(i, 4) % 86400000000 AS BIGINT)) AS timestamp,
       'Page Viewed' AS event
FROM range($events) r(i)
"""
CHAINS_SQL = """
CREATE OR REPLACE TABLE journey.counted_events AS
WITH nodes AS (
  SELECT c, j, md5(c || '-' || j) AS id FROM range($chains) a(c), range($ids) b(j)
)
SELECT md5('event-' || l.c || '-' || l.j) AS id,
       CASE WHEN l.j % 2 = 0 THEN l.id ELSE r.id END AS anonymous_id,
       CASE WHEN l.j % 2 = 0 THEN r.id ELSE l.id END AS user_id,
       TIMESTAMP '2026-01-01' + to_microseconds(CAST(hash(l.c, l.j) % 86400000000 AS BIGINT)) AS timestamp,
       'Page Viewed' AS event
FROM nodes AS l JOIN nodes AS r ON r.c = l.c AND r.j = l.j + 1
"""


def timed(label: str, work):
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.2f} s", flush=True)
    return result, seconds


def graph(connector, label: str, **kw) -> None:
    rounds = [(time.perf_counter(), "start")]
    stats, seconds = timed(f"{label}: build_graph_aliases", lambda: build_graph_aliases(
        connector, EVENTS, OUT, report=lambda line: rounds.append((time.perf_counter(), line)), **kw))
    print(f"{label}: {stats.rounds} rounds, {seconds:.2f} s; {stats.components:,} components, largest "
          f"{stats.largest_component:,} ids, {stats.fallback_components:,} fell back "
          f"({stats.fallback_ids:,} ids), {stats.placeholder_ids:,} placeholder ids", flush=True)
    for (t0, _), (t1, line) in zip(rounds, rounds[1:]):
        print(f"  {line} — {t1 - t0:.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1M")
    parser.add_argument("--chains", type=int, default=10)
    parser.add_argument("--chain-ids", type=int, default=100_000)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    source, _ = generate.ensure(generate.parse_size(args.size), "uniform")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        shutil.copy(source, db)
        options = {"path": str(db), **({"threads": args.threads} if args.threads else {})}
        with connect(Target("bench", "duckdb", options, Path(tmp))) as c:
            params = preflight(c, PipelineParams(TableName.parse("tracks"), SchemaName.parse("journey")))
            timed(f"{args.size} events: full run, identity = latest_user",
                  lambda: execute_run(c, plan_run(c, params)))
            timed(f"{args.size} events: counted events table", lambda: c.execute(COUNTED_EVENTS_SQL))
            graph(c, f"{args.size} events")
            timed(f"{args.size} random-graph events: events table", lambda: c.connection.execute(
                RANDOM_SQL, {"events": generate.parse_size(args.size)}))
            graph(c, f"{args.size} random-graph events")
            timed(f"{args.chains} chains of {args.chain_ids:,} ids: events table", lambda: c.connection.execute(
                CHAINS_SQL, {"chains": args.chains, "ids": args.chain_ids}))
            graph(c, f"{args.chains} shuffled chains of {args.chain_ids:,} ids",
                  max_users_per_visitor=args.chain_ids)


if __name__ == "__main__":
    main()
