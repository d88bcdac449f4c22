"""What Xero accepts and refuses on the wire: If-Modified-Since forms, path casing and the Organisations
alias, malformed parameters (400 ValidationException), unknown resources (404), gzip on every body."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tap_xero.endpoints import ENDPOINTS, REPORTS, Paging
from xero_sandbox.core.wire import GZIP_MIN_BYTES, accepts_gzip

MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
NOT_FOUND = "The resource you're looking for cannot be found"


def _ms(value: str) -> int:
    return int(MS_DATE.match(value).group(1))


def _validation_messages(answer: requests.Response) -> list[str]:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    return [e["Message"] for element in body["Elements"] for e in element["ValidationErrors"]]


def _stable(body: dict) -> dict:
    """A response body without what differs between two calls (its Id and the clock's readings)."""
    out = {k: v for k, v in body.items() if k not in ("Id", "DateTimeUTC")}
    if "Reports" in out:
        out["Reports"] = [{k: v for k, v in r.items() if k != "UpdatedDateUTC"} for r in out["Reports"]]
    return out


# -- If-Modified-Since --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def invoice_stamps(sandbox):
    """(session headers, every invoice's UpdatedDateUTC in ms, a cut second between them)."""
    token = sandbox.issue_access_token()
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": sandbox.tenant_ids[0]}
    body = requests.get(f"{sandbox.api_url}/Invoices", params={"page": 1, "pageSize": 1000}, headers=headers,
                        timeout=30).json()
    stamps = sorted(_ms(r["UpdatedDateUTC"]) for r in body["Invoices"])
    distinct = sorted({s // 1000 for s in stamps})
    cut = datetime.fromtimestamp(distinct[len(distinct) // 2], tz=timezone.utc)
    return headers, stamps, cut


def _count_since(sandbox, headers: dict, header_value: str) -> int:
    answer = requests.get(f"{sandbox.api_url}/Invoices", params={"page": 1, "pageSize": 1000}, timeout=30,
                          headers={**headers, "If-Modified-Since": header_value})
    assert answer.status_code == 200, (header_value, answer.text)
    return len(answer.json()["Invoices"])


def _forms(cut: datetime) -> dict[str, str]:
    """Every accepted spelling of the UTC second ``cut``."""
    plus13 = cut.astimezone(timezone(timedelta(hours=13)))
    minus0530 = cut.astimezone(timezone(-timedelta(hours=5, minutes=30)))
    return {
        "xero documented (UTC, no offset)": cut.strftime("%Y-%m-%dT%H:%M:%S"),
        "rfc3339 Z": cut.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rfc3339 Z with milliseconds": cut.strftime("%Y-%m-%dT%H:%M:%S.999Z"),
        "rfc3339 with 7 fraction digits (.NET 'o')": cut.strftime("%Y-%m-%dT%H:%M:%S.9999999+00:00"),
        "rfc3339 +13:00": plus13.strftime("%Y-%m-%dT%H:%M:%S+13:00"),
        "rfc3339 -05:30 with fraction": minus0530.strftime("%Y-%m-%dT%H:%M:%S.5-05:30"),
        "http-date (rfc 1123 / 7231 IMF-fixdate)": cut.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "http-date rfc 850": cut.strftime("%A, %d-%b-%y %H:%M:%S GMT"),
        "http-date asctime": cut.strftime("%a %b ") + f"{cut.day:2d}" + cut.strftime(" %H:%M:%S %Y"),
    }


def test_every_accepted_if_modified_since_form_names_the_same_second(sandbox, invoice_stamps):
    headers, stamps, cut = invoice_stamps
    expected = sum(1 for s in stamps if s >= cut.timestamp() * 1000)
    assert 0 < expected < len(stamps)
    for label, value in _forms(cut).items():
        assert _count_since(sandbox, headers, value) == expected, (label, value)


def test_an_offset_is_applied_not_ignored(sandbox, invoice_stamps):
    headers, stamps, cut = invoice_stamps  # cut is the second of a record's UpdatedDateUTC
    local = (cut + timedelta(hours=13)).strftime("%Y-%m-%dT%H:%M:%S")
    at_cut = sum(1 for s in stamps if s >= cut.timestamp() * 1000)
    assert _count_since(sandbox, headers, local + "+13:00") == at_cut
    read_as_utc = sum(1 for s in stamps if s >= (cut + timedelta(hours=13)).timestamp() * 1000)
    assert _count_since(sandbox, headers, local + "Z") == read_as_utc < at_cut


def test_fractional_seconds_are_truncated_not_rounded(sandbox, invoice_stamps):
    headers, stamps, cut = invoice_stamps
    expected = sum(1 for s in stamps if s >= cut.timestamp() * 1000)
    assert _count_since(sandbox, headers, cut.strftime("%Y-%m-%dT%H:%M:%S.999999Z")) == expected


@pytest.mark.parametrize("value", [
    "yesterday", "2026-01-01", "2026-01-01 10:00:00", "2026-01-01T10:00", "2026-01-01T10:00:00+1300",
    "2026-02-30T00:00:00", "2026-01-01T24:00:01Z", "1767261600", "Thu, 01 Jan 2026 10:00:00 PST", "",
])
def test_any_other_if_modified_since_is_a_validation_error(sandbox, xero_session, value):
    answer = xero_session(sandbox).api("Invoices", headers={"If-Modified-Since": value})
    if value == "":  # an empty header is no header
        assert answer.status_code == 200
        return
    assert "If-Modified-Since" in _validation_messages(answer)[0]


# -- paths --------------------------------------------------------------------------------------------

def test_paths_are_case_insensitive(sandbox, xero_session):
    session = xero_session(sandbox)
    invoices = session.api("Invoices", params={"page": 1}).json()
    assert _stable(session.api("invoices", params={"page": 1}).json()) == _stable(invoices)
    assert _stable(session.api("INVOICES", params={"PAGE": 1}).json()) == _stable(invoices)
    invoice_id = invoices["Invoices"][0]["InvoiceID"]
    one = session.api(f"invoices/{invoice_id.upper()}")
    assert one.status_code == 200 and one.json()["Invoices"][0]["InvoiceID"] == invoice_id
    report = session.api("reports/trialbalance", params={"DATE": "2025-06-30"})
    assert report.status_code == 200
    assert _stable(report.json()) == _stable(session.api("Reports/TrialBalance", params={"date": "2025-06-30"}).json())
    assert session.api("InvoiceReminders/settings").status_code == 200


def test_organisations_plural_is_served_like_organisation(sandbox, xero_session):
    session = xero_session(sandbox, tenant_index=1)
    singular = session.api("Organisation")
    assert singular.status_code == 200
    for path in ("Organisations", "organisations", "ORGANISATIONS"):
        plural = session.api(path)
        assert plural.status_code == 200, path
        assert _stable(plural.json()) == _stable(singular.json())
    organisation_id = singular.json()["Organisations"][0]["OrganisationID"]
    assert session.api(f"Organisations/{organisation_id}").json()["Organisations"][0]["OrganisationID"] \
        == organisation_id


def test_requests_are_counted_under_the_canonical_path(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, limits=False)
    session = xero_session(sb)
    for path in ("Organisations", "organisation", "Reports/ProfitAndLoss", "reports/profitandloss",
                 "Reports/BalanceSheet", "invoices", "Nope"):
        session.api(path)
    assert sb.requests()["by_tenant"][sb.tenant_ids[0]] == {
        "Organisation": 2, "Reports/ProfitAndLoss": 2, "Reports/BalanceSheet": 1, "Invoices": 1, "Nope": 1}


@pytest.mark.parametrize("path", [
    "Invoice", "Organisationz", "Organisations/x/y", "Reports/NoSuchReport", "Reports", "Invoices/abc/History",
    "Contact", "InvoiceReminders",
])
def test_unknown_resources_are_404_plain_text(sandbox, xero_session, path):
    answer = xero_session(sandbox).api(path)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.text == NOT_FOUND


# -- malformed parameters -----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "params", "word"), [
    ("Invoices", {"page": "abc"}, "page"),
    ("Invoices", {"pageSize": "abc"}, "pageSize"),
    ("Invoices", {"page": "1.5"}, "page"),
    ("Quotes", {"page": "two"}, "page"),
    ("Journals", {"offset": "abc"}, "offset"),
    ("Invoices", {"unitdp": "four"}, "unitdp"),
    ("Invoices", {"where": "Date >= DateTime(2025,13,01)"}, "DateTime"),
    ("Reports/TrialBalance", {"date": "31/12/2025"}, "date"),
    ("Reports/BalanceSheet", {"date": "2025-02-30"}, "date"),
    ("Reports/ProfitAndLoss", {"fromDate": "abc"}, "fromDate"),
    ("Reports/BankSummary", {"toDate": "2025-13-01"}, "toDate"),
    ("Reports/ExecutiveSummary", {"date": "tomorrow"}, "date"),
    ("Reports/BudgetSummary", {"date": "2025"}, "date"),
])
def test_malformed_parameters_are_validation_errors(sandbox, xero_session, path, params, word):
    messages = _validation_messages(xero_session(sandbox).api(path, params=params))
    assert any(word in message for message in messages), messages


def test_parameters_a_resource_does_not_take_are_ignored(sandbox, xero_session):
    session = xero_session(sandbox)
    plain = session.api("Accounts").json()
    assert _stable(session.api("Accounts", params={"page": "abc", "colour": "blue"}).json()) == _stable(plain)


# -- gzip ---------------------------------------------------------------------------------------------

def _raw(session, path: str, params: dict, encoding: str | None) -> tuple[requests.Response, bytes]:
    headers = {"Accept-Encoding": encoding} if encoding else {"Accept-Encoding": "identity"}
    answer = session.api(path, params=params, headers=headers, stream=True)
    return answer, answer.raw.read(decode_content=False)


def _targets() -> list[tuple[str, dict]]:
    out = [(e.path, {"page": 1} if e.paging in (Paging.PAGE, Paging.PAGE_SIZE) else {}) for e in ENDPOINTS
           if not e.retired]
    out += [(r.path, {}) for r in REPORTS]
    out.append(("Reports/ProfitAndLoss", {"fromDate": "2025-01-01", "toDate": "2025-01-31", "periods": 11}))
    return out


@pytest.mark.parametrize(("path", "params"), _targets(), ids=lambda value: str(value))
def test_gzip_on_every_collection_and_report(sandbox, xero_session, path, params):
    session = xero_session(sandbox)
    plain, plain_bytes = _raw(session, path, params, None)
    zipped, zipped_bytes = _raw(session, path, params, "gzip, deflate")
    assert plain.status_code == zipped.status_code == 200
    assert "Content-Encoding" not in plain.headers
    if len(plain_bytes) < GZIP_MIN_BYTES:
        assert "Content-Encoding" not in zipped.headers  # too small to be worth it (docs/sandbox.md)
        return
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert int(zipped.headers["Content-Length"]) == len(zipped_bytes) < len(plain_bytes)
    assert _stable(json.loads(gzip.decompress(zipped_bytes))) == _stable(json.loads(plain_bytes))


def test_every_report_and_the_big_collections_are_big_enough_to_be_gzipped(sandbox, xero_session):
    session = xero_session(sandbox)
    for path, params in _targets():
        if path.startswith("Reports/") or path in ("Invoices", "Contacts", "Journals", "Accounts"):
            answer, _ = _raw(session, path, params, "gzip")
            assert answer.headers.get("Content-Encoding") == "gzip", path


def test_gzip_refused_with_q_0_is_not_sent(sandbox, xero_session):
    answer, body = _raw(xero_session(sandbox), "Invoices", {"page": 1}, "gzip;q=0, identity")
    assert "Content-Encoding" not in answer.headers and json.loads(body)["Invoices"]


@pytest.mark.parametrize(("header", "expected"), [
    ("gzip", True), ("gzip, deflate, br", True), ("deflate, gzip;q=0.5", True), ("x-gzip", True), ("*", True),
    ("identity", False), ("", False), ("gzip;q=0", False), ("deflate", False), ("*, gzip;q=0", False),
    ("GZIP", True), ("br;q=1.0, gzip;q=0.001", True), ("gzip;q=abc", False),
])
def test_accept_encoding_q_values(header, expected):
    assert accepts_gzip(header) is expected


def test_a_fault_aimed_at_a_path_hits_it_in_any_casing(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, limits=False)
    sb.faults.add("error:status=502,count=2,path=Invoices")
    session = xero_session(sb)
    assert [session.api(p).status_code for p in ("invoices", "INVOICES", "Invoices")] == [502, 502, 200]
