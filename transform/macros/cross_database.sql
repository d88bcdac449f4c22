{#- The few expressions that PostgreSQL (target-postgres) and DuckDB (target-duckdb) write differently.
    target-postgres stores money as exact numeric, objects as jsonb and lists of objects as jsonb[];
    target-duckdb stores money as DOUBLE, objects and lists as JSON, dates as text. -#}

{% macro xero_amount(expression) -%}
  {#- Money as an exact decimal on both databases (DuckDB's doubles of 2- or 4-decimal amounts round
      back exactly at 6 places). -#}
  cast({{ expression }} as decimal(28, 6))
{%- endmacro %}


{% macro xero_json_text(column, path) -%}
  {#- Text at `path` (a list of keys and 0-based indexes) inside a JSON value or a list of them. -#}
  {{ return(adapter.dispatch('xero_json_text', 'tap_xero')(column, path)) }}
{%- endmacro %}

{% macro default__xero_json_text(column, path) -%}
  {#- PostgreSQL: a list of objects is a jsonb[] (1-based); an object is jsonb. -#}
  {%- set head = path[0] -%}
  {%- if head is number -%}
    ({{ column }})[{{ head + 1 }}]{% for key in path[1:] %} {{ '->>' if loop.last else '->' }} {{ key if key is number else "'" ~ key ~ "'" }}{% endfor %}
  {%- else -%}
    {{ column }}{% for key in path %} {{ '->>' if loop.last else '->' }} {{ key if key is number else "'" ~ key ~ "'" }}{% endfor %}
  {%- endif -%}
{%- endmacro %}

{% macro duckdb__xero_json_text(column, path) -%}
  json_extract_string({{ column }}, '${% for key in path %}{{ '[' ~ key ~ ']' if key is number else '.' ~ key }}{% endfor %}')
{%- endmacro %}


{% macro xero_report_cells(relation) -%}
  {#- One row per value cell of a report table: every column of the line plus column_title and
      column_value (the cell's exact number; null when empty). -#}
  {{ return(adapter.dispatch('xero_report_cells', 'tap_xero')(relation)) }}
{%- endmacro %}

{% macro default__xero_report_cells(relation) -%}
  select line.*, cell ->> 'title' as column_title, cast(cell ->> 'value' as decimal(28, 6)) as column_value
  from {{ relation }} as line
  cross join lateral unnest(line.columns) as cells(cell)
{%- endmacro %}

{% macro duckdb__xero_report_cells(relation) -%}
  select * exclude (cell), json_extract_string(cell, '$.title') as column_title,
         cast(json_extract_string(cell, '$.value') as decimal(28, 6)) as column_value
  from (select line.*, unnest(from_json(line.columns, '["json"]')) as cell from {{ relation }} as line)
{%- endmacro %}


{% macro xero_key_text(column) -%}
  {#- A report key column as the tap wrote it: the demo's DuckDB load puts '-' where Xero had ''
      (target-duckdb turns '' into NULL, which a primary key refuses). -#}
  case when {{ column }} is null or {{ column }} = '-' then '' else {{ column }} end
{%- endmacro %}
