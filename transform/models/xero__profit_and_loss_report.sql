{#- The Profit and Loss per organisation, month and account, from the ledger. net_amount is
    credit-positive (income positive, costs negative: Fivetran's dbt_xero convention, so a month's rows
    sum to its net profit); report_section and report_amount place the line as Xero's report does (costs
    shown positive under "Less ..."). -#}
select
  tenant_id,
  {{ xero_month('journal_date') }} as date_month,
  account_id,
  account_code,
  account_name,
  account_type,
  account_class,
  {{ xero_profit_and_loss_section('account_type') }} as report_section,
  -sum(net_amount) as net_amount,
  case when account_class = 'REVENUE' then -sum(net_amount) else sum(net_amount) end as report_amount
from {{ ref('xero__general_ledger') }}
where account_class in ('REVENUE', 'EXPENSE')
group by 1, 2, 3, 4, 5, 6, 7, 8
