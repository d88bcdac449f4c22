"""The stream classes and the catalog they give: names, keys, replication, scopes, default selection.

Offline: discovery needs no credentials and makes no request.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tap_xero import endpoints
from tap_xero.scopes import stream_scopes
from tap_xero.streams import STREAM_CLASSES
from tap_xero.tap import TapXero

# name -> (primary keys after tenant_id, replication key or None)
EXPECTED = {
    "accounts": (("AccountID",), "UpdatedDateUTC"),
    "bank_transactions": (("BankTransactionID",), "UpdatedDateUTC"),
    "bank_transfers": (("BankTransferID",), "CreatedDateUTC"),
    "batch_payments": (("BatchPaymentID",), "UpdatedDateUTC"),
    "branding_themes": (("BrandingThemeID",), None),
    "budgets": (("BudgetID",), None),
    "contact_groups": (("ContactGroupID",), None),
    "contacts": (("ContactID",), "UpdatedDateUTC"),
    "credit_notes": (("CreditNoteID",), "UpdatedDateUTC"),
    "currencies": (("Code",), None),
    "expense_claims": (("ExpenseClaimID",), "UpdatedDateUTC"),
    "invoices": (("InvoiceID",), "UpdatedDateUTC"),
    "invoice_reminders": ((), None),
    "items": (("ItemID",), "UpdatedDateUTC"),
    "journals": (("JournalID",), "JournalNumber"),
    "linked_transactions": (("LinkedTransactionID",), "UpdatedDateUTC"),
    "manual_journals": (("ManualJournalID",), "UpdatedDateUTC"),
    "organisations": (("OrganisationID",), None),
    "overpayments": (("OverpaymentID",), "UpdatedDateUTC"),
    "payment_services": (("PaymentServiceID",), None),
    "payments": (("PaymentID",), "UpdatedDateUTC"),
    "prepayments": (("PrepaymentID",), "UpdatedDateUTC"),
    "purchase_orders": (("PurchaseOrderID",), "UpdatedDateUTC"),
    "quotes": (("QuoteID",), "UpdatedDateUTC"),
    "receipts": (("ReceiptID",), "UpdatedDateUTC"),
    "repeating_invoices": (("RepeatingInvoiceID",), None),
    "tax_rates": (("TaxType",), None),
    "tracking_categories": (("TrackingCategoryID",), None),
    "users": (("UserID",), "UpdatedDateUTC"),
    "invoice_line_items": (("InvoiceID", "line_number"), None),
    "credit_note_line_items": (("CreditNoteID", "line_number"), None),
    "bank_transaction_line_items": (("BankTransactionID", "line_number"), None),
    "journal_lines": (("JournalID", "line_number"), None),
    "cash_journals": (("JournalID",), "JournalNumber"),
    "cash_journal_lines": (("JournalID", "line_number"), None),
    "manual_journal_lines": (("ManualJournalID", "line_number"), None),
    **{
        name: (("report_name", "period_start", "section", "line_key", "tracking_option"), None)
        for name in (
            "report_balance_sheet", "report_profit_and_loss", "report_trial_balance",
            "report_bank_summary", "report_budget_summary", "report_executive_summary",
        )
    },
    "report_profit_and_loss_by_tracking": (
        ("report_name", "period_start", "section", "line_key", "tracking_category_id", "tracking_option"), None),
    # The Assets and Projects APIs: no modification timestamp, so full table.
    "assets": (("assetId",), None),
    "asset_types": (("assetTypeId",), None),
    "projects": (("projectId",), None),
    "project_users": (("userId",), None),
    "project_tasks": (("taskId",), None),
    "project_time_entries": (("timeEntryId",), None),
}
RETIRED = {"expense_claims", "receipts"}
PER_PROJECT = {"project_tasks", "project_time_entries"}  # a call per project each: opt in
CHILDREN = {
    "invoices": "invoice_line_items",
    "credit_notes": "credit_note_line_items",
    "bank_transactions": "bank_transaction_line_items",
    "journals": "journal_lines",
    "cash_journals": "cash_journal_lines",
    "manual_journals": "manual_journal_lines",
}


@pytest.fixture(scope="module")
def catalog() -> dict[str, dict]:
    """The catalog from ``tap-xero --discover`` with an empty config: no credentials, no network."""
    result = subprocess.run(
        [sys.executable, "-c", "from tap_xero.tap import TapXero; TapXero.cli()", "--discover"],
        capture_output=True, text=True, check=False, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},  # no PAN_SEC_* or TAP_XERO_* leaking in
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return {entry["tap_stream_id"]: entry for entry in json.loads(result.stdout)["streams"]}


def test_every_stream_is_declared_once_and_employees_is_not() -> None:
    names = [cls.name for cls in STREAM_CLASSES]
    assert len(names) == len(set(names))
    assert set(names) == set(EXPECTED)
    assert "employees" not in names
    declared_endpoints = {getattr(cls, "endpoint", None) for cls in STREAM_CLASSES} - {None}
    # one stream per collection endpoint of the Accounting, Assets and Projects APIs, and one per variant of one
    # (the cash-basis journals)
    assert declared_endpoints == {
        *endpoints.ENDPOINTS, *endpoints.OTHER_API_ENDPOINTS, endpoints.CASH_JOURNALS_ENDPOINT}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_keys_replication_and_selection_in_the_catalog(catalog: dict, name: str) -> None:
    keys, replication_key = EXPECTED[name]
    entry = catalog[name]
    assert entry["key_properties"] == ["tenant_id", *keys]
    root = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
    assert root.get("replication-key") == replication_key
    assert entry["replication_method"] == ("INCREMENTAL" if replication_key else "FULL_TABLE")
    assert entry.get("replication_key") == replication_key
    assert root.get("selected-by-default") is (name not in RETIRED | PER_PROJECT)
    assert "tenant_id" in entry["schema"]["properties"]


@pytest.fixture(scope="module")
def tap() -> TapXero:
    return TapXero(config={}, validate_config=False)


@pytest.mark.parametrize("cls", STREAM_CLASSES, ids=lambda cls: cls.name)
def test_required_scopes_come_from_the_endpoint_or_report(tap: TapXero, cls) -> None:
    stream = tap.streams[cls.name]
    source = getattr(cls, "endpoint", None) or getattr(cls, "report", None)
    if source is None:  # a child table needs what its parent needs
        parent = next(p for p, child in CHILDREN.items() if child == cls.name)
        source = tap.streams[parent].endpoint
    assert stream_scopes(stream) == source.scopes
    assert stream_scopes(stream), cls.name


@pytest.mark.parametrize("cls", STREAM_CLASSES, ids=lambda cls: cls.name)
def test_required_scopes_are_in_the_discovered_metadata(catalog: dict, cls) -> None:
    """Issue 4.6: discovery states each stream's required scopes (any one of them grants it)."""
    root = next(m["metadata"] for m in catalog[cls.name]["metadata"] if m["breadcrumb"] == [])
    source = getattr(cls, "endpoint", None) or getattr(cls, "report", None)
    if source is None:
        parent = next(p for p, child in CHILDREN.items() if child == cls.name)
        source = next(c for c in STREAM_CLASSES if c.name == parent).endpoint
    assert root["required-scopes"] == list(source.scopes)


def test_child_tables_hang_off_their_parents(tap: TapXero) -> None:
    for parent, child in CHILDREN.items():
        assert tap.streams[child].parent_stream_type is type(tap.streams[parent])
