{#- Xero's unrealised currency gains and losses: Xero revalues foreign-currency balances at the report
    date's rate when it runs a report and never journals the result, so no ledger reproduces them. One
    row per line of the unrealised-gains system account in the tap's reports: the tie-out tests leave
    these lines out, and allow every other line of that organisation and month to differ by at most the
    largest of them (the whole revaluation Xero computed; docs/transform.md). An organisation with one
    currency has none: its tie-out is exact. -#}
with unrealised_accounts as (

  select tenant_id, account_id
  from {{ ref('stg_xero__accounts') }}
  where system_account = 'UNREALISEDCURRENCYGAIN'

), lines as (

  select tenant_id, period_start, account_id, value as amount
  from {{ ref('stg_xero__report_balance_sheet') }}
  union all
  select tenant_id, period_start, account_id, value
  from {{ ref('stg_xero__report_profit_and_loss') }}
  union all
  select tenant_id, period_start, account_id, coalesce(ytd_debit, 0) - coalesce(ytd_credit, 0)
  from {{ ref('stg_xero__report_trial_balance') }}
  union all
  select tenant_id, period_start, account_id, coalesce(debit, 0) - coalesce(credit, 0)
  from {{ ref('stg_xero__report_trial_balance') }}

)

select lines.tenant_id, lines.period_start as date_month, lines.account_id, abs(coalesce(lines.amount, 0)) as amount
from lines
inner join unrealised_accounts
  on unrealised_accounts.tenant_id = lines.tenant_id and unrealised_accounts.account_id = lines.account_id
