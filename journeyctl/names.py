"""Validated warehouse names from config and flags.

Names never reach SQL as text: they are checked against a strict pattern here and
become sqlglot identifiers, which the renderer normalises and quotes per dialect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from journeyctl.errors import ConfigError

_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
STAGING_MARK = "__jc_"
"""Marks the tables a run builds before it publishes them (`<stage>__jc_<run id>`)."""
# A BigQuery project id or a Snowflake/Redshift database may contain hyphens.
_CATALOG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def _check(part: str, pattern: re.Pattern, what: str, value: str) -> str:
    if not pattern.fullmatch(part):
        raise ConfigError(
            f"{what} {value!r} is not a valid name: {part!r} must be letters, digits and "
            "underscores, starting with a letter or underscore",
            hint="names are quoted for you; write them plain, e.g. rudder.tracks",
        )
    return part


def _split(value: str, what: str, most: int, example: str) -> tuple[str, ...]:
    """`value`'s dotted parts, validated; with `most` parts the first may be a catalog."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{what} must be a non-empty name such as {example}")
    parts = value.split(".")
    if len(parts) > most:
        allowed = "1 or 2" if most == 2 else f"1 to {most}"
        raise ConfigError(f"{what} {value!r} has {len(parts)} dotted parts; use {allowed}")
    patterns = [_CATALOG if i == 0 and len(parts) == most > 1 else _PART for i in range(len(parts))]
    return tuple(_check(p, pat, what, value) for p, pat in zip(parts, patterns))


def column_name(value: str, what: str = "column") -> str:
    """A column name from config, validated; lower-cased, as every engine here resolves it
    unquoted (the renderer upper-cases it again for Snowflake)."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{what} must be a non-empty column name such as original_timestamp")
    return _check(value, _PART, what, value).lower()


@dataclass(frozen=True)
class TableName:
    """A table reference of one to three dotted parts: [catalog.][schema.]table."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, value: str, what: str = "table") -> TableName:
        return cls(_split(value, what, 3, "rudder.tracks"))

    @property
    def name(self) -> str:
        return self.parts[-1]

    def to_table(self) -> exp.Table:
        *qualifiers, table = self.parts
        catalog, db = ([None] * (2 - len(qualifiers)) + qualifiers)[-2:]
        return exp.Table(
            this=exp.to_identifier(table),
            db=exp.to_identifier(db) if db else None,
            catalog=exp.to_identifier(catalog) if catalog else None,
        )

    def __str__(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class SchemaName:
    """An output schema (BigQuery: dataset), optionally with its catalog/project."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, value: str, what: str = "schema") -> SchemaName:
        return cls(_split(value, what, 2, "journey"))

    def to_table(self) -> exp.Table:
        """The schema as the `this` of CREATE SCHEMA (sqlglot models it as a table)."""
        *catalog, db = self.parts
        return exp.Table(
            this=exp.to_identifier(db),
            db=exp.to_identifier(catalog[0]) if catalog else None,
        )

    def table(self, name: str) -> TableName:
        """The table `name` in this schema (with its catalog, if any)."""
        return TableName((*self.parts, name))

    def __str__(self) -> str:
        return ".".join(self.parts)
