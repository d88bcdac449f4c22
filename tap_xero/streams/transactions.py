"""Sales, purchases and money movements: invoices, credit notes, bank transactions, payments, ..."""

from __future__ import annotations

from tap_xero import endpoints
from tap_xero.client import XeroChildStream, XeroStream


class InvoiceLineItemsStream(XeroChildStream):
    name = "invoice_line_items"
    parent_id_field = "InvoiceID"
    lines_field = "LineItems"
    primary_keys = ("tenant_id", "InvoiceID", "line_number")


class InvoicesStream(XeroStream):
    name = "invoices"
    endpoint = endpoints.INVOICES
    primary_keys = ("tenant_id", "InvoiceID")
    replication_key = "UpdatedDateUTC"
    child_tables = (InvoiceLineItemsStream,)


class CreditNoteLineItemsStream(XeroChildStream):
    name = "credit_note_line_items"
    parent_id_field = "CreditNoteID"
    lines_field = "LineItems"
    primary_keys = ("tenant_id", "CreditNoteID", "line_number")


class CreditNotesStream(XeroStream):
    name = "credit_notes"
    endpoint = endpoints.CREDIT_NOTES
    primary_keys = ("tenant_id", "CreditNoteID")
    replication_key = "UpdatedDateUTC"
    child_tables = (CreditNoteLineItemsStream,)


class BankTransactionLineItemsStream(XeroChildStream):
    name = "bank_transaction_line_items"
    parent_id_field = "BankTransactionID"
    lines_field = "LineItems"
    primary_keys = ("tenant_id", "BankTransactionID", "line_number")


class BankTransactionsStream(XeroStream):
    name = "bank_transactions"
    endpoint = endpoints.BANK_TRANSACTIONS
    primary_keys = ("tenant_id", "BankTransactionID")
    replication_key = "UpdatedDateUTC"
    child_tables = (BankTransactionLineItemsStream,)


class BankTransfersStream(XeroStream):
    name = "bank_transfers"
    endpoint = endpoints.BANK_TRANSFERS
    primary_keys = ("tenant_id", "BankTransferID")
    replication_key = "CreatedDateUTC"  # transfers are never edited, only created or deleted


class BatchPaymentsStream(XeroStream):
    name = "batch_payments"
    endpoint = endpoints.BATCH_PAYMENTS
    primary_keys = ("tenant_id", "BatchPaymentID")
    replication_key = "UpdatedDateUTC"


class PaymentsStream(XeroStream):
    name = "payments"
    endpoint = endpoints.PAYMENTS
    primary_keys = ("tenant_id", "PaymentID")
    replication_key = "UpdatedDateUTC"


class OverpaymentsStream(XeroStream):
    name = "overpayments"
    endpoint = endpoints.OVERPAYMENTS
    primary_keys = ("tenant_id", "OverpaymentID")
    replication_key = "UpdatedDateUTC"


class PrepaymentsStream(XeroStream):
    name = "prepayments"
    endpoint = endpoints.PREPAYMENTS
    primary_keys = ("tenant_id", "PrepaymentID")
    replication_key = "UpdatedDateUTC"


class PurchaseOrdersStream(XeroStream):
    name = "purchase_orders"
    endpoint = endpoints.PURCHASE_ORDERS
    primary_keys = ("tenant_id", "PurchaseOrderID")
    replication_key = "UpdatedDateUTC"


class QuotesStream(XeroStream):
    name = "quotes"
    endpoint = endpoints.QUOTES
    primary_keys = ("tenant_id", "QuoteID")
    replication_key = "UpdatedDateUTC"


class RepeatingInvoicesStream(XeroStream):
    name = "repeating_invoices"
    endpoint = endpoints.REPEATING_INVOICES
    primary_keys = ("tenant_id", "RepeatingInvoiceID")
    replication_key = None  # no timestamp: full table


class LinkedTransactionsStream(XeroStream):
    """Xero ignores If-Modified-Since here: the base filters on UpdatedDateUTC client-side, on every page."""

    name = "linked_transactions"
    endpoint = endpoints.LINKED_TRANSACTIONS
    primary_keys = ("tenant_id", "LinkedTransactionID")
    replication_key = "UpdatedDateUTC"


STREAMS = (
    InvoicesStream, InvoiceLineItemsStream, CreditNotesStream, CreditNoteLineItemsStream,
    BankTransactionsStream, BankTransactionLineItemsStream, BankTransfersStream, BatchPaymentsStream,
    PaymentsStream, OverpaymentsStream, PrepaymentsStream, PurchaseOrdersStream, QuotesStream,
    RepeatingInvoicesStream, LinkedTransactionsStream,
)
