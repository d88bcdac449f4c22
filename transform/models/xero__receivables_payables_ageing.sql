{#- What customers owe the organisation and what it owes suppliers, as at the day of the build (Xero's
    AmountDue and RemainingCredit are current figures, not history): one row per open document, in its
    own currency. Invoices and bills add; credit notes, prepayments and overpayments not yet allocated
    subtract. Aged by days past the due date (documents with none: past their date), in 30-day buckets.
    Needs no journals. -#}
{%- set credits = [] -%}
{%- for table_name, id_column, kind in [('prepayments', 'PrepaymentID', 'prepayment'), ('overpayments', 'OverpaymentID', 'overpayment')] -%}
  {%- set relation = xero_loaded_table(table_name) -%}
  {%- if relation is not none -%}{%- do credits.append((relation, id_column, kind)) -%}{%- endif -%}
{%- endfor -%}
with documents as (

  select
    tenant_id,
    case when "Type" = 'ACCREC' then 'receivables' else 'payables' end as ledger,
    'invoice' as document_type,
    "InvoiceID" as document_id,
    "InvoiceNumber" as document_number,
    "Contact" as contact,
    cast("Date" as date) as document_date,
    cast("DueDate" as date) as due_date,
    "CurrencyCode" as currency_code,
    {{ xero_amount('"AmountDue"') }} as amount_due
  from {{ source('xero', 'invoices') }}
  where "Status" = 'AUTHORISED' and "AmountDue" <> 0

  union all

  select
    tenant_id,
    case when "Type" = 'ACCRECCREDIT' then 'receivables' else 'payables' end,
    'credit_note',
    "CreditNoteID",
    "CreditNoteNumber",
    "Contact",
    cast("Date" as date),
    cast("DueDate" as date),
    "CurrencyCode",
    -{{ xero_amount('"RemainingCredit"') }}
  from {{ source('xero', 'credit_notes') }}
  where "Status" = 'AUTHORISED' and "RemainingCredit" <> 0
{%- for relation, id_column, kind in credits %}

  union all

  select
    tenant_id,
    case when "Type" like 'RECEIVE%' then 'receivables' else 'payables' end,
    '{{ kind }}',
    "{{ id_column }}",
    cast(null as {{ dbt.type_string() }}),
    "Contact",
    cast("Date" as date),
    cast(null as date),
    "CurrencyCode",
    -{{ xero_amount('"RemainingCredit"') }}
  from {{ relation }}
  where "Status" = 'AUTHORISED' and "RemainingCredit" <> 0
{%- endfor %}

), aged as (

  select
    documents.*,
    current_date as as_at_date,
    {{ dbt.datediff('coalesce(documents.due_date, documents.document_date)', 'current_date', 'day') }} as days_overdue
  from documents

)

select
  aged.tenant_id,
  organisations.organisation_name,
  aged.ledger,
  aged.document_type,
  aged.document_id,
  aged.document_number,
  {{ xero_json_text('aged.contact', ['ContactID']) }} as contact_id,
  coalesce(contacts."Name", {{ xero_json_text('aged.contact', ['Name']) }}) as contact_name,
  aged.document_date,
  aged.due_date,
  aged.currency_code,
  aged.amount_due,
  aged.as_at_date,
  aged.days_overdue,
  case
    when aged.days_overdue <= 0 then 'current'
    when aged.days_overdue <= 30 then '1-30 days'
    when aged.days_overdue <= 60 then '31-60 days'
    when aged.days_overdue <= 90 then '61-90 days'
    else 'over 90 days'
  end as ageing_bucket
from aged
left join {{ source('xero', 'contacts') }} as contacts
  on contacts.tenant_id = aged.tenant_id and contacts."ContactID" = {{ xero_json_text('aged.contact', ['ContactID']) }}
left join {{ ref('stg_xero__organisations') }} as organisations
  on organisations.tenant_id = aged.tenant_id
