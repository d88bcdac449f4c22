"""The sandbox's core: everything that knows no collection by name.

HTTP: ``wire.py`` (bytes), ``app.py`` (the request pipeline), ``shapes.py`` (requests, responses,
Xero's envelopes and error bodies), ``params.py`` (request parameters into a ``Query``),
``routes.py`` (Xero's paths), ``control.py`` (``/_sandbox/``), ``request_stats.py``,
``config.py`` (``SandboxConfig``). Xero's services: ``oauth.py`` (identity server), ``limits.py``
and ``tiers.py``, ``faults.py``, ``webhooks.py`` (change events, signed deliveries), ``clock.py``.
Data: ``generation.py`` (hashing, IDs, dates, money), ``ledger.py`` (postings, daily totals),
``tenant_data.py`` (one tenant's generated data, ``Collection``), ``resource.py`` (what a family
declares), ``queries.py`` (the query engine), ``tenant_book.py`` and ``mutations.py`` (the
overlay and the mutation engine), ``lock_dates.py``, ``where.py``.

No module here imports ``xero_sandbox.resources`` or the top-level modules (a test checks it).
"""
