{{ xero_journal_lines('cash_journals', 'cash_journal_lines', 'stg_xero__cash_journal_lines',
     "xero__cash_general_ledger is built empty until the tap extracts cash-basis journals"
     ~ " (Journals?paymentsOnly=true, for apps on Xero's Advanced tier).") }}
