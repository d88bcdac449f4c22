{{ xero_general_ledger('stg_xero__journal_lines', 'accrual') }}
