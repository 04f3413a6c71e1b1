"""Safe runs on every engine: fault injection on the stand-ins (and DuckDB where
tests/test_safe_runs.py does not already cover it).

Each case publishes a good build first (idle timeout 45), breaks a run in one way, and
checks the published tables by row count and an order-independent checksum
(`tests.helpers.fingerprint`), the staging tables left in the output schema, and that
the next run works. A rerun at the default timeout (30) changes dbt_session_tracks,
dbt_track_facts and dbt_tracks_flow on the edge events (the other two do not depend on
the timeout), so "unchanged" and "replaced" can be told apart.

Runs killed or held mid-way are real `python -m journeyctl` processes, held at a stage
boundary deterministically (see `Held`), never by timing.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlglot import exp

from journeyctl.cli import Redactor
from journeyctl.errors import ExecutionError
from journeyctl.names import TableName
from journeyctl.preflight import preflight
from journeyctl.runner import execute_run, plan_run
from tests.helpers import PUBLISHED, fingerprint, schema_tables, staging_tables
from tests.standins import free_port
from tests.warehouses import Warehouse, _toml, encrypted_key, journeyctl, make_warehouse

FAILING_SQL = "SELECT CAST('injected failure' AS INTEGER)"
"""Fails on every engine (a conversion error), as a step's statement or among the publish statements."""
CHANGED_BY_TIMEOUT = {"dbt_session_tracks", "dbt_track_facts", "dbt_tracks_flow"}


def publish(w: Warehouse) -> dict:
    """Load the edge events and publish a good build at idle timeout 45; its fingerprint."""
    w.load()
    result = journeyctl(w.config(), "run", "--target", w.engine, "--idle-timeout", "45")
    assert result.exit_code == 0, result.stderr
    with w.connector() as c:
        return fingerprint(c, w.params())


def command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "journeyctl", "--config", str(config), *args]


class Held:
    """`python -m journeyctl ARGS…` in a subprocess, held at a stage boundary for as long as the test likes.

    The child's stderr is a pipe. Once a line containing `at` appears, the test fills the
    pipe up (through a non-blocking second opening of it; the child's end stays blocking),
    so the child blocks writing its next progress line. The runner writes progress only
    between stages and just before publishing ("publishing …"), so the child is held
    between two stages, never inside one or inside the publish: no race with timing. (With
    stages running concurrently, a stage may be mid-way on another connection when the child is
    held or killed: a kill there is one more point the safety tests cover.)
    `kill()` SIGKILLs it there; `resume()` lets it go on.
    """

    def __init__(self, config: Path, *args: str, at: str, timeout: float = 60):
        read, write = os.pipe()
        self.proc = subprocess.Popen(command(config, *args), stdout=subprocess.DEVNULL, stderr=write,
                                     cwd=config.parent)
        self._fill = os.open(f"/proc/self/fd/{write}", os.O_WRONLY | os.O_NONBLOCK)
        os.close(write)
        self._read, self._raw, self.timeout = read, b"", timeout
        self._read_until(at.encode())
        self._fill_pipe()
        self._wait_until_blocked()

    @property
    def output(self) -> str:
        """Everything the child wrote to stderr so far (without the test's filler)."""
        return self._raw.replace(b"\0", b"").decode()

    def _read_until(self, marker: bytes) -> None:
        deadline = time.monotonic() + self.timeout
        while marker not in self._raw:
            ready, _, _ = select.select([self._read], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self._read, 65536) if ready else None
            if not chunk:
                self.proc.kill()
                raise AssertionError(f"journeyctl never wrote {marker!r} (exit {self.proc.wait()}):\n"
                                     f"{self.output}")
            self._raw += chunk

    def _fill_pipe(self) -> None:
        for size in (4096, 1):  # whole pages, then byte by byte up to the last one
            try:
                while True:
                    os.write(self._fill, b"\0" * size)
            except BlockingIOError:
                pass

    def _wait_until_blocked(self) -> None:
        """Until the child's main thread sleeps writing to its full stderr pipe."""
        deadline = time.monotonic() + self.timeout
        while not _blocked_writing_stderr(self.proc.pid):
            assert self.proc.poll() is None, f"journeyctl exited ({self.proc.returncode}):\n{self.output}"
            assert time.monotonic() < deadline, f"journeyctl never blocked on stderr:\n{self.output}"
            time.sleep(0.01)

    def _finish(self) -> int:
        os.close(self._fill)
        while chunk := os.read(self._read, 65536):  # EOF once the child is gone
            self._raw += chunk
        os.close(self._read)
        return self.proc.wait(self.timeout)

    def kill(self) -> int:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(self.timeout)
        return self._finish()

    def resume(self) -> int:
        return self._finish()


