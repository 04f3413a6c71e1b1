{#- Shared pieces of the identity graph templates. Import them `with context`. -#}

{%- macro is_placeholder(column) -%}
{#- The contract's placeholder test: leading/trailing spaces removed (spaces only), ASCII
    letters lower-cased (TRANSLATE, not LOWER, which lower-cases every script), compared
    with the placeholder list (given lower-cased and trimmed the same way). -#}
TRANSLATE(TRIM(BOTH ' ' FROM {{ column }}), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') IN ({{ placeholder_literals }})
{%- endmacro -%}

{%- macro smallest_neighbours(links) -%}
{#- Each linked node's smallest neighbour (links are stored once, from the larger node). -#}
SELECT node, MIN(smaller) AS smallest FROM {{ links }} GROUP BY node
{%- endmacro -%}
