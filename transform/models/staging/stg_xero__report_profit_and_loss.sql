{{ xero_report_lines('report_profit_and_loss', 'stg_xero__report_profit_and_loss') }}
