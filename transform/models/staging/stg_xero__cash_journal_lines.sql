{{ xero_journal_lines('cash_journals', 'cash_journal_lines', 'stg_xero__cash_journal_lines',
     "xero__cash_general_ledger is built empty: no cash-basis journals were loaded (the cash_journals"
     ~ " stream was deselected, or Xero serves them only to apps on its Advanced tier).",
     "Their rows in xero__cash_general_ledger are empty: Xero serves cash-basis journals only to apps on its"
     ~ " Advanced tier (or the organisation has no payments yet).") }}
