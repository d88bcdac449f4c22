"""Every stream synced from the sandbox over real HTTP, checked against the sandbox's own data.

One sandbox for the module (two tenants, small scale, no rate limits). The tap runs in-process
and its Singer messages are captured as the exact text it would print, then parsed back with
``Decimal`` so amounts are compared as they reach a target.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import requests

from tap_xero import endpoints
from xero_sandbox import Sandbox, SandboxConfig
from tap_xero.streams import STREAM_CLASSES
from tap_xero.tap import TapXero

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "tap_xero" / "schemas"
# The Accounting API's collections (the Assets and Projects APIs: tests/tap/test_assets_and_projects.py).
ENDPOINT_STREAMS = {  # the Accounting API's streams (and the cash journals, a variant of one of its endpoints)
    cls.name: cls.endpoint for cls in STREAM_CLASSES
    if getattr(cls, "endpoint", None) in {*endpoints.ENDPOINTS, endpoints.CASH_JOURNALS_ENDPOINT}}
CHILD_STREAMS = {cls.name: cls for cls in STREAM_CLASSES if hasattr(cls, "lines_field")}
REPORT_STREAMS = {cls.name: cls.report for cls in STREAM_CLASSES if getattr(cls, "report", None)
                  and not cls.report.by_tracking}
PARENT_OF = {child.name: parent for parent in STREAM_CLASSES for child in getattr(parent, "child_tables", ())}
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00)$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The tap keeps Xero's 60 calls a minute per tenant by the X-MinLimit-Remaining the sandbox reports;
# these tests make more than that, so the sandbox is given (and reports) a far larger allowance.
GENEROUS_LIMITS = {"minute_limit": 100_000, "day_limit": 1_000_000}
# The key of /_sandbox/counts that counts a stream's records: the envelope key, except for a variant of an
# endpoint (same path and envelope, other parameters), counted under a key named after its stream.
COUNT_KEYS = {"cash_journals": "CashJournals", "cash_journal_lines": "CashJournalLines"}
SCALE = 120  # invoices per tenant: more than one page of 100 where Xero's page size is fixed


@dataclass
class SyncResult:
    """Captured output of one run: records per stream and tenant, the last state, every schema."""

    records: dict[str, dict[str, list[dict]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    schemas: dict[str, dict] = field(default_factory=dict)
    state: dict = field(default_factory=dict)

    def all(self, stream: str) -> list[dict]:
        return [r for rows in self.records.get(stream, {}).values() for r in rows]


def run_tap(sb: Sandbox, tmp_path: Path, streams: set[str], *, state: dict | None = None, **config) -> SyncResult:
    """Sync ``streams`` from ``sb`` and return what the tap wrote (as a target would read it)."""
    result = SyncResult()

    class CapturingWriter(TapXero.message_writer_class):
        def write_message(self, message) -> None:  # the tap's own serialisation, read back exactly
            parsed = json.loads(self.format_message(message), parse_float=Decimal)
            kind = parsed["type"]
            if kind == "RECORD":
                record = parsed["record"]
                result.records[parsed["stream"]][record["tenant_id"]].append(record)
            elif kind == "SCHEMA":
                result.schemas[parsed["stream"]] = parsed["schema"]
            elif kind == "STATE":
                result.state = parsed["value"]

    settings = {
        "access_token": sb.issue_access_token(),
        "api_url": sb.api_url,
        "identity_url": sb.base_url,
        "token_store_path": str(tmp_path / "tokens.json"),
        **config,
    }
    tap = TapXero(
        config=settings, catalog=selecting_catalog(streams), state=copy.deepcopy(state) if state else None,
        message_writer=CapturingWriter(),
    )
    tap.sync_all()
    return result


def selecting_catalog(streams: set[str]) -> dict:
    """The discovered catalog with exactly ``streams`` selected, as Meltano would pass it."""
    catalog = copy.deepcopy(_discovered_catalog())
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


@functools.cache
def _discovered_catalog() -> dict:
    return TapXero(config={}, validate_config=False).catalog_dict


def raw_records(sb: Sandbox, tenant_id: str, endpoint: endpoints.Endpoint) -> list[dict]:
    """The collection as the sandbox serves it (every page, archived included), numbers as Decimal."""
    headers = {"Authorization": f"Bearer {sb.issue_access_token()}", "xero-tenant-id": tenant_id}
    params: dict = {"includeArchived": "true"} if endpoint.include_archived else {}
    params.update(endpoint.fixed_params)  # paymentsOnly=true: the cash-basis journals
    if endpoint.unitdp:
        params["unitdp"] = 4
    out: list[dict] = []
    with requests.Session() as session:
        page, offset = 1, 0
        while True:
            if endpoint.paging is endpoints.Paging.OFFSET:
                params["offset"] = offset
            elif endpoint.paging is not endpoints.Paging.NONE:
                params["page"] = page
            response = session.get(f"{sb.api_url}/{endpoint.path}", params=params, headers=headers, timeout=30)
            response.raise_for_status()
            batch = json.loads(response.text, parse_float=Decimal)[endpoint.envelope_key]
            out += batch
            if endpoint.paging is endpoints.Paging.NONE or not batch:
                return out
            if endpoint.paging is endpoints.Paging.OFFSET:
                offset = max(r["JournalNumber"] for r in batch)
            page += 1


def schema_of(stream: str) -> dict:
    return json.loads((SCHEMAS_DIR / f"{stream}.json").read_text(encoding="utf-8"))


def date_fields(schema: dict, path: tuple = ()) -> list[tuple[tuple, str]]:
    """(path, format) of every date/date-time field; '[]' in a path steps into array items."""
    found: list[tuple[tuple, str]] = []
    if schema.get("format") in ("date", "date-time"):
        found.append((path, schema["format"]))
    for name, sub in (schema.get("properties") or {}).items():
        found += date_fields(sub, (*path, name))
    if isinstance(schema.get("items"), dict):
        found += date_fields(schema["items"], (*path, "[]"))
    return found


def values_at(node, path: tuple):
    if not path:
        yield node
        return
    head, rest = path[0], path[1:]
    if head == "[]":
        for item in node if isinstance(node, list) else ():
            yield from values_at(item, rest)
    elif isinstance(node, dict) and head in node:
        yield from values_at(node[head], rest)


def expected_datetime(ms_date: str) -> datetime:
    return EPOCH + timedelta(milliseconds=int(MS_DATE.match(ms_date).group(1)))


def as_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sb():
    with Sandbox(SandboxConfig(seed=7, scale=SCALE, tenants=2, **GENEROUS_LIMITS)) as running:
        yield running


@pytest.fixture(scope="module")
def full_sync(sb: Sandbox, tmp_path_factory) -> SyncResult:
    """Every collection and child table (retired ones too), no start_date: everything the sandbox has."""
    streams = {*ENDPOINT_STREAMS, *CHILD_STREAMS}
    return run_tap(sb, tmp_path_factory.mktemp("full"), streams, page_size=50)


@pytest.fixture(scope="module")
def raw(sb: Sandbox) -> dict[tuple[str, str], list[dict]]:
    """Lazily fetched raw collections per (stream, tenant)."""
    cache: dict[tuple[str, str], list[dict]] = {}

    class Lazy(dict):
        def __missing__(self, key):
            stream, tenant = key
            cache[key] = raw_records(sb, tenant, ENDPOINT_STREAMS[stream])
            return cache[key]

    return Lazy()


# ------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("stream", sorted(ENDPOINT_STREAMS))
def test_record_counts_equal_the_sandboxs_per_tenant(sb: Sandbox, full_sync: SyncResult, stream: str) -> None:
    endpoint = ENDPOINT_STREAMS[stream]
    counts = sb.counts()
    for index, tenant in enumerate(sb.tenant_ids):
        emitted = full_sync.records[stream][tenant]
        if endpoint.retired and index not in sb.config.classic_expenses_tenants:
            assert emitted == [], f"{stream}: retired for tenant {index}, the stream ends empty"
            continue
        expected = counts[tenant][COUNT_KEYS.get(stream, endpoint.envelope_key)]
        assert expected > 0, f"the sandbox has no {endpoint.envelope_key}: the test would prove nothing"
        assert len(emitted) == expected, f"{stream} tenant {index}"
        if endpoint.id_field:
            assert len({r[endpoint.id_field] for r in emitted}) == expected, f"{stream}: duplicates"


@pytest.mark.parametrize("stream", sorted({*ENDPOINT_STREAMS, *CHILD_STREAMS}))
def test_every_record_fits_its_schema_with_rfc3339_dates(full_sync: SyncResult, stream: str) -> None:
    schema = schema_of(stream)
    assert full_sync.schemas[stream] == schema  # the SCHEMA message is the committed file
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    dated = date_fields(schema)
    records = full_sync.all(stream)
    for record in records:
        errors = sorted(validator.iter_errors(record), key=str)
        assert not errors, f"{stream}: {errors[0].message} at {list(errors[0].absolute_path)}"
        for path, fmt in dated:
            for value in values_at(record, path):
                if value is not None:
                    assert (RFC3339_UTC if fmt == "date-time" else ISO_DATE).match(value), (stream, path, value)
    key_fields = [k for k in STREAM_BY_NAME[stream].primary_keys]
    keys = {tuple(r.get(k) for k in key_fields) for r in records}
    assert len(keys) == len(records), f"{stream}: primary key not unique"


STREAM_BY_NAME = {cls.name: cls for cls in STREAM_CLASSES}


@pytest.mark.parametrize("stream", sorted(COUNT_KEYS.keys() & CHILD_STREAMS.keys()))
def test_child_table_counts_equal_the_sandboxs_per_tenant(sb: Sandbox, full_sync: SyncResult, stream: str) -> None:
    counts = sb.counts()
    for index, tenant in enumerate(sb.tenant_ids):
        expected = counts[tenant][COUNT_KEYS[stream]]
        assert expected > 0, f"the sandbox has no {COUNT_KEYS[stream]}: the test would prove nothing"
        assert len(full_sync.records[stream][tenant]) == expected, f"{stream} tenant {index}"


def test_cash_journals_are_the_journals_of_payments_with_their_own_bookmark(sb: Sandbox, full_sync: SyncResult) -> None:
    for tenant in sb.tenant_ids:
        cash = full_sync.records["cash_journals"][tenant]
        journals = {r["JournalID"]: r for r in full_sync.records["journals"][tenant]}
        assert {r["SourceType"] for r in cash} <= {"ACCRECPAYMENT", "ACCPAYPAYMENT"}
        assert all(journals[r["JournalID"]] == r for r in cash)  # the same journals, as accrual reads them
        assert len(cash) < len(journals)
        assert (_bookmark(full_sync.state, "cash_journals", tenant)
                == max(r["JournalNumber"] for r in cash) <= _bookmark(full_sync.state, "journals", tenant))


@pytest.mark.parametrize("stream", sorted(CHILD_STREAMS))
def test_child_tables_have_every_line_of_every_parent(sb: Sandbox, full_sync: SyncResult, raw, stream: str) -> None:
    child = CHILD_STREAMS[stream]
    parent = PARENT_OF[stream]
    for tenant in sb.tenant_ids:
        parents = raw[(parent.name, tenant)]
        expected = {
            (p[child.parent_id_field], n): line
            for p in parents for n, line in enumerate(p.get(child.lines_field) or [], 1)
        }
        assert expected, f"no {child.lines_field} in the sandbox's {parent.name}: the test would prove nothing"
        emitted = {(r[child.parent_id_field], r["line_number"]): r for r in full_sync.records[stream][tenant]}
        assert emitted.keys() == expected.keys()
        for key, line in expected.items():
            for name, value in line.items():
                if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
                    assert emitted[key][name] == value, (stream, key, name)


@pytest.mark.parametrize("stream", sorted(s for s, e in ENDPOINT_STREAMS.items() if not e.retired))
def test_amounts_exact_and_dates_converted_from_the_raw_response(
    sb: Sandbox, full_sync: SyncResult, raw, stream: str
) -> None:
    endpoint = ENDPOINT_STREAMS[stream]
    dated = dict(date_fields(schema_of(stream)))
    tenant = sb.tenant_ids[0]
    emitted = {r.get(endpoint.id_field) if endpoint.id_field else "": r for r in full_sync.records[stream][tenant]}
    checked_numbers = checked_dates = 0
    for source in raw[(stream, tenant)]:
        record = emitted[source.get(endpoint.id_field) if endpoint.id_field else ""]
        for name, value in source.items():
            if isinstance(value, Decimal):
                assert record[name] == value and isinstance(record[name], Decimal), (stream, name)
                assert str(record[name]) == str(value), (stream, name, "digits changed")
                checked_numbers += 1
            elif isinstance(value, str) and MS_DATE.match(value) and (name,) in dated:
                moment = expected_datetime(value)
                if dated[(name,)] == "date-time":
                    assert as_utc(record[name]) == moment, (stream, name, value, record[name])
                else:
                    assert record[name] == moment.date().isoformat(), (stream, name, value, record[name])
                checked_dates += 1
    assert checked_numbers + checked_dates > 0 or stream in NO_AMOUNTS_OR_DATES, stream


NO_AMOUNTS_OR_DATES = {"contact_groups", "currencies", "invoice_reminders", "payment_services", "tracking_categories"}


def test_pre_1970_dates_convert_exactly(sb: Sandbox, full_sync: SyncResult, raw) -> None:
    """Negative /Date(...)/ values (before 1970) land on the right day and instant."""
    checked = 0
    for stream in ("invoices", "journals"):
        endpoint = ENDPOINT_STREAMS[stream]
        for tenant in sb.tenant_ids:
            emitted = {r[endpoint.id_field]: r for r in full_sync.records[stream][tenant]}
            for source in raw[(stream, tenant)]:
                for name, value in source.items():
                    if isinstance(value, str) and MS_DATE.match(value) and value.startswith("/Date(-"):
                        got = emitted[source[endpoint.id_field]][name]
                        moment = expected_datetime(value)
                        assert got in (moment.date().isoformat(), moment.isoformat(timespec="microseconds")) or (
                            as_utc(got) == moment
                        ), (stream, name, value, got)
                        assert got < "1970-01-01"
                        checked += 1
    assert checked, "the sandbox seeds pre-1970 dates: none was seen"


# ------------------------------------------------------------------------------------- incremental

INCREMENTAL = sorted(
    name for name, cls in STREAM_BY_NAME.items() if getattr(cls, "endpoint", None) and cls.replication_key
    and not cls.endpoint.retired
)


def test_second_run_returns_exactly_the_changed_records(sb: Sandbox, tmp_path: Path) -> None:
    streams = set(INCREMENTAL)
    first = run_tap(sb, tmp_path, streams)
    tenant = sb.tenant_ids[1]
    mutated: dict[str, set[str]] = defaultdict(set)

    def change(stream: str, action: str, pick=None, fields: dict | None = None) -> None:
        """Apply ``action`` to the first record ``pick`` accepts (or create one when pick is None)."""
        endpoint = ENDPOINT_STREAMS[stream]
        record_id = None
        if pick is not None:
            record_id = str(next(r for r in first.records[stream][tenant] if pick(r))[endpoint.id_field])
        record = sb.mutate(tenant, endpoint.envelope_key, action, record_id, fields)
        mutated[stream].add(str(record[endpoint.id_field]))

    def editable(record: dict) -> bool:
        return record.get("Status") not in ("VOIDED", "DELETED")

    change("invoices", "update", editable, {"Reference": "changed by the test"})
    change("contacts", "create", None, {"Name": "Brand New Contact Ltd"})
    change("contacts", "archive", lambda r: r.get("ContactStatus") == "ACTIVE")
    change("payments", "void", lambda r: r.get("Status") == "AUTHORISED")  # also changes its invoice
    change("accounts", "touch", lambda r: True)
    change("items", "touch", lambda r: True)
    change("linked_transactions", "touch", lambda r: True)
    change("purchase_orders", "touch", lambda r: True)

    second = run_tap(sb, tmp_path, streams, state=first.state)

    for stream in INCREMENTAL:
        endpoint, rk = ENDPOINT_STREAMS[stream], STREAM_BY_NAME[stream].replication_key
        for current_tenant in sb.tenant_ids:
            bookmark = _bookmark(first.state, stream, current_tenant)
            now = {str(r[endpoint.id_field]): r for r in raw_records(sb, current_tenant, endpoint)}
            # What changed since the first run, by the sandbox's own data (side effects included:
            # voiding a credit note adds journals, for instance).
            changed = {i for i, r in now.items() if _after(_converted(r[rk]), bookmark)}
            emitted = {str(r[endpoint.id_field]): r for r in second.records[stream][current_tenant]}
            assert changed <= emitted.keys(), f"{stream}: missed {sorted(changed - emitted.keys())[:3]}"
            for record_id in emitted.keys() - changed:  # only boundary duplicates
                assert _at_boundary(emitted[record_id][rk], bookmark), (stream, record_id, emitted[record_id][rk])
            if current_tenant == tenant:
                assert mutated[stream] <= changed, f"{stream}: the sandbox's mutation did not register"
            else:
                assert not changed, f"{stream}: the untouched tenant changed"
    # The voided payment's reversal is a new cash journal: read by its own bookmark, and nothing older.
    assert [r["SourceType"] for r in second.records["cash_journals"][tenant]] in (["ACCRECPAYMENT"], ["ACCPAYPAYMENT"])


def _converted(value):
    if isinstance(value, str) and MS_DATE.match(value):
        return expected_datetime(value).isoformat()
    return value


def _after(value, bookmark) -> bool:
    if isinstance(value, str):
        return as_utc(value) > as_utc(bookmark)
    return value > bookmark


def _at_boundary(value, bookmark) -> bool:
    """At the bookmark, or within the one second of If-Modified-Since's precision before it."""
    if isinstance(value, str):
        return as_utc(bookmark) - timedelta(seconds=1) <= as_utc(value) <= as_utc(bookmark)
    return value == bookmark


