{% macro xero_journal_lines(journals_table, lines_table, model_name, when_missing, when_some_lack) %}
  {#- One row per journal line with its journal's header: the shared body of the accrual and cash
      staging models. Built empty, with a notice, when the loader has no such tables; a notice naming the
      organisations without journals when the tables are there but hold none of theirs (the tap created the
      tables, and Xero refused those organisations' app the endpoint). -#}
  {%- set journals = xero_loaded_table(journals_table) -%}
  {%- set lines = xero_loaded_table(lines_table) -%}
  {%- if journals is none or lines is none -%}
    {{ xero_skip_notice(model_name, [journals_table, lines_table], when_missing) }}
    {%- set text, amount = dbt.type_string(), 'decimal(28, 6)' -%}
    {{ xero_no_rows({
         'tenant_id': text, 'journal_id': text, 'journal_line_id': text, 'line_number': dbt.type_int(),
         'journal_date': 'date', 'journal_number': dbt.type_bigint(), 'created_date_utc': dbt.type_timestamp(),
         'reference': text, 'source_id': text, 'source_type': text, 'account_id': text, 'account_code': text,
         'account_name': text, 'account_type': text, 'description': text, 'net_amount': amount,
         'gross_amount': amount, 'tax_amount': amount, 'tax_type': text, 'tax_name': text,
         'tracking_category_1': text, 'tracking_option_1': text, 'tracking_category_2': text,
         'tracking_option_2': text}) }}
  {%- else -%}
    {{ xero_organisations_lacking_notice(journals, model_name, when_some_lack) }}
    select
      line.tenant_id,
      line."JournalID" as journal_id,
      line."JournalLineID" as journal_line_id,
      cast(line.line_number as {{ dbt.type_int() }}) as line_number,
      cast(journal."JournalDate" as date) as journal_date,
      cast(journal."JournalNumber" as {{ dbt.type_bigint() }}) as journal_number,
      cast(journal."CreatedDateUTC" as {{ dbt.type_timestamp() }}) as created_date_utc,
      journal."Reference" as reference,
      journal."SourceID" as source_id,
      journal."SourceType" as source_type,
      line."AccountID" as account_id,
      line."AccountCode" as account_code,
      line."AccountName" as account_name,
      line."AccountType" as account_type,
      line."Description" as description,
      {{ xero_amount('line."NetAmount"') }} as net_amount,
      {{ xero_amount('line."GrossAmount"') }} as gross_amount,
      {{ xero_amount('line."TaxAmount"') }} as tax_amount,
      line."TaxType" as tax_type,
      line."TaxName" as tax_name,
      {# Xero allows two active tracking categories; a line names at most one option of each. #}
      {{ xero_json_text('line."TrackingCategories"', [0, 'Name']) }} as tracking_category_1,
      {{ xero_json_text('line."TrackingCategories"', [0, 'Option']) }} as tracking_option_1,
      {{ xero_json_text('line."TrackingCategories"', [1, 'Name']) }} as tracking_category_2,
      {{ xero_json_text('line."TrackingCategories"', [1, 'Option']) }} as tracking_option_2
    from {{ lines }} as line
    inner join {{ journals }} as journal
      on journal.tenant_id = line.tenant_id and journal."JournalID" = line."JournalID"
  {%- endif -%}
{% endmacro %}


{% macro xero_organisations_lacking_notice(journals, model_name, consequence) %}
  {#- One line in dbt's output naming each loaded organisation that has no row in ``journals``. -#}
  {%- set organisations = xero_loaded_table('organisations') -%}
  {%- if execute and organisations is not none -%}
    {%- set lacking = run_query(
          'select distinct organisation."Name", organisation.tenant_id from ' ~ organisations ~ ' as organisation'
          ~ ' where not exists (select 1 from ' ~ journals ~ ' as journal'
          ~ ' where journal.tenant_id = organisation.tenant_id) order by 1, 2') -%}
    {%- if lacking.rows | length > 0 -%}
      {%- set names = [] -%}
      {%- for row in lacking.rows -%}
        {%- do names.append(row[0] ~ " (" ~ row[1] ~ ")") -%}
      {%- endfor -%}
      {{ log("NO JOURNALS " ~ model_name ~ ": " ~ lacking.rows | length ~ " organisation(s) in schema '"
             ~ journals.schema ~ "' have none in " ~ journals.identifier ~ ": " ~ names | join(", ") ~ ". "
             ~ consequence, info=True) }}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}
