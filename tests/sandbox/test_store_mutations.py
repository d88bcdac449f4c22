"""Store mutations: timestamps, order, journals, webhook events, validation, thread safety."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from xero_sandbox.core.generation import GENERATED_MAX_MS, parse_ms_date
from xero_sandbox import Query, Store


class StepClock:
    """A test clock that only moves when told to (and may be set backwards)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> StepClock:
    return StepClock(datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone.utc))


@pytest.fixture
def store(clock) -> Store:
    return Store(seed=21, scale=150, tenants=2, clock=clock)


@pytest.fixture
def tenant(store) -> str:
    return store.tenants[0].tenant_id


def _ids(store, tenant, key, **query) -> list[str]:
    id_field = {"Invoices": "InvoiceID", "Contacts": "ContactID", "CreditNotes": "CreditNoteID"}.get(
        key, key[:-1] + "ID")
    return [r[id_field] for r in store.list(tenant, key, Query(page=1, page_size=1000, **query)).records]


def _journal_count(store, tenant) -> int:
    return store.counts()[tenant]["Journals"]


def test_update_stamps_clock_time_and_moves_the_record_to_the_end(store, tenant, clock):
    before = _ids(store, tenant, "Invoices")
    target = before[10]
    updated = store.update(tenant, "Invoices", target, {"Reference": "moved"})
    assert parse_ms_date(updated["UpdatedDateUTC"]) == int(clock.now.timestamp() * 1000)
    after = _ids(store, tenant, "Invoices")
    assert after == before[:10] + before[11:] + [target]
    assert store.get(tenant, "Invoices", target)["Reference"] == "moved"
    since = store.list(tenant, "Invoices", Query(page=1, modified_since=clock.now - timedelta(seconds=1))).records
    assert [r["InvoiceID"] for r in since] == [target]
    # The other tenant is untouched.
    other = store.tenants[1].tenant_id
    assert store.list(other, "Invoices", Query(page=1, modified_since=clock.now - timedelta(seconds=1))).records == []


def test_paging_after_a_mutation_still_serves_every_record_once(store, tenant):
    before = _ids(store, tenant, "Invoices")
    store.touch(tenant, "Invoices", before[0])
    store.touch(tenant, "Invoices", before[70])
    seen, page = [], 1
    while records := store.list(tenant, "Invoices", Query(page=page, page_size=40)).records:
        seen += [r["InvoiceID"] for r in records]
        page += 1
    assert sorted(seen) == sorted(before) and len(seen) == len(set(seen))
    assert seen[-2:] == [before[0], before[70]]


def test_mutation_stamps_never_decrease_and_follow_generated_data(store, tenant, clock):
    ids = _ids(store, tenant, "Contacts")
    clock.now = datetime(2001, 1, 1, tzinfo=timezone.utc)  # a clock before the generated data
    first = parse_ms_date(store.touch(tenant, "Contacts", ids[0])["UpdatedDateUTC"])
    assert first > GENERATED_MAX_MS
    clock.now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    second = parse_ms_date(store.touch(tenant, "Contacts", ids[1])["UpdatedDateUTC"])
    clock.now = datetime(2026, 5, 1, tzinfo=timezone.utc)  # backwards: stamps must not
    third = parse_ms_date(store.touch(tenant, "Contacts", ids[2])["UpdatedDateUTC"])
    assert first < second <= third
    assert _ids(store, tenant, "Contacts")[-3:] == ids[:3]


def test_touch_bumps_only_the_timestamp(store, tenant):
    invoice = store.list(tenant, "Invoices", Query(page=1, unitdp=4)).records[3]
    journals = _journal_count(store, tenant)
    touched = store.touch(tenant, "Invoices", invoice["InvoiceID"])
    assert touched["UpdatedDateUTC"] != invoice["UpdatedDateUTC"]
    assert {k: v for k, v in touched.items() if k != "UpdatedDateUTC"} == \
        {k: v for k, v in invoice.items() if k != "UpdatedDateUTC"}
    assert _journal_count(store, tenant) == journals
    with pytest.raises(ValueError):
        store.touch(tenant, "TaxRates", "OUTPUT")


