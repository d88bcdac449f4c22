"""The Assets and Projects APIs' streams, synced from the sandbox over real HTTP.

assets, asset_types, projects, project_users, project_tasks, project_time_entries: counts per organisation
equal the sandbox's, every record fits its schema, a missing scope is one warning and no call, every run
reads the whole collection (neither API has a modification timestamp), and a run costs the calls stated in
docs/streams.md.
"""

from __future__ import annotations

import logging
from pathlib import Path

import jsonschema
import pytest

from tap_xero import endpoints
from tap_xero.http import apis_root
from tests.tap.test_streams_sync import (
    GENEROUS_LIMITS, ISO_DATE, RFC3339_UTC, date_fields, run_tap, schema_of, values_at,
)
from xero_sandbox import Sandbox, SandboxConfig

STREAMS = {
    "assets": endpoints.ASSETS, "asset_types": endpoints.ASSET_TYPES, "projects": endpoints.PROJECTS,
    "project_users": endpoints.PROJECT_USERS, "project_tasks": endpoints.PROJECT_TASKS,
    "project_time_entries": endpoints.PROJECT_TIME_ENTRIES,
}
ACCOUNTING_ONLY = ["accounting.transactions", "accounting.contacts", "accounting.settings"]


ASSET_STREAMS = {"assets", "asset_types"}
PROJECT_STREAMS = set(STREAMS) - ASSET_STREAMS
# Small pages so that every read pages: in two runs, as one run of a tenant keeps to Xero's 60 calls a minute.
PAGE_SIZES = {"assets": 2, "projects": 3}


@pytest.fixture(scope="module")
def sb():
    # 400 invoices: 6 assets and 8 projects per organisation.
    with Sandbox(SandboxConfig(seed=3, scale=400, tenants=2, **GENEROUS_LIMITS)) as running:
        yield running


@pytest.fixture(scope="module")
def full_sync(sb: Sandbox, tmp_path_factory):
    """(records by stream and tenant, calls by tenant and path) of the two runs."""
    records: dict = {}
    calls: dict = {}
    for family, streams in (("assets", ASSET_STREAMS), ("projects", PROJECT_STREAMS)):
        sb.reset_counters()
        result = run_tap(sb, tmp_path_factory.mktemp(family), streams, page_size=PAGE_SIZES[family])
        records.update({stream: result.records[stream] for stream in streams})
        records.setdefault("schemas", {}).update(result.schemas)
        for tenant, paths in sb.requests()["by_tenant"].items():
            calls.setdefault(tenant, {}).update(paths)
    return records, calls


def _all(records: dict, stream: str) -> list[dict]:
    return [r for rows in records[stream].values() for r in rows]


@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_record_counts_equal_the_sandboxs_per_organisation(sb: Sandbox, full_sync, stream: str) -> None:
    records, _ = full_sync
    endpoint = STREAMS[stream]
    counts = sb.counts()
    for tenant in sb.tenant_ids:
        emitted = records[stream][tenant]
        expected = counts[tenant][endpoint.collection_key]
        assert expected > 0, f"the sandbox has no {endpoint.collection_key}: the test would prove nothing"
        assert len(emitted) == expected, f"{stream}, tenant {tenant}"
        assert len({r[endpoint.id_field] for r in emitted}) == expected, f"{stream}: duplicates"
        assert {r["tenant_id"] for r in emitted} == {tenant}


@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_every_record_fits_its_schema_with_rfc3339_dates(full_sync, stream: str) -> None:
    records, _ = full_sync
    schema = schema_of(stream)
    assert records["schemas"][stream] == schema
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    dated = date_fields(schema)
    for record in _all(records, stream):
        errors = sorted(validator.iter_errors(record), key=str)
        assert not errors, f"{stream}: {errors[0].message} at {list(errors[0].absolute_path)}"
        for path, fmt in dated:
            for value in values_at(record, path):
                if value is not None:
                    assert (RFC3339_UTC if fmt == "date-time" else ISO_DATE).match(value), (stream, path, value)


