{#- What the tie-out tests compare: each organisation and month that Xero's reports cover, for the
    organisations whose journals are in the warehouse ("tie out what is present"). An organisation
    without journals is listed by the warning test organisations_without_journals instead. -#}
with ledger_organisations as (

  select distinct tenant_id from {{ ref('xero__general_ledger') }}

), report_months as (

  select tenant_id, period_start from {{ ref('stg_xero__report_trial_balance') }}
  union
  select tenant_id, period_start from {{ ref('stg_xero__report_profit_and_loss') }}
  union
  select tenant_id, period_start from {{ ref('stg_xero__report_balance_sheet') }}

)

select report_months.tenant_id, report_months.period_start as date_month
from report_months
inner join ledger_organisations on ledger_organisations.tenant_id = report_months.tenant_id