def _blocked_writing_stderr(pid: int) -> bool:
    """Whether a thread of `pid` (stages run on worker threads too) sleeps writing to stderr."""
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            if "pipe_write" in (task / "wchan").read_text():
                return True
            fields = (task / "syscall").read_text().split()
        except OSError:
            continue
        # write(2, …): syscall 1 on x86-64, 64 on arm64
        if len(fields) > 1 and fields[0] in ("1", "64") and fields[1] == "0x2":
            return True
    return False


# --- 1. a stage fails ---------------------------------------------------------------------

def test_stage_failure_leaves_the_published_tables(warehouse, layout):
    """dbt_session_tracks' statement replaced by one that fails: ExecutionError naming the stage,
    published tables unchanged, this run's staging tables dropped; the rerun replaces them."""
    before = publish(warehouse.in_layout(layout))
    p = warehouse.params()
    with warehouse.connector() as c:
        run = plan_run(c, preflight(c, p))
        step = next(s for s in run.plan.steps if s.stage == "dbt_session_tracks")
        step.statements[0] = FAILING_SQL
        with pytest.raises(ExecutionError, match=r"(?s)^stage dbt_session_tracks failed on "
                                                 rf"{warehouse.engine} target .*injected failure"):
            execute_run(c, run)
        assert fingerprint(c, p) == before
        assert staging_tables(c, p.schema) == []
        execute_run(c, plan_run(c, preflight(c, p)))  # the rerun works, and replaces them
        after = fingerprint(c, p)
        assert schema_tables(c, p.schema) == warehouse.relations
    assert {t for t in PUBLISHED if after[t] != before[t]} == CHANGED_BY_TIMEOUT


# --- 2. the process is killed between stages ---------------------------------------------

def test_killed_between_stages_leaves_the_published_tables(every_engine, layout):
    """SIGKILL right after journey_events (or a later stage, never the publish): published tables
    unchanged, the run's staging tables left; the next run publishes a complete set and drops
    the leftovers (DuckDB, single writer) or names them in a note (warehouses: they could
    belong to a live run)."""
    w = every_engine.in_layout(layout)
    before = publish(w)
    config, p = w.config(), w.params()
    held = Held(config, "run", "--target", w.engine, at="] journey_events ")  # stage 3 started
    assert held.kill() == -signal.SIGKILL
    assert "publishing" not in held.output, held.output  # held before the publish, by construction
    with w.connector() as c:
        assert fingerprint(c, p) == before
        orphans = staging_tables(c, p.schema)
        assert any("journey_events" in t.lower() for t in orphans), orphans  # the killed run's, left

    result = journeyctl(config, "run", "--target", w.engine)
    assert result.exit_code == 0, result.stderr
    with w.connector() as c:
        after, left = fingerprint(c, p), staging_tables(c, p.schema)
        assert schema_tables(c, p.schema) - {t.lower() for t in left} == w.relations
    if w.engine == "duckdb":  # single writer: no other run can be live, the leftovers go
        assert f"dropping {len(orphans)} staging table(s) left by an interrupted run" in result.stderr
        assert left == []
    else:  # another run may be live: told, not dropped
        note = f"note: {len(orphans)} staging table(s) from other or interrupted runs exist in"
        assert note in result.stderr
        assert left == orphans
    assert {t for t in PUBLISHED if after[t] != before[t]} == CHANGED_BY_TIMEOUT


# --- 3. a statement of the publish fails --------------------------------------------------

def test_failure_inside_publish(warehouse, layout):
    """After three of the five tables (dbt_session_tracks the third) are replaced, a statement fails.

    Redshift, PostgreSQL: one transaction, rolled back: all five are the old ones.
    Snowflake, BigQuery, Spark and ClickHouse (DDL commits per statement, no transaction around the
    set): each table is atomically old or new; here the first three are new and the last two old
    (layout views: all five new, the views reading the new event table by name), and no staging
    table is left; the rerun publishes a complete new set.
    """
    before = publish(warehouse.in_layout(layout))
    p = warehouse.params()
    with warehouse.connector() as c:
        run = plan_run(c, preflight(c, p))
        staging = next(s.table.name.lower() for s in run.plan.steps if s.stage == "dbt_session_tracks")
        at = max(i for i, sql in enumerate(run.publish) if staging in sql.lower()) + 1
        run.publish.insert(at, FAILING_SQL)
        with pytest.raises(ExecutionError, match=r"(?s)^stage publish failed on .*injected failure"):
            execute_run(c, run)
        during = fingerprint(c, p)
        assert staging_tables(c, p.schema) == []
        execute_run(c, plan_run(c, preflight(c, p)))
        after = fingerprint(c, p)
        assert schema_tables(c, p.schema) == warehouse.relations
    assert {t for t in PUBLISHED if after[t] != before[t]} == CHANGED_BY_TIMEOUT
    if warehouse.engine in ("redshift", "postgres"):  # one transaction
        assert during == before
    elif layout == "views":
        assert during == after
    else:
        first_three = PUBLISHED[:PUBLISHED.index("dbt_session_tracks") + 1]
        assert during == {t: after[t] if t in first_three else before[t] for t in PUBLISHED}


