"""Store.list semantics: paging, If-Modified-Since, filters, order, unitdp, Journals offset."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from xero_sandbox.core.generation import parse_ms_date
from xero_sandbox import Query, Store

SCALE = 250


@pytest.fixture(scope="module")
def store() -> Store:
    return Store(seed=7, scale=SCALE, tenants=2)


@pytest.fixture(scope="module")
def tenant(store) -> str:
    return store.tenants[0].tenant_id


def _all(store, tenant, key, **query) -> list[dict]:
    return store.list(tenant, key, Query(page=1, page_size=1000, **query)).records


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def test_page_and_page_size_walk_the_collection_once_in_order(store, tenant):
    seen = []
    page = 1
    while True:
        result = store.list(tenant, "Invoices", Query(page=page, page_size=60))
        assert result.pagination == {"page": page, "pageSize": 60, "pageCount": 5, "itemCount": SCALE}
        if not result.records:
            break
        assert len(result.records) <= 60
        seen += result.records
        page += 1
    assert page == 6
    assert [r["InvoiceID"] for r in seen] == [r["InvoiceID"] for r in _all(store, tenant, "Invoices")]
    assert len({r["InvoiceID"] for r in seen}) == SCALE
    stamps = [parse_ms_date(r["UpdatedDateUTC"]) for r in seen]
    assert stamps == sorted(stamps)


def test_page_size_is_clamped_and_defaults_to_page_one(store, tenant):
    result = store.list(tenant, "Invoices", Query(page_size=5000))
    assert result.pagination["page"] == 1 and result.pagination["pageSize"] == 1000
    assert len(result.records) == SCALE


def test_fixed_page_endpoints_serve_100_and_no_pagination_object(store, tenant):
    first = store.list(tenant, "Quotes", Query(page=1))
    assert first.pagination is None
    count = store.counts()[tenant]["Quotes"]
    assert len(first.records) == min(100, count)
    last_page = (count - 1) // 100 + 1
    assert len(store.list(tenant, "Quotes", Query(page=last_page)).records) == count - 100 * (last_page - 1)
    assert store.list(tenant, "Quotes", Query(page=last_page + 1)).records == []


def test_unpaged_endpoints_return_everything(store, tenant):
    result = store.list(tenant, "Accounts", Query())
    assert result.pagination is None and len(result.records) == store.counts()[tenant]["Accounts"]


def test_if_modified_since_is_inclusive_on_the_boundary_second(store, tenant):
    invoices = _all(store, tenant, "Invoices")
    pivot = invoices[100]
    pivot_ms = parse_ms_date(pivot["UpdatedDateUTC"])
    boundary = _utc(pivot_ms - pivot_ms % 1000)  # the second the pivot was modified in
    served = _all(store, tenant, "Invoices", modified_since=boundary)
    expected = [i["InvoiceID"] for i in invoices if parse_ms_date(i["UpdatedDateUTC"]) >= pivot_ms - pivot_ms % 1000]
    assert [i["InvoiceID"] for i in served] == expected
    assert pivot["InvoiceID"] in expected
    later = _all(store, tenant, "Invoices", modified_since=boundary + timedelta(seconds=1))
    assert pivot["InvoiceID"] not in [i["InvoiceID"] for i in later]
    assert all(parse_ms_date(i["UpdatedDateUTC"]) >= pivot_ms for i in later)


def test_if_modified_since_pagination_counts_only_matching_records(store, tenant):
    invoices = _all(store, tenant, "Invoices")
    since = _utc(parse_ms_date(invoices[-10]["UpdatedDateUTC"]) // 1000 * 1000)
    result = store.list(tenant, "Invoices", Query(page=1, page_size=100, modified_since=since))
    assert result.pagination["itemCount"] == len(result.records) >= 10


def test_if_modified_since_uses_created_date_for_journals_and_transfers(store, tenant):
    transfers = _all(store, tenant, "BankTransfers", include_deleted=True)
    since = _utc(parse_ms_date(transfers[-2]["CreatedDateUTC"]) // 1000 * 1000)
    later = _all(store, tenant, "BankTransfers", modified_since=since, include_deleted=True)
    assert [t["BankTransferID"] for t in later] == [t["BankTransferID"] for t in transfers[-len(later):]]
    assert 2 <= len(later) < len(transfers)
    journals = store.list(tenant, "Journals", Query(offset=0)).records
    since = _utc(parse_ms_date(journals[50]["CreatedDateUTC"]) // 1000 * 1000)
    newer = store.list(tenant, "Journals", Query(offset=0, modified_since=since)).records
    assert newer[0]["JournalNumber"] <= journals[50]["JournalNumber"]
    assert all(parse_ms_date(j["CreatedDateUTC"]) >= parse_ms_date(journals[50]["CreatedDateUTC"]) // 1000 * 1000
               for j in newer)


def test_endpoints_without_if_modified_since_ignore_it(store, tenant):
    future = datetime(2100, 1, 1, tzinfo=timezone.utc)
    assert len(store.list(tenant, "LinkedTransactions", Query(page=1, modified_since=future)).records) > 0
    assert len(store.list(tenant, "TaxRates", Query(modified_since=future)).records) > 0
    assert store.list(tenant, "Accounts", Query(modified_since=future)).records == []


def test_archived_contacts_only_with_include_archived(store, tenant):
    default = _all(store, tenant, "Contacts")
    everything = _all(store, tenant, "Contacts", include_archived=True)
    assert all(c["ContactStatus"] != "ARCHIVED" for c in default)
    archived = [c for c in everything if c["ContactStatus"] == "ARCHIVED"]
    assert archived and len(default) + len(archived) == len(everything)
    paged = store.list(tenant, "Contacts", Query(page=1, page_size=10))
    assert paged.pagination["itemCount"] == len(default)


def test_archived_tracking_categories_and_options_only_with_include_archived(store, tenant):
    default = store.list(tenant, "TrackingCategories", Query()).records
    everything = store.list(tenant, "TrackingCategories", Query(include_archived=True)).records
    assert all(c["Status"] == "ACTIVE" for c in default)
    assert all(o["Status"] == "ACTIVE" for c in default for o in c["Options"])
    assert any(c["Status"] == "ARCHIVED" for c in everything)
    assert any(o["Status"] == "ARCHIVED" for c in everything for o in c["Options"])


def test_deleted_bank_transfers_only_with_include_deleted():
    store = Store(seed=7, scale=2000, tenants=1)  # 40 transfers: one is deleted
    tenant = store.tenants[0].tenant_id
    default = store.list(tenant, "BankTransfers", Query()).records
    everything = store.list(tenant, "BankTransfers", Query(include_deleted=True)).records
    assert all(t["Status"] == "AUTHORISED" for t in default)
    assert any(t["Status"] == "DELETED" for t in everything) and len(everything) > len(default)


def test_ids_filter_returns_exactly_those_records(store, tenant):
    invoices = _all(store, tenant, "Invoices")
    wanted = [invoices[3]["InvoiceID"], invoices[200]["InvoiceID"].upper(), "00000000-0000-4000-8000-000000000000"]
    served = _all(store, tenant, "Invoices", ids=wanted)
    assert [i["InvoiceID"] for i in served] == [invoices[3]["InvoiceID"], invoices[200]["InvoiceID"]]
    contacts = _all(store, tenant, "Contacts")
    assert [c["ContactID"] for c in _all(store, tenant, "Contacts", ids=[contacts[1]["ContactID"]])] == \
        [contacts[1]["ContactID"]]


def test_statuses_filter(store, tenant):
    served = _all(store, tenant, "Invoices", statuses=["PAID", "VOIDED"])
    everything = _all(store, tenant, "Invoices")
    assert {i["Status"] for i in served} == {"PAID", "VOIDED"}
    assert len(served) == sum(1 for i in everything if i["Status"] in ("PAID", "VOIDED"))
    paged = store.list(tenant, "Invoices", Query(page=2, page_size=10, statuses=["PAID"]))
    assert paged.pagination["itemCount"] == sum(1 for i in everything if i["Status"] == "PAID")


def test_summary_only_drops_line_items(store, tenant):
    summary = store.list(tenant, "Invoices", Query(page=1, summary_only=True)).records
    assert summary and all("LineItems" not in i and "Payments" not in i for i in summary)
    assert all("Total" in i and "AmountDue" in i for i in summary)
    full = store.list(tenant, "Invoices", Query(page=1)).records
    assert all(i["LineItems"] for i in full)
    contacts = store.list(tenant, "Contacts", Query(page=1, summary_only=True)).records
    assert all("Balances" not in c and "Addresses" not in c for c in contacts)
    assert all("Balances" in c for c in store.list(tenant, "Contacts", Query(page=1)).records)


def test_unitdp_four_keeps_four_decimals_otherwise_two(store, tenant):
    four = _all(store, tenant, "Invoices", unitdp=4)
    two = _all(store, tenant, "Invoices")
    units4 = [line["UnitAmount"] for i in four for line in i["LineItems"]]
    units2 = [line["UnitAmount"] for i in two for line in i["LineItems"]]
    assert any(u.as_tuple().exponent == -4 and u != u.quantize(Decimal("0.01")) for u in units4)
    assert all(u.as_tuple().exponent == -2 for u in units2)
    assert [u.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP") for u in units4] == units2
    items4 = store.list(tenant, "Items", Query(unitdp=4)).records
    assert any(i["SalesDetails"]["UnitPrice"] == Decimal("0.1234") for i in items4)
    assert all(i["SalesDetails"]["UnitPrice"].as_tuple().exponent == -2
               for i in store.list(tenant, "Items", Query()).records)


def test_journals_offset_pages_of_100_by_journal_number(store, tenant):
    total = store.counts()[tenant]["Journals"]
    numbers, offset = [], 0
    while True:
        page = store.list(tenant, "Journals", Query(offset=offset))
        assert page.pagination is None
        if not page.records:
            break
        assert len(page.records) <= 100
        assert all(j["JournalNumber"] > offset for j in page.records)
        numbers += [j["JournalNumber"] for j in page.records]
        offset = page.records[-1]["JournalNumber"]
    assert numbers == list(range(1, total + 1))
    created = [parse_ms_date(j["CreatedDateUTC"]) for o in range(0, total, 100)
               for j in store.list(tenant, "Journals", Query(offset=o)).records]
    assert created == sorted(created)


def test_journals_payments_only(store, tenant):
    page = store.list(tenant, "Journals", Query(offset=0, payments_only=True)).records
    assert page and all(j["SourceType"] in ("ACCRECPAYMENT", "ACCPAYPAYMENT") for j in page)
    assert len(page) == 100 or page[-1]["JournalNumber"] == store.counts()[tenant]["Journals"]


def test_order_by_a_field_and_by_timestamp_descending(store, tenant):
    by_number = _all(store, tenant, "Invoices", order="InvoiceNumber DESC")
    numbers = [i["InvoiceNumber"] for i in by_number]
    assert numbers == sorted(numbers, key=str.lower, reverse=True)
    newest_first = _all(store, tenant, "Invoices", order="UpdatedDateUTC DESC")
    assert [i["InvoiceID"] for i in newest_first] == [i["InvoiceID"] for i in _all(store, tenant, "Invoices")][::-1]
    by_total = store.list(tenant, "Invoices", Query(page=1, page_size=50, order="Total")).records
    assert [i["Total"] for i in by_total] == sorted(i["Total"] for i in by_total)
    with pytest.raises(ValueError):
        _all(store, tenant, "Invoices", order="Total SIDEWAYS")


def test_manual_journals_order_quirk_returns_everything_on_every_page():
    store = Store(seed=7, scale=1500, tenants=1)  # 15 manual journals
    tenant = store.tenants[0].tenant_id
    total = store.counts()[tenant]["ManualJournals"]
    plain = store.list(tenant, "ManualJournals", Query(page=2, page_size=10)).records
    assert len(plain) == total - 10
    for page in (1, 2, 3):
        ordered = store.list(tenant, "ManualJournals", Query(page=page, page_size=10, order="Date"))
        assert len(ordered.records) == total
        assert ordered.pagination == {"page": page, "pageSize": 10, "pageCount": 2, "itemCount": total}


def test_where_filters_records_and_counts(store, tenant):
    served = _all(store, tenant, "Invoices", where='Type=="ACCREC" AND Status=="AUTHORISED"')
    everything = _all(store, tenant, "Invoices")
    assert [i["InvoiceID"] for i in served] == [i["InvoiceID"] for i in everything
                                                if i["Type"] == "ACCREC" and i["Status"] == "AUTHORISED"]
    contact_id = everything[0]["Contact"]["ContactID"]
    mine = _all(store, tenant, "Invoices", where=f'Contact.ContactID==Guid("{contact_id}")')
    assert mine and all(i["Contact"]["ContactID"] == contact_id for i in mine)
    with pytest.raises(ValueError):
        _all(store, tenant, "Invoices", where="Type ~ ACCREC")


def test_get_returns_one_record_or_none(store, tenant):
    invoice = _all(store, tenant, "Invoices")[5]
    assert store.get(tenant, "Invoices", invoice["InvoiceID"])["InvoiceNumber"] == invoice["InvoiceNumber"]
    assert store.get(tenant, "Invoices", "00000000-0000-4000-8000-000000000000") is None
    assert store.get(tenant, "Currencies", store.list(tenant, "Currencies", Query()).records[0]["Code"])
    assert store.get(tenant, "TaxRates", "OUTPUT")["TaxType"] == "OUTPUT"
    journal = store.list(tenant, "Journals", Query(offset=10)).records[0]
    assert store.get(tenant, "Journals", journal["JournalID"])["JournalNumber"] == 11


def test_unknown_tenant_or_collection_raise_key_error(store, tenant):
    with pytest.raises(KeyError):
        store.list("00000000-0000-4000-8000-000000000000", "Invoices", Query())
    with pytest.raises(KeyError):
        store.list(tenant, "Employees", Query())


def test_served_records_are_private_copies(store, tenant):
    first = store.list(tenant, "Accounts", Query()).records[0]
    first["Name"] = "scribbled"
    assert store.list(tenant, "Accounts", Query()).records[0]["Name"] != "scribbled"


def test_extra_list_parameters_filter_like_xero(store, tenant):
    invoices = _all(store, tenant, "Invoices")
    contact_id = invoices[0]["Contact"]["ContactID"]
    by_contact = _all(store, tenant, "Invoices", extra={"ContactIDs": contact_id.upper()})
    assert by_contact and [i["InvoiceID"] for i in by_contact] == [
        i["InvoiceID"] for i in invoices if i["Contact"]["ContactID"] == contact_id]
    numbers = f"{invoices[1]['InvoiceNumber']},{invoices[2]['InvoiceNumber']}"
    assert len(_all(store, tenant, "Invoices", extra={"InvoiceNumbers": numbers})) == 2
    assert len(_all(store, tenant, "Invoices", extra={"SomethingElse": "x"})) == len(invoices)


def test_base_run_skips_replaced_indices_at_any_position():
    from xero_sandbox.core.queries import _BaseRun, _Chain

    run = _BaseRun(2, 20, [0, 3, 4, 9, 19])
    expected = [i for i in range(2, 20) if i not in (3, 4, 9, 19)]
    assert len(run) == len(expected)
    assert [run[p] for p in range(len(run))] == expected
    for start in range(len(expected)):
        for stop in range(start, len(expected) + 2):
            assert run.slice(start, stop) == expected[start:stop]
    chain = _Chain(run, ["a", "b"])
    assert chain.slice(len(expected) - 1, len(expected) + 5) == [expected[-1], "a", "b"]
    assert _Chain(run, ["a"], reverse=True).slice(0, 3) == ["a", expected[-1], expected[-2]]
