{{ xero_report_lines('report_balance_sheet', 'stg_xero__report_balance_sheet') }}
