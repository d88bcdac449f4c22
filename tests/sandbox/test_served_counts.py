"""``/_sandbox/counts`` counts what the API serves: a client that reads everything gets exactly those records.

Classic expenses (ExpenseClaims, Receipts) are counted only for the tenants that still serve them;
Journals only on the Advanced tier (below it every Journals call answers 401). The Store's own
``counts()`` still counts everything it holds.
"""

from __future__ import annotations

import pytest
import requests

from tap_xero.endpoints import (
    BY_COLLECTION, BY_ENVELOPE, CASH_JOURNALS_ENDPOINT, ENDPOINTS, MAX_PAGE_SIZE, OTHER_API_ENDPOINTS, PROJECTS,
    Endpoint, Paging,
)

RETIRED = {e.envelope_key for e in ENDPOINTS if e.retired}


def _counts(sb) -> dict[str, dict[str, int]]:
    answer = requests.get(f"{sb.base_url}/_sandbox/counts", timeout=10)
    assert answer.status_code == 200
    return answer.json()


def _read_all(session, endpoint: Endpoint) -> tuple[int, int, int]:
    """(status of the first call, records read, their JournalLines) of a complete read of ``endpoint``, as a
    tap reads."""
    params: dict = {"includeArchived": "true", "includeDeleted": "true", **dict(endpoint.fixed_params)}
    records, lines, page, offset = 0, 0, 1, 0
    while True:
        if endpoint.paging is Paging.PAGE_SIZE:
            params.update(page=page, pageSize=MAX_PAGE_SIZE)
        elif endpoint.paging is Paging.PAGE:
            params.update(page=page)
        elif endpoint.paging is Paging.OFFSET:
            params.update(offset=offset)
        answer = session.api(endpoint.path, params=params)
        if answer.status_code != 200:
            assert records == 0, f"{endpoint.path} failed after {records} records"
            return answer.status_code, 0, 0
        batch = answer.json()[endpoint.envelope_key]
        records += len(batch)
        lines += sum(len(record.get("JournalLines") or ()) for record in batch)
        if endpoint.paging is Paging.NONE or not batch:
            return 200, records, lines
        if endpoint.paging is Paging.OFFSET:
            offset = max(r["JournalNumber"] for r in batch)
        page += 1


def test_classic_expenses_are_counted_only_where_they_are_served(make_sandbox):
    sb = make_sandbox(scale=30, limits=False, tenants=3, classic_expenses_tenants=(0, 2))
    counts = _counts(sb)
    for index, tenant in enumerate(sb.tenant_ids):
        served = index in (0, 2)
        assert {key: key in counts[tenant] for key in RETIRED} == {key: served for key in RETIRED}, index
        assert counts[tenant]["Journals"] > 0 and counts[tenant]["Invoices"] == 30
    assert sb.counts() == counts


def test_the_401_variant_of_retired_classic_expenses_is_not_counted_either(make_sandbox):
    sb = make_sandbox(scale=30, limits=False, retired_status=401)
    counts = _counts(sb)
    assert set(counts[sb.tenant_ids[0]]) >= RETIRED
    assert not RETIRED & set(counts[sb.tenant_ids[1]])


@pytest.mark.parametrize("tier", ["starter", "core", "plus"])
def test_journals_are_counted_only_on_the_advanced_tier(make_sandbox, tier):
    sb = make_sandbox(scale=30, limits=False, tier=tier)
    assert all("Journals" not in per_tenant for per_tenant in _counts(sb).values())
    sb.set_tier("advanced")
    assert all(per_tenant["Journals"] > 0 for per_tenant in _counts(sb).values())


def test_the_store_still_counts_everything_it_holds(make_sandbox):
    sb = make_sandbox(scale=30, limits=False, tier="core")
    held = sb.store.counts()
    for tenant in sb.tenant_ids:
        # (what a variant of an endpoint serves is counted apart: derived_counts)
        assert set(held[tenant]) == set(BY_ENVELOPE) | set(BY_COLLECTION)
        assert {key: n for key, n in held[tenant].items() if key in sb.counts()[tenant]} == sb.counts()[tenant]


@pytest.mark.parametrize("tier", ["core", "advanced"])
def test_a_complete_read_through_the_api_gets_exactly_the_counts(make_sandbox, xero_session, tier):
    sb = make_sandbox(scale=30, limits=False, tier=tier)
    sb.mutate(sb.tenant_ids[0], "Contacts", "create", fields={"Name": "Counted Co"})  # the overlay counts too
    counts = _counts(sb)
    for index, tenant in enumerate(sb.tenant_ids):
        session = xero_session(sb, tenant_index=index)
        for endpoint in ENDPOINTS:
            status, read, _ = _read_all(session, endpoint)
            counted = counts[tenant].get(endpoint.envelope_key)
            if counted is None:
                assert status in (401, 410), f"{endpoint.path} tenant {index}: served but not counted"
            else:
                assert (status, read) == (200, counted), f"{endpoint.path} tenant {index}"


def test_a_complete_read_of_the_assets_and_projects_apis_gets_exactly_the_counts(make_sandbox, xero_session):
    """Every status of Assets, every project's Tasks and Time: together exactly ``/_sandbox/counts``."""
    sb = make_sandbox(scale=300, limits=False)
    counts = _counts(sb)
    for index, tenant in enumerate(sb.tenant_ids):
        session = xero_session(sb, tenant_index=index)

        def read(path: str, session=session, **params) -> list:
            answer = session.get(f"{sb.base_url}/{path}", params=params, timeout=30)
            assert answer.status_code == 200, answer.text[:300]
            body = answer.json()
            return body if isinstance(body, list) else body["items"]

        projects = [p["projectId"] for p in read(PROJECTS.path, pageSize=500)]
        for endpoint in OTHER_API_ENDPOINTS:
            if endpoint.parent is not None:
                served = sum(len(read(endpoint.path.replace("{projectId}", p), pageSize=500)) for p in projects)
            elif endpoint.split_by is not None:
                name, values = endpoint.split_by
                served = sum(len(read(endpoint.path, pageSize=200, **{name: value})) for value in values)
            else:
                served = len(read(endpoint.path, pageSize=500))
            assert served == counts[tenant][endpoint.collection_key] > 0, endpoint.path


@pytest.mark.parametrize("tier", ["core", "advanced"])
def test_the_cash_basis_journals_and_their_lines_are_counted_under_their_streams_names(
    make_sandbox, xero_session, tier
):
    sb = make_sandbox(scale=40, limits=False, tier=tier)
    tenant = sb.tenant_ids[0]
    payment = sb.store.list(tenant, "Payments", _query(page=1)).records[0]
    sb.mutate(tenant, "Payments", "void", str(payment["PaymentID"]))  # its reversal: one more cash journal
    counts = _counts(sb)[tenant]
    status, journals, lines = _read_all(xero_session(sb), CASH_JOURNALS_ENDPOINT)
    if tier == "core":
        assert status == 401 and "CashJournals" not in counts and "CashJournalLines" not in counts
        return
    assert (status, journals, lines) == (200, counts["CashJournals"], counts["CashJournalLines"])
    assert 0 < journals < counts["Journals"]


def _query(**kw):
    from xero_sandbox import Query

    return Query(**kw)
