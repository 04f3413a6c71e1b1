"""A ClickHouse server stand-in: the part of ClickHouse's HTTP interface clickhouse-connect uses,
answered by chdb (the real ClickHouse engine, in this process).

Usage: python _chdb_http_serve.py DATA_DIR [PASSWORD]. Prints `PORT n` once listening.

What it speaks: GET /ping; GET or POST / with the SQL in `query` and/or the body, settings as
URL parameters (applied with SET before the statement; the engine is one shared session),
`database`, `default_format`; basic authentication (user `default`, the given password, or any
password when none is given); errors as HTTP 500 with ClickHouse's message and
X-ClickHouse-Exception-Code. No compression (the client's Accept-Encoding is ignored, as a
server with enable_http_compression = 0 does), no sessions, no query cancellation.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from chdb import session

NOT_SETTINGS = {"query", "database", "default_format", "query_id", "session_id", "session_timeout",
                "session_check", "compress", "decompress", "user", "password", "quota_key",
                "wait_end_of_query", "buffer_size", "client_protocol_version"}
_CODE = re.compile(r"Code: (\d+)")
_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Handler(BaseHTTPRequestHandler):
    engine: session.Session
    lock = threading.Lock()
    password: str | None = None
    zone = "UTC"

    def log_message(self, fmt, *args) -> None:  # keep the log for failures only
        pass

    def do_GET(self) -> None:
        if urlparse(self.path).path in ("/ping", "/"):
            if urlparse(self.path).path == "/ping" or not urlparse(self.path).query:
                return self.reply(200, b"Ok.\n")
        self.run_query()

    def do_POST(self) -> None:
        self.run_query()

    def reply(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorised(self, params: dict) -> bool:
        if self.password is None:
            return True
        password = params.get("password", "")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            password = base64.b64decode(auth[6:]).decode().partition(":")[2]
        return password == self.password

    def run_query(self) -> None:
        params = {k: v[-1] for k, v in parse_qs(urlparse(self.path).query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        sql = "\n".join(p for p in (params.get("query", ""), body) if p.strip())
        query_id = params.get("query_id") or str(uuid.uuid4())
        if not self.authorised(params):
            return self.error("Code: 516. DB::Exception: default: Authentication failed: password is "
                              "incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)")
        settings = {k: v for k, v in params.items() if k not in NOT_SETTINGS and _SETTING_NAME.match(k)}
        with self.lock:
            try:
                self.engine.query(f"USE {params.get('database') or 'default'}")
                for name, value in settings.items():
                    try:
                        self.engine.query(f"SET {name} = {_literal(value)}")
                    except Exception:
                        pass  # a setting this engine lacks: the statement runs without it
                fmt = params.get("default_format", "TabSeparated")
                result = self.engine.query(sql, fmt)
            except Exception as e:
                return self.error(str(e))
        out_format = re.search(r"\bFORMAT\s+(\w+)\s*;?\s*$", sql, re.IGNORECASE)
        self.reply(200, result.bytes(), {
            "Content-Type": "text/plain; charset=UTF-8",
            "X-ClickHouse-Format": out_format.group(1) if out_format else params.get("default_format", "TabSeparated"),
            "X-ClickHouse-Timezone": self.zone,
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Server-Display-Name": "chdb-http-standin",
            "X-ClickHouse-Summary": json.dumps({"read_rows": "0", "read_bytes": "0", "written_rows": "0",
                                                "written_bytes": "0", "total_rows_to_read": "0",
                                                "result_rows": "0", "result_bytes": "0"}),
        })

    def error(self, message: str) -> None:
        code = _CODE.search(message)
        self.reply(500, (message.rstrip() + "\n").encode(), {
            "Content-Type": "text/plain; charset=UTF-8",
            "X-ClickHouse-Exception-Code": code.group(1) if code else "1000",
        })


def _literal(value: str) -> str:
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def main() -> None:
    Handler.engine = session.Session(sys.argv[1])
    Handler.password = sys.argv[2] if len(sys.argv) > 2 else None
    Handler.zone = Handler.engine.query("SELECT timezone()", "TabSeparated").bytes().decode().strip()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
