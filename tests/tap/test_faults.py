"""Fault injection against the sandbox, each run reconciled with the sandbox's data.

Each injectable fault alone (quick, always run), then the seeded loop (marked ``faults``): random
combinations at random points, bounded to about a minute, every iteration reconciled: zero records lost,
no rotated refresh token lost, and the documented exit status (0, or 75 for the day limit followed by a
resuming run).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.capture import sync_selected
from tap_xero import errors, limits
from tap_xero.http import XeroClient
from xero_sandbox import Query
from tap_xero.streams.reports import REPORT_PRIMARY_KEYS
from tap_xero.tap import TapXero

# Offset-paged (journals, cash journals), page-paged with a modified-since bookmark, child rows, and the Assets and
# Projects APIs (their own envelope and paging, full table).
# Two reports: one read twelve months a call (periods), one a month a call; each checked row by row against a clean
# run's.
REPORT_STREAMS = {"report_profit_and_loss", "report_trial_balance"}
STREAMS = {"invoices", "invoice_line_items", "contacts", "journals", "cash_journals", "quotes", "assets", "projects",
           *REPORT_STREAMS}
GATED_BELOW_ADVANCED = frozenset({"journals", "cash_journals"})
KEYS = {"invoices": "InvoiceID", "contacts": "ContactID", "journals": "JournalID", "cash_journals": "JournalID",
        "quotes": "QuoteID", "assets": "assetId", "projects": "projectId"}
PAGE_SIZE = 50  # several pages per tenant at the sandbox's small scale
# The seeded loop runs this long (CI: a minute); FAULT_LOOP_SECONDS=1800 for a long hunt, FAULT_LOOP_FIRST_SEED to
# start elsewhere. A failure names its seed.
LOOP_SECONDS = float(os.environ.get("FAULT_LOOP_SECONDS", "60"))
FIRST_SEED = int(os.environ.get("FAULT_LOOP_FIRST_SEED", "0"))


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    """Backoff waits of milliseconds (the mechanism is the same; tests stay fast)."""
    monkeypatch.setattr(XeroClient, "DEFAULT_RETRY_BASE_SECONDS", 0.01)
    monkeypatch.setattr(XeroClient, "DEFAULT_RETRY_MAX_WAIT_SECONDS", 0.05)


def run(sb, tmp_path, *, state=None, streams=STREAMS, **extra):
    """One in-process tap run; (messages, error, token store path)."""
    store_path = tmp_path / "tokens.json"
    config = {
        "client_id": sb.client_id, "client_secret": sb.client_secret, "identity_url": sb.base_url,
        "api_url": sb.api_url, "token_store_path": str(store_path), "page_size": PAGE_SIZE,
        "request_timeout": 1, **extra,
    }
    if not store_path.exists():
        config["refresh_token"] = sb.issue_refresh_token()
    return sync_selected(TapXero(config=config, state=state), streams)


def last_state(messages):
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return states[-1] if states else None


def emitted(messages) -> dict[str, set]:
    out: dict[str, set] = {}
    for m in messages:
        if m["type"] != "RECORD" or m["stream"] in REPORT_STREAMS:  # reports: report_rows
            continue
        record = m["record"]
        if m["stream"] == "invoice_line_items":
            key = (record["tenant_id"], record["InvoiceID"], record["line_number"])
        else:
            key = (record["tenant_id"], record[KEYS[m["stream"]]])
        out.setdefault(m["stream"], set()).add(key)
    return out


def _all(sb, tenant: str, key: str, **query) -> list[dict]:
    """Every record of a collection, page after page, straight from the sandbox's store."""
    out: list[dict] = []
    page = 1
    while True:
        records = sb.store.list(tenant, key, Query(page=page, page_size=1000, **query)).records
        out += records
        if len(records) < 100:
            return out
        page += 1


