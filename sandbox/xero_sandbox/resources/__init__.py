"""One module per resource family: its records (generated on demand), its query special cases and
its mutation rules, declared as ``core.resource.Resource`` entries in the module's ``RESOURCES``.

``settings`` (organisation, accounts, tax rates, currencies, tracking, branding, users, items,
budgets, payment services, invoice reminders), ``contacts`` (contacts, contact groups, balances),
``documents`` (the line items every document shares), ``invoices`` (invoices, credit notes and
every invoice's settlements), ``payments`` (payments, prepayments, overpayments, batch payments),
``bank`` (bank transactions, transfers), ``journals`` (journals, manual journals, the walk that
lays out every journal), ``quotes_and_orders`` (quotes, purchase orders, repeating invoices,
linked transactions), ``expenses`` (classic expenses), ``reports`` and ``report_periods``.
"""
