{#- Xero's TrialBalance columns: Debit and Credit are the month's movement, YTD Debit and YTD Credit the
    year-to-date balance (docs/transform.md). -#}
{{ xero_report_lines('report_trial_balance', 'stg_xero__report_trial_balance',
                     ['Debit', 'Credit', 'YTD Debit', 'YTD Credit']) }}
