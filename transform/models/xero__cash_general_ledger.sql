{#- Built empty, with a notice, until the warehouse holds cash journals (Journals?paymentsOnly=true). -#}
{{ xero_general_ledger('stg_xero__cash_journal_lines', 'cash') }}
