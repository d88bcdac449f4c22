"""The Accounting API over real HTTP: envelope, paging, If-Modified-Since, filters, scopes, error shapes."""

from __future__ import annotations

import http.client
import json
import math
import re
from datetime import datetime, timezone
from decimal import Decimal
from email.utils import format_datetime
from urllib.parse import urlsplit

import pytest
import requests

from tap_xero.endpoints import ENDPOINTS, REPORTS, Paging

MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def _ms(value: str) -> int:
    return int(MS_DATE.match(value).group(1))


def _all_pages(session, path: str, page_size: int | None = None, **params) -> list[dict]:
    records, page = [], 1
    while True:
        query = {"page": page, **params}
        if page_size:
            query["pageSize"] = page_size
        body = session.api(path, params=query).json()
        batch = body[path]
        records += batch
        if len(batch) < (page_size or 100):
            return records
        page += 1


def test_envelope_and_pagination(sandbox, xero_session):
    answer = xero_session(sandbox).api("Invoices", params={"page": 1})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert body["Status"] == "OK" and body["Id"] and body["ProviderName"]
    assert MS_DATE.match(body["DateTimeUTC"])
    pagination = body["pagination"]
    assert set(pagination) == {"page", "pageSize", "pageCount", "itemCount"}
    assert (pagination["page"], pagination["pageSize"]) == (1, 100)
    assert pagination["pageCount"] == math.ceil(pagination["itemCount"] / 100)
    assert len(body["Invoices"]) == min(100, pagination["itemCount"])


def test_walking_pages_returns_every_record_once(sandbox, xero_session):
    session = xero_session(sandbox)
    records = _all_pages(session, "Invoices", page_size=40)
    ids = [r["InvoiceID"] for r in records]
    assert len(ids) == len(set(ids))
    item_count = session.api("Invoices", params={"page": 1}).json()["pagination"]["itemCount"]
    assert len(ids) == item_count > 100


def test_page_size_is_clamped_to_1000(sandbox, xero_session):
    body = xero_session(sandbox).api("Invoices", params={"page": 1, "pageSize": 5000}).json()
    assert body["pagination"]["pageSize"] == 1000


def test_page_endpoints_serve_100_a_page_whatever_the_page_size(sandbox, xero_session):
    body = xero_session(sandbox).api("Quotes", params={"page": 1, "pageSize": 3}).json()
    assert "Quotes" in body
    assert len(body["Quotes"]) == min(100, sandbox.counts()[sandbox.tenant_ids[0]]["Quotes"])


def test_journals_offset_returns_the_next_numbers(sandbox, xero_session):
    session = xero_session(sandbox)
    first = session.api("Journals", params={"offset": 0}).json()["Journals"]
    numbers = [j["JournalNumber"] for j in first]
    assert 0 < len(numbers) <= 100 and numbers == sorted(numbers)
    later = session.api("Journals", params={"offset": numbers[-1]}).json()["Journals"]
    assert all(j["JournalNumber"] > numbers[-1] for j in later)


