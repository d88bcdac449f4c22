{{ xero_journal_lines('journals', 'journal_lines', 'stg_xero__journal_lines',
     'xero__general_ledger, xero__trial_balance, xero__profit_and_loss_report and xero__balance_sheet_report') }}
