"""The generator: deterministic, coherent, every collection present, edge cases in place."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tap_xero import endpoints
from xero_sandbox import Organisation
from xero_sandbox.core.generation import GENERATED_MAX_MS, parse_ms_date, spread_ms, uuid_of
from xero_sandbox.resources.contacts import LONG_CONTACT_NAME, UNICODE_CONTACT_NAME
from xero_sandbox import Query, Store

SCALE = 120


def _dump(store: Store, tenant_id: str, key: str) -> str:
    page = store.list(tenant_id, key, Query(page=1, page_size=1000, include_archived=True, unitdp=4))
    return json.dumps(page.records, default=str, sort_keys=True)


@pytest.fixture(scope="module")
def store() -> Store:
    return Store(seed=1, scale=SCALE, tenants=2)


def test_same_seed_gives_identical_data_and_another_seed_differs(store):
    again = Store(seed=1, scale=SCALE, tenants=2)
    other = Store(seed=2, scale=SCALE, tenants=2)
    assert [t.tenant_id for t in again.tenants] == [t.tenant_id for t in store.tenants]
    assert [t.tenant_id for t in other.tenants] != [t.tenant_id for t in store.tenants]
    tenant = store.tenants[0].tenant_id
    for key in ("Invoices", "Contacts", "Journals", "Payments", "CreditNotes", "BankTransactions"):
        assert _dump(again, tenant, key) == _dump(store, tenant, key), key
    assert _dump(other, other.tenants[0].tenant_id, "Invoices") != _dump(store, tenant, "Invoices")


def test_generation_does_not_depend_on_wall_time_or_the_clock():
    from datetime import datetime, timezone
    early = Store(seed=3, scale=40, tenants=1, clock=lambda: datetime(2001, 1, 1, tzinfo=timezone.utc))
    late = Store(seed=3, scale=40, tenants=1, clock=lambda: datetime(2099, 1, 1, tzinfo=timezone.utc))
    tenant = early.tenants[0].tenant_id
    assert _dump(early, tenant, "Invoices") == _dump(late, tenant, "Invoices")


def test_tenants_are_distinct_organisations(store):
    first, second = store.tenants
    assert first.tenant_id != second.tenant_id and first.name != second.name
    assert first.tenant_type == "ORGANISATION"
    org_a = store.list(first.tenant_id, "Organisations", Query()).records[0]
    org_b = store.list(second.tenant_id, "Organisations", Query()).records[0]
    assert org_a["BaseCurrency"] != org_b["BaseCurrency"]
    assert org_a["OrganisationID"] != org_b["OrganisationID"]


def test_counts_cover_every_endpoint_and_scale_with_invoices(store):
    counts = store.counts()
    assert set(counts) == {t.tenant_id for t in store.tenants}
    for per_tenant in counts.values():
        assert set(per_tenant) == {e.envelope_key for e in endpoints.ENDPOINTS} | {
            e.collection_key for e in endpoints.OTHER_API_ENDPOINTS}
        assert per_tenant["Invoices"] == SCALE
        assert all(n > 0 for n in per_tenant.values()), per_tenant
    bigger = Store(seed=1, scale=SCALE * 10, tenants=1).counts()
    tenant = next(iter(bigger))
    assert bigger[tenant]["Invoices"] == SCALE * 10
    assert bigger[tenant]["Contacts"] == SCALE  # one contact per ten invoices
    assert bigger[tenant]["Journals"] > bigger[tenant]["Invoices"]


def test_counts_equal_records_served_without_filters_archived_included(store):
    tenant = store.tenants[0].tenant_id
    for ep in endpoints.ENDPOINTS:
        query = Query(page=1, page_size=1000, include_archived=True, include_deleted=True)
        if ep.paging is endpoints.Paging.OFFSET:
            served, offset = 0, 0
            while True:
                page = store.list(tenant, ep.envelope_key, Query(offset=offset)).records
                if not page:
                    break
                served += len(page)
                offset = page[-1]["JournalNumber"]
        elif ep.paging is endpoints.Paging.PAGE:
            served, number = 0, 1
            while records := store.list(tenant, ep.envelope_key, Query(page=number)).records:
                served += len(records)
                number += 1
        else:
            served = len(store.list(tenant, ep.envelope_key, query).records)
        assert served == store.counts()[tenant][ep.envelope_key], ep.envelope_key


def test_invoices_have_every_type_and_status_and_coherent_references(store):
    tenant = store.tenants[0].tenant_id
    invoices = store.list(tenant, "Invoices", Query(page=1, page_size=1000, unitdp=4)).records
    assert {i["Type"] for i in invoices} == {"ACCREC", "ACCPAY"}
    assert {i["Status"] for i in invoices} == {"DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"}
    accounts = {a["Code"]: a for a in store.list(tenant, "Accounts", Query()).records}
    tax_types = {t["TaxType"] for t in store.list(tenant, "TaxRates", Query()).records}
    items = {i["ItemID"]: i for i in store.list(tenant, "Items", Query()).records}
    options = {o["TrackingOptionID"] for c in store.list(tenant, "TrackingCategories", Query(include_archived=True))
               .records for o in c["Options"]}
    for invoice in invoices:
        contact = store.get(tenant, "Contacts", invoice["Contact"]["ContactID"])
        assert contact["Name"] == invoice["Contact"]["Name"]
        assert invoice["LineItems"]
        for line in invoice["LineItems"]:
            assert accounts[line["AccountCode"]]["AccountID"] == line["AccountID"]
            assert line["TaxType"] in tax_types
            if "Item" in line:
                assert items[line["Item"]["ItemID"]]["Code"] == line["ItemCode"]
            for tracking in line["Tracking"]:
                assert tracking["TrackingOptionID"] in options
        assert sum(line["LineAmount"] for line in invoice["LineItems"]) == invoice["SubTotal"]
        assert invoice["SubTotal"] + invoice["TotalTax"] == invoice["Total"]


def test_chart_of_accounts_has_the_system_accounts(store):
    accounts = store.list(store.tenants[0].tenant_id, "Accounts", Query()).records
    system = {a.get("SystemAccount") for a in accounts}
    assert {"DEBTORS", "CREDITORS", "GST", "RETAINEDEARNINGS"} <= system
    assert {a["Type"] for a in accounts} >= {"BANK", "CURRENT", "CURRLIAB", "REVENUE", "EXPENSE", "EQUITY"}
    assert any(a["Status"] == "ARCHIVED" for a in accounts)


def test_dates_are_xero_msdates_with_companion_strings(store):
    tenant = store.tenants[0].tenant_id
    invoice = store.list(tenant, "Invoices", Query(page=1)).records[0]
    assert invoice["Date"].startswith("/Date(") and invoice["Date"].endswith("+0000)/")
    assert invoice["DateString"].endswith("T00:00:00")
    ms = parse_ms_date(invoice["Date"])
    from datetime import datetime, timezone
    assert datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT00:00:00") == invoice["DateString"]
    quote = store.list(tenant, "Quotes", Query(page=1)).records[0]
    assert quote["DateString"] and quote["ExpiryDateString"]


def test_edge_cases_are_sprinkled_in(store):
    tenant = store.tenants[0].tenant_id
    invoices = store.list(tenant, "Invoices", Query(page=1, page_size=1000, unitdp=4)).records
    assert any(parse_ms_date(i["Date"]) < 0 for i in invoices), "a pre-1970 invoice"
    manual = store.list(tenant, "ManualJournals", Query(page=1, page_size=1000)).records
    assert any(parse_ms_date(m["Date"]) < 0 for m in manual), "a pre-1970 manual journal"
    contacts = store.list(tenant, "Contacts", Query(page=1, page_size=1000, include_archived=True)).records
    names = {c["Name"] for c in contacts}
    assert UNICODE_CONTACT_NAME in names and LONG_CONTACT_NAME in names and len(LONG_CONTACT_NAME) == 255
    assert any("EmailAddress" not in c for c in contacts), "a contact with optional fields absent"
    assert any("Reference" not in i for i in invoices), "an invoice with an absent optional field"
    units = [line["UnitAmount"] for i in invoices for line in i["LineItems"]]
    assert any(u != u.quantize(Decimal("0.01")) for u in units), "4-decimal unit amounts"
    stamps = [i["UpdatedDateUTC"] for i in invoices]
    assert max(stamps.count(s) for s in set(stamps)) >= 5, "a bulk import sharing one UpdatedDateUTC"


def test_generated_timestamps_grow_with_index_and_stay_below_mutation_time():
    for count in (1, 7, 20, 1000):
        stamps = [spread_ms(i, count) for i in range(count)]
        assert stamps == sorted(stamps)
        assert max(stamps) < GENERATED_MAX_MS


def test_record_ids_encode_their_index_for_constant_time_lookup():
    org = Organisation(seed=5, tenant_index=0, scale=50)
    invoices = org.collections["Invoices"]
    record_id = invoices.id_of(42)
    assert invoices.index_of(record_id) == 42
    assert invoices.index_of(record_id.upper()) == 42
    assert invoices.record(42)["InvoiceID"] == record_id
    assert org.collections["Contacts"].index_of(record_id) is None  # another collection's prefix
    assert len(uuid_of(123, 7)) == 36 and uuid_of(123, 7)[14] == "4"


def test_retired_and_singleton_collections_are_served(store):
    tenant = store.tenants[0].tenant_id
    assert store.list(tenant, "InvoiceReminders", Query()).records == [{"Enabled": True}]
    assert len(store.list(tenant, "Organisations", Query()).records) == 1
    assert store.list(tenant, "ExpenseClaims", Query()).records
    assert store.list(tenant, "Receipts", Query()).records
    assert store.list(tenant, "PaymentServices", Query()).records[0]["PaymentServiceName"]


def test_a_store_holds_compact_columns_not_records():
    """Held as dicts, 2,000 invoices would take twice the memory of a 1,000-record page; the store less than one."""
    import tracemalloc

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store = Store(seed=1, scale=2_000, tenants=1)
        held = tracemalloc.get_traced_memory()[0] - before
        tenant = store.tenants[0].tenant_id
        page = store.list(tenant, "Invoices", Query(page=2, page_size=1000)).records
        one_page = tracemalloc.get_traced_memory()[0] - before - held
    finally:
        tracemalloc.stop()
    assert len(page) == 1000 and page[-1]["InvoiceNumber"].endswith("2000")
    assert held < one_page, (held, one_page)
