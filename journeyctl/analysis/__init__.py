"""Journey analyses over the published journey tables: one module per analysis (funnel, paths),
the ground they share in `common`. Each builds one query through sqlglot's AST, for any dialect,
and runs it on the target: the events never come into Python (journey-analysis.md)."""
