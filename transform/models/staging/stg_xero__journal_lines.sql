{{ xero_journal_lines('journals', 'journal_lines', 'stg_xero__journal_lines',
     "xero__general_ledger, xero__trial_balance, xero__profit_and_loss_report and xero__balance_sheet_report"
     ~ " are built empty and nothing is tied out. Xero serves Journals only to apps on its Advanced tier"
     ~ " (below it the tap skips the stream); xero__invoice_line_items and"
     ~ " xero__receivables_payables_ageing need no journals and are built as usual.",
     "Their rows in xero__general_ledger, xero__trial_balance, xero__profit_and_loss_report and"
     ~ " xero__balance_sheet_report are empty and they are not tied out. Xero serves Journals only to apps on"
     ~ " its Advanced tier (below it the tap skips the stream for the organisation, with a warning);"
     ~ " xero__invoice_line_items and xero__receivables_payables_ageing need no journals and hold them as usual.") }}
