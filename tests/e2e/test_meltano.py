"""`meltano run tap-xero target-postgres` end to end: real Meltano CLI, real PostgreSQL, the sandbox.

One sandbox and one warehouse database per module; the tests run in file order and each leaves the
warehouse consistent with the sandbox, so every test also holds when run alone.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import requests
import yaml

from xero_sandbox import Sandbox, SandboxConfig
from tap_xero.streams import STREAM_CLASSES

from .conftest import ROOT, MeltanoProject, duckdb_key_stream_maps

pytestmark = pytest.mark.e2e

E2E_SCALE = 120  # invoices per tenant: two pages of 100, small enough for quick runs
STATE_ID = "sandbox:tap-xero-to-target-postgres"
# Generous limits: the e2e is about the pipeline, not throttling (tests/ of the client cover that), but
# limits stay enabled so that the day-limit fault below can stop a run half-way.
LIMITS = dict(minute_limit=100_000, day_limit=1_000_000, app_minute_limit=1_000_000, concurrent_limit=50)


# Xero allows 60 calls a minute per organisation and the tap keeps to that, so a run that needs more
# waits for the next minute. Each report costs 13 calls (one per period); the e2e keeps one report
# (the same code path serves all six) so that every run stays under 60 calls per tenant.
E2E_SKIPPED_REPORTS = (
    "report_balance_sheet", "report_profit_and_loss", "report_bank_summary", "report_budget_summary",
    "report_executive_summary",
)


def _select_patterns() -> list[str]:
    """meltano.yml's select patterns for tap-xero, plus the reports the e2e leaves out."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (tap,) = [p for p in project["plugins"]["extractors"] if p["name"] == "tap-xero"]
    return [*tap.get("select", ["*.*"]), *(f"!{name}.*" for name in E2E_SKIPPED_REPORTS)]


SELECT = _select_patterns()
_EXCLUDED = {m.group(1) for pattern in SELECT if (m := re.fullmatch(r"!(\w+)\.\*", pattern))}
SELECTED = [cls for cls in STREAM_CLASSES if cls.name not in _EXCLUDED]
# The same stream maps as the demo (scripts/demo_credentials.py), for the selected streams only: the
# SDK refuses a map for a deselected stream.
STREAM_MAPS = duckdb_key_stream_maps(cls.name for cls in SELECTED)


def _expected_counts(sandbox: Sandbox) -> dict[str, int]:
    """Rows each collection stream's table must hold: the sandbox's counts summed over tenants."""
    counts = sandbox.counts()
    expected = {}
    for cls in SELECTED:
        endpoint = getattr(cls, "endpoint", None)
        if getattr(cls, "parent_stream_type", None) or endpoint is None:
            continue
        per_tenant = [tenant_counts.get(endpoint.collection_key) for tenant_counts in counts.values()]
        if any(n is not None for n in per_tenant):
            expected[cls.name] = sum(n or 0 for n in per_tenant)
    return expected


def _xero_datetime(value: str) -> datetime:
    """'/Date(1573755038314+0000)/' -> aware UTC datetime (the number is already UTC)."""
    millis = int(re.fullmatch(r"/Date\((-?\d+)([+-]\d{4})?\)/", value).group(1))
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc)


def _api_get(sandbox: Sandbox, tenant_id: str, path: str) -> dict:
    response = requests.get(
        f"{sandbox.api_url}/{path}", timeout=30,
        headers={"Authorization": f"Bearer {sandbox.issue_access_token()}", "xero-tenant-id": tenant_id,
                 "Accept": "application/json"},
    )
    response.raise_for_status()
    return response.json(parse_float=Decimal)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxConfig(seed=7, scale=E2E_SCALE, tenants=2, **LIMITS)) as running:
        yield running


@pytest.fixture(scope="module")
def project(meltano_ready, pg, sandbox, tmp_path_factory) -> MeltanoProject:
    """The first load: `meltano run tap-xero target-postgres`, with the access token expired mid-run."""
    project = MeltanoProject(
        workdir=tmp_path_factory.mktemp("meltano"), sandbox_url=sandbox.base_url,
        client_id=sandbox.client_id, client_secret=sandbox.client_secret,
        # A refresh token of its own grant, so rotations here never touch other tests' tokens.
        refresh_token=sandbox.issue_refresh_token(), database=pg.database,
        # Meltano reads a plugin's select patterns from <PLUGIN>__SELECT; 100 a page makes invoices and
        # contacts take more than one page.
        extra_env={"TAP_XERO__SELECT": json.dumps(SELECT), "TAP_XERO_STREAM_MAPS": json.dumps(STREAM_MAPS),
                   "TAP_XERO_PAGE_SIZE": "100"},
    )
    # Every access token dies after the second Invoices call: the tap must refresh (rotating the
    # refresh token) in the middle of the run.
    sandbox.faults.add({"kind": "expire_tokens", "path": "Invoices", "after": 1, "count": 1})
    project.run("tap-xero", "target-postgres")
    sandbox.faults.clear()
    return project


