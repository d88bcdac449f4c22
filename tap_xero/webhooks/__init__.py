"""Xero webhooks: signature checks, a durable event queue, the receiver and the tap-side pieces.

- ``signature``: the one place that computes and verifies ``x-xero-signature``, and resolves the key.
- ``payload``: parses a delivery body into events and names an event's identity (for deduplication).
- ``queue``: ``EventQueue``, an append-only SQLite (WAL) log of events with increasing positions.
- ``receiver``: ``WebhookReceiver``, the HTTP endpoint Xero posts to (``tap-xero-webhooks serve``).
- ``targeted``: the tap's targeted sync (fetch only the changed Invoices/Contacts/CreditNotes).
"""