def test_if_modified_since_in_xero_and_rfc1123_forms(sandbox, xero_session):
    session = xero_session(sandbox)
    records = _all_pages(session, "Invoices", page_size=1000)
    stamps = sorted(_ms(r["UpdatedDateUTC"]) for r in records)
    cut = datetime.fromtimestamp(stamps[len(stamps) // 2] // 1000, tz=timezone.utc)
    expected = {r["InvoiceID"] for r in records if _ms(r["UpdatedDateUTC"]) >= cut.timestamp() * 1000}
    for header in (cut.strftime("%Y-%m-%dT%H:%M:%S"), format_datetime(cut, usegmt=True)):
        answer = session.api("Invoices", params={"page": 1, "pageSize": 1000},
                             headers={"If-Modified-Since": header})
        assert answer.status_code == 200
        assert {r["InvoiceID"] for r in answer.json()["Invoices"]} == expected
    assert 0 < len(expected) < len(records)


def test_bad_if_modified_since_is_a_validation_error(sandbox, xero_session):
    answer = xero_session(sandbox).api("Invoices", headers={"If-Modified-Since": "yesterday-ish"})
    assert answer.status_code == 400
    body = answer.json()
    assert body["Type"] == "ValidationException" and body["ErrorNumber"] == 10
    assert body["Elements"][0]["ValidationErrors"][0]["Message"]


def test_non_integer_page_is_a_validation_error(sandbox, xero_session):
    answer = xero_session(sandbox).api("Invoices", params={"page": "two"})
    assert answer.status_code == 400 and answer.json()["Type"] == "ValidationException"


def test_one_record_by_id_and_404(sandbox, xero_session):
    session = xero_session(sandbox)
    invoice = session.api("Invoices", params={"page": 1}).json()["Invoices"][0]
    answer = session.api(f"Invoices/{invoice['InvoiceID']}")
    assert answer.status_code == 200
    assert answer.json()["Invoices"][0]["InvoiceID"] == invoice["InvoiceID"]
    missing = session.api("Invoices/00000000-0000-0000-0000-00000000dead")
    assert missing.status_code == 404
    assert session.api("NoSuchEndpoint").status_code == 404


def test_amounts_are_exact_json_numbers(sandbox, xero_session):
    text = xero_session(sandbox).api("Invoices", params={"page": 1}).text
    body = json.loads(text, parse_float=Decimal)
    totals = [invoice["Total"] for invoice in body["Invoices"]]
    assert all(isinstance(total, (Decimal, int)) for total in totals)
    assert all(Decimal(total).as_tuple().exponent >= -4 for total in totals)  # no binary-float tails
    assert re.search(r'"Total":-?\d+(\.\d+)?[,}]', text)


def test_statuses_ids_where_and_summary_only_reach_the_store(sandbox, xero_session):
    session = xero_session(sandbox)
    paid = session.api("Invoices", params={"page": 1, "Statuses": "PAID"}).json()["Invoices"]
    assert paid and {i["Status"] for i in paid} == {"PAID"}
    authorised = session.api("Invoices", params={"page": 1, "where": 'Status=="AUTHORISED"'}).json()["Invoices"]
    assert authorised and {i["Status"] for i in authorised} == {"AUTHORISED"}
    two = [paid[0]["InvoiceID"], authorised[0]["InvoiceID"]]
    by_ids = session.api("Invoices", params={"page": 1, "IDs": ",".join(two)}).json()["Invoices"]
    assert sorted(i["InvoiceID"] for i in by_ids) == sorted(two)
    summary = session.api("Invoices", params={"page": 1, "summaryOnly": "true"}).json()["Invoices"]
    assert summary and not any(i.get("LineItems") for i in summary)


def test_include_archived_adds_archived_contacts(sandbox, xero_session):
    session = xero_session(sandbox)
    plain = _all_pages(session, "Contacts", page_size=1000)
    archived = _all_pages(session, "Contacts", page_size=1000, includeArchived="true")
    assert "ARCHIVED" not in {c.get("ContactStatus") for c in plain}
    assert "ARCHIVED" in {c.get("ContactStatus") for c in archived}


def test_manual_journals_order_quirk_returns_everything_on_every_page(sandbox, xero_session):
    session = xero_session(sandbox)
    total = sandbox.counts()[sandbox.tenant_ids[0]]["ManualJournals"]
    first = session.api("ManualJournals", params={"page": 1, "pageSize": 2, "order": "Date"}).json()
    second = session.api("ManualJournals", params={"page": 2, "pageSize": 2, "order": "Date"}).json()
    assert total > 2
    assert len(first["ManualJournals"]) == total
    assert first["ManualJournals"] == second["ManualJournals"]
    normal = session.api("ManualJournals", params={"page": 1, "pageSize": 2}).json()["ManualJournals"]
    assert len(normal) == 2


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.path)
def test_every_endpoint_is_served(sandbox, xero_session, endpoint):
    params = {"page": 1} if endpoint.paging in (Paging.PAGE, Paging.PAGE_SIZE) else {}
    answer = xero_session(sandbox).api(endpoint.path, params=params)  # tenant 0 keeps classic expenses
    assert answer.status_code == 200, answer.text[:300]
    assert isinstance(answer.json()[endpoint.envelope_key], list)


@pytest.mark.parametrize("report", REPORTS, ids=lambda r: r.name)
def test_every_report_is_served(sandbox, xero_session, report):
    answer = xero_session(sandbox).api(report.path)
    assert answer.status_code == 200, answer.text[:300]
    (body,) = answer.json()["Reports"]
    assert body["Rows"] and body["ReportName"]
    assert xero_session(sandbox).api("Reports/NoSuchReport").status_code == 404


def test_classic_expenses_are_retired_for_tenants_after_the_first(sandbox, xero_session):
    assert xero_session(sandbox, tenant_index=0).api("ExpenseClaims").status_code == 200
    for path in ("ExpenseClaims", "Receipts"):
        answer = xero_session(sandbox, tenant_index=1).api(path)
        assert answer.status_code == 410
        assert answer.json()["Status"] == 410


@pytest.mark.parametrize(("scopes", "allowed", "refused"), [
    (["accounting.transactions"], ["Invoices", "Payments", "BankTransfers"], ["Contacts", "Accounts", "Journals"]),
    (["accounting.transactions.read", "accounting.contacts.read"], ["Invoices", "Contacts"], ["TaxRates"]),
    (["accounting.settings.read"], ["Accounts", "Items", "TaxRates"], ["Invoices"]),
    (["accounting.invoices.read"], ["Invoices", "Items", "Quotes"], ["Payments", "BankTransactions"]),
    (["accounting.payments"], ["Payments", "BatchPayments"], ["Invoices"]),
    (["accounting.journals.read"], ["Journals"], ["ManualJournals"]),
    (["accounting.manualjournals.read"], ["ManualJournals"], ["Journals"]),
    (["accounting.reports.read"], ["Reports/TrialBalance", "Reports/BalanceSheet"], ["Invoices"]),
    (["accounting.reports.trialbalance.read"], ["Reports/TrialBalance"], ["Reports/BalanceSheet"]),
], ids=lambda v: ",".join(v) if isinstance(v, list) else v)
def test_broad_and_granular_scopes(sandbox, xero_session, scopes, allowed, refused):
    session = xero_session(sandbox, scopes=scopes)
    for path in allowed:
        assert session.api(path).status_code == 200, path
    for path in refused:
        answer = session.api(path)
        assert answer.status_code == 401, path
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        assert answer.json() | {"Instance": None} == {
            "Type": None, "Title": "Unauthorized", "Status": 401, "Detail": "AuthorizationUnsuccessful",
            "Instance": None, "Extensions": {}}


def test_auth_error_shapes(sandbox, xero_session):
    tenant = sandbox.tenant_ids[0]
    missing = requests.get(f"{sandbox.api_url}/Accounts", headers={"xero-tenant-id": tenant}, timeout=10)
    assert missing.status_code == 401 and missing.json()["Detail"] == "AuthenticationUnsuccessful"
    forged = requests.get(f"{sandbox.api_url}/Accounts", timeout=10, headers={
        "xero-tenant-id": tenant, "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzY29wZSI6W119.bm9wZQ"})
    assert forged.status_code == 401 and forged.json()["Detail"] == "AuthenticationUnsuccessful"
    no_tenant = xero_session(sandbox, tenant_index=None).api("Accounts")
    assert no_tenant.status_code == 403
    assert no_tenant.json()["Title"] == "Forbidden" and no_tenant.json()["Detail"] == "AuthenticationUnsuccessful"
    session = xero_session(sandbox)
    session.headers["xero-tenant-id"] = "11111111-2222-3333-4444-555555555555"
    assert session.api("Accounts").status_code == 403


def test_gzip_when_asked(sandbox, xero_session):
    session = xero_session(sandbox)
    zipped = session.api("Invoices", params={"page": 1}, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers.get("Content-Encoding") == "gzip" and zipped.json()["Invoices"]
    plain = session.api("Invoices", params={"page": 1}, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.json()["Invoices"] == zipped.json()["Invoices"]


def test_keep_alive_serves_several_requests_on_one_connection(sandbox):
    url = urlsplit(sandbox.api_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    headers = {"Authorization": f"Bearer {sandbox.issue_access_token()}", "xero-tenant-id": sandbox.tenant_ids[0]}
    try:
        for _ in range(3):
            connection.request("GET", "/api.xro/2.0/Currencies", headers=headers)
            answer = connection.getresponse()
            assert answer.status == 200 and json.loads(answer.read())["Currencies"]
        first_socket = connection.sock
        connection.request("GET", "/api.xro/2.0/TaxRates", headers=headers)
        connection.getresponse().read()
        assert connection.sock is first_socket
    finally:
        connection.close()


def test_classic_expenses_per_tenant_config_and_the_401_variant(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, limits=False, tenants=3, classic_expenses_tenants=(1,), retired_status=401)
    assert xero_session(sb, tenant_index=1).api("Receipts").status_code == 200
    for index in (0, 2):
        answer = xero_session(sb, tenant_index=index).api("Receipts")
        assert answer.status_code == 401 and answer.json()["Detail"] == "AuthorizationUnsuccessful"