def test_every_selected_table_exists_with_the_sandbox_row_counts(project, pg, sandbox):
    tables = pg.tables()
    missing = {cls.name for cls in SELECTED} - tables
    assert not missing, f"tables missing in Postgres: {sorted(missing)}"
    assert not _EXCLUDED & tables, "a deselected stream was loaded"
    assert {"expense_claims", "receipts"} <= _EXCLUDED  # meltano.yml's select leaves them out
    expected = _expected_counts(sandbox)
    assert {"invoices", "contacts", "accounts", "payments", "journals"} <= set(expected)
    actual = pg.row_counts()
    assert {name: actual[name] for name in expected} == expected
    assert actual["invoices"] > 2 * 100  # more than one page per tenant really went through
    for cls in SELECTED:
        if cls.name.startswith("report_"):
            assert actual[cls.name] > 0, f"{cls.name} is empty"


def test_line_item_tables_hold_every_line_of_their_parents(project, pg):
    assert int(pg.scalar("select count(*) from xero.invoice_line_items")) == int(
        pg.scalar('select coalesce(sum(cardinality("LineItems")), 0) from xero.invoices')
    ) > 0


def test_postgres_column_types_follow_the_schemas(project, pg):
    """Timestamps and dates as such, money as exact numeric, nested objects and lists as jsonb."""
    checked = {"timestamp": 0, "date": 0, "numeric": 0, "jsonb": 0}
    for cls in SELECTED:
        schema = json.loads((ROOT / "tap_xero" / "schemas" / f"{cls.name}.json").read_text())
        columns = {re.sub(r"[^a-z0-9]", "", name.lower()): kind for name, kind in pg.column_types(cls.name).items()}
        for prop, spec in schema["properties"].items():
            column_type = columns.get(re.sub(r"[^a-z0-9]", "", prop.lower()))
            assert column_type is not None, f"{cls.name}.{prop} has no column"
            types = set(spec.get("type", [])) if isinstance(spec.get("type"), list) else {spec.get("type")}
            where = f"{cls.name}.{prop}: {column_type}"
            if spec.get("format") == "date-time":
                assert column_type.startswith("timestamp"), where
                checked["timestamp"] += 1
            elif spec.get("format") == "date":
                assert column_type == "date", where
                checked["date"] += 1
            elif "number" in types or spec.get("format") == "x-singer.decimal":
                assert column_type == "numeric", where
                checked["numeric"] += 1
            elif "object" in types:
                assert column_type == "jsonb", where
                checked["jsonb"] += 1
            elif "array" in types and spec.get("items", {}).get("type") in ("object", ["object", "null"]):
                assert column_type in ("jsonb", "jsonb[]"), where
                checked["jsonb"] += 1
    assert all(n >= 5 for n in checked.values()), checked
    invoices = pg.column_types("invoices")
    assert (invoices["Total"], invoices["Date"], invoices["Contact"], invoices["UpdatedDateUTC"][:9]) == (
        "numeric", "date", "jsonb", "timestamp")


def test_values_are_exact_and_times_are_utc(project, pg, sandbox):
    tenant_id = sandbox.tenant_ids[0]
    invoice_id, total, updated, date = pg.rows(
        'select "InvoiceID", "Total"::text, "UpdatedDateUTC"::text, "Date"::text from xero.invoices '
        f"where tenant_id = '{tenant_id}' order by \"Total\" desc limit 1"
    )[0]
    (invoice,) = _api_get(sandbox, tenant_id, f"Invoices/{invoice_id}")["Invoices"]
    assert Decimal(total) == Decimal(str(invoice["Total"]))
    assert datetime.fromisoformat(updated).replace(tzinfo=timezone.utc) == _xero_datetime(invoice["UpdatedDateUTC"])
    assert date == _xero_datetime(invoice["Date"]).date().isoformat()
    # Money never went through a binary float: every total keeps at most 2 decimals exactly.
    assert pg.scalar('select count(*) from xero.invoices where "Total" <> round("Total", 2)') == "0"


def test_the_same_tap_output_loads_into_a_second_target(project, sandbox):
    project.run("tap-xero", "target-duckdb")
    counts = project.duckdb_counts()
    expected = _expected_counts(sandbox)
    assert {name: counts.get(name) for name in expected} == expected
    assert {cls.name for cls in SELECTED} <= set(counts)


def _stored_refresh_token(project: MeltanoProject) -> str:
    return json.loads(project.token_store.read_text())["refresh_token"]


