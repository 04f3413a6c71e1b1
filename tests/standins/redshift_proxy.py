"""A tiny PostgreSQL wire-protocol proxy that lets stock ``redshift_connector`` talk to PostgreSQL.

Why a proxy and not a patched client: the product must be exercised through the *real* driver, so
every adjustment lives here, on the test side, and is listed in ``SHIMS`` below.

What it does, and nothing more:
  * answers SSLRequest/GSSENCRequest with 'N' (the stand-in speaks plain TCP on loopback);
  * drops the Redshift-only startup parameters PostgreSQL rejects (``DROPPED_STARTUP_PARAMS``);
  * reports ``server_version`` as Redshift does (``8.0.2``): redshift_connector cannot parse
    ``15.18 (Debian ...)``;
  * rewrites Redshift-only SQL in Query ('Q') and Parse ('P') messages, outside string literals,
    quoted identifiers and comments, with the ``SHIMS`` table, recomputing message lengths.

Stdlib only, so it runs with any interpreter:
    python redshift_proxy.py --upstream-port 5433 [--upstream-host 127.0.0.1] [--port 0]
It binds 127.0.0.1, prints ``PORT <n>`` on stdout once listening, and serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import struct

# ---------------------------------------------------------------------------------------------
# Redshift-only SQL shims: (Redshift pattern, PostgreSQL replacement, why).  Keep this minimal:
# a shim exists only where sqlglot's *redshift* rendering emits genuine Redshift SQL that
# PostgreSQL lacks.  Never add a shim for SQL that real Redshift rejects (e.g. CREATE OR REPLACE
# TABLE, TIMESTAMPDIFF(b, a, MICROSECOND)): the stand-in must keep failing on those.
# ---------------------------------------------------------------------------------------------
SHIMS: list[tuple[str, str, str]] = [
    (
        r"\bDATEDIFF\s*\(\s*([A-Za-z_]+)\s*,",
        r"standin.datediff('\1',",
        "Redshift's unit-first DATEDIFF(unit, start, end) counts unit boundaries crossed; "
        "PostgreSQL has none. standin.datediff (SETUP_SQL) implements microsecond, millisecond, "
        "second, minute, hour, day, month, year and raises on any other unit.",
    ),
    (
        r"\bVARCHAR\s*\(\s*MAX\s*\)",
        "VARCHAR",
        "sqlglot renders STRING/TEXT as VARCHAR(MAX) for Redshift; PostgreSQL has no MAX length "
        "(unbounded VARCHAR is the closest).",
    ),
    (
        r"\bGETDATE\s*\(\s*\)",
        "date_trunc('second', statement_timestamp())::timestamp",
        "sqlglot renders CURRENT_TIMESTAMP() as GETDATE() for Redshift: statement start time, "
        "TIMESTAMP without zone, whole seconds (the session runs in UTC).",
    ),
]

# SQL run once in the stand-in database so the shims above have something to call.
SETUP_SQL = r"""
CREATE SCHEMA IF NOT EXISTS standin;
CREATE OR REPLACE FUNCTION standin.datediff(unit text, a timestamp, b timestamp) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  u text := regexp_replace(lower(unit), 's$', '');
  secs numeric := CASE u WHEN 'microsecond' THEN 0.000001 WHEN 'millisecond' THEN 0.001
    WHEN 'second' THEN 1 WHEN 'minute' THEN 60 WHEN 'hour' THEN 3600 WHEN 'day' THEN 86400 END;
BEGIN
  IF u = 'year' THEN RETURN extract(year FROM b) - extract(year FROM a); END IF;
  IF u = 'month' THEN
    RETURN (extract(year FROM b) - extract(year FROM a)) * 12 + extract(month FROM b) - extract(month FROM a);
  END IF;
  IF secs IS NULL THEN RAISE EXCEPTION 'stand-in DATEDIFF shim: unit % is not shimmed', unit; END IF;
  RETURN (extract(epoch FROM date_trunc(u, b)) - extract(epoch FROM date_trunc(u, a))) / secs;
