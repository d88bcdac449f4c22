{{ xero_journal_lines('cash_journals', 'cash_journal_lines', 'stg_xero__cash_journal_lines',
     'xero__cash_general_ledger') }}
