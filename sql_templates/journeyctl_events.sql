{{ config(
    description="Kept for incremental runs: every counted event (rules 1 and 2) with the received_at of the copy that counts, so that a later run can weigh new copies against it.",
    enabled=incremental,
) }}
{%- from "_macros.sql" import deduplicated_events with context %}
{{ deduplicated_events(with_received_at=True) }}
