{#- The contact of each document a journal can come from, for the tables the loader has. -#}
{%- set documents = [('invoices', 'InvoiceID'), ('credit_notes', 'CreditNoteID'), ('bank_transactions', 'BankTransactionID')] -%}
{%- set loaded = [] -%}
{%- for table_name, id_column in documents -%}
  {%- set relation = xero_loaded_table(table_name) -%}
  {%- if relation is not none -%}{%- do loaded.append((relation, id_column)) -%}{%- endif -%}
{%- endfor -%}
{%- for relation, id_column in loaded %}
select
  tenant_id,
  "{{ id_column }}" as source_id,
  {{ xero_json_text('"Contact"', ['ContactID']) }} as contact_id,
  {{ xero_json_text('"Contact"', ['Name']) }} as contact_name
from {{ relation }}
{% if not loop.last %}union all{% endif %}
{%- else %}
{{ xero_no_rows({'tenant_id': dbt.type_string(), 'source_id': dbt.type_string(), 'contact_id': dbt.type_string(),
                 'contact_name': dbt.type_string()}) }}
{%- endfor %}
