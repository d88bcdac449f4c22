{% macro xero_report_lines(table_name, model_name, column_titles=[]) %}
  {#- The lines of one of the tap's report tables, with keys as Xero gave them ('' for no section or no
      tracking option), the account of account lines only, the first value column as an exact amount
      (`value`), and the value of each column titled in `column_titles` (as `ytd_debit` for "YTD
      Debit"). Built empty, with a notice, when the loader has no such table (the report stream was not
      selected). -#}
  {%- set report = xero_loaded_table(table_name) -%}
  {%- if report is none -%}
    {{ xero_skip_notice(model_name, [table_name], "Nothing is tied out against that report.") }}
    {%- set text, amount = dbt.type_string(), 'decimal(28, 6)' -%}
    {%- set columns = {'tenant_id': text, 'period_start': 'date', 'section': text, 'line_key': text,
                       'tracking_option': text, 'row_type': text, 'row_title': text, 'account_id': text,
                       'value': amount} -%}
    {%- for title in column_titles -%}
      {%- do columns.update({title | lower | replace(' ', '_'): amount}) -%}
    {%- endfor -%}
    {{ xero_no_rows(columns) }}
  {%- else -%}
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
      {%- for title in column_titles %},
      max(case when column_title = '{{ title }}' then column_value end) as {{ title | lower | replace(' ', '_') }}
      {%- endfor %}
    {%- if column_titles %}
    from ({{ xero_report_cells(report) }}) as cells
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9
    {%- else %}
    from {{ report }}
    {%- endif %}
  {%- endif -%}
{% endmacro %}
