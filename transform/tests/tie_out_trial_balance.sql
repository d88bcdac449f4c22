{{ config(store_failures=true) }}
{#- Fails with every organisation, month and account where the modelled trial balance differs from
    Xero's TrialBalance (report_trial_balance) by a cent or more: the month's movement (Debit - Credit)
    and the year-to-date balance (YTD Debit - YTD Credit); see xero_tie_out for what is left out and the
    tolerance. With trial_balance_tie_out = ytd_except_retained_earnings it compares only the
    year-to-date balances of the accounts other than Retained Earnings. -#}
{%- set scope = env_var('DBT_XERO_TRIAL_BALANCE_TIE_OUT', 'month_and_ytd') -%}
{%- if scope not in ('month_and_ytd', 'ytd_except_retained_earnings') -%}
  {{ exceptions.raise_compiler_error("trial_balance_tie_out (DBT_XERO_TRIAL_BALANCE_TIE_OUT) must be"
                                     ~ " month_and_ytd or ytd_except_retained_earnings, not '" ~ scope ~ "'") }}
{%- endif -%}
with reported as (

  select
    tenant_id,
    period_start as date_month,
    account_id as line,
    coalesce(debit, 0) - coalesce(credit, 0) as month_net,
    coalesce(ytd_debit, 0) - coalesce(ytd_credit, 0) as ytd_net
  from {{ ref('stg_xero__report_trial_balance') }}
  where account_id is not null and tracking_option = ''

), modelled as (

  select tenant_id, date_month, account_id as line, month_net, ytd_net
  from {{ ref('xero__trial_balance') }}

)

{% if scope == 'month_and_ytd' -%}
{{ xero_tie_out('modelled', 'reported', ['month_net', 'ytd_net']) }}
{%- else -%}
{{ xero_tie_out('modelled', 'reported', ['ytd_net'], ['UNREALISEDCURRENCYGAIN', 'RETAINEDEARNINGS']) }}
{%- endif %}
