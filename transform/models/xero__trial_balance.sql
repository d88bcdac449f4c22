{#- Xero's Trial Balance for the end of every month: per organisation, month and account, the month's
    movement (Debit, Credit) and the year-to-date balance (YTD Debit, YTD Credit). Revenue and expense
    accounts count from the start of the financial year; asset, liability and equity accounts from the
    beginning; the retained-earnings account also holds the profit of every earlier financial year, as
    Xero closes it there. An account shows when either figure is non-zero, as in Xero. -#}
with balances as (

  select * from {{ ref('int_xero__account_months') }}

), earlier_years as (

  select tenant_id, date_month, sum(balance_net - year_to_date_net) as earlier_years_net
  from balances
  where account_class in ('REVENUE', 'EXPENSE')
  group by 1, 2

), trial_balance as (

  select
    balances.*,
    case
      when balances.account_class in ('REVENUE', 'EXPENSE') then balances.year_to_date_net
      when balances.system_account = 'RETAINEDEARNINGS' then balances.balance_net + coalesce(earlier_years.earlier_years_net, 0)
      else balances.balance_net
    end as ytd_net
  from balances
  left join earlier_years
    on earlier_years.tenant_id = balances.tenant_id and earlier_years.date_month = balances.date_month

)

select
  tenant_id,
  date_month,
  account_id,
  account_code,
  account_name,
  account_type,
  account_class,
  month_net,
  case when month_net > 0 then month_net else 0 end as debit,
  case when month_net < 0 then -month_net else 0 end as credit,
  ytd_net,
  case when ytd_net > 0 then ytd_net else 0 end as ytd_debit,
  case when ytd_net < 0 then -ytd_net else 0 end as ytd_credit
from trial_balance
where month_net <> 0 or ytd_net <> 0
