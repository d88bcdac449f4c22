"""Xero webhooks: signature checks, a durable event queue, the receiver and the tap-side pieces.

- ``signature``: the one place that computes and verifies ``x-xero-signature``, and resolves the key.
- ``payload``: parses and validates a delivery (against ``event_schema``, generated from Xero's spec)
  and names an event's identity (for deduplication).
- ``queue``: ``EventQueue``, an append-only SQLite (WAL) log of events with increasing positions.
- ``app``: what each HTTP request gets (verify, validate, store, answer); ``server``: the HTTP server
  facing the internet (Granian; connection cap, deadlines); ``receiver``: ``WebhookReceiver``, the two
  put together (``tap-xero-webhooks serve``, ``cli``).
- ``targeted``: the tap's targeted sync (fetch only the changed Invoices/Contacts/CreditNotes).
"""