# --- 4. the target refuses the connection -------------------------------------------------

def test_connection_refused_is_exit_3_in_one_line(warehouse):
    """A real process against a closed port: exit 3, stderr is the progress line, one error line
    and its hint, nothing on stdout, no traceback."""
    closed = free_port()  # nothing listens there
    where = {"bigquery": {"api_endpoint": f"http://127.0.0.1:{closed}"},
             "spark": {"remote": f"sc://127.0.0.1:{closed}"}}.get(warehouse.engine, {"port": closed})
    proc = subprocess.run(command(warehouse.config(timeout=1, **where), "run"), capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""
    connecting, error, hint = proc.stderr.splitlines()  # exactly these three lines
    assert connecting.startswith(f"connecting to {warehouse.engine} target")
    assert error.startswith(f"error: cannot connect to {warehouse.engine} target '{warehouse.engine}' (")
    assert f"127.0.0.1:{closed}" in error or warehouse.engine == "snowflake"  # Snowflake names no address
    assert hint.startswith("  hint: check ")
    assert "Traceback" not in proc.stderr


# --- 5. secrets never appear in any output ------------------------------------------------

@pytest.fixture(params=["redshift", "postgres"])
def secret_targets(request, snowflake, tmp_path):
    """journeyctl.toml with Redshift (or PostgreSQL: the `rs` targets) and Snowflake targets carrying
    distinctive secrets.

    Redshift logs in as a role of its own whose password comes from ${JC_TEST_RS_PASSWORD};
    Snowflake has a password and an encrypted private key with a passphrase. The same
    secrets also sit in targets on a closed port and in targets with config errors. A view
    `bad_tracks` fails the first stage with an error quoting the target's own secrets, as
    the warehouse's message (and the failing SQL) would if a secret ever reached a query.
    """
    redshift = request.getfixturevalue(request.param)
    tag = redshift.schema.removeprefix("out_")
    secrets = {"rs_env": f"RsEnv-{tag}-pw", "rs_literal": f"RsLit-{tag}-pw",
               "sf_password": f"SfPw-{tag}-pw", "sf_passphrase": f"SfPass-{tag}-pp",
               "rs_wrong_type": str(10**11 + int(tag, 16))}
    role = f"jc_{tag}"
    with redshift.connector() as c:
        c.execute(f"CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{secrets['rs_env']}'")
    encrypted_key(tmp_path / "rsa.p8", secrets["sf_passphrase"].encode())
    rs = redshift.options | {"user": role, "password": "${JC_TEST_RS_PASSWORD}"}
    sf = snowflake.options | {"password": secrets["sf_password"], "private_key_path": "rsa.p8",
                              "private_key_passphrase": secrets["sf_passphrase"]}
    closed = free_port()
    targets = {
        "rs": rs, "sf": sf,
        "rs_closed": redshift.options | {"port": closed, "password": secrets["rs_literal"], "timeout": 1},
        # no key here: the connector retries a key-pair login past `timeout` (~5 s; a password login ~1 s)
        "sf_closed": snowflake.options | {"port": closed, "password": secrets["sf_password"],
                                          "private_key_passphrase": secrets["sf_passphrase"], "timeout": 1},
        "rs_typo": rs | {"passwrd": secrets["rs_literal"]},
        "rs_bad_type": rs | {"password": int(secrets["rs_wrong_type"])},
        "rs_unset": rs | {"password": "${JC_TEST_UNSET_SECRET}"},
    }
    types = {name: redshift.engine if name.startswith("rs") else "snowflake" for name in targets}
    lines = ['default_target = "sf"', "[pipeline]", f"source = {_toml(redshift.source)}",
             f"schema = {_toml(redshift.schema)}"]
    for name, options in targets.items():
        lines += [f"[targets.{name}]", f"type = {_toml(types[name])}",
                  *(f"{k} = {_toml(v)}" for k, v in options.items())]
    config = tmp_path / "journeyctl.toml"
    config.write_text("\n".join(lines) + "\n")

    source, bad = redshift.source, redshift.source.replace("tracks", "bad_tracks")
    redshift.load()
    snowflake.load(table=source)
    own_secrets = ((redshift, [secrets["rs_env"]]),
                   (snowflake, [secrets["sf_password"], secrets["sf_passphrase"]]))
    for w, own in own_secrets:
        event = exp.func("concat", exp.Literal.string(" ".join(own) + " "), exp.column("id"))
        view = (exp.select("id", "anonymous_id", "user_id", "timestamp",
                           exp.cast(exp.cast(event, "INT"), "VARCHAR").as_("event"))
                .from_(TableName.parse(source).to_table()))
        with w.connector() as c:
            c.execute(c.render(exp.Create(this=TableName.parse(bad).to_table(), kind="VIEW",
                                          expression=view)))
            # the output schema exists before the commands below run at once (no CREATE SCHEMA race)
            c.execute(c.render(exp.Create(this=exp.Table(this=exp.to_identifier(w.schema)), kind="SCHEMA",
                                          exists=True)))
    return config, secrets, bad


def test_no_secret_in_any_output(secret_targets, monkeypatch):
    """Failing and ordinary commands: every byte of stdout and stderr, free of the secrets.

    Commands that connect, fail on the warehouse or print a traceback run as real processes
    (all their output: the libraries' too); the rest in-process, with the redactor's memory
    of earlier commands wiped before each.
    """
    config, secrets, bad = secret_targets
    monkeypatch.setenv("JC_TEST_RS_PASSWORD", secrets["rs_env"])
    monkeypatch.delenv("JC_TEST_UNSET_SECRET", raising=False)
    processes = {  # name: (arguments, exit code): each run as a real process
        "run, closed port (rs)": (["--verbose", "run", "--target", "rs_closed"], 3),
        "run, closed port (sf)": (["--verbose", "run", "--target", "sf_closed"], 3),
        "debug, closed port (rs)": (["debug", "--target", "rs_closed"], 3),
        "debug (rs)": (["debug", "--target", "rs"], 0),
        "debug (sf)": (["debug", "--target", "sf"], 0),
        "run --verbose, failing stage (rs)": (["--verbose", "run", "--target", "rs", "--source", bad], 4),
        "run --verbose, failing stage (sf)": (["--verbose", "run", "--target", "sf", "--source", bad], 4),
        "--debug run, failing stage (rs)": (["--debug", "run", "--target", "rs", "--source", bad], 1),
    }
    cli_runner = {  # … and these in-process
        "run --dry-run (rs)": (["run", "--dry-run", "--target", "rs"], 0),
        "run --dry-run (sf)": (["run", "--dry-run", "--target", "sf"], 0),
        "render": (["render"], 0),
        "test before any build (rs)": (["test", "--target", "rs"], 2),
        "config: unknown key": (["run", "--target", "rs_typo"], 2),
        "config: secret of the wrong type": (["debug", "--target", "rs_bad_type"], 2),
        "config: unset ${VAR}": (["run", "--target", "rs_unset"], 2),
        "config: unknown target": (["--verbose", "run", "--target", "nope"], 2),
    }

    def run_process(args):
        proc = subprocess.run(command(config, *args), capture_output=True, text=True, timeout=120,
                              check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def run_in_process(args):
        monkeypatch.setattr(Redactor, "secrets", set())
        result = journeyctl(config, *args)
        return result.exit_code, result.stdout + result.stderr

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip(processes, pool.map(run_process, [a for a, _ in processes.values()])))
    results |= {name: run_in_process(args) for name, (args, _) in cli_runner.items()}
    for name, (_, code) in (processes | cli_runner).items():
        exit_code, output = results[name]
        assert exit_code == code, f"{name}: exit {exit_code}\n{output}"
        for secret in secrets.values():
            assert secret not in output, f"{name}: shows a secret\n{output}"
    for name in ("run --verbose, failing stage (rs)", "run --verbose, failing stage (sf)",
                 "--debug run, failing stage (rs)"):  # the secret was there to leak, and was masked
        assert "***" in results[name][1], f"{name}:\n{results[name][1]}"
    assert "failing SQL:" in results["run --verbose, failing stage (rs)"][1]
    assert "Traceback" in results["--debug run, failing stage (rs)"][1]


# --- 6. two runs at once ------------------------------------------------------------------

def _waiting_on_locks(c) -> int:
    """Sessions of this PostgreSQL (or the Redshift stand-in's) waiting for a lock (`c` outside any
    transaction: inside one, pg_stat_activity keeps its first snapshot)."""
    return int(c.query("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")[0][0])


def _two_runs_held_in_publish(w: Warehouse, hold_sql: list[str], release_sql: str):
    """Start two `journeyctl run`s; `hold_sql` (run first, in a transaction of the test's) makes both
    wait inside their publish; once both wait, `release_sql` lets them race."""
    config = w.config()
    with w.connector() as holder, w.connector() as watcher:
        for sql in hold_sql:
            holder.execute(sql)
        runs = [subprocess.Popen(command(config, "run", "--target", w.engine), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        deadline = time.monotonic() + 60
        while _waiting_on_locks(watcher) < 2:
            if any(r.poll() is not None for r in runs) or time.monotonic() > deadline:
                for r in runs:
                    r.kill()
                pytest.fail(f"the runs did not both wait in their publish: {[r.communicate() for r in runs]}")
            time.sleep(0.02)
        holder.execute(release_sql)
    return [(r.wait(60), r.communicate()[1]) for r in runs]


def _after_concurrent_runs(w: Warehouse) -> None:
    """Published: a complete set, as a clean run (same parameters) builds it; nothing staged."""
    p = w.params()
    with w.connector() as c:
        assert schema_tables(c, p.schema) == w.relations
        assert staging_tables(c, p.schema) == []
        concurrent = fingerprint(c, p)
    result = journeyctl(w.config(), "run", "--target", w.engine)  # a rerun works
    assert result.exit_code == 0, result.stderr
    with w.connector() as c:
        assert fingerprint(c, p) == concurrent


@pytest.mark.parametrize("engine", ["redshift", "postgres"])
def test_concurrent_publishes_serialise(engine, request, layout):
    """Both runs reach the publish while the tables exist: the second waits for the first to
    commit, then replaces its set; both succeed and the last to commit wins, complete."""
    w = request.getfixturevalue(engine).in_layout(layout)
    before = publish(w)
    table = f"{w.schema}.dbt_aliases_mapping"
    results = _two_runs_held_in_publish(w, ["BEGIN", f"SELECT COUNT(*) FROM {table}"], "COMMIT")
    assert [code for code, _ in results] == [0, 0], results
    _after_concurrent_runs(w)
    with w.connector() as c:
        assert fingerprint(c, w.params()) != before


@pytest.mark.parametrize("engine", ["redshift", "postgres"])
def test_concurrent_first_publishes(engine, request, layout):
    """Both runs publish into a schema with no journey tables yet: nothing to lock, so they
    collide on the new names. The loser's publish rolls back and it exits 4 saying why; the
    winner's set is complete; a rerun works."""
    w = request.getfixturevalue(engine).in_layout(layout)
    w.load()
    table = f"{w.schema}.dbt_aliases_mapping"
    hold = [f"CREATE SCHEMA {w.schema}", "BEGIN", f"CREATE TABLE {table} (x INT)"]
    results = _two_runs_held_in_publish(w, hold, "ROLLBACK")
    assert sorted(code for code, _ in results) == [0, 4], results
    loser = next(stderr for code, stderr in results if code == 4)
    error = next(line for line in loser.splitlines() if line.startswith("error:"))
    assert error.startswith(f"error: stage publish failed on {engine} target")
    assert "another run published into the same schema at the same time" in loser, loser
    _after_concurrent_runs(w)


def test_concurrent_runs_on_duckdb(tmp_path, layout):
    """DuckDB admits one writing process per file: a second run while one holds the file
    fails at once with exit 3 and says so; the first completes untouched."""
    w = make_warehouse("duckdb", None, tmp_path).in_layout(layout)
    publish(w)
    config = w.config()
    first = Held(config, "run", "--target", w.engine, at="] journey_events ")  # holds the file
    second = subprocess.run(command(config, "run", "--target", w.engine), capture_output=True, text=True,
                            timeout=60, check=False)
    assert first.resume() == 0, first.output
    assert second.returncode == 3, second.stderr
    error = next(line for line in second.stderr.splitlines() if line.startswith("error:"))
    assert f"is in use by another process (PID {first.proc.pid})" in error, second.stderr
    assert "Traceback" not in second.stderr
    _after_concurrent_runs(w)
