{#- The Balance Sheet at the end of every month, per organisation and account, as Xero presents it:
    asset, liability and equity accounts at their balance to date; Retained Earnings including the profit
    of every earlier financial year; and a Current Year Earnings line (account_id null) with the profit
    since the start of the financial year. net_amount is journal-signed (debit positive: Fivetran's
    dbt_xero convention, so the month's rows sum to zero); report_amount is the figure as Xero's report
    shows it (assets debit-positive, liabilities and equity credit-positive). -#}
with balances as (

  select * from {{ ref('int_xero__account_months') }}

), earnings as (

  select
    tenant_id,
    date_month,
    sum(balance_net - year_to_date_net) as earlier_years_net,
    sum(year_to_date_net) as current_year_net
  from balances
  where account_class in ('REVENUE', 'EXPENSE')
  group by 1, 2

), accounts as (

  select
    balances.tenant_id,
    balances.date_month,
    balances.account_id,
    balances.account_code,
    balances.account_name,
    balances.account_type,
    balances.account_class,
    balances.balance_net
      + case when balances.system_account = 'RETAINEDEARNINGS' then coalesce(earnings.earlier_years_net, 0) else 0 end
      as net_amount
  from balances
  left join earnings on earnings.tenant_id = balances.tenant_id and earnings.date_month = balances.date_month
  where balances.account_class in ('ASSET', 'LIABILITY', 'EQUITY')

), current_year_earnings as (

  select
    tenant_id,
    date_month,
    cast(null as {{ dbt.type_string() }}) as account_id,
    cast(null as {{ dbt.type_string() }}) as account_code,
    'Current Year Earnings' as account_name,
    cast(null as {{ dbt.type_string() }}) as account_type,
    'EQUITY' as account_class,
    current_year_net as net_amount
  from earnings

), lines as (

  select * from accounts
  union all
  select * from current_year_earnings

)

select
  lines.*,
  case when account_class = 'ASSET' then net_amount else -net_amount end as report_amount
from lines
