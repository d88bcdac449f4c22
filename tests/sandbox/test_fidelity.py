"""Fidelity: the sandbox's responses validate against the official spec's response schemas.

The schemas come from ``tests/spec/accounting_schemas.json``, generated from
``../shared/xero-openapi/xero_accounting.yaml`` by ``scripts/generate_schemas.py``
(its freshness is checked by ``tests/tap/test_schemas.py`` when ../shared is
present), so these tests also run where the spec is not. Every collection
endpoint is asked with pages and each filter it honours, every report once; each
body must validate, and every field the spec marks ``x-is-msdate`` /
``x-is-msdate-time`` must hold a ``/Date(ms±hhmm)/`` string. The Assets and Projects APIs are checked the same
way against their own specs (the end of this file).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tap_xero.endpoints import (
    ASSET_TYPES, ASSETS, ENDPOINTS, OTHER_API_ENDPOINTS, PROJECT_TASKS, PROJECT_TIME_ENTRIES, PROJECT_USERS, PROJECTS,
    REPORTS, Endpoint, Paging,
)

BUNDLE_PATH = Path(__file__).resolve().parent.parent / "spec" / "accounting_schemas.json"
COMPONENTS = json.loads(BUNDLE_PATH.read_text())["components"]
MS_DATE = re.compile(r"^/Date\(-?\d+([+-]\d{4})?\)/$")
REF = "#/components/schemas/"
TENANT_WITH_CLASSIC_EXPENSES = 0
IMS_EARLY = "2000-01-01T00:00:00"


def _validator(schema_name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": REF + schema_name, "components": COMPONENTS})


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = COMPONENTS["schemas"][schema["$ref"].removeprefix(REF)]
    return schema


def msdate_problems(value, schema: dict, where: str = "$") -> list[str]:
    """Fields marked x-is-msdate(-time) in the spec whose value is not a /Date(...)/ string."""
    schema = _resolve(schema)
    problems: list[str] = []
    is_msdate = schema.get("x-is-msdate") or schema.get("x-is-msdate-time")
    if is_msdate and value is not None and not (isinstance(value, str) and MS_DATE.match(value)):
        problems.append(f"{where} = {value!r}")
    for branch in schema.get("allOf", ()) + schema.get("oneOf", ()) + schema.get("anyOf", ()):
        problems += msdate_problems(value, branch, where)
    if isinstance(value, dict):
        for key, inner in schema.get("properties", {}).items():
            if key in value:
                problems += msdate_problems(value[key], inner, f"{where}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems += msdate_problems(item, schema["items"], f"{where}[{index}]")
    return problems


def assert_faithful(body: dict, schema_name: str) -> None:
    errors = sorted(_validator(schema_name).iter_errors(body), key=lambda e: list(e.absolute_path))
    shown = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:10]]
    assert not errors, f"{len(errors)} schema errors in {schema_name}:\n" + "\n".join(shown)
    problems = msdate_problems(body, {"$ref": REF + schema_name})
    assert not problems, "fields that should be /Date(...)/: " + "; ".join(problems[:10])


def _cases(endpoint: Endpoint) -> list[tuple[str, dict, dict]]:
    """(label, params, headers) for every page shape and filter ``endpoint`` honours."""
    first_page = {"page": 1} if endpoint.paging in (Paging.PAGE, Paging.PAGE_SIZE) else {}
    cases = [("plain", first_page, {})]
    if endpoint.paging is Paging.PAGE_SIZE:
        cases += [("page 2 of 50", {"page": 2, "pageSize": 50}, {}),
                  ("pageSize 1000", {"page": 1, "pageSize": 1000}, {})]
    if endpoint.paging is Paging.PAGE:
        cases.append(("page 2", {"page": 2}, {}))
    if endpoint.paging is Paging.OFFSET:
        cases += [("offset", {"offset": 50}, {}), ("paymentsOnly", {"paymentsOnly": "true"}, {})]
    if endpoint.if_modified_since:
        cases.append(("If-Modified-Since", first_page, {"If-Modified-Since": IMS_EARLY}))
    if endpoint.include_archived:
        cases.append(("includeArchived", {**first_page, "includeArchived": "true"}, {}))
    if endpoint.summary_only:
        cases.append(("summaryOnly", {**first_page, "summaryOnly": "true"}, {}))
    if endpoint.unitdp:
        cases.append(("unitdp=4", {**first_page, "unitdp": 4}, {}))
    if endpoint.statuses_filter:
        cases.append(("Statuses", {**first_page, "Statuses": "AUTHORISED,PAID,VOIDED"}, {}))
    if endpoint.include_deleted:
        cases.append(("includeDeleted", {"includeDeleted": "true"}, {}))
    if endpoint.order and endpoint.timestamp_field:
        cases.append(("order DESC", {**first_page, "order": f"{endpoint.timestamp_field} DESC"}, {}))
    cases.append(("as the tap asks", *_tap_query(endpoint)))
    return cases


def _tap_query(endpoint: Endpoint) -> tuple[dict, dict]:
    """Every option the tap combines in one call (tap_xero/client.py), the biggest page it may ask."""
    params: dict = {}
    if endpoint.paging is Paging.PAGE_SIZE:
        params.update(page=1, pageSize=1000)
    elif endpoint.paging is Paging.PAGE:
        params["page"] = 1
    elif endpoint.paging is Paging.OFFSET:
        params["offset"] = 0
    if endpoint.order and endpoint.timestamp_field and not endpoint.order_breaks_paging:
        params["order"] = f"{endpoint.timestamp_field} ASC"
    if endpoint.include_archived:
        params["includeArchived"] = "true"
    if endpoint.unitdp:
        params["unitdp"] = 4
    if endpoint.include_deleted:
        params["includeDeleted"] = "true"
    headers = {"If-Modified-Since": IMS_EARLY} if endpoint.if_modified_since else {}
    return params, headers


COLLECTION_CASES = [
    pytest.param(endpoint, params, headers, id=f"{endpoint.path}:{label}")
    for endpoint in ENDPOINTS
    for label, params, headers in _cases(endpoint)
]


@pytest.mark.parametrize(("endpoint", "params", "headers"), COLLECTION_CASES)
def test_collection_responses_match_the_spec(sandbox, xero_session, endpoint, params, headers):
    answer = xero_session(sandbox, tenant_index=TENANT_WITH_CLASSIC_EXPENSES).api(
        endpoint.path, params=params, headers=headers)
    assert answer.status_code == 200, answer.text[:300]
    body = answer.json()
    if not params.get("page", 1) > 1 and "offset" not in params and "paymentsOnly" not in params:
        assert body[endpoint.envelope_key], f"{endpoint.path} served no records: the check would be empty"
    assert_faithful(body, endpoint.envelope_key)


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if not e.retired], ids=lambda e: e.path)
def test_the_second_tenant_matches_the_spec_too(sandbox, xero_session, endpoint):
    params = {"page": 1} if endpoint.paging in (Paging.PAGE, Paging.PAGE_SIZE) else {}
    answer = xero_session(sandbox, tenant_index=1).api(endpoint.path, params=params)
    assert answer.status_code == 200, answer.text[:300]
    assert_faithful(answer.json(), endpoint.envelope_key)


def test_validation_errors_match_the_spec_error_schema(sandbox, xero_session):
    answer = xero_session(sandbox).api("Invoices", params={"page": 1, "where": "Total >>> 3"})
    assert answer.status_code == 400
    assert_faithful(answer.json(), "Error")
    answer = xero_session(sandbox).api("Invoices", headers={"If-Modified-Since": "not a date"})
    assert answer.status_code == 400
    assert_faithful(answer.json(), "Error")


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.id_field], ids=lambda e: e.path)
def test_single_record_responses_match_the_spec(sandbox, xero_session, endpoint):
    session = xero_session(sandbox, tenant_index=TENANT_WITH_CLASSIC_EXPENSES)
    params = {"page": 1} if endpoint.paging in (Paging.PAGE, Paging.PAGE_SIZE) else {}
    records = session.api(endpoint.path, params=params).json()[endpoint.envelope_key]
    record_id = records[0][endpoint.id_field]
    answer = session.api(f"{endpoint.path}/{record_id}")
    assert answer.status_code == 200, answer.text[:300]
    assert_faithful(answer.json(), endpoint.envelope_key)


# Every report with its defaults, plus each multi-column layout and each accepted parameter.
REPORT_CASES = [(report.path, {}) for report in REPORTS] + [
    ("Reports/ProfitAndLoss", {"fromDate": "2025-01-01", "toDate": "2025-01-31", "periods": 11, "timeframe": "MONTH"}),
    ("Reports/ProfitAndLoss", {"fromDate": "2025-01-01", "toDate": "2025-03-31", "periods": 3, "timeframe": "QUARTER",
                               "standardLayout": "true", "paymentsOnly": "false"}),
    ("Reports/ProfitAndLoss", {"fromDate": "2025-01-01", "toDate": "2025-12-31", "periods": 1, "timeframe": "YEAR"}),
    ("Reports/ProfitAndLoss", {"fromDate": "2025-01-01", "toDate": "2025-01-31", "trackingCategoryID": "<Region>"}),
    ("Reports/ProfitAndLoss", {"fromDate": "2025-01-01", "toDate": "2025-01-31", "trackingCategoryID": "<Region>",
                               "trackingOptionID": "<North>"}),
    ("Reports/ProfitAndLoss", {"fromDate": "2025-01-01", "toDate": "2025-01-31", "trackingCategoryID": "<Department>",
                               "trackingCategoryID2": "<Region>"}),
    ("Reports/BalanceSheet", {"date": "2025-04-30", "periods": 3, "timeframe": "MONTH"}),
    ("Reports/BalanceSheet", {"date": "2025-06-30", "periods": 4, "timeframe": "QUARTER", "paymentsOnly": "true"}),
    ("Reports/BudgetSummary", {"date": "2024-11-14", "periods": 4, "timeframe": 3}),
    ("Reports/BudgetSummary", {"date": "2025-01-01", "periods": 2, "timeframe": 12}),
    ("Reports/ExecutiveSummary", {"date": "2025-01-15"}),
    ("Reports/TrialBalance", {"date": "2025-06-30", "paymentsOnly": "true"}),
    ("Reports/BankSummary", {"fromDate": "2024-12-01", "toDate": "2025-02-28"}),
]


@pytest.mark.parametrize(("path", "params"), REPORT_CASES, ids=lambda value: str(value))
def test_report_responses_match_the_spec(sandbox, xero_session, path, params):
    ids = {}  # "<Name>": the first tenant's tracking category or option of that name
    for category in sandbox.store.organisation(sandbox.tenant_ids[0]).tracking_categories:
        ids[f"<{category['Name']}>"] = category["TrackingCategoryID"]
        ids.update({f"<{option['Name']}>": option["TrackingOptionID"] for option in category["Options"]})
    answer = xero_session(sandbox).api(path, params={key: ids.get(value, value) for key, value in params.items()})
    assert answer.status_code == 200, answer.text[:300]
    body = answer.json()
    assert_faithful(body, "ReportWithRows")
    assert body["Reports"][0]["Rows"][0]["RowType"] == "Header"


def test_the_checks_catch_a_wrong_type_and_a_plain_date():
    """The fidelity checks themselves: a broken body must fail them."""
    with pytest.raises(AssertionError, match="schema errors"):
        assert_faithful({"Invoices": [{"Total": "twelve"}]}, "Invoices")
    with pytest.raises(AssertionError, match=r"/Date"):
        assert_faithful({"Invoices": [{"UpdatedDateUTC": "2020-01-01T00:00:00"}]}, "Invoices")
    assert_faithful({"Invoices": [{"UpdatedDateUTC": "/Date(-86400000+0000)/", "Total": 1.5}]}, "Invoices")


# -- the Assets and Projects APIs ------------------------------------------------------------------------
# Validated against their own specs' schemas (tests/spec/assets_schemas.json, projects_schemas.json, generated
# from xero_assets.yaml and xero-projects.yaml by scripts/generate_schemas.py).

OTHER_BUNDLES = {
    name: json.loads((BUNDLE_PATH.parent / f"{name}_schemas.json").read_text())["components"]
    for name in ("assets", "projects")
}


def assert_faithful_to(bundle: str, body, schema: dict) -> None:
    validator = Draft202012Validator({**schema, "components": OTHER_BUNDLES[bundle]})
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    shown = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:10]]
    assert not errors, f"{len(errors)} schema errors against {schema}:\n" + "\n".join(shown)


def _other(sandbox, xero_session, path: str, params: dict | None = None, scopes: list[str] | None = None):
    session = xero_session(sandbox, scopes=scopes)
    return session.get(f"{sandbox.base_url}/{path}", params=params or {}, timeout=30)


def _a_project(sandbox, xero_session) -> str:
    return _other(sandbox, xero_session, PROJECTS.path).json()["items"][0]["projectId"]


# (bundle, path, params, response schema); "{projectId}" is filled with a project that exists.
OTHER_API_CASES = [
    ("assets", ASSETS.path, {"status": status}, "Assets") for status in ("DRAFT", "REGISTERED", "DISPOSED")
] + [
    ("assets", ASSETS.path, {"status": "REGISTERED", "page": 2, "pageSize": 1}, "Assets"),
    ("assets", ASSETS.path, {"status": "REGISTERED", "pageSize": 200, "filterBy": "Equipment"}, "Assets"),
    ("assets", ASSET_TYPES.path, {}, None),
    ("projects", PROJECTS.path, {}, "Projects"),
    ("projects", PROJECTS.path, {"page": 1, "pageSize": 500, "states": "INPROGRESS,CLOSED"}, "Projects"),
    ("projects", PROJECT_USERS.path, {"page": 1, "pageSize": 500}, "ProjectUsers"),
    ("projects", PROJECT_TASKS.path, {"page": 1, "pageSize": 500}, "Tasks"),
    ("projects", PROJECT_TIME_ENTRIES.path, {"page": 1, "pageSize": 500}, "TimeEntries"),
    ("projects", PROJECT_TIME_ENTRIES.path, {"dateAfterUtc": "2024-01-01T00:00:00Z", "states": "INVOICED,ACTIVE"},
     "TimeEntries"),
]


@pytest.mark.parametrize(("bundle", "path", "params", "schema_name"), OTHER_API_CASES,
                         ids=lambda value: str(value))
def test_assets_and_projects_responses_match_their_specs(sandbox, xero_session, bundle, path, params, schema_name):
    path = path.replace("{projectId}", _a_project(sandbox, xero_session))
    answer = _other(sandbox, xero_session, path, params)
    assert answer.status_code == 200, answer.text[:300]
    body = answer.json()
    if schema_name is None:  # GET /AssetTypes: a bare list of AssetType
        assert body, "no asset types: the check would be empty"
        assert_faithful_to(bundle, body, {"type": "array", "items": {"$ref": REF + "AssetType"}})
        return
    assert set(body) == {"pagination", "items"}
    assert_faithful_to(bundle, body, {"$ref": REF + schema_name})
    if params.get("page", 1) == 1:
        assert body["items"], f"{path} served no records: the check would be empty"


def test_their_pages_hold_every_record_once_in_order(sandbox, xero_session):
    whole = _other(sandbox, xero_session, PROJECTS.path, {"pageSize": 500}).json()
    assert whole["pagination"] == {"page": 1, "pageSize": 500, "pageCount": 1, "itemCount": len(whole["items"])}
    paged = []
    for page in range(1, len(whole["items"]) + 2):
        body = _other(sandbox, xero_session, PROJECTS.path, {"page": page, "pageSize": 1}).json()
        assert body["pagination"]["pageCount"] == len(whole["items"])
        paged += body["items"]
    assert paged == whole["items"]  # the page past the last is empty
    assert _other(sandbox, xero_session, ASSETS.path, {"status": "DRAFT"}).json()["pagination"]["pageSize"] == 10
    assert _other(sandbox, xero_session, PROJECTS.path).json()["pagination"]["pageSize"] == 50


def test_their_filters_filter(sandbox, xero_session):
    closed = _other(sandbox, xero_session, PROJECTS.path, {"states": "CLOSED"}).json()["items"]
    assert closed and {p["status"] for p in closed} == {"CLOSED"}
    by_status = {status: _other(sandbox, xero_session, ASSETS.path, {"status": status, "pageSize": 200}).json()
                 for status in ("DRAFT", "REGISTERED", "DISPOSED")}
    assert {a["assetStatus"] for a in by_status["DISPOSED"]["items"]} == {"Disposed"}
    assert sum(b["pagination"]["itemCount"] for b in by_status.values()) == sandbox.counts()[
        sandbox.tenant_ids[0]]["Assets"]
    time_path = PROJECT_TIME_ENTRIES.path.replace("{projectId}", _a_project(sandbox, xero_session))
    entries = _other(sandbox, xero_session, time_path, {"pageSize": 500}).json()["items"]
    assert entries
    later = sorted(e["dateUtc"] for e in entries)[len(entries) // 2]
    after = _other(sandbox, xero_session, time_path, {"dateAfterUtc": later, "pageSize": 500}).json()["items"]
    assert after == [e for e in entries if e["dateUtc"] >= later]


@pytest.mark.parametrize(("bundle", "path", "params", "status"), [
    ("assets", ASSETS.path, {}, 400),  # status is required
    ("assets", ASSETS.path, {"status": "SOLD"}, 400),
    ("assets", ASSETS.path, {"status": "DRAFT", "pageSize": 201}, 400),
    ("projects", PROJECTS.path, {"pageSize": 501}, 400),
    ("projects", PROJECTS.path, {"page": "first"}, 400),
    ("projects", PROJECT_TASKS.path.replace("{projectId}", "00000000-0000-0000-0000-000000000000"), {}, 404),
], ids=lambda value: str(value))
def test_their_errors_come_in_their_own_shapes(sandbox, xero_session, bundle, path, params, status):
    answer = _other(sandbox, xero_session, path, params)
    assert answer.status_code == status, answer.text[:300]
    assert_faithful_to(bundle, answer.json(), {"$ref": REF + "Error"})
    if bundle == "projects":
        assert answer.json()["message"]
    else:
        assert answer.json()["detail"]


@pytest.mark.parametrize("endpoint", OTHER_API_ENDPOINTS, ids=lambda e: e.path)
def test_they_need_their_scope(sandbox, xero_session, endpoint):
    path = endpoint.path.replace("{projectId}", _a_project(sandbox, xero_session))
    params = {"status": "DRAFT"} if endpoint.split_by else {}
    answer = _other(sandbox, xero_session, path, params, scopes=["accounting.transactions", "accounting.settings"])
    assert answer.status_code == 401
    assert answer.json()["Detail"] == "AuthorizationUnsuccessful"
    granted = _other(sandbox, xero_session, path, params, scopes=[endpoint.scopes[0]])
    assert granted.status_code == 200, answer.text[:300]
