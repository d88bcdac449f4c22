{% macro xero_report_lines(table_name, model_name) %}
  {#- The lines of one of the tap's report tables, with keys as Xero gave them ('' for no section or no
      tracking option), the account of account lines only, and the first value column as an exact
      amount. Built empty, with a notice, when the loader has no such table (the report stream was not
      selected). -#}
  {%- set report = xero_loaded_table(table_name) -%}
  {%- if report is none -%}
    {{ xero_skip_notice(model_name, [table_name], "Its tie-out tests have nothing to compare.") }}
    select
      cast(null as {{ dbt.type_string() }}) as tenant_id,
      cast(null as date) as period_start,
      cast(null as {{ dbt.type_string() }}) as section,
      cast(null as {{ dbt.type_string() }}) as line_key,
      cast(null as {{ dbt.type_string() }}) as tracking_option,
      cast(null as {{ dbt.type_string() }}) as row_type,
      cast(null as {{ dbt.type_string() }}) as row_title,
      cast(null as {{ dbt.type_string() }}) as account_id,
      {{ xero_amount('null') }} as value
      {%- for title in caller().split(',') if title.strip() %},
      {{ xero_amount('null') }} as {{ title.strip() | lower | replace(' ', '_') }}
      {%- endfor %}
    where 1 = 0
  {%- else -%}
    {%- set titles = caller().split(',') | map('trim') | select | list -%}
    select
      tenant_id,
      cast(period_start as date) as period_start,
      {{ xero_key_text('section') }} as section,
      line_key,
      {{ xero_key_text('tracking_option') }} as tracking_option,
      row_type,
      row_title,
      {# Xero marks the lines it computes (the balance sheet's Current Year Earnings) with the nil UUID. #}
      nullif(account_id, '00000000-0000-0000-0000-000000000000') as account_id,
      {{ xero_amount('value') }} as value
      {%- for title in titles %},
      max(case when column_title = '{{ title }}' then column_value end) as {{ title | lower | replace(' ', '_') }}
      {%- endfor %}
    {%- if titles %}
    from ({{ xero_report_cells(report) }}) as cells
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9
    {%- else %}
    from {{ report }}
    {%- endif %}
  {%- endif -%}
{% endmacro %}
