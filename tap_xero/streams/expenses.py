"""Classic expenses, retired for most organisations in April 2026: off by default.

A 401/404/410 from these endpoints ends the stream with a warning (the base reads
``endpoint.retired``), not the run.
"""

from __future__ import annotations

from tap_xero import endpoints
from tap_xero.client import XeroStream


class ExpenseClaimsStream(XeroStream):
    name = "expense_claims"
    endpoint = endpoints.EXPENSE_CLAIMS
    primary_keys = ("tenant_id", "ExpenseClaimID")
    replication_key = "UpdatedDateUTC"
    selected_by_default = False


class ReceiptsStream(XeroStream):
    name = "receipts"
    endpoint = endpoints.RECEIPTS
    primary_keys = ("tenant_id", "ReceiptID")
    replication_key = "UpdatedDateUTC"
    selected_by_default = False


STREAMS = (ExpenseClaimsStream, ReceiptsStream)