END $$;
CREATE OR REPLACE FUNCTION standin.datediff(unit text, a timestamptz, b timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT standin.datediff(unit, a AT TIME ZONE 'UTC', b AT TIME ZONE 'UTC') $$;
"""

DROPPED_STARTUP_PARAMS = {b"client_protocol_version", b"driver_version", b"os_version", b"driver_discovery_version"}
SERVER_VERSION = b"8.0.2"  # what Redshift itself reports

_COMPILED = [(re.compile(p, re.IGNORECASE), r) for p, r, _ in SHIMS]
# String literals, quoted identifiers, comments and $$-bodies are copied untouched. A literal may
# hold backslash escapes (\' too), as in Redshift and the stand-in (standard_conforming_strings off).
_OPAQUE = re.compile(r"""('(?:[^'\\]|\\.|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|\$\$.*?\$\$)""", re.DOTALL)


def rewrite_sql(sql: str) -> str:
    """Apply SHIMS to the code parts of ``sql`` (never inside literals, identifiers or comments)."""
    parts = _OPAQUE.split(sql)
    for i in range(0, len(parts), 2):  # even indexes are code, odd ones the opaque matches
        for pattern, repl in _COMPILED:
            parts[i] = pattern.sub(repl, parts[i])
    return "".join(parts)


def _rewrite_message(kind: bytes, body: bytes) -> bytes:
    if kind == b"Q":  # Query: sql\0
        return rewrite_sql(body[:-1].decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape") + b"\0"
    if kind == b"P":  # Parse: name\0 sql\0 int16 n, n*int32 oids
        name_end = body.index(b"\0")
        sql_end = body.index(b"\0", name_end + 1)
        sql = body[name_end + 1 : sql_end].decode("utf-8", "surrogateescape")
        return body[: name_end + 1] + rewrite_sql(sql).encode("utf-8", "surrogateescape") + body[sql_end:]
    return body


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    kind = await reader.readexactly(1)
    (length,) = struct.unpack("!I", await reader.readexactly(4))
    return kind, await reader.readexactly(length - 4)


def _frame(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


async def _client_to_server(c_r, c_w, s_w) -> None:
    while True:  # startup phase: untyped messages
        (length,) = struct.unpack("!I", await c_r.readexactly(4))
        body = await c_r.readexactly(length - 4)
        (code,) = struct.unpack("!I", body[:4])
        if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: refuse, client goes plain
            c_w.write(b"N")
            await c_w.drain()
            continue
        if code == 196608:  # protocol 3.0 StartupMessage: key\0value\0 ... \0
            fields = body[4:].split(b"\0")
            pairs = [(k, v) for k, v in zip(fields[0:-2:2], fields[1:-2:2]) if k not in DROPPED_STARTUP_PARAMS]
            body = body[:4] + b"".join(k + b"\0" + v + b"\0" for k, v in pairs) + b"\0"
        s_w.write(struct.pack("!I", len(body) + 4) + body)
        await s_w.drain()
        if code == 196608:
            break
        if code == 80877102:  # CancelRequest: one message, then the connection closes
            return
    while True:
        kind, body = await _read_message(c_r)
        s_w.write(_frame(kind, _rewrite_message(kind, body)))
        await s_w.drain()


async def _server_to_client(s_r, c_w) -> None:
    while True:
        kind, body = await _read_message(s_r)
        if kind == b"S" and body.startswith(b"server_version\0"):
            body = b"server_version\0" + SERVER_VERSION + b"\0"
        c_w.write(_frame(kind, body))
        await c_w.drain()


async def _handle(c_r, c_w, upstream: tuple[str, int]) -> None:
    try:
        s_r, s_w = await asyncio.open_connection(*upstream)
    except OSError:
        c_w.close()
        return
    tasks = [asyncio.create_task(_client_to_server(c_r, c_w, s_w)), asyncio.create_task(_server_to_client(s_r, c_w))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        for w in (c_w, s_w):
            w.close()


async def serve(upstream_host: str, upstream_port: int, port: int = 0) -> None:
    server = await asyncio.start_server(
        lambda r, w: _handle(r, w, (upstream_host, upstream_port)), host="127.0.0.1", port=port
    )
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upstream-host", default="127.0.0.1")
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--port", type=int, default=0, help="listen port on 127.0.0.1 (0 = any free port)")
    args = ap.parse_args()
    asyncio.run(serve(args.upstream_host, args.upstream_port, args.port))


if __name__ == "__main__":
    main()
