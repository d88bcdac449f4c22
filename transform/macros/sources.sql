{#- The tap's tables that a model may find missing: an organisation's app below Xero's Advanced tier
    cannot read Journals, so a warehouse may hold no `journals` or `cash_journals` table at all. -#}

{% macro xero_loaded_table(table_name) %}
  {#- The source relation when the loader created the table, else none. Always calls source() so
      that dbt's lineage shows the dependency. -#}
  {%- set declared = source('xero', table_name) -%}
  {%- if not execute -%}
    {{ return(declared) }}
  {%- endif -%}
  {{ return(adapter.get_relation(database=declared.database, schema=declared.schema,
                                 identifier=declared.identifier)) }}
{% endmacro %}


{% macro xero_skip_notice(model_name, missing_tables, consequence) %}
  {#- One clear line in dbt's output when a model is built empty for want of a table. -#}
  {%- if execute -%}
    {{ log("SKIPPED " ~ model_name ~ ": no " ~ missing_tables | join(" / ") ~ " table in schema '"
           ~ source('xero', 'organisations').schema ~ "'. " ~ consequence, info=True) }}
  {%- endif -%}
{% endmacro %}


{% macro xero_no_rows(columns) %}
  {#- A relation with these columns ({name: type}) and no rows: what a model selects in place of a
      missing table, so that the models downstream build as usual, empty. -#}
  select
  {%- for name, type in columns.items() %}
    cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
  {%- endfor %}
  where 1 = 0
{% endmacro %}
