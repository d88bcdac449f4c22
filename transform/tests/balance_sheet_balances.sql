{{ config(store_failures=true) }}
{#- Fails with every organisation and month whose modelled balance sheet does not balance: assets minus
    liabilities must equal equity (with Retained Earnings and Current Year Earnings), i.e. the month's
    journal-signed lines sum to zero; and the trial balance's debits must equal its credits. -#}
select tenant_id, date_month, 'xero__balance_sheet_report' as model, sum(net_amount) as imbalance
from {{ ref('xero__balance_sheet_report') }}
group by 1, 2
having {{ xero_differs('sum(net_amount)', '0') }}
union all
select tenant_id, date_month, 'xero__trial_balance (YTD)', sum(ytd_net)
from {{ ref('xero__trial_balance') }}
group by 1, 2
having {{ xero_differs('sum(ytd_net)', '0') }}
union all
select tenant_id, date_month, 'xero__trial_balance (month)', sum(month_net)
from {{ ref('xero__trial_balance') }}
group by 1, 2
having {{ xero_differs('sum(month_net)', '0') }}
