"""Accounting consistency: journals balance, reports equal journals, AmountDue identity.

Checked on generated data and again after mutations; one check runs over real HTTP.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from xero_sandbox.core.generation import UNIX_EPOCH_ORDINAL, parse_ms_date
from xero_sandbox import Query, Store

ZERO = Decimal("0.00")


def _journals(store: Store, tenant: str) -> list[dict]:
    out, offset = [], 0
    while page := store.list(tenant, "Journals", Query(offset=offset)).records:
        out += page
        offset = page[-1]["JournalNumber"]
    return out


def _day(msdate: str) -> date:
    return date.fromordinal(UNIX_EPOCH_ORDINAL + parse_ms_date(msdate) // 86_400_000)


def _ledger(journals: list[dict], until: date | None = None, since: date | None = None) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for journal in journals:
        day = _day(journal["JournalDate"])
        if (until and day > until) or (since and day < since):
            continue
        for line in journal["JournalLines"]:
            totals[line["AccountCode"]] += line["NetAmount"]
    return totals


def _rows(report: dict):
    for section in report["Rows"]:
        for row in section.get("Rows", []):
            yield section.get("Title", ""), row


def _trial_balance(store: Store, tenant: str, at: date) -> dict[str, Decimal]:
    report = store.report(tenant, "TrialBalance", {"date": at.isoformat()})
    out = {}
    for _title, row in _rows(report):
        if row["RowType"] != "Row":
            continue
        label = row["Cells"][0]["Value"]
        code = label[label.rindex("(") + 1:-1]
        debit, credit = (Decimal(row["Cells"][k]["Value"] or "0") for k in (1, 2))
        out[code] = debit - credit
    return out


def _assert_consistent(store: Store, tenant: str) -> None:
    journals = _journals(store, tenant)
    for journal in journals:
        assert sum(line["NetAmount"] for line in journal["JournalLines"]) == 0, journal["JournalNumber"]
    numbers = [j["JournalNumber"] for j in journals]
    assert numbers == list(range(1, len(journals) + 1))
    created = [parse_ms_date(j["CreatedDateUTC"]) for j in journals]
    assert created == sorted(created)
    for at in (date(1966, 1, 1), date(2024, 6, 30), date(2025, 3, 15), date(2030, 1, 1)):
        ledger = {code: amount for code, amount in _ledger(journals, until=at).items() if amount}
        assert _trial_balance(store, tenant, at) == ledger, at
    _assert_amount_due_identity(store, tenant)
    _assert_balance_sheet_balances(store, tenant, date(2030, 1, 1))


def _assert_amount_due_identity(store: Store, tenant: str) -> None:
    invoices = store.list(tenant, "Invoices", Query(page=1, page_size=1000)).records
    payments = store.list(tenant, "Payments", Query(page=1, page_size=1000)).records
    paid_by_payments: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for payment in payments:
        if payment["Status"] == "AUTHORISED":
            paid_by_payments[payment["Invoice"]["InvoiceID"]] += payment["Amount"]
    credited_by_allocations: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for key in ("CreditNotes", "Prepayments", "Overpayments"):
        for credit in store.list(tenant, key, Query(page=1, page_size=1000)).records:
            assert credit["RemainingCredit"] == credit["Total"] - sum(
                (a["Amount"] for a in credit["Allocations"]), ZERO)
            for allocation in credit["Allocations"]:
                credited_by_allocations[allocation["Invoice"]["InvoiceID"]] += allocation["Amount"]
    for invoice in invoices:
        invoice_id = invoice["InvoiceID"]
        assert invoice["AmountPaid"] == sum((p["Amount"] for p in invoice["Payments"]), ZERO)
        assert invoice["AmountPaid"] == paid_by_payments[invoice_id]
        assert invoice["AmountCredited"] == credited_by_allocations[invoice_id]
        if invoice["Status"] in ("VOIDED", "DELETED"):
            assert invoice["AmountDue"] == 0
        else:
            assert invoice["AmountDue"] == invoice["Total"] - invoice["AmountPaid"] - invoice["AmountCredited"]
            assert invoice["AmountDue"] >= 0
        if invoice["Status"] == "PAID":
            assert invoice["AmountDue"] == 0
        if invoice["Status"] == "AUTHORISED":
            assert invoice["AmountDue"] > 0


def _assert_balance_sheet_balances(store: Store, tenant: str, at: date) -> None:
    report = store.report(tenant, "BalanceSheet", {"date": at.isoformat()})
    summaries = {row["Cells"][0]["Value"]: Decimal(row["Cells"][1]["Value"])
                 for _title, row in _rows(report) if row["RowType"] in ("SummaryRow", "Row")}
    assert summaries["Total Assets"] - summaries["Total Liabilities"] == summaries["Net Assets"]
    assert summaries["Net Assets"] == summaries["Total Equity"]


@pytest.fixture(scope="module")
def store() -> Store:
    return Store(seed=11, scale=300, tenants=2)


def test_generated_data_is_consistent_for_every_tenant(store):
    for tenant in store.tenants:
        _assert_consistent(store, tenant.tenant_id)


def test_every_posted_document_has_its_journal_and_drafts_have_none(store):
    tenant = store.tenants[0].tenant_id
    journals = _journals(store, tenant)
    by_source: dict[str, list[dict]] = defaultdict(list)
    for journal in journals:
        by_source[journal["SourceID"]].append(journal)
    for invoice in store.list(tenant, "Invoices", Query(page=1, page_size=1000)).records:
        entries = by_source.get(invoice["InvoiceID"], [])
        if invoice["Status"] in ("AUTHORISED", "PAID"):
            assert len(entries) == 1
            counter = "610" if invoice["Type"] == "ACCREC" else "800"
            line = next(l for l in entries[0]["JournalLines"] if l["AccountCode"] == counter)
            assert abs(line["NetAmount"]) == invoice["Total"]
            assert entries[0]["SourceType"] == invoice["Type"]
            assert entries[0]["JournalDate"] == invoice["Date"]
        elif invoice["Status"] == "VOIDED":
            assert len(entries) == 2  # posted, then reversed
            assert sum(l["NetAmount"] for e in entries for l in e["JournalLines"] if l["AccountCode"] in ("610", "800")) == 0
        else:
            assert entries == []
    for payment in store.list(tenant, "Payments", Query(page=1, page_size=1000)).records:
        (entry,) = by_source[payment["PaymentID"]]
        assert entry["SourceType"] == payment["PaymentType"]


def test_profit_and_loss_equals_journal_movements_in_the_period(store):
    tenant = store.tenants[0].tenant_id
    journals = _journals(store, tenant)
    start, end = date(2024, 7, 1), date(2025, 6, 30)
    movements = _ledger(journals, until=end, since=start)
    accounts = {a["Code"]: a for a in store.list(tenant, "Accounts", Query()).records}
    expected_net = -sum((v for code, v in movements.items() if accounts[code]["Class"] in ("REVENUE", "EXPENSE")),
                        ZERO)
    report = store.report(tenant, "ProfitAndLoss", {"fromDate": start.isoformat(), "toDate": end.isoformat()})
    values = {row["Cells"][0]["Value"]: Decimal(row["Cells"][1]["Value"]) for _t, row in _rows(report)}
    assert values["Net Profit"] == expected_net
    assert values["Total Income"] == -sum((v for c, v in movements.items() if accounts[c]["Type"] in ("REVENUE", "SALES")),
                                          ZERO)


def test_bank_summary_matches_bank_journal_lines(store):
    tenant = store.tenants[0].tenant_id
    journals = _journals(store, tenant)
    start, end = date(2024, 3, 1), date(2024, 12, 31)
    report = store.report(tenant, "BankSummary", {"fromDate": start.isoformat(), "toDate": end.isoformat()})
    closing_by_bank = _ledger(journals, until=end)
    accounts = {a["Name"]: a["Code"] for a in store.list(tenant, "Accounts", Query()).records}
    rows = [row for _t, row in _rows(report) if row["RowType"] == "Row"]
    assert len(rows) == 3
    for row in rows:
        opening, received, spent, closing = (Decimal(c["Value"]) for c in row["Cells"][1:])
        assert opening + received - spent == closing
        assert closing == closing_by_bank[accounts[row["Cells"][0]["Value"]]]


def test_reports_have_xero_shape(store):
    tenant = store.tenants[0].tenant_id
    for name, params in (("TrialBalance", {"date": "2025-06-30"}), ("BalanceSheet", {"date": "2025-06-30"}),
                         ("ProfitAndLoss", {"fromDate": "2025-01-01", "toDate": "2025-03-31"}),
                         ("BankSummary", {"fromDate": "2025-01-01", "toDate": "2025-03-31"}),
                         ("BudgetSummary", {"date": "2025-06-30"}), ("ExecutiveSummary", {"date": "2025-06-30"})):
        report = store.report(tenant, name, params)
        assert report["ReportID"] == name and report["ReportType"] == name
        # BudgetSummary names its budget first, as the spec's example does.
        assert report["ReportName"] and len(report["ReportTitles"]) == (4 if name == "BudgetSummary" else 3)
        assert report["UpdatedDateUTC"].startswith("/Date(")
        assert report["Rows"][0]["RowType"] == "Header"
        sections = report["Rows"][1:]
        assert sections and all(s["RowType"] == "Section" for s in sections)
        for _title, row in _rows(report):
            assert row["RowType"] in ("Row", "SummaryRow")
            assert all(isinstance(cell["Value"], str) for cell in row["Cells"])
        account_rows = [row for _t, row in _rows(report) if row["Cells"][0].get("Attributes")]
        if name != "ExecutiveSummary":
            assert account_rows, name
            assert account_rows[0]["Cells"][0]["Attributes"][0]["Id"] == "account"
    with pytest.raises(ValueError):
        store.report(tenant, "TrialBalance", {"date": "31/12/2025"})
    with pytest.raises(KeyError):
        store.report(tenant, "NoSuchReport", {})


def test_mutations_keep_journals_reports_and_amount_due_consistent():
    clock_now = [datetime(2026, 3, 1, tzinfo=timezone.utc)]
    store = Store(seed=12, scale=200, tenants=1, clock=lambda: clock_now[0])
    tenant = store.tenants[0].tenant_id
    invoices = store.list(tenant, "Invoices", Query(page=1, page_size=1000)).records
    contact = store.list(tenant, "Contacts", Query(page=1)).records[1]

    created = store.create(tenant, "Invoices", {
        "Type": "ACCREC", "Status": "AUTHORISED", "Contact": {"ContactID": contact["ContactID"]},
        "Date": "2025-05-05", "LineItems": [
            {"Description": "Widget", "Quantity": "3", "UnitAmount": "19.9950", "AccountCode": "200"},
            {"Description": "Exempt", "Quantity": 1, "UnitAmount": 10, "AccountCode": "260", "TaxType": "EXEMPTOUTPUT"}]})
    assert created["Total"] == Decimal("75.99")  # 59.985 -> 59.99, + 6.00 tax + 10.00 exempt
    store.create(tenant, "Payments", {"Invoice": {"InvoiceID": created["InvoiceID"]}, "Account": {"Code": "090"},
                                      "Amount": "25.99", "Date": "2025-05-20"})
    paid = next(i for i in invoices if i["Status"] == "PAID" and i["Payments"])
    store.void(tenant, "Invoices", paid["InvoiceID"])
    authorised = next(i for i in invoices if i["Status"] == "AUTHORISED" and not i["Payments"]
                      and not i["CreditNotes"] and not i["Prepayments"] and not i["Overpayments"])
    store.update(tenant, "Invoices", authorised["InvoiceID"], {"LineItems": [
        {"Description": "Re-priced", "Quantity": 2, "UnitAmount": "50.00", "AccountCode": "200"}]})
    draft = next(i for i in invoices if i["Status"] == "DRAFT")
    store.update(tenant, "Invoices", draft["InvoiceID"], {"Status": "AUTHORISED"})
    store.create(tenant, "ManualJournals", {"Narration": "Accrual", "Status": "POSTED", "Date": "2025-01-31",
                                            "JournalLines": [{"LineAmount": "123.45", "AccountCode": "453"},
                                                             {"LineAmount": "-123.45", "AccountCode": "800"}]})
    bank = store.list(tenant, "BankTransactions", Query(page=1)).records[0]
    store.void(tenant, "BankTransactions", bank["BankTransactionID"])
    _assert_consistent(store, tenant)
    journals = _journals(store, tenant)
    assert store.get(tenant, "Invoices", created["InvoiceID"])["AmountDue"] == Decimal("50.00")
    assert store.get(tenant, "Invoices", paid["InvoiceID"])["Status"] == "VOIDED"
    assert [p["Status"] for p in store.list(tenant, "Payments", Query(page=1, page_size=1000)).records
            if p["Invoice"]["InvoiceID"] == paid["InvoiceID"]] == ["DELETED"]
    assert sum(1 for j in journals if j["SourceID"] == authorised["InvoiceID"]) == 3  # original, reversal, new


def test_trial_balance_equals_journals_over_http(sandbox, xero_session):
    session = xero_session(sandbox)
    journals, offset = [], 0
    while True:
        answer = session.api("Journals", params={"offset": offset})
        assert answer.status_code == 200, answer.text[:200]
        page = answer.json(parse_float=Decimal)["Journals"]
        if not page:
            break
        journals += page
        offset = page[-1]["JournalNumber"]
    assert journals
    for journal in journals:
        assert sum(Decimal(str(line["NetAmount"])) for line in journal["JournalLines"]) == 0
    at = date(2025, 12, 31)
    answer = session.api("Reports/TrialBalance", params={"date": at.isoformat()})
    assert answer.status_code == 200, answer.text[:200]
    report = answer.json()["Reports"][0]
    served = {}
    for _title, row in _rows(report):
        if row["RowType"] == "Row":
            label = row["Cells"][0]["Value"]
            served[label[label.rindex("(") + 1:-1]] = Decimal(row["Cells"][1]["Value"] or "0") - Decimal(
                row["Cells"][2]["Value"] or "0")
    ledger = defaultdict(lambda: ZERO)
    for journal in journals:
        if _day(journal["JournalDate"]) <= at:
            for line in journal["JournalLines"]:
                ledger[line["AccountCode"]] += Decimal(str(line["NetAmount"]))
    assert served == {code: amount for code, amount in ledger.items() if amount}