def test_create_adds_a_record_with_a_new_id_at_the_end(store, tenant):
    contact = store.create(tenant, "Contacts", {"Name": "Neue Kundschaft GmbH", "EmailAddress": "a@example.com"})
    assert contact["ContactStatus"] == "ACTIVE"
    assert store.get(tenant, "Contacts", contact["ContactID"])["Name"] == "Neue Kundschaft GmbH"
    assert _ids(store, tenant, "Contacts")[-1] == contact["ContactID"]
    counts = store.counts()[tenant]
    invoice = store.create(tenant, "Invoices", {"Type": "ACCPAY", "Contact": {"ContactID": contact["ContactID"]},
                                                "LineItems": [{"Description": "x", "Quantity": 2, "UnitAmount": "1.5",
                                                               "AccountCode": "429"}]})
    assert invoice["Status"] == "DRAFT" and invoice["Total"] == Decimal("3.30")
    assert invoice["AmountDue"] == invoice["Total"]
    assert store.counts()[tenant]["Invoices"] == counts["Invoices"] + 1
    assert store.counts()[tenant]["Journals"] == counts["Journals"]  # drafts are not posted
    assert invoice["InvoiceID"] not in _ids(store, tenant, "Invoices")[:-1]
    with pytest.raises(ValueError):
        store.create(tenant, "Invoices", {"Contact": {"ContactID": "00000000-0000-4000-8000-00000000dead"}})
    with pytest.raises(ValueError):
        store.create(tenant, "Journals", {})
    with pytest.raises(ValueError):
        store.create(tenant, "Contacts", {"EmailAddress": "nameless@example.com"})