def _bookmark(state: dict, stream: str, tenant: str):
    for partition in state["bookmarks"][stream].get("partitions", []):
        if partition["context"]["tenant_id"] == tenant:
            return partition["replication_key_value"]
    raise AssertionError(f"no bookmark for {stream} / {tenant}")


def test_a_field_xero_adds_tomorrow_reaches_the_target(sb: Sandbox, tmp_path: Path) -> None:
    tenant = sb.tenant_ids[0]
    new = sb.mutate(tenant, "Contacts", "create", None, {
        "Name": "Future Co",
        "ShinyNewField": {"Depth": "1.50"},  # unknown at the top level
        "Addresses": [{"AddressType": "POBOX", "City": "Wellington", "What3Words": "index.home.raft"}],  # nested
    })
    result = run_tap(sb, tmp_path, {"contacts"})
    record = next(r for r in result.records["contacts"][tenant] if r["ContactID"] == new["ContactID"])
    assert record["ShinyNewField"] == {"Depth": "1.50"}
    assert record["Addresses"][0]["What3Words"] == "index.home.raft"
    assert record["Addresses"][0]["City"] == "Wellington"
    assert "ShinyNewField" not in schema_of("contacts")["properties"]  # it really is unknown


# ------------------------------------------------------------------------------------- reports


