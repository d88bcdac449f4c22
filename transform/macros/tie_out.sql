{% macro xero_tie_out(modelled, reported, figures, excluded_system_accounts=['UNREALISEDCURRENCYGAIN']) %}
  {#- The rows where a model and Xero's report disagree: `modelled` and `reported` are CTE names, each
      with tenant_id, date_month, line (an AccountID, or a title such as 'Net Profit') and the columns
      named in `figures`. Lines are matched by organisation, month and line, a line missing on one side
      counts as zero, only the organisations and months of int_xero__tie_out_scope are compared (the
      model's other months are left alone), lines of the `excluded_system_accounts` are left out
      (unrealised currency gains: never journaled), and a figure differs when it is a cent or more apart
      beyond that organisation and month's tolerance (Xero's revaluation). -#}
  select
    coalesce({{ modelled }}.tenant_id, {{ reported }}.tenant_id) as tenant_id,
    coalesce({{ modelled }}.date_month, {{ reported }}.date_month) as date_month,
    coalesce({{ modelled }}.line, {{ reported }}.line) as line,
    {%- for figure in figures %}
    {{ modelled }}.{{ figure }} as modelled_{{ figure }},
    {{ reported }}.{{ figure }} as reported_{{ figure }},
    {%- endfor %}
    scope.tolerance
  from (
    select * from {{ modelled }}
    where exists (select 1 from {{ reported }} as months
                  where months.tenant_id = {{ modelled }}.tenant_id and months.date_month = {{ modelled }}.date_month)
  ) as {{ modelled }}
  full outer join {{ reported }}
    on {{ reported }}.tenant_id = {{ modelled }}.tenant_id and {{ reported }}.date_month = {{ modelled }}.date_month
    and {{ reported }}.line = {{ modelled }}.line
  inner join {{ ref('int_xero__tie_out_scope') }} as scope
    on scope.tenant_id = coalesce({{ modelled }}.tenant_id, {{ reported }}.tenant_id)
    and scope.date_month = coalesce({{ modelled }}.date_month, {{ reported }}.date_month)
  left join {{ ref('stg_xero__accounts') }} as accounts
    on accounts.tenant_id = scope.tenant_id and accounts.account_id = coalesce({{ modelled }}.line, {{ reported }}.line)
  where coalesce(accounts.system_account, '') not in ('{{ excluded_system_accounts | join("', '") }}')
    and (
    {%- for figure in figures %}
      {{ 'or ' if not loop.first }}{{ xero_differs(modelled ~ '.' ~ figure, reported ~ '.' ~ figure, 'scope.tolerance') }}
    {%- endfor %}
    )
{% endmacro %}
