{#- Every account of every organisation with journals, for every month from its first posting to the
    current month: the month's movement, the balance to date and the movement since the start of the
    financial year. The one place balances are computed; the trial balance and the balance sheet read
    them. Amounts are journal-signed: debit positive, credit negative. -#}
with recursive ledger as (

  select * from {{ ref('xero__general_ledger') }}

), monthly as (

  select tenant_id, account_id, {{ xero_month('journal_date') }} as date_month, sum(net_amount) as month_net
  from ledger
  group by 1, 2, 3

), bounds as (

  select
    tenant_id,
    min(date_month) as first_month,
    max(date_month) as last_posted_month
  from monthly
  group by 1

), months as (

  select tenant_id, first_month as date_month,
         case when last_posted_month > {{ xero_month(dbt.current_timestamp()) }} then last_posted_month
              else {{ xero_month(dbt.current_timestamp()) }} end as last_month
  from bounds
  union all
  select tenant_id, cast({{ dbt.dateadd('month', 1, 'date_month') }} as date), last_month
  from months
  where date_month < last_month

), accounts as (

  select * from {{ ref('stg_xero__accounts') }}

), ledger_accounts as (

  -- The account as the journals name it, for an account missing from `accounts`.
  select tenant_id, account_id, max(account_code) as account_code, max(account_name) as account_name,
         max(account_type) as account_type, max(account_class) as account_class
  from ledger
  group by 1, 2

), first_months as (

  -- Accounts with postings, and the retained-earnings account, which carries earlier years' profit
  -- even when nothing was posted to it.
  select tenant_id, account_id, min(date_month) as first_month
  from (
    select tenant_id, account_id, date_month from monthly
    union all
    select accounts.tenant_id, accounts.account_id, bounds.first_month
    from accounts
    inner join bounds on bounds.tenant_id = accounts.tenant_id
    where accounts.system_account = 'RETAINEDEARNINGS'
  ) as postings
  group by 1, 2

), grid as (

  select
    months.tenant_id,
    months.date_month,
    first_months.account_id,
    coalesce(monthly.month_net, 0) as month_net
  from months
  inner join first_months
    on first_months.tenant_id = months.tenant_id and months.date_month >= first_months.first_month
  left join monthly
    on monthly.tenant_id = months.tenant_id and monthly.account_id = first_months.account_id
    and monthly.date_month = months.date_month

), with_year as (

  select
    grid.*,
    {{ xero_financial_year_start('grid.date_month', 'organisations.financial_year_end_month') }} as financial_year_start
  from grid
  left join {{ ref('stg_xero__organisations') }} as organisations on organisations.tenant_id = grid.tenant_id

)

select
  with_year.tenant_id,
  with_year.date_month,
  with_year.financial_year_start,
  with_year.account_id,
  coalesce(accounts.account_code, ledger_accounts.account_code) as account_code,
  coalesce(accounts.account_name, ledger_accounts.account_name) as account_name,
  coalesce(accounts.account_type, ledger_accounts.account_type) as account_type,
  coalesce(accounts.account_class, ledger_accounts.account_class) as account_class,
  accounts.system_account,
  with_year.month_net,
  sum(with_year.month_net) over (
    partition by with_year.tenant_id, with_year.account_id order by with_year.date_month
    rows between unbounded preceding and current row) as balance_net,
  sum(with_year.month_net) over (
    partition by with_year.tenant_id, with_year.account_id, with_year.financial_year_start order by with_year.date_month
    rows between unbounded preceding and current row) as year_to_date_net
from with_year
left join accounts
  on accounts.tenant_id = with_year.tenant_id and accounts.account_id = with_year.account_id
left join ledger_accounts
  on ledger_accounts.tenant_id = with_year.tenant_id and ledger_accounts.account_id = with_year.account_id