def test_a_token_rotated_during_a_run_is_used_by_the_next_run(project, pg, sandbox):
    stored = _stored_refresh_token(project)
    assert stored != project.refresh_token  # rotated (twice: at start and after the mid-run expiry)
    assert project.token_store.stat().st_mode & 0o077 == 0
    # 31 minutes later the configured token and every intermediate one are dead...
    sandbox.clock.advance(31 * 60)
    dead = requests.post(
        f"{sandbox.base_url}/connect/token", timeout=30, auth=(project.client_id, project.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": project.refresh_token},
    )
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    # ...yet Meltano, which hands the tap the same (now dead) configured token, still runs.
    result = project.run("tap-xero", "target-postgres")
    assert project.refresh_token not in result.output
    assert _stored_refresh_token(project) != stored


def test_meltano_keeps_the_state_per_tenant(project, sandbox):
    state = project.state(STATE_ID)
    bookmarks = state["singer_state"]["bookmarks"]
    partitions = bookmarks["invoices"]["partitions"]
    assert {p["context"]["tenant_id"] for p in partitions} == set(sandbox.tenant_ids)
    assert all(p.get("replication_key") == "UpdatedDateUTC" and p.get("replication_key_value") for p in partitions)


def test_a_second_run_updates_exactly_the_changed_rows(project, pg, sandbox):
    tenant_a, tenant_b = sandbox.tenant_ids
    before = pg.row_fingerprints("invoices", ("tenant_id", "InvoiceID"))
    extracted_before = dict(((t, i), x) for t, i, x in pg.rows(
        'select tenant_id, "InvoiceID", _sdc_extracted_at::text from xero.invoices'))
    (first, second) = pg.rows(
        f"select \"InvoiceID\" from xero.invoices where tenant_id = '{tenant_a}' and \"Status\" = 'AUTHORISED' "
        'order by "InvoiceID" limit 2'
    )
    (third,) = pg.rows(
        f"select \"InvoiceID\" from xero.invoices where tenant_id = '{tenant_b}' order by \"InvoiceID\" limit 1"
    )
    sandbox.clock.advance(5)  # mutations get a strictly later UpdatedDateUTC than anything loaded
    sandbox.mutate(tenant_a, "Invoices", "update", first[0], {"Reference": "e2e: updated reference"})
    sandbox.mutate(tenant_a, "Invoices", "void", second[0])
    sandbox.mutate(tenant_b, "Invoices", "touch", third[0])
    created = sandbox.mutate(tenant_b, "Contacts", "create", None, {"Name": "E2E Created Contact Ltd"})

    project.run("tap-xero", "target-postgres")

    after = pg.row_fingerprints("invoices", ("tenant_id", "InvoiceID"))
    assert after.keys() == before.keys()
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {(tenant_a, first[0]), (tenant_a, second[0]), (tenant_b, third[0])}
    reference = pg.scalar(f"select \"Reference\" from xero.invoices where \"InvoiceID\" = '{first[0]}'")
    assert reference == "e2e: updated reference"
    assert pg.scalar(f"select \"Status\" from xero.invoices where \"InvoiceID\" = '{second[0]}'") == "VOIDED"
    assert pg.scalar(
        f"select \"Name\" from xero.contacts "
        f"where tenant_id = '{tenant_b}' and \"ContactID\" = '{created['ContactID']}'"
    ) == "E2E Created Contact Ltd"
    # Incremental: only a handful of invoices were extracted again, not the whole table.
    extracted_after = dict(((t, i), x) for t, i, x in pg.rows(
        'select tenant_id, "InvoiceID", _sdc_extracted_at::text from xero.invoices'))
    re_extracted = [key for key in extracted_after if extracted_after[key] != extracted_before[key]]
    assert len(re_extracted) < len(before) / 4
    expected = _expected_counts(sandbox)
    actual = pg.row_counts()
    assert {name: actual[name] for name in expected} == expected


def test_a_failed_run_deletes_nothing_and_the_next_run_completes(project, pg, sandbox):
    """Half-way through, one tenant's day limit runs out: the run fails, the warehouse keeps every row.

    (ACTIVATE_VERSION, which could delete rows a run did not re-read, never reaches the target: the tap
    refuses emit_activate_version_messages, tests/tap/test_capabilities.py.)
    """
    before = pg.row_counts()
    deleted_before = {t: pg.scalar(f"select count(*) from xero.{t} where _sdc_deleted_at is not null")
                      for t in ("accounts", "currencies", "tax_rates", "invoices", "report_trial_balance")}
    late_tenant = sandbox.tenant_ids[1]
    sandbox.faults.add({"kind": "day_limit", "path": "Reports", "tenant": late_tenant, "count": 0})
    failed = project.run("--full-refresh", "tap-xero", "target-postgres", expect_ok=False)
    assert failed.returncode != 0, failed.output[-3000:]
    assert "Xero's daily API limit is reached" in failed.output, failed.output[-3000:]  # failed as meant to
    after = pg.row_counts()
    shrunk = {t: (before[t], after.get(t)) for t in before if after.get(t, 0) < before[t]}
    assert not shrunk, f"rows lost in a failed run: {shrunk}"
    for table, count in deleted_before.items():
        assert pg.scalar(f"select count(*) from xero.{table} where _sdc_deleted_at is not null") == count

    sandbox.faults.clear()
    sandbox.limiter.config.day_limit = 10**9  # the tenant's day allowance is back
    project.run("tap-xero", "target-postgres")
    expected = _expected_counts(sandbox)
    actual = pg.row_counts()
    assert {name: actual[name] for name in expected} == expected