REPORT_HISTORY_MONTHS = 14  # two calls where a report takes periods; a year boundary and a February


def one_month_rows(sb: Sandbox, tenant: str, report: endpoints.Report, month) -> list[dict]:
    """A report's rows for one month, from a one-month request flattened as the tap flattens it."""
    from tap_xero import reports

    period = reports.month_period(month)
    params = reports.multi_period_params(report, [month]) if report.columns else reports.report_params(report, period)
    headers = {"Authorization": f"Bearer {sb.issue_access_token()}", "xero-tenant-id": tenant}
    response = requests.get(f"{sb.api_url}/{report.path}", params=params, headers=headers, timeout=30)
    response.raise_for_status()
    rows = []
    for element in json.loads(response.text, parse_float=Decimal)["Reports"]:
        if report.columns:
            rows += reports.flatten_report(element, tenant_id=tenant, report_name=report.name, column_periods=[period])
        else:
            rows += reports.flatten_report(element, tenant_id=tenant, report_name=report.name, period=period)
    return rows


# What describes the answer rather than the line (a twelve-month answer has its own title and date).
ANSWER_FIELDS = {"report_id", "report_title", "report_titles", "report_date", "report_updated_utc"}


def test_report_rows_are_the_rows_of_one_month_answers_however_fetched(sb: Sandbox, tmp_path: Path) -> None:
    from tap_xero.sync.report_months import add_months, month_of

    current = month_of(datetime.now(timezone.utc).date())
    months = [add_months(current, -n) for n in reversed(range(REPORT_HISTORY_MONTHS))]
    before = sb.requests()["by_tenant"]
    result = run_tap(sb, tmp_path, set(REPORT_STREAMS), report_history_months=REPORT_HISTORY_MONTHS)
    after = sb.requests()["by_tenant"]
    for tenant in sb.tenant_ids:
        for stream, report in REPORT_STREAMS.items():
            calls = after[tenant].get(report.path, 0) - before.get(tenant, {}).get(report.path, 0)
            # Fourteen months: two calls where Xero takes periods (the fewest it allows), else one a month.
            assert calls == (2 if report.columns else REPORT_HISTORY_MONTHS), (stream, calls)
    for stream, report in REPORT_STREAMS.items():
        validator = jsonschema.Draft7Validator(schema_of(stream), format_checker=jsonschema.FormatChecker())
        key = STREAM_BY_NAME[stream].primary_keys
        for tenant in sb.tenant_ids:
            rows = result.records[stream][tenant]
            expected = [row for month in months for row in one_month_rows(sb, tenant, report, month)]
            assert expected, f"{stream}: the sandbox's report has no lines"
            assert {r["period_start"] for r in rows} == {m.isoformat() for m in months}, stream
            assert len({tuple(r[k] for k in key) for r in rows}) == len(rows), f"{stream}: key not unique"
            by_key = {tuple(r[k] for k in key): r for r in rows}
            assert set(by_key) == {tuple(line[k] for k in key) for line in expected}, stream
            for line in expected:
                row = by_key[tuple(line[k] for k in key)]
                for name, value in line.items():
                    if name not in ANSWER_FIELDS:
                        assert row[name] == value, (stream, row["period_start"], row["line_key"], name)
            for row in rows:
                errors = list(validator.iter_errors(row))
                assert not errors, errors[0].message


