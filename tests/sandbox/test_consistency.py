"""Accounting consistency: journals balance, reports equal journals, AmountDue identity.

Checked on generated data and again after mutations; one check runs over real HTTP.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
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


def _figures(row: dict) -> tuple[Decimal, Decimal]:
    """A trial balance row's (Debit - Credit, YTD Debit - YTD Credit)."""
    debit, credit, ytd_debit, ytd_credit = (Decimal(cell["Value"] or "0") for cell in row["Cells"][1:5])
    return debit - credit, ytd_debit - ytd_credit


def _code(row: dict) -> str:
    label = row["Cells"][0]["Value"]
    return label[label.rindex("(") + 1:-1]


def _trial_balance(report: dict) -> dict[str, tuple[Decimal, Decimal]]:
    """Account code -> (the month's movement, the year-to-date balance), as the report shows them."""
    return {_code(row): _figures(row) for _title, row in _rows(report) if row["RowType"] == "Row"}


def _year_start(at: date) -> date:
    """The start of the sandbox's financial year holding ``at`` (it ends on 30 June)."""
    return date(at.year if at.month >= 7 else at.year - 1, 7, 1)


def _xero_trial_balance(journals: list[dict], accounts: list[dict], at: date) -> dict[str, tuple[Decimal, Decimal]]:
    """What Xero's TrialBalance shows at ``at``, from the journals alone: per account, the movement from the
    1st of ``at``'s month to ``at``, and the year-to-date balance (revenue and expenses since the financial
    year's start, the rest since the beginning, Retained Earnings with every earlier year's profit);
    accounts with neither left out."""
    month = _ledger(journals, until=at, since=at.replace(day=1))
    to_date = _ledger(journals, until=at)
    this_year = _ledger(journals, until=at, since=_year_start(at))
    earlier_years = _ledger(journals, until=_year_start(at) - timedelta(days=1))
    profit_and_loss = {a["Code"] for a in accounts if a["Class"] in ("REVENUE", "EXPENSE")}
    out = {}
    for account in accounts:
        code = account["Code"]
        ytd = this_year[code] if code in profit_and_loss else to_date[code]
        if account.get("SystemAccount") == "RETAINEDEARNINGS":
            ytd += sum((earlier_years[c] for c in profit_and_loss), ZERO)  # debit-signed: a profit credits it
        if month[code] or ytd:
            out[code] = (month[code], ytd)
    return out


def _assert_trial_balance_is_xero_s(store: Store, tenant: str, journals: list[dict], at: date) -> None:
    report = store.report(tenant, "TrialBalance", {"date": at.isoformat()})
    accounts = store.list(tenant, "Accounts", Query()).records
    assert _trial_balance(report) == _xero_trial_balance(journals, accounts, at), at
    (total,) = [row for _title, row in _rows(report) if row["Cells"][0]["Value"] == "Total"]
    debit, credit, ytd_debit, ytd_credit = (Decimal(cell["Value"]) for cell in total["Cells"][1:])
    assert (debit, ytd_debit) == (credit, ytd_credit), at  # both pairs of columns balance


def _assert_consistent(store: Store, tenant: str) -> None:
    journals = _journals(store, tenant)
    for journal in journals:
        assert sum(line["NetAmount"] for line in journal["JournalLines"]) == 0, journal["JournalNumber"]
    numbers = [j["JournalNumber"] for j in journals]
    assert numbers == list(range(1, len(journals) + 1))
    created = [parse_ms_date(j["CreatedDateUTC"]) for j in journals]
    assert created == sorted(created)
    for at in (date(1966, 1, 1), date(2024, 6, 30), date(2025, 3, 15), date(2025, 7, 20), date(2030, 1, 1)):
        _assert_trial_balance_is_xero_s(store, tenant, journals, at)
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


def _served_trial_balance(store: Store, tenant: str, at: date) -> dict:
    return store.report(tenant, "TrialBalance", {"date": at.isoformat()})


