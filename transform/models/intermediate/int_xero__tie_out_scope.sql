{#- What the tie-out tests compare: each organisation and month that Xero's reports cover, for the
    organisations whose journals are in the warehouse ("tie out what is present"), with the amount by
    which its lines may differ: Xero's revaluation of foreign-currency balances that month (zero for an
    organisation with one currency; int_xero__revaluation). An organisation without journals is listed
    by the warning test organisations_without_journals instead. -#}
with ledger_organisations as (

  select distinct tenant_id from {{ ref('xero__general_ledger') }}

), report_months as (

  select tenant_id, period_start from {{ ref('stg_xero__report_trial_balance') }}
  union
  select tenant_id, period_start from {{ ref('stg_xero__report_profit_and_loss') }}
  union
  select tenant_id, period_start from {{ ref('stg_xero__report_balance_sheet') }}

), revaluation as (

  select tenant_id, date_month, max(amount) as amount
  from {{ ref('int_xero__revaluation') }}
  group by 1, 2

)

select
  report_months.tenant_id,
  report_months.period_start as date_month,
  coalesce(revaluation.amount, 0) as tolerance
from report_months
inner join ledger_organisations on ledger_organisations.tenant_id = report_months.tenant_id
left join revaluation
  on revaluation.tenant_id = report_months.tenant_id and revaluation.date_month = report_months.period_start
