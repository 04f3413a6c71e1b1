"""Run fakesnow's HTTP server on 127.0.0.1 (run with the fakesnow venv's python, not the test env).

Why not ``fakesnow -s``: we bind port 0 ourselves (no port race) and print ``PORT <n>`` once the
socket listens.  And two gaps of fakesnow 0.12.1 are closed here, each emulating Snowflake, never
relaxing it:
  1. NULL TIMESTAMPs reached the real connector as 1970-01-01 (the Arrow struct had no validity
     mask), which would hide exactly the NULL that LAG() yields on a journey's first event.
  2. ``ALTER TABLE a SWAP WITH b`` did not parse; it now runs as three renames through a temporary
     name, all or nothing; like any Snowflake DDL it first commits an open transaction.  Both
     tables must share a schema (DuckDB cannot rename across schemas).
"""

import socket
import sys

import pyarrow as pa
import uvicorn
from sqlglot import exp

import fakesnow.arrow
import fakesnow.server
import fakesnow.transforms as transforms
from fakesnow.cursor import FakeSnowflakeCursor
from fakesnow.dialect import parse_one

_to_struct = fakesnow.arrow.timestamp_to_sf_struct


def _to_struct_keeping_nulls(ts):
    struct = _to_struct(ts)
    ts = ts.combine_chunks() if isinstance(ts, pa.ChunkedArray) else ts
    if ts.null_count == 0:
        return struct
    return pa.StructArray.from_arrays(struct.flatten(), fields=list(struct.type), mask=ts.is_null())


_explode = FakeSnowflakeCursor._transform_explode


def _explode_swap(self, expression):
    actions = expression.args.get("actions") if isinstance(expression, exp.Alter) else None
    if not (actions and isinstance(actions[0], exp.SwapTable)):
        return _explode(self, expression)
    a, b = expression.this, actions[0].this
    tmp = a.copy()
    tmp.set("this", exp.to_identifier(f"{a.name}__fakesnow_swap", quoted=True))
    # Like any Snowflake DDL: commit the caller's open transaction, then swap all or nothing.
    self._duck_conn.commit()
    self._conn._in_transaction = False
    self._duck_conn.begin()
    autocommit, self._conn._autocommit = self._conn._autocommit, True  # else each rename commits
    try:
        for src, dst in [(a, tmp), (b, a), (tmp, b)]:
            rename = parse_one(f"ALTER TABLE {src.sql('snowflake')} RENAME TO {dst.sql('snowflake')}")
            self._execute(self._transform(rename, None))
    except BaseException:
        self._duck_conn.rollback()
        raise
    finally:
        self._conn._autocommit = autocommit
    self._duck_conn.commit()
    return [transforms.SUCCESS_NOP.copy()]


fakesnow.arrow.timestamp_to_sf_struct = _to_struct_keeping_nulls
FakeSnowflakeCursor._transform_explode = _explode_swap

if __name__ == "__main__":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(fakesnow.server.app, log_level="warning")).run(sockets=[sock])
    sys.exit(0)