def test_assets_of_every_status_are_read(full_sync) -> None:
    records, _ = full_sync
    assert {r["assetStatus"] for r in _all(records, "assets")} == {"Draft", "Registered", "Disposed"}


def test_tasks_and_time_belong_to_the_projects_read_and_add_up_to_them(full_sync) -> None:
    records, _ = full_sync
    projects = {(r["tenant_id"], r["projectId"]): r for r in _all(records, "projects")}
    minutes: dict = {}
    for entry in _all(records, "project_time_entries"):
        key = (entry["tenant_id"], entry["projectId"])
        assert key in projects
        minutes[key] = minutes.get(key, 0) + entry["duration"]
    for task in _all(records, "project_tasks"):
        assert (task["tenant_id"], task["projectId"]) in projects
    for key, project in projects.items():
        assert project["minutesLogged"] == minutes.get(key, 0)
    assert any(e["status"] == "INVOICED" for e in _all(records, "project_time_entries"))


def test_a_run_costs_the_calls_the_docs_state(sb: Sandbox, full_sync) -> None:
    """Assets: one query per status, each paged; the projects' list: once for projects and once for the two
    per-project streams together (the second finds it in the run's facts); tasks and time: every page of every
    project."""
    records, calls = full_sync
    assets_page, projects_page = PAGE_SIZES["assets"], PAGE_SIZES["projects"]

    def pages(n: int, size: int) -> int:
        return max(1, -(-n // size))

    for tenant in sb.tenant_ids:
        made, counts = calls[tenant], sb.counts()[tenant]
        per_status = {status: 0 for status in ("Draft", "Registered", "Disposed")}
        for asset in records["assets"][tenant]:
            per_status[asset["assetStatus"]] += 1
        assert made[endpoints.ASSETS.path] == sum(pages(n, assets_page) for n in per_status.values()) > 3
        assert made[endpoints.ASSET_TYPES.path] == 1
        # the projects stream's list, and one more shared by the two per-project streams
        assert made[endpoints.PROJECTS.path] == 2 * pages(counts["Projects"], projects_page)
        for stream in ("project_tasks", "project_time_entries"):
            per_project: dict[str, int] = {}
            for row in records[stream][tenant]:
                per_project[row["projectId"]] = per_project.get(row["projectId"], 0) + 1
            project_ids = [r["projectId"] for r in records["projects"][tenant]]
            expected = sum(pages(per_project.get(p, 0), projects_page) for p in project_ids)
            assert made[STREAMS[stream].path] == expected > len(project_ids), stream


def test_a_default_page_reads_every_projects_tasks_and_time_in_one_call_each(sb: Sandbox, tmp_path: Path) -> None:
    sb.reset_counters()
    result = run_tap(sb, tmp_path, {"project_tasks", "project_time_entries"})
    calls = sb.requests()["by_tenant"]
    for tenant in sb.tenant_ids:
        projects = sb.counts()[tenant]["Projects"]
        assert calls[tenant] == {
            endpoints.PROJECTS.path: 1,  # the list of projects (500 a page), read once for both streams
            endpoints.PROJECT_TASKS.path: projects,
            endpoints.PROJECT_TIME_ENTRIES.path: projects,
        }
        assert len(result.records["project_tasks"][tenant]) == sb.counts()[tenant]["ProjectTasks"]


def test_every_run_reads_the_whole_collection_no_api_gives_a_usable_bookmark(sb: Sandbox, tmp_path: Path) -> None:
    first = run_tap(sb, tmp_path / "one", set(STREAMS))
    again = run_tap(sb, tmp_path / "two", set(STREAMS), state=first.state)
    for stream in STREAMS:
        assert len(again.all(stream)) == len(first.all(stream)) > 0, stream
        for partition in again.state["bookmarks"].get(stream, {}).get("partitions", ()):
            assert "replication_key_value" not in partition


def test_a_token_without_the_scopes_skips_each_stream_with_one_warning_and_no_call(
    sb: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sb.reset_counters()
    with caplog.at_level(logging.WARNING):
        result = run_tap(sb, tmp_path, {*STREAMS, "currencies"}, access_token=sb.issue_access_token(ACCOUNTING_ONLY))
    assert result.all("currencies"), "the streams the token allows are read"
    for stream in STREAMS:
        assert not result.all(stream)
        warnings = [r for r in caplog.records if f"'{stream}'" in r.getMessage()]
        assert len(warnings) == 1 and ("assets.read" in warnings[0].getMessage()
                                       or "projects.read" in warnings[0].getMessage()), stream
    made = {path for paths in sb.requests()["by_tenant"].values() for path in paths}
    assert not {e.path for e in STREAMS.values()} & made


def test_scopes_claimed_but_refused_by_xero_end_the_stream_with_one_warning(
    sb: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The token does not say (no scope claim the tap believes): Xero's 401 AuthorizationUnsuccessful is the
    same one-warning skip, remembered for a day."""
    with caplog.at_level(logging.WARNING):
        result = run_tap(sb, tmp_path, {"assets", "projects"}, access_token=sb.issue_access_token(ACCOUNTING_ONLY),
                         scopes="assets.read projects.read " + " ".join(ACCOUNTING_ONLY))
    assert not result.all("assets") and not result.all("projects")
    for stream in ("assets", "projects"):
        warnings = [r for r in caplog.records if f"'{stream}'" in r.getMessage()]
        assert len(warnings) == len(sb.tenant_ids), (stream, [w.getMessage() for w in warnings])


@pytest.mark.parametrize(("api_url", "root"), [
    ("https://api.xero.com/api.xro/2.0", "https://api.xero.com"),
    ("http://127.0.0.1:8765/api.xro/2.0/", "http://127.0.0.1:8765"),
    ("https://proxy.example/xero/api.xro/2.0", "https://proxy.example/xero"),
    ("https://proxy.example/accounting", "https://proxy.example"),
])
def test_the_other_apis_follow_the_configured_api_url(api_url: str, root: str) -> None:
    assert apis_root(api_url) == root


class _FakeProjectsApi:
    """What reading needs of the client (sync.collection.XeroCalls), answering like the Projects API but leaving
    ``projectId`` out of each task, as a future API version might."""

    max_concurrent_per_tenant = 5

    def __init__(self, executor) -> None:
        self.executor = executor
        self.paths: list[str] = []

    def get_json(self, tenant_id, path, params=None, headers=None):
        self.paths.append(path)
        page, size = int(params["page"]), int(params["pageSize"])
        if path == endpoints.PROJECTS.path:
            items = [{"projectId": f"p{n}"} for n in range(5)][(page - 1) * size:page * size]
            return {"pagination": {"page": page, "pageSize": size, "pageCount": 3, "itemCount": 5}, "items": items}
        project = path.split("/")[-2]
        return {"pagination": {"page": 1, "pageSize": size, "pageCount": 1, "itemCount": 1},
                "items": [{"taskId": f"t-{project}"}]}


def test_per_project_reads_carry_their_project_and_give_back_what_the_list_held() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tap_xero.paging import RecordsBudget
    from tap_xero.sync.collection import page_source
    from tap_xero.sync.query import CollectionQuery

    query = CollectionQuery.for_stream(endpoints.PROJECT_TASKS, None, {"page_size": 2})
    budget = RecordsBudget(100)
    with ThreadPoolExecutor(4) as pool:
        api = _FakeProjectsApi(pool)
        pages = list(page_source(api, "tenant", query, budget)({}, None, 0))
    rows = [row for page in pages for row in page.records]
    assert rows == [{"taskId": f"t-p{n}", "projectId": f"p{n}"} for n in range(5)]
    assert [page.number for page in pages] == [1, 2, 3, 4, 5]
    assert api.paths.count(endpoints.PROJECTS.path) == 3
    assert f"{endpoints.PROJECTS_API}/Projects/p4/Tasks" in api.paths
    for page in pages:
        page.claim.release()  # the writer gives each page back once written
    assert budget.held == 0  # the projects' pages, read only for their ids, were given back