def expected(sb) -> dict[str, set]:
    """What the sandbox holds, read from its store (not over the API the tap uses)."""
    out: dict[str, set] = {name: set() for name in STREAMS}
    for tenant in sb.tenant_ids:
        for record in _all(sb, tenant, "Invoices"):
            out["invoices"].add((tenant, record["InvoiceID"]))
            for number, _ in enumerate(record.get("LineItems") or [], 1):
                out["invoice_line_items"].add((tenant, record["InvoiceID"], number))
        for record in _all(sb, tenant, "Contacts", include_archived=True):
            out["contacts"].add((tenant, record["ContactID"]))
        for record in _all(sb, tenant, "Quotes"):
            out["quotes"].add((tenant, record["QuoteID"]))
        for stream, payments_only in (("journals", False), ("cash_journals", True)):
            offset = 0
            while True:
                journals = sb.store.list(tenant, "Journals", Query(offset=offset, payments_only=payments_only)).records
                if not journals:
                    break
                out[stream].update((tenant, j["JournalID"]) for j in journals)
                offset = journals[-1]["JournalNumber"]
        for stream, collection in (("assets", "Assets"), ("projects", "Projects")):
            out[stream].update((tenant, r[KEYS[stream]]) for r in sb.store.api_records(tenant, collection))
    return out


def reconcile(sb, *runs, gated: frozenset[str] = frozenset(), streams=STREAMS) -> None:
    """For ``streams``: every record the sandbox holds was emitted by one of ``runs`` (``gated``: streams Xero
    refuses to the app's tier, which must emit nothing); each report row, as the runs last emitted it, is a
    clean run's, and the clean run has no other."""
    got: dict[str, set] = {}
    for messages in runs:
        for stream, keys in emitted(messages).items():
            got.setdefault(stream, set()).update(keys)
    want = expected(sb)
    for stream in set(streams) - REPORT_STREAMS:
        if stream in gated:
            assert not got.get(stream), f"{stream}: emitted although Xero refuses it to this tier"
            continue
        missing = want[stream] - got.get(stream, set())
        assert not missing, f"{stream}: {len(missing)} record(s) lost, e.g. {sorted(missing)[:3]}"
    if REPORT_STREAMS & set(streams):
        reports = report_rows(runs)
        for stream, clean in clean_report_rows(sb).items():
            lost, extra = clean.keys() - reports[stream].keys(), reports[stream].keys() - clean.keys()
            differ = [key for key in clean.keys() & reports[stream].keys() if clean[key] != reports[stream][key]]
            assert not (lost or extra or differ), (
                f"{stream}: {len(lost)} row(s) lost, {len(extra)} not in a clean run, {len(differ)} differ, "
                f"e.g. {sorted(lost)[:1]} {sorted(extra)[:1]} {[(clean[k], reports[stream][k]) for k in differ[:1]]}")


def report_rows(runs) -> dict[str, dict[tuple, dict]]:
    """Each report row as last emitted (a month read again replaces its rows), by primary key."""
    rows: dict[str, dict[tuple, dict]] = {name: {} for name in REPORT_STREAMS}
    for messages in runs:
        for m in messages:
            if m["type"] == "RECORD" and m["stream"] in REPORT_STREAMS:
                row = {name: value for name, value in m["record"].items() if name != "report_updated_utc"}  # when read
                rows[m["stream"]][tuple(row[name] for name in REPORT_PRIMARY_KEYS)] = row
    return rows


def clean_report_rows(sb) -> dict[str, dict[tuple, dict]]:
    """The reports as one run with no fault reads them, from a fresh state (the faults left are cleared)."""
    sb.faults.clear()
    with tempfile.TemporaryDirectory() as scratch:
        messages, error = run(sb, Path(scratch), streams=REPORT_STREAMS)
    assert error is None, error
    return report_rows([messages])