def test_profit_and_loss_by_tracking_splits_the_plain_report_by_every_active_category(
    sb: Sandbox, tmp_path: Path
) -> None:
    """Per month, category and line: the options and Unassigned add up to the plain report's figure. One call
    per month and active category (Region, Department; not the archived one), plus the categories."""
    months = REPORT_HISTORY_MONTHS  # the sandbox's documents end 13 months ago or less: two months with data
    before = sb.requests()["by_tenant"]
    result = run_tap(sb, tmp_path, {"report_profit_and_loss", "report_profit_and_loss_by_tracking"},
                     report_history_months=months)
    after = sb.requests()["by_tenant"]
    stream = "report_profit_and_loss_by_tracking"
    validator = jsonschema.Draft7Validator(schema_of(stream), format_checker=jsonschema.FormatChecker())
    key = STREAM_BY_NAME[stream].primary_keys
    for tenant in sb.tenant_ids:
        calls = {path: n - before.get(tenant, {}).get(path, 0) for path, n in after[tenant].items()}
        categories = sb.store.organisation(tenant).tracking_categories
        active = {c["TrackingCategoryID"]: c for c in categories if c["Status"] == "ACTIVE"}
        assert len(active) == 2 < len(categories)
        assert calls["Reports/ProfitAndLoss"] == 2 + months * len(active)  # the plain report: twelve months a call
        assert calls["TrackingCategories"] == 1
        rows = result.records[stream][tenant]
        assert len({tuple(r[k] for k in key) for r in rows}) == len(rows), "key not unique"
        for row in rows:
            errors = list(validator.iter_errors(row))
            assert not errors, errors[0].message
            category = active[row["tracking_category_id"]]
            assert row["tracking_category"] == category["Name"]
            assert row["tracking_option"] in {o["Name"] for o in category["Options"]} | {"Unassigned"}
        plain = defaultdict(Decimal)
        for row in result.records["report_profit_and_loss"][tenant]:
            plain[(row["period_start"], row["section"], row["line_key"])] += row["value"]
        for category_id in active:
            split = defaultdict(Decimal)
            for row in rows:
                if row["tracking_category_id"] == category_id:
                    split[(row["period_start"], row["section"], row["line_key"])] += row["value"]
            lines = split.keys() | plain.keys()
            assert {k: split[k] for k in lines} == {k: plain[k] for k in lines}, active[category_id]["Name"]
        region = [r for r in rows if active[r["tracking_category_id"]]["Name"] == "Region"]
        assert any(r["value"] and r["tracking_option"] != "Unassigned" for r in region), "nothing tracked"


