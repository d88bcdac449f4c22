{{ config(severity='warn') }}
{#- Warns (never fails) with each organisation that has no journals in the warehouse: its app is below
    Xero's Advanced tier (GET /Journals answers 401 AuthorizationUnsuccessful), or the journals stream
    was not selected. Its ledger, trial balance, profit and loss and balance sheet are empty and its
    reports are not tied out; xero__invoice_line_items and xero__receivables_payables_ageing still hold it. -#}
select organisations.tenant_id, organisations.organisation_name
from {{ ref('stg_xero__organisations') }} as organisations
where not exists (
  select 1 from {{ ref('xero__general_ledger') }} as ledger where ledger.tenant_id = organisations.tenant_id
)