def sync_until_done(sb, tmp_path, *, max_runs: int = 3, **config):
    """Run, and while a run stops early (exit 75: Xero's day limit, after which a new sandbox day starts, or the
    run's call budget) resume from the last line's state. Done when a run ends in 0, or once every organisation
    has finished a sync: under a call budget smaller than a whole sync, runs may never all end in 0, as each
    organisation finishes its sync over several runs and then starts its next one while another is still
    catching up (sync/unfinished.py)."""
    runs = []
    state = None
    finished: set[str] = set()
    for _ in range(max_runs):
        messages, error = run(sb, tmp_path, state=state, **config)
        runs.append(messages)
        if error is None:
            return runs
        assert isinstance(error, errors.RunStopped), f"unexpected failure: {error!r}"
        assert error.exit_code == errors.EXIT_DAY_LIMIT == 75
        state = last_state(messages)
        assert state is not None and messages[-1]["type"] == "STATE", "a stop must end on a state to resume from"
        stops = error.stops if isinstance(error, errors.StoppedEarly) else [error]
        finished |= set(sb.tenant_ids) - {stop.tenant_id for stop in stops}
        if finished == set(sb.tenant_ids):
            return runs
        if any(isinstance(stop, errors.DayLimitReached) for stop in stops):
            sb.faults.clear()
            sb.clock.advance(86400)  # the next day: a new allowance
    raise AssertionError("the tap did not finish")


def refresh_token_still_works(sb, tmp_path) -> None:
    """The rotated refresh token was kept: a new run authenticates with the stored one."""
    stored = json.loads((tmp_path / "tokens.json").read_text())
    assert stored, "the token store is empty"
    sb.faults.clear()
    sb.clock.advance(86400)  # a day_limit fault that fired on the last call leaves today's allowance spent
    messages, error = run(sb, tmp_path, state={"bookmarks": {}})
    assert error is None


@pytest.fixture
def sb(make_sandbox):
    # limits=False still counts calls in X-MinLimit-Remaining, which the tap obeys: a large minute allowance
    # keeps several runs a minute from waiting for the next minute.
    return make_sandbox(scale=120, tenants=2, limits=False, minute_limit=100_000)


SINGLE_FAULTS = [
    "error:status=500,count=3,path=Invoices",
    "error:status=502,count=2",
    "maintenance:count=2,path=Contacts",
    "reset:count=3,path=Invoices",
    "slow:delay=1.5,count=1,path=Invoices",
    "truncate:count=2,path=Invoices",
    "truncate:count=1,path=Journals",
    "expire_tokens:count=1,after=3",
    "shift_page:page=1,path=Invoices",
    "shift_page:page=2,path=Invoices,count=2",
]


@pytest.mark.parametrize("spec", SINGLE_FAULTS)
def test_each_fault_alone_loses_nothing(sb, tmp_path, spec, caplog):
    sb.faults.add(spec)
    messages, error = run(sb, tmp_path)
    assert error is None, repr(error)
    assert sb.faults.list()[0]["fired"] >= 1, "the fault never fired: the test proves nothing"
    reconcile(sb, messages)
    if spec.startswith("shift_page:page=1"):
        assert "page shift" in caplog.text  # a record really was pushed past a page already read
    if spec.startswith("expire_tokens"):
        refresh_token_still_works(sb, tmp_path)


@pytest.mark.parametrize("first, second", [(3, 9), (12, 15)])  # seeds 1026 and 1061 of the loop
def test_a_token_that_expires_twice_in_one_run_is_renewed_twice(sb, tmp_path, first, second):
    # The second expiry hits the token renewed after the first one: after it served several calls, or
    # while concurrent calls are still being retried with it.
    sb.faults.add(f"expire_tokens:count=1,after={first}")
    sb.faults.add(f"expire_tokens:count=1,after={second}")
    messages, error = run(sb, tmp_path)
    assert error is None, repr(error)
    assert [fault["fired"] for fault in sb.faults.list()] == [1, 1]
    reconcile(sb, messages)
    refresh_token_still_works(sb, tmp_path)