def test_many_organisations_in_one_run_each_reconcile_with_the_sandbox(tmp_path: Path) -> None:
    """Twelve organisations read at once (sync/fan_in.py), their pages interleaved: every organisation's
    every collection holds exactly what the sandbox serves it, no record twice, and a bookmark of its own."""
    config = SandboxConfig(seed=11, scale=60, tenants=12, **GENEROUS_LIMITS)
    with Sandbox(config) as many:
        streams = {name for name, endpoint in ENDPOINT_STREAMS.items() if not endpoint.retired}
        result = run_tap(many, tmp_path, streams, page_size=25, max_concurrent_requests=2)
        counts = many.counts()
        for tenant in many.tenant_ids:
            for stream in streams:
                endpoint = ENDPOINT_STREAMS[stream]
                count_key = COUNT_KEYS.get(stream, endpoint.envelope_key)
                if count_key not in counts[tenant]:
                    continue  # not served on this tier (Journals below Advanced)
                emitted = result.records[stream][tenant]
                assert len(emitted) == counts[tenant][count_key], f"{stream} tenant {tenant}"
                if endpoint.id_field:
                    assert len({r[endpoint.id_field] for r in emitted}) == len(emitted), f"{stream}: duplicates"
            assert _bookmark(result.state, "invoices", tenant) is not None
