{{ config(store_failures=true) }}
{#- Fails with every organisation and month where the modelled Profit and Loss differs from Xero's
    ProfitAndLoss (report_profit_and_loss) by a cent or more: each account's line, and the Net Profit.
    Lines of unrealised currency gains are left out, and their amount is the tolerance of that
    organisation and month (int_xero__revaluation). -#}
with scope as (

  select * from {{ ref('int_xero__tie_out_scope') }}

), report_lines as (

  select report.*
  from {{ ref('stg_xero__report_profit_and_loss') }} as report
  inner join scope on scope.tenant_id = report.tenant_id and scope.date_month = report.period_start
  where report.tracking_option = ''

), report as (

  -- Each account's line, and the Net Profit line keyed by its title.
  select
    report_lines.tenant_id,
    report_lines.period_start as date_month,
    coalesce(report_lines.account_id, report_lines.row_title) as line,
    report_lines.value as reported
  from report_lines
  left join {{ ref('stg_xero__accounts') }} as accounts
    on accounts.tenant_id = report_lines.tenant_id and accounts.account_id = report_lines.account_id
  where report_lines.row_type = 'Row'
    and (report_lines.account_id is not null or report_lines.row_title = 'Net Profit')
    and coalesce(accounts.system_account, '') <> 'UNREALISEDCURRENCYGAIN'

), model as (

  select model.tenant_id, model.date_month, model.account_id as line, model.report_amount as modelled
  from {{ ref('xero__profit_and_loss_report') }} as model
  inner join (select distinct tenant_id, period_start from report_lines) as months
    on months.tenant_id = model.tenant_id and months.period_start = model.date_month
  union all
  select months.tenant_id, months.period_start, 'Net Profit', coalesce(sum(model.net_amount), 0)
  from (select distinct tenant_id, period_start from report_lines) as months
  left join {{ ref('xero__profit_and_loss_report') }} as model
    on model.tenant_id = months.tenant_id and model.date_month = months.period_start
  group by 1, 2

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
