{{ config(store_failures=true) }}
{#- Fails with every organisation, month and line where the modelled Balance Sheet differs from Xero's
    BalanceSheet (report_balance_sheet) by a cent or more: each account (Retained Earnings with the
    profit of earlier financial years) and Current Year Earnings. Lines of unrealised currency gains are
    left out, and their amount is the tolerance of that organisation and month (int_xero__revaluation). -#}
with scope as (

  select * from {{ ref('int_xero__tie_out_scope') }}

), report as (

  select
    report.tenant_id,
    report.period_start as date_month,
    coalesce(report.account_id, report.row_title) as line,
    report.value as reported
  from {{ ref('stg_xero__report_balance_sheet') }} as report
  inner join scope on scope.tenant_id = report.tenant_id and scope.date_month = report.period_start
  left join {{ ref('stg_xero__accounts') }} as accounts
    on accounts.tenant_id = report.tenant_id and accounts.account_id = report.account_id
  where report.tracking_option = '' and report.row_type = 'Row'
    and (report.account_id is not null or report.row_title = 'Current Year Earnings')
    and coalesce(accounts.system_account, '') <> 'UNREALISEDCURRENCYGAIN'

), model as (

  select model.tenant_id, model.date_month, coalesce(model.account_id, model.account_name) as line,
         model.report_amount as modelled
  from {{ ref('xero__balance_sheet_report') }} as model
  inner join (select distinct tenant_id, date_month from report) as months
    on months.tenant_id = model.tenant_id and months.date_month = model.date_month

), compared as (

  select
    coalesce(model.tenant_id, report.tenant_id) as tenant_id,
    coalesce(model.date_month, report.date_month) as date_month,
    coalesce(model.line, report.line) as line,
    model.modelled,
    report.reported
  from model
  full outer join report
    on report.tenant_id = model.tenant_id and report.date_month = model.date_month and report.line = model.line

)

select compared.*, scope.tolerance
from compared
inner join scope on scope.tenant_id = compared.tenant_id and scope.date_month = compared.date_month
where {{ xero_differs('compared.modelled', 'compared.reported', 'scope.tolerance') }}