def test_posting_a_document_adds_one_balanced_journal(store, tenant):
    contact_id = _ids(store, tenant, "Contacts")[1]
    journals = _journal_count(store, tenant)
    credit = store.create(tenant, "CreditNotes", {
        "Type": "ACCRECCREDIT", "Status": "AUTHORISED", "Contact": {"ContactID": contact_id},
        "LineItems": [{"Description": "Refund", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200"}]})
    assert credit["RemainingCredit"] == credit["Total"] == Decimal("110.00")
    assert _journal_count(store, tenant) == journals + 1
    journal = store.list(tenant, "Journals", Query(offset=journals)).records[0]
    assert journal["SourceID"] == credit["CreditNoteID"] and journal["SourceType"] == "ACCRECCREDIT"
    assert sum(line["NetAmount"] for line in journal["JournalLines"]) == 0
    receivable = next(line for line in journal["JournalLines"] if line["AccountCode"] == "610")
    assert receivable["NetAmount"] == Decimal("-110.00")


def test_void_posted_invoice_reverses_and_draft_becomes_deleted(store, tenant):
    invoices = store.list(tenant, "Invoices", Query(page=1, page_size=1000)).records
    authorised = next(i for i in invoices if i["Status"] == "AUTHORISED")
    draft = next(i for i in invoices if i["Status"] == "DRAFT")
    journals = _journal_count(store, tenant)
    voided = store.void(tenant, "Invoices", authorised["InvoiceID"])
    assert voided["Status"] == "VOIDED" and voided["AmountDue"] == 0
    added = store.list(tenant, "Journals", Query(offset=journals)).records
    reversal = next(j for j in added if j["SourceID"] == authorised["InvoiceID"])
    counter = next(line for line in reversal["JournalLines"] if line["AccountCode"] in ("610", "800"))
    sign = -1 if authorised["Type"] == "ACCREC" else 1
    assert counter["NetAmount"] == sign * authorised["Total"]
    assert store.void(tenant, "Invoices", draft["InvoiceID"])["Status"] == "DELETED"
    with pytest.raises(ValueError):
        store.void(tenant, "Invoices", draft["InvoiceID"])
    with pytest.raises(ValueError):
        store.void(tenant, "Contacts", _ids(store, tenant, "Contacts")[0])
    with pytest.raises(ValueError):
        store.update(tenant, "Invoices", authorised["InvoiceID"], {"Reference": "edit a voided invoice"})


def test_payments_settle_invoices_and_deleting_one_reopens_it(store, tenant):
    invoices = store.list(tenant, "Invoices", Query(page=1, page_size=1000)).records
    invoice = next(i for i in invoices if i["Status"] == "AUTHORISED" and i["Type"] == "ACCREC")
    due = invoice["AmountDue"]
    with pytest.raises(ValueError):
        store.create(tenant, "Payments", {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": due + 1})
    draft = next(i for i in invoices if i["Status"] == "DRAFT")
    with pytest.raises(ValueError):
        store.create(tenant, "Payments", {"Invoice": {"InvoiceID": draft["InvoiceID"]}, "Amount": "1.00"})
    payment = store.create(tenant, "Payments", {"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                                                "Account": {"Code": "091"}, "Amount": str(due), "Date": "2025-11-30"})
    assert payment["PaymentType"] == "ACCRECPAYMENT" and payment["Status"] == "AUTHORISED"
    paid = store.get(tenant, "Invoices", invoice["InvoiceID"])
    assert paid["Status"] == "PAID" and paid["AmountDue"] == 0
    assert paid["AmountPaid"] == invoice["AmountPaid"] + due
    assert paid["FullyPaidOnDate"] == payment["Date"]
    store.void(tenant, "Payments", payment["PaymentID"])
    reopened = store.get(tenant, "Invoices", invoice["InvoiceID"])
    assert reopened["Status"] == "AUTHORISED" and reopened["AmountDue"] == due
    assert store.get(tenant, "Payments", payment["PaymentID"])["Status"] == "DELETED"


def test_contact_balances_follow_payments_without_bumping_the_contact(store, tenant):
    invoices = store.list(tenant, "Invoices", Query(page=1, page_size=1000)).records
    invoice = next(i for i in invoices if i["Status"] == "AUTHORISED" and i["Type"] == "ACCREC")
    contact_id = invoice["Contact"]["ContactID"]
    before = store.get(tenant, "Contacts", contact_id)
    store.create(tenant, "Payments", {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": "1.00"})
    after = store.get(tenant, "Contacts", contact_id)
    assert after["Balances"]["AccountsReceivable"]["Outstanding"] == \
        before["Balances"]["AccountsReceivable"]["Outstanding"] - 1
    assert after["UpdatedDateUTC"] == before["UpdatedDateUTC"]


def test_updating_lines_of_a_paid_invoice_is_refused(store, tenant):
    invoice = next(i for i in store.list(tenant, "Invoices", Query(page=1, page_size=1000)).records
                   if i["Status"] == "PAID" and i["Payments"])
    with pytest.raises(ValueError):
        store.update(tenant, "Invoices", invoice["InvoiceID"], {"LineItems": []})


def test_archive_hides_contacts_by_default(store, tenant):
    contact_id = _ids(store, tenant, "Contacts")[0]
    archived = store.archive(tenant, "Contacts", contact_id)
    assert archived["ContactStatus"] == "ARCHIVED"
    assert contact_id not in _ids(store, tenant, "Contacts")
    assert _ids(store, tenant, "Contacts", include_archived=True)[-1] == contact_id
    account = store.archive(tenant, "Accounts", store.list(tenant, "Accounts", Query()).records[5]["AccountID"])
    assert account["Status"] == "ARCHIVED"
    with pytest.raises(ValueError):
        store.archive(tenant, "Invoices", _ids(store, tenant, "Invoices")[0])


def test_unknown_records_raise_lookup_error(store, tenant):
    with pytest.raises(LookupError):
        store.update(tenant, "Invoices", "00000000-0000-4000-8000-00000000beef", {"Reference": "x"})
    with pytest.raises(LookupError):
        store.touch(tenant, "Contacts", "not-an-id")


def test_other_collections_can_be_created_updated_and_voided(store, tenant):
    account = store.create(tenant, "Accounts", {"Code": "455", "Name": "Subscriptions", "Type": "OVERHEADS",
                                                "TaxType": "INPUT"})
    assert account["Class"] == "EXPENSE"
    with pytest.raises(ValueError):
        store.create(tenant, "Accounts", {"Code": "455", "Name": "Duplicate", "Type": "OVERHEADS"})
    contact_id = _ids(store, tenant, "Contacts")[0]
    spend = store.create(tenant, "BankTransactions", {
        "Type": "SPEND", "Contact": {"ContactID": contact_id}, "BankAccount": {"Code": "090"},
        "LineItems": [{"Description": "Software", "Quantity": 1, "UnitAmount": 20, "AccountID": account["AccountID"]}]})
    assert spend["LineItems"][0]["AccountCode"] == "455"
    assert spend["Status"] == "AUTHORISED" and spend["Total"] == Decimal("22.00")
    assert store.void(tenant, "BankTransactions", spend["BankTransactionID"])["Status"] == "DELETED"
    item = store.create(tenant, "Items", {"Code": "NEW-1", "Name": "New item"})
    assert store.update(tenant, "Items", item["ItemID"], {"Name": "Renamed"})["Name"] == "Renamed"
    order = store.list(tenant, "PurchaseOrders", Query(page=1)).records[0]
    assert store.update(tenant, "PurchaseOrders", order["PurchaseOrderID"], {"Reference": "R"})["Reference"] == "R"
    quote = store.list(tenant, "Quotes", Query(page=1)).records[0]
    assert store.void(tenant, "Quotes", quote["QuoteID"])["Status"] == "DELETED"
    journal = store.create(tenant, "ManualJournals", {"Narration": "Draft only", "JournalLines": [
        {"LineAmount": 5, "AccountCode": "455"}, {"LineAmount": -5, "AccountCode": "090"}]})
    assert journal["Status"] == "DRAFT"
    with pytest.raises(ValueError):
        store.create(tenant, "ManualJournals", {"Narration": "Unbalanced", "JournalLines": [
            {"LineAmount": 5, "AccountCode": "455"}]})


def test_subscribers_get_webhook_events_for_invoices_contacts_and_credit_notes(store, tenant, clock):
    events: list[dict] = []
    store.subscribe(events.append)
    contact = store.create(tenant, "Contacts", {"Name": "Webhook Watcher"})
    store.update(tenant, "Contacts", contact["ContactID"], {"Name": "Webhook Watcher 2"})
    invoice_id = _ids(store, tenant, "Invoices")[0]
    store.touch(tenant, "Invoices", invoice_id)
    credit_id = _ids(store, tenant, "CreditNotes")[0]
    store.touch(tenant, "CreditNotes", credit_id)
    store.touch(tenant, "Accounts", store.list(tenant, "Accounts", Query()).records[0]["AccountID"])
    assert [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in events] == [
        ("CONTACT", "CREATE", contact["ContactID"]), ("CONTACT", "UPDATE", contact["ContactID"]),
        ("INVOICE", "UPDATE", invoice_id), ("CREDITNOTE", "UPDATE", credit_id)]
    event = events[2]
    assert set(event) == {"resourceUrl", "resourceId", "eventDateUtc", "eventType", "eventCategory", "tenantId",
                          "tenantType"}
    assert event["resourceUrl"].endswith(f"/api.xro/2.0/Invoices/{invoice_id}")
    assert event["tenantId"] == tenant and event["tenantType"] == "ORGANISATION"
    assert event["eventDateUtc"].startswith(clock.now.strftime("%Y-%m-%dT%H:%M:%S"))


def test_paying_an_invoice_sends_an_invoice_update_event(store, tenant):
    events: list[dict] = []
    store.subscribe(events.append)
    invoice = next(i for i in store.list(tenant, "Invoices", Query(page=1, page_size=1000)).records
                   if i["Status"] == "AUTHORISED")
    store.create(tenant, "Payments", {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": "0.01"})
    assert [(e["eventCategory"], e["resourceId"]) for e in events] == [("INVOICE", invoice["InvoiceID"])]


def test_concurrent_mutations_are_serialised(store, tenant):
    ids = _ids(store, tenant, "Contacts")[:40]
    journals = _journal_count(store, tenant)
    errors: list[BaseException] = []

    def work(chunk: list[str]) -> None:
        try:
            for contact_id in chunk:
                store.update(tenant, "Contacts", contact_id, {"Website": "https://example.com"})
                store.list(tenant, "Contacts", Query(page=1, page_size=100))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(ids[k::4],)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    served = store.list(tenant, "Contacts", Query(page=1, page_size=1000)).records
    assert sorted(r["ContactID"] for r in served[-40:]) == sorted(ids)
    stamps = [parse_ms_date(r["UpdatedDateUTC"]) for r in served]
    assert stamps == sorted(stamps)
    assert _journal_count(store, tenant) == journals


def test_a_failing_subscriber_does_not_fail_the_mutation(store, tenant, caplog):
    delivered: list[dict] = []

    def broken(event: dict) -> None:
        raise ConnectionError("receiver down")

    store.subscribe(broken)
    store.subscribe(delivered.append)
    contact = store.create(tenant, "Contacts", {"Name": "Still created"})
    assert store.get(tenant, "Contacts", contact["ContactID"])["Name"] == "Still created"
    assert [e["resourceId"] for e in delivered] == [contact["ContactID"]]
    assert "webhook subscriber failed" in caplog.text


def test_unsubscribed_callbacks_get_no_more_events(store, tenant):
    kept: list[dict] = []
    dropped: list[dict] = []
    store.subscribe(kept.append)
    unsubscribe = store.subscribe(dropped.append)
    store.touch(tenant, "Invoices", _ids(store, tenant, "Invoices")[0])
    unsubscribe()
    unsubscribe()  # twice is harmless
    store.touch(tenant, "Invoices", _ids(store, tenant, "Invoices")[1])
    assert len(kept) == 2 and len(dropped) == 1
