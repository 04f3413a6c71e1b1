{%- from "_macros.sql" import aliases_from, deduplicated_events with context %}
{%- if identity == "graph" %}
{{ config(
    description="Every user_id and anonymous_id, with the visitor it stands for: its identity graph component's (identity = graph). The SQL selects the counted events; journeyctl's runner computes the components from them.",
    procedure="identity_graph",
) }}
{{ deduplicated_events() }}
{%- else %}
{{ config(description="Every user_id and anonymous_id, with the visitor it stands for.") }}
{{ aliases_from(deduplicated_events()) }}
{%- endif %}
