"""Run fakesnow's HTTP server on 127.0.0.1 (run with the fakesnow venv's python, not the test env).

Why not ``fakesnow -s``: we bind port 0 ourselves (no port race) and print ``PORT <n>`` once the
socket listens, and we fix one serialisation bug of fakesnow 0.12.1's server: NULL TIMESTAMP values
reach the real connector as 1970-01-01 (its Arrow struct has no validity mask), which would hide
exactly the NULLs that LAG() yields on a journey's first event.  Query semantics are untouched.
"""

import socket
import sys

import pyarrow as pa
import uvicorn

import fakesnow.arrow
import fakesnow.server

_to_struct = fakesnow.arrow.timestamp_to_sf_struct


def _to_struct_keeping_nulls(ts):
    struct = _to_struct(ts)
    ts = ts.combine_chunks() if isinstance(ts, pa.ChunkedArray) else ts
    if ts.null_count == 0:
        return struct
    return pa.StructArray.from_arrays(struct.flatten(), fields=list(struct.type), mask=ts.is_null())


fakesnow.arrow.timestamp_to_sf_struct = _to_struct_keeping_nulls

if __name__ == "__main__":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(fakesnow.server.app, log_level="warning")).run(sockets=[sock])
    sys.exit(0)
