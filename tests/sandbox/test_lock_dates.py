"""Lock dates: generated per tenant, served on the Organisation, changed while running, and every
mutation that posts on or before the later of the two refused in Xero's words (touch never)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone

import pytest
import requests

from xero_sandbox.core.generation import DAY_MS, UNIX_EPOCH_ORDINAL, day_date, parse_ms_date
from xero_sandbox import LockedPeriod
from xero_sandbox import Query, Store

PERIOD = "The document date cannot be before the period lock date, currently set at {}"
END_OF_YEAR = "The document date cannot be before the end of year lock date, currently set at {}"
POSTING_COLLECTIONS = {"Invoices": "Date", "CreditNotes": "Date", "BankTransactions": "Date",
                       "ManualJournals": "Date", "Payments": "Date"}


def _day(value: str) -> date:
    return date.fromordinal(UNIX_EPOCH_ORDINAL + parse_ms_date(value) // DAY_MS)


def _xero(day: date) -> str:
    return day.strftime("%d-%b-%Y")


@pytest.fixture
def store() -> Store:
    return Store(seed=31, scale=120, tenants=2, clock=lambda: datetime(2026, 6, 1, 12, tzinfo=timezone.utc))


@pytest.fixture
def tenant(store) -> str:
    return store.tenants[0].tenant_id


def _authorised_invoice(store, tenant) -> dict:
    invoices = store.list(tenant, "Invoices", Query(page=1, page_size=1000)).records
    return next(i for i in invoices if i["Status"] == "AUTHORISED" and not i["Payments"] and not i["CreditNotes"]
                and not i["Prepayments"] and not i["Overpayments"] and i["Type"] == "ACCREC")


def _contact_id(store, tenant) -> str:
    return store.list(tenant, "Contacts", Query(page=1)).records[1]["ContactID"]


def _invoice_fields(store, tenant, status: str, day: str) -> dict:
    return {"Type": "ACCREC", "Status": status, "Contact": {"ContactID": _contact_id(store, tenant)}, "Date": day,
            "LineItems": [{"Description": "Widget", "Quantity": 1, "UnitAmount": "10.00", "AccountCode": "200"}]}


# -- generated ----------------------------------------------------------------------------------------

def test_generated_lock_dates_alternate_by_tenant_and_are_xero_dates():
    store = Store(seed=5, scale=20, tenants=4)
    organisations = [store.list(t.tenant_id, "Organisations", Query()).records[0] for t in store.tenants]
    for index in (0, 2):
        assert organisations[index]["PeriodLockDate"] == day_date(date(2023, 12, 31).toordinal()) \
            == "/Date(1703980800000+0000)/"
        assert organisations[index]["EndOfYearLockDate"] == "/Date(1688083200000+0000)/"  # 2023-06-30
        assert store.lock_dates(store.tenants[index].tenant_id) == {
            "period_lock_date": date(2023, 12, 31), "end_of_year_lock_date": date(2023, 6, 30)}
    for index in (1, 3):
        assert "PeriodLockDate" not in organisations[index] and "EndOfYearLockDate" not in organisations[index]
        assert store.lock_dates(store.tenants[index].tenant_id) == {
            "period_lock_date": None, "end_of_year_lock_date": None}


def test_every_generated_document_but_the_pre_1970_edge_records_is_after_tenant_0s_lock_date():
    store = Store(seed=1, scale=400, tenants=1)
    tenant = store.tenants[0].tenant_id
    lock = store.lock_dates(tenant)["period_lock_date"]
    early = []
    for key, field in POSTING_COLLECTIONS.items():
        for record in store.list(tenant, key, Query(page=1, page_size=1000)).records:
            if _day(record[field]) <= lock:
                early.append((key, _day(record[field])))
    # The edge records (invoice 7 of 1965, manual journal 1 of 1969) and what settles invoice 7.
    assert {("Invoices", date(1965, 3, 14)), ("ManualJournals", date(1969, 12, 31))} <= set(early)
    assert all(day.year < 1970 for _key, day in early), early


# -- the boundary -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("offset", "refused"), [(-1, False), (0, True), (1, True)])
@pytest.mark.parametrize("field", ["period_lock_date", "end_of_year_lock_date"])
def test_a_posted_document_is_locked_on_and_after_its_date_not_the_day_before(store, tenant, field, offset, refused):
    invoice = _authorised_invoice(store, tenant)
    day = _day(invoice["Date"]) + timedelta(days=offset)  # the lock date, relative to the document's date
    store.set_lock_dates(tenant, period_lock_date=None, end_of_year_lock_date=None)
    store.set_lock_dates(tenant, **{field: day})
    journals, before = store.counts()[tenant]["Journals"], store.get(tenant, "Invoices", invoice["InvoiceID"])
    if not refused:
        assert store.update(tenant, "Invoices", invoice["InvoiceID"], {"Reference": "fine"})["Reference"] == "fine"
        return
    wording = PERIOD if field == "period_lock_date" else END_OF_YEAR
    for attempt in (lambda: store.update(tenant, "Invoices", invoice["InvoiceID"], {"Reference": "no"}),
                    lambda: store.void(tenant, "Invoices", invoice["InvoiceID"])):
        with pytest.raises(LockedPeriod) as refusal:
            attempt()
        assert refusal.value.messages == [wording.format(_xero(day))]
    assert store.get(tenant, "Invoices", invoice["InvoiceID"]) == before  # not even UpdatedDateUTC moved
    assert store.counts()[tenant]["Journals"] == journals  # nothing was journalled


def test_the_later_lock_date_wins_and_each_lock_a_date_falls_under_is_named(store, tenant):
    invoice = _authorised_invoice(store, tenant)
    day = _day(invoice["Date"])
    earlier, later = day - timedelta(days=10), day
    cases = [
        ({"period_lock_date": earlier, "end_of_year_lock_date": later}, [END_OF_YEAR.format(_xero(later))]),
        ({"period_lock_date": later, "end_of_year_lock_date": earlier}, [PERIOD.format(_xero(later))]),
        ({"period_lock_date": later, "end_of_year_lock_date": later},
         [PERIOD.format(_xero(later)), END_OF_YEAR.format(_xero(later))]),
    ]
    for dates, messages in cases:
        store.set_lock_dates(tenant, **dates)
        with pytest.raises(LockedPeriod) as refusal:
            store.update(tenant, "Invoices", invoice["InvoiceID"], {"Reference": "no"})
        assert refusal.value.messages == messages
    store.set_lock_dates(tenant, period_lock_date=earlier, end_of_year_lock_date=earlier - timedelta(days=1))
    assert store.update(tenant, "Invoices", invoice["InvoiceID"], {"Reference": "after both"})["Reference"]


def test_clearing_the_lock_dates_allows_the_change_again(store, tenant):
    invoice = _authorised_invoice(store, tenant)
    store.set_lock_dates(tenant, period_lock_date=_day(invoice["Date"]))
    with pytest.raises(LockedPeriod):
        store.void(tenant, "Invoices", invoice["InvoiceID"])
    assert store.set_lock_dates(tenant, period_lock_date=None) == {
        "period_lock_date": None, "end_of_year_lock_date": date(2023, 6, 30)}
    assert store.void(tenant, "Invoices", invoice["InvoiceID"])["Status"] == "VOIDED"


# -- which mutations post -----------------------------------------------------------------------------

LOCK = date(2025, 6, 30)


def test_creating_or_approving_into_a_locked_period_is_refused_drafts_are_not(store, tenant):
    store.set_lock_dates(tenant, period_lock_date=LOCK)
    with pytest.raises(LockedPeriod):
        store.create(tenant, "Invoices", _invoice_fields(store, tenant, "AUTHORISED", "2025-06-30"))
    draft = store.create(tenant, "Invoices", _invoice_fields(store, tenant, "DRAFT", "2025-06-15"))
    assert draft["Status"] == "DRAFT"  # a draft posts nothing: Xero lets it be dated in a locked period
    assert store.update(tenant, "Invoices", draft["InvoiceID"], {"Reference": "still a draft"})["Reference"]
    with pytest.raises(LockedPeriod):
        store.update(tenant, "Invoices", draft["InvoiceID"], {"Status": "AUTHORISED"})
    assert store.update(tenant, "Invoices", draft["InvoiceID"], {"Status": "AUTHORISED", "Date": "2025-07-01"})
    assert store.create(tenant, "Invoices", _invoice_fields(store, tenant, "AUTHORISED", "2025-07-01"))["Total"]
    with pytest.raises(LockedPeriod):
        store.create(tenant, "ManualJournals", {"Narration": "Accrual", "Status": "POSTED", "Date": "2025-01-31",
                                                "JournalLines": [{"LineAmount": "5.00", "AccountCode": "453"},
                                                                 {"LineAmount": "-5.00", "AccountCode": "090"}]})
    with pytest.raises(LockedPeriod):
        store.create(tenant, "BankTransactions", {
            "Type": "SPEND", "Contact": {"ContactID": _contact_id(store, tenant)}, "Date": "2025-03-01",
            "BankAccount": {"Code": "090"}, "LineItems": [{"Quantity": 1, "UnitAmount": 5, "AccountCode": "429"}]})


def test_moving_a_document_into_a_locked_period_is_refused(store, tenant):
    created = store.create(tenant, "Invoices", _invoice_fields(store, tenant, "AUTHORISED", "2025-08-01"))
    store.set_lock_dates(tenant, end_of_year_lock_date=LOCK)
    with pytest.raises(LockedPeriod) as refusal:
        store.update(tenant, "Invoices", created["InvoiceID"], {"Date": "2025-06-01"})  # the date after the change
    assert refusal.value.messages == [END_OF_YEAR.format("30-Jun-2025")]
    assert store.update(tenant, "Invoices", created["InvoiceID"], {"Date": "2025-07-01"})["DateString"] == \
        "2025-07-01T00:00:00"


def test_payments_are_locked_by_their_own_date(store, tenant):
    store.set_lock_dates(tenant, period_lock_date=LOCK)
    invoice = store.create(tenant, "Invoices", _invoice_fields(store, tenant, "AUTHORISED", "2025-07-10"))
    journals = store.counts()[tenant]["Journals"]
    with pytest.raises(LockedPeriod) as refusal:
        store.create(tenant, "Payments", {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": "1.00",
                                          "Date": "2025-06-30"})
    assert refusal.value.messages == [PERIOD.format("30-Jun-2025")]
    untouched = store.get(tenant, "Invoices", invoice["InvoiceID"])
    assert (untouched["AmountPaid"], untouched["Payments"]) == (0, [])  # the invoice was not half paid
    assert store.counts()[tenant]["Journals"] == journals
    payment = store.create(tenant, "Payments", {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": "1.00",
                                                "Date": "2025-07-01"})
    store.set_lock_dates(tenant, period_lock_date=date(2025, 7, 1))
    with pytest.raises(LockedPeriod):
        store.void(tenant, "Payments", payment["PaymentID"])
    assert store.get(tenant, "Payments", payment["PaymentID"])["Status"] == "AUTHORISED"


def test_voiding_an_invoice_whose_payment_is_locked_changes_nothing(store, tenant):
    invoice = store.create(tenant, "Invoices", _invoice_fields(store, tenant, "AUTHORISED", "2025-06-10"))
    payments = [store.create(tenant, "Payments", {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": "2.00",
                                                  "Date": day}) for day in ("2025-06-20", "2025-06-01")]
    store.set_lock_dates(tenant, period_lock_date=date(2025, 6, 5))  # locks the second payment only
    before = copy.deepcopy(store.get(tenant, "Invoices", invoice["InvoiceID"]))
    journals = store.counts()[tenant]["Journals"]
    with pytest.raises(LockedPeriod):
        store.void(tenant, "Invoices", invoice["InvoiceID"])
    assert store.get(tenant, "Invoices", invoice["InvoiceID"]) == before
    assert [store.get(tenant, "Payments", p["PaymentID"])["Status"] for p in payments] == ["AUTHORISED"] * 2
    assert store.counts()[tenant]["Journals"] == journals  # the unlocked payment was not deleted first


def test_touch_is_never_refused_and_records_that_post_nothing_are_not_locked(store, tenant):
    invoice = _authorised_invoice(store, tenant)
    store.set_lock_dates(tenant, period_lock_date=date(2030, 1, 1), end_of_year_lock_date=date(2030, 1, 1))
    touched = store.touch(tenant, "Invoices", invoice["InvoiceID"])
    assert touched["UpdatedDateUTC"] != invoice["UpdatedDateUTC"]
    contact = store.list(tenant, "Contacts", Query(page=1)).records[4]
    assert store.update(tenant, "Contacts", contact["ContactID"], {"Name": "Renamed"})["Name"] == "Renamed"
    quote = store.list(tenant, "Quotes", Query(page=1)).records[0]
    assert store.update(tenant, "Quotes", quote["QuoteID"], {"Reference": "quotes post nothing"})


def test_a_tenant_without_lock_dates_accepts_changes_to_any_date(store):
    other = store.tenants[1].tenant_id
    assert store.lock_dates(other) == {"period_lock_date": None, "end_of_year_lock_date": None}
    created = store.create(other, "Invoices", _invoice_fields(store, other, "AUTHORISED", "1999-12-31"))
    assert store.void(other, "Invoices", created["InvoiceID"])["Status"] == "VOIDED"


def test_bad_lock_dates_change_nothing(store, tenant):
    with pytest.raises(ValueError):
        store.set_lock_dates(tenant, period_lock_date=None, end_of_year_lock_date="30/06/2025")
    assert store.lock_dates(tenant)["period_lock_date"] == date(2023, 12, 31)


# -- over HTTP ----------------------------------------------------------------------------------------

def _control(sb, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{sb.base_url}/_sandbox/{path}", timeout=10, **kwargs)


def test_the_control_call_sets_and_clears_what_get_organisation_serves_and_nothing_else(make_sandbox, xero_session):
    sb = make_sandbox(scale=30, limits=False)
    tenant = sb.tenant_ids[0]
    session = xero_session(sb)
    organisation = session.api("Organisation").json()["Organisations"][0]
    invoices = session.api("Invoices", params={"page": 1}).json()["Invoices"]
    counts = sb.counts()
    answer = _control(sb, "POST", "lock-dates", json={"tenant_id": tenant, "period_lock_date": "2025-06-30"})
    assert answer.json() == {"tenant_id": tenant, "period_lock_date": "2025-06-30",
                             "end_of_year_lock_date": "2023-06-30"}
    served = session.api("Organisations").json()["Organisations"][0]
    assert served["PeriodLockDate"] == "/Date(1751241600000+0000)/"
    assert {k: v for k, v in served.items() if k != "PeriodLockDate"} == \
        {k: v for k, v in organisation.items() if k != "PeriodLockDate"}
    assert session.api("Invoices", params={"page": 1}).json()["Invoices"] == invoices
    assert sb.counts() == counts
    _control(sb, "POST", "lock-dates", json={"tenant_id": tenant, "end_of_year_lock_date": None})
    served = session.api("Organisation").json()["Organisations"][0]
    assert "EndOfYearLockDate" not in served and served["PeriodLockDate"] == "/Date(1751241600000+0000)/"
    assert _control(sb, "GET", "lock-dates").json() == {
        tenant: {"period_lock_date": "2025-06-30", "end_of_year_lock_date": None},
        sb.tenant_ids[1]: {"period_lock_date": None, "end_of_year_lock_date": None}}
    assert sb.set_lock_dates(tenant, period_lock_date=None) == {"period_lock_date": None,
                                                                "end_of_year_lock_date": None}
    assert "PeriodLockDate" not in session.api("Organisation").json()["Organisations"][0]
    assert sb.lock_dates(sb.tenant_ids[1]) == {"period_lock_date": None, "end_of_year_lock_date": None}


@pytest.mark.parametrize(("body", "status"), [
    ({"tenant_id": "nobody", "period_lock_date": "2025-06-30"}, 404),
    ({"period_lock_date": "2025-06-30"}, 404),
    ({"period_lock_date": "30/06/2025"}, 400),
    ({"period_lock": "2025-06-30"}, 400),
])
def test_bad_lock_date_calls_are_refused(make_sandbox, body, status):
    sb = make_sandbox(scale=20, limits=False)
    if "tenant_id" not in body and status == 400:
        body = {**body, "tenant_id": sb.tenant_ids[0]}
    assert _control(sb, "POST", "lock-dates", json=body).status_code == status
    assert sb.lock_dates(sb.tenant_ids[0])["period_lock_date"] == date(2023, 12, 31)


def test_a_refused_mutation_answers_xeros_validation_exception(make_sandbox, xero_session):
    from tests.sandbox.test_fidelity import assert_faithful

    sb = make_sandbox(scale=30, limits=False)
    tenant = sb.tenant_ids[0]
    invoice = _authorised_invoice(sb.store, tenant)
    sb.set_lock_dates(tenant, period_lock_date=_day(invoice["Date"]))
    answer = _control(sb, "POST", "mutations", json={
        "tenant_id": tenant, "envelope_key": "Invoices", "action": "void", "record_id": invoice["InvoiceID"]})
    assert answer.status_code == 400
    body = answer.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    assert body["Elements"][0]["ValidationErrors"] == [
        {"Message": PERIOD.format(_xero(_day(invoice["Date"])))}]
    assert_faithful(body, "Error")
    touched = _control(sb, "POST", "mutations", json={
        "tenant_id": tenant, "envelope_key": "Invoices", "action": "touch", "record_id": invoice["InvoiceID"]})
    assert touched.status_code == 200
    served = xero_session(sb).api(f"Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert served["Status"] == "AUTHORISED"
    with pytest.raises(LockedPeriod):
        sb.mutate(tenant, "Invoices", "void", invoice["InvoiceID"])
