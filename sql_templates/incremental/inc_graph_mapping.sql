{{ config(
    description="Incremental, identity = graph: the whole mapping anew (components can merge anywhere), from the kept events as this run leaves them; the runner computes it from the events this selects.",
    published=False,
    enabled=identity == "graph",
    procedure="identity_graph",
) }}
{%- from "incremental/_events.sql" import next_events with context %}
{{ next_events() }}
