"""Errors a user can act on, each with its documented exit code.

The CLI prints these as one message without a traceback; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

from typing import Any, Iterable


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by ***, longest first (one may contain another)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class JourneyError(Exception):
    """Base: a failure explained to the user. `hint` says what to do next."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class ConfigError(JourneyError):
    """Bad configuration, flags or identifiers: nothing ran."""

    exit_code = 2


class RenderError(JourneyError):
    """A template cannot be rendered for a dialect: nothing ran."""

    exit_code = 2


class ConnectionFailed(JourneyError):
    """The target could not be reached or refused the credentials."""

    exit_code = 3


class ExecutionError(JourneyError):
    """A statement failed on the target; the published tables are untouched."""

    exit_code = 4

    def __init__(self, message: str, hint: str | None = None, sql: str | None = None,
                 line: int | None = None):
        super().__init__(message, hint)
        self.sql = sql
        self.line = line


class DataTestFailed(JourneyError):
    """The built tables break the journey contract."""

    exit_code = 5

    def __init__(self, message: str, hint: str | None = None, tests: Any = None, result: Any = None):
        super().__init__(message, hint)
        self.tests = tests
        """The data test run (journeyctl.datatests.DataTestRun): every test, its offending rows."""
        self.result = result
        """The run that built the tables (journeyctl.runner.RunResult), when api.run raised this."""