def test_day_limit_stops_with_75_and_the_next_run_resumes(sb, tmp_path):
    sb.faults.add("day_limit:after=6,count=1")
    runs = sync_until_done(sb, tmp_path)
    assert len(runs) == 2
    reconcile(sb, *runs)
    # Few duplicates: the resumed run does not start over.
    first = sum(1 for m in runs[0] if m["type"] == "RECORD" and m["stream"] == "invoices")
    second = sum(1 for m in runs[1] if m["type"] == "RECORD" and m["stream"] == "invoices")
    assert first > 0 and first + second <= len(expected(sb)["invoices"]) + 2 * PAGE_SIZE


def test_minute_limit_is_waited_out(make_sandbox, tmp_path, monkeypatch):
    # A "minute" of one second and 10 calls in it (the sandbox's clock 60 times faster), the tap's own window made
    # the same second (as scripts/bench_ours_runner.py does): more than 10 calls must be spread over several.
    sb = make_sandbox(scale=120, tenants=1, limits=True, minute_limit=10, time_scale=60)
    original = limits.Limits.__init__
    monkeypatch.setattr(limits.Limits, "__init__",
                        lambda self, **kwargs: original(self, **{**kwargs, "window_seconds": 1.0}))
    paged = {"invoices", "invoice_line_items", "contacts", "journals", "quotes"}
    messages, error = run(sb, tmp_path, streams=paged, page_size=20)
    assert error is None, repr(error)
    reconcile(sb, messages, streams=paged)
    calls = [entry for entry in sb.request_log() if entry["path"].startswith("/api.xro")]
    assert len(calls) > 10
    began, ended = (dt.datetime.fromisoformat(calls[n]["time"]) for n in (0, -1))
    assert (ended - began).total_seconds() >= 0.9 * ((len(calls) - 1) // 10)  # never more than 10 a "minute"


KINDS = [
    "error:status={status},count={count},after={after}",
    "maintenance:count={count},after={after}",
    "reset:count={count},after={after}",
    "truncate:count={count},after={after}",
    "slow:delay=1.2,count=1,after={after}",
    "expire_tokens:count=1,after={after}",
    "shift_page:page={page},path=Invoices,count={count}",
    "day_limit:count=1,after={after}",
]


@pytest.mark.faults
def test_seeded_fault_loop(make_sandbox, tmp_path_factory):
    """Random faults at random points, and now and then a kill -9 at a random moment, each reconciled."""
    began = time.monotonic()
    iterations = kills = 0
    seed = FIRST_SEED
    while time.monotonic() - began < LOOP_SECONDS:
        rng = random.Random(seed)
        tier = rng.choice(["advanced", "advanced", "core", "starter"])
        sb = make_sandbox(seed=seed + 1, scale=rng.choice([60, 120, 200]), tenants=rng.choice([1, 2]), limits=False,
                          minute_limit=100_000, tier=tier)
        gated = frozenset() if tier == "advanced" else GATED_BELOW_ADVANCED
        kill = rng.random() < 0.25
        # Without a kill, a call budget now and then: the sync then completes over several runs.
        budget = rng.choice([None, None, 6, 9]) if not kill else None
        # With a kill: no day limit (it ends the run by itself).
        kinds = [k for k in KINDS if not (kill and k.startswith("day_limit"))]
        specs = [
            rng.choice(kinds).format(status=rng.choice([500, 502, 503, 504]), count=rng.randint(1, 3),
                                     after=rng.randint(0, 25), page=rng.randint(1, 3))
            for _ in range(rng.randint(1, 3))
        ]
        for spec in specs:
            sb.faults.add(spec)
        tmp_path = tmp_path_factory.mktemp(f"seed{seed}")
        try:
            if kill:
                kills += 1
                runs = kill_and_resume(sb, tmp_path, kill_after_states=rng.randint(1, 12))
            else:
                runs = sync_until_done(sb, tmp_path, max_runs=40 if budget else 3,
                                       **({"call_budget": budget} if budget else {}))
            reconcile(sb, *runs, gated=gated)
            refresh_token_still_works(sb, tmp_path)
        except AssertionError as exc:
            raise AssertionError(
                f"seed {seed}, tier {tier}, budget {budget}, kill {kill}, faults {specs}: {exc}"
            ) from None
        sb.stop()
        iterations += 1
        seed += 1
    print(f"fault loop: {iterations} iterations ({kills} with a kill -9), seeds {FIRST_SEED}..{seed - 1}")
    assert iterations >= 5 and kills >= 1


def test_cli_exits_75_on_the_day_limit_with_state_last(sb, tmp_path):
    # One organisation: the one whose day is spent (the others would go on: see test_client's day-limit tests).
    config = {
        "client_id": sb.client_id, "client_secret": sb.client_secret, "identity_url": sb.base_url,
        "api_url": sb.api_url, "token_store_path": str(tmp_path / "tokens.json"), "page_size": PAGE_SIZE,
        "refresh_token": sb.issue_refresh_token(), "tenant_ids": sb.tenant_ids[:1],
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    sb.faults.add("day_limit:after=3,count=1,path=Invoices")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "tap-xero"), "--config", str(tmp_path / "config.json")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == errors.EXIT_DAY_LIMIT, done.stderr[-2000:]
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert last["type"] == "STATE"
    assert "daily API limit" in done.stderr
    assert sb.refresh_token not in done.stderr and config["refresh_token"] not in done.stderr


def kill_and_resume(sb, tmp_path, kill_after_states: int) -> list[list[dict]]:
    """Run the CLI, kill -9 it after ``kill_after_states`` STATE lines, resume from the last one; the runs."""
    config = {
        "client_id": sb.client_id, "client_secret": sb.client_secret, "identity_url": sb.base_url,
        "api_url": sb.api_url, "token_store_path": str(tmp_path / "tokens.json"), "page_size": PAGE_SIZE,
        "refresh_token": sb.issue_refresh_token(),
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    catalog = TapXero(config=config).catalog_dict  # discovery is offline: no call, no token used
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in STREAMS
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    tap = str(Path(sys.executable).parent / "tap-xero")
    process = subprocess.Popen([tap, "--config", str(tmp_path / "config.json"),
                                "--catalog", str(tmp_path / "catalog.json")],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first: list[dict] = []
    seen_states = 0
    for line in process.stdout:
        message = json.loads(line, parse_float=Decimal)
        first.append(message)
        if message["type"] == "STATE":
            seen_states += 1
            if seen_states == kill_after_states:
                os.kill(process.pid, signal.SIGKILL)
                break
    process.wait(timeout=30)
    process.stdout.close()
    state = last_state(first)
    (tmp_path / "state.json").write_text(json.dumps(state, default=str))
    done = subprocess.run([tap, "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json"),
                           "--state", str(tmp_path / "state.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    second = [json.loads(line, parse_float=Decimal) for line in done.stdout.splitlines()]
    return [first, second]


def test_kill_9_mid_sync_resumes_with_nothing_lost(make_sandbox, tmp_path):
    # Slow pages, so that the kill lands in the middle of the paged streams.
    sb = make_sandbox(scale=400, tenants=1, limits=False, latency_ms=20, minute_limit=100_000)
    first, second = kill_and_resume(sb, tmp_path, kill_after_states=6)
    reconcile(sb, first, second)
    # Few duplicates: the resumed run does not read everything again.
    total = len(expected(sb)["invoices"])
    read_twice = emitted(first).get("invoices", set()) & emitted(second).get("invoices", set())
    assert len(read_twice) <= 2 * PAGE_SIZE < total


@pytest.mark.faults
def test_kill_9_between_a_page_shift_and_its_repair_loses_nothing(make_sandbox, tmp_path):
    # Seed 46 of the loop, where the gap was first seen.
    sb = make_sandbox(seed=47, scale=60, tenants=2, limits=False, minute_limit=100_000)
    for spec in ("shift_page:page=1,path=Invoices,count=3", "slow:delay=1.2,count=1,after=2",
                 "expire_tokens:count=1,after=4"):
        sb.faults.add(spec)
    runs = kill_and_resume(sb, tmp_path, kill_after_states=5)
    reconcile(sb, *runs)
