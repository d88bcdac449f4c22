{{ config(store_failures=true) }}
{#- Fails with every organisation, month and line where the modelled Profit and Loss differs from Xero's
    ProfitAndLoss (report_profit_and_loss) by a cent or more: each account's line, and the Net Profit;
    see xero_tie_out for what is left out and the tolerance. -#}
with reported as (

  select
    tenant_id,
    period_start as date_month,
    coalesce(account_id, row_title) as line,
    value as amount
  from {{ ref('stg_xero__report_profit_and_loss') }}
  where tracking_option = '' and row_type = 'Row' and (account_id is not null or row_title = 'Net Profit')

), modelled as (

  select tenant_id, date_month, account_id as line, report_amount as amount
  from {{ ref('xero__profit_and_loss_report') }}
  union all
  select tenant_id, date_month, 'Net Profit', sum(net_amount)
  from {{ ref('xero__profit_and_loss_report') }}
  group by 1, 2

)

{{ xero_tie_out('modelled', 'reported', ['amount']) }}