def test_trial_balance_debit_and_credit_are_the_month_s_movement_not_the_balance(store):
    tenant = store.tenants[0].tenant_id
    journals = _journals(store, tenant)
    at = date(2025, 3, 15)
    served = _trial_balance(_served_trial_balance(store, tenant, at))
    movement = _ledger(journals, until=at, since=date(2025, 3, 1))
    assert {code: month for code, (month, _ytd) in served.items() if month} == {
        code: amount for code, amount in movement.items() if amount}
    balance = _ledger(journals, until=at)
    assert sum(1 for code, (month, _ytd) in served.items() if month and month != balance[code]) >= 3


def test_retained_earnings_ytd_holds_earlier_years_profit_so_the_ytd_columns_balance_after_a_year_end(store):
    tenant = store.tenants[0].tenant_id
    journals = _journals(store, tenant)
    accounts = {a["Code"]: a for a in store.list(tenant, "Accounts", Query()).records}
    at = date(2025, 7, 20)  # the year from 1 July 2025: two financial years have ended before it
    report = _served_trial_balance(store, tenant, at)
    before = _ledger(journals, until=date(2025, 6, 30))
    earlier_profit = -sum((v for code, v in before.items() if accounts[code]["Class"] in ("REVENUE", "EXPENSE")), ZERO)
    assert earlier_profit
    assert _trial_balance(report)["960"][1] == _ledger(journals, until=at)["960"] - earlier_profit
    (total,) = [row for _title, row in _rows(report) if row["Cells"][0]["Value"] == "Total"]
    _debit, _credit, ytd_debit, ytd_credit = (Decimal(cell["Value"]) for cell in total["Cells"][1:])
    assert ytd_debit == ytd_credit > 0


@pytest.mark.parametrize("at", [date(2025, 8, 15), date(2030, 1, 1)])
def test_a_month_without_movement_shows_0_00_on_the_side_of_the_ytd_balance(store, at):
    """As the spec's example ("Unpaid Expense Claims (210)": "", "0.00", "", "135.00"); on 1 January
    2030, after every posting, no account moves."""
    report = _served_trial_balance(store, store.tenants[0].tenant_id, at)
    quiet = []
    for _title, row in _rows(report):
        if row["RowType"] != "Row":
            continue
        debit, credit, ytd_debit, ytd_credit = (cell["Value"] for cell in row["Cells"][1:])
        assert bool(debit) != bool(credit) and not (ytd_debit and ytd_credit), row
        if "0.00" in (debit, credit):
            quiet.append((debit, credit, ytd_debit, ytd_credit))
    assert quiet
    for debit, credit, ytd_debit, ytd_credit in quiet:
        assert (debit, credit) == (("0.00", "") if ytd_debit else ("", "0.00")) and (ytd_debit or ytd_credit)
    assert {debit for debit, *_ in quiet} == {"0.00", ""}  # on both sides


def test_balance_sheet_current_year_earnings_names_the_nil_account_as_xero_does(store):
    report = store.report(store.tenants[0].tenant_id, "BalanceSheet", {"date": "2025-03-31", "periods": "2"})
    (row,) = [row for title, row in _rows(report) if row["Cells"][0]["Value"] == "Current Year Earnings"]
    assert len(row["Cells"]) == 4
    for cell in row["Cells"]:
        assert cell["Attributes"] == [{"Value": "00000000-0000-0000-0000-000000000000", "Id": "account"}]


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
            line = next(line for line in entries[0]["JournalLines"] if line["AccountCode"] == counter)
            assert abs(line["NetAmount"]) == invoice["Total"]
            assert entries[0]["SourceType"] == invoice["Type"]
            assert entries[0]["JournalDate"] == invoice["Date"]
        elif invoice["Status"] == "VOIDED":
            assert len(entries) == 2  # posted, then reversed
            assert sum(line["NetAmount"] for entry in entries for line in entry["JournalLines"]
                       if line["AccountCode"] in ("610", "800")) == 0
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
    assert values["Total Income"] == -sum(
        (v for c, v in movements.items() if accounts[c]["Type"] in ("REVENUE", "SALES")), ZERO)


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
            {"Description": "Exempt", "Quantity": 1, "UnitAmount": 10, "AccountCode": "260",
             "TaxType": "EXEMPTOUTPUT"}]})
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
    accounts = session.api("Accounts").json()["Accounts"]
    served = _trial_balance(answer.json(parse_float=Decimal)["Reports"][0])
    assert served == _xero_trial_balance(journals, accounts, at)
