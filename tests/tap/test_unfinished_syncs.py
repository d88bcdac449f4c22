"""A sync that stops before its end goes on, in the next runs, with the streams it has not read (sync/unfinished.py).

Against the sandbox over HTTP, in process: a call budget smaller than the calls the first streams in name order
cost every run (the Assets API: one call per status, full table) used to stop every run at the same place.
"""

from __future__ import annotations

import logging

import pytest

from tap_xero import errors
from tap_xero.http import XeroClient
from tap_xero.sync.unfinished import STATE_KEY, UnfinishedSyncs
from tap_xero.tap import TapXero
from tests.capture import sync_selected

STREAMS = {"assets", "contacts", "invoices", "projects"}
KEYS = {"assets": "assetId", "contacts": "ContactID", "invoices": "InvoiceID", "projects": "projectId"}
T1, T2, T3 = (f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-0000-0000-000000000000" for n in (1, 2, 3))


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(XeroClient, "DEFAULT_RETRY_BASE_SECONDS", 0.01)


def _run(sb, tmp_path, state, **extra):
    store_path = tmp_path / "tokens.json"
    config = {
        "client_id": sb.client_id, "client_secret": sb.client_secret, "identity_url": sb.base_url,
        "api_url": sb.api_url, "token_store_path": str(store_path), "page_size": 50, **extra,
    }
    if not store_path.exists():
        config["refresh_token"] = sb.issue_refresh_token()
    return sync_selected(TapXero(config=config, state=state), STREAMS)


def _held(sb) -> dict[str, set]:
    held: dict[str, set] = {name: set() for name in STREAMS}
    counts = sb.counts()
    for tenant in sb.tenant_ids:
        for stream, collection in (("assets", "Assets"), ("projects", "Projects")):
            held[stream] |= {(tenant, r[KEYS[stream]]) for r in sb.store.api_records(tenant, collection)}
        assert counts[tenant]["Contacts"] and counts[tenant]["Invoices"]
    return held


def test_a_budget_below_what_the_first_streams_cost_every_run_still_completes_the_sync(make_sandbox, tmp_path):
    sb = make_sandbox(scale=120, tenants=2, limits=False, minute_limit=100_000)
    budget = 3  # the assets stream alone costs 3 calls a run (one per status): without the mechanism no run
    # would ever get past it
    emitted: dict[str, set] = {name: set() for name in STREAMS}
    assets_emitted = 0
    state = None
    for _runs in range(1, 40):
        messages, error = _run(sb, tmp_path, state, call_budget=budget)
        assert messages[-1]["type"] == "STATE"
        state = messages[-1]["value"]
        for message in messages:
            if message["type"] == "RECORD":
                record = message["record"]
                emitted[message["stream"]].add((record["tenant_id"], record[KEYS[message["stream"]]]))
                assets_emitted += message["stream"] == "assets"
        if error is None:
            break
        assert isinstance(error, (errors.CallBudgetReached, errors.StoppedEarly)) and error.exit_code == 75
        unfinished = state[STATE_KEY]
        assert set(unfinished) <= set(sb.tenant_ids)
        assert all(set(entry["read"]) <= STREAMS for entry in unfinished.values())
    else:
        raise AssertionError("the sync never completed")
    assert _runs >= 3  # it did take several runs
    held = _held(sb)
    for stream in ("assets", "projects"):
        assert emitted[stream] == held[stream], stream
    for tenant in sb.tenant_ids:
        for stream, collection in (("contacts", "Contacts"), ("invoices", "Invoices")):
            got = {key for t, key in emitted[stream] if t == tenant}
            assert len(got) == sb.counts()[tenant][collection], (stream, tenant)
    assert assets_emitted == len(held["assets"])  # read once in the whole sync, not once a run
    assert STATE_KEY not in state  # complete: the next run is a new sync that reads every stream again

    messages, error = _run(sb, tmp_path, state, call_budget=budget)  # a new sync starts with the first streams
    assert sum(1 for m in messages if m["type"] == "RECORD" and m["stream"] == "assets") == len(held["assets"])


def test_a_run_that_fails_records_what_it_finished_and_the_next_resumes_after_it(make_sandbox, tmp_path):
    sb = make_sandbox(scale=60, tenants=1, limits=False, minute_limit=100_000)
    sb.faults.add("refuse:status=400,path=Invoices,count=0")  # every invoices call is refused: the run fails there
    messages, error = _run(sb, tmp_path, None)
    assert isinstance(error, errors.XeroApiError)
    state = messages[-1]["value"]
    assert state[STATE_KEY][sb.tenant_ids[0]]["read"] == ["assets", "contacts"]  # name order: invoices is third
    sb.faults.clear()
    messages, error = _run(sb, tmp_path, state)
    assert error is None
    read = {m["stream"] for m in messages if m["type"] == "RECORD"}
    assert read == {"invoices", "projects"}
    assert STATE_KEY not in messages[-1]["value"]


def test_syncs_left_unfinished_are_resumed_saved_and_dropped_per_organisation(caplog):
    saved = {T1: {"since": "2026-11-30T10:00:00Z", "read": ["accounts", "assets"]},
             T3: {"since": "2026-11-29T10:00:00Z", "read": ["contacts"]},  # not in this run (another shard)
             "bad": {"read": "assets"}}  # not a list: ignored
    state = {"bookmarks": {}, STATE_KEY: saved}
    with caplog.at_level(logging.INFO):
        unfinished = UnfinishedSyncs.resume(state, [T1, T2], logging.getLogger("test"))
    assert "Tenant 11111111-0000-0000-0000-000000000000: the sync that began 2026-11-30T10:00:00Z" in caplog.text
    assert "2 stream(s) it finished (accounts, assets)" in caplog.text
    assert unfinished.read_before(T1, "assets") and not unfinished.read_before(T1, "invoices")
    assert not unfinished.read_before(T2, "assets") and not unfinished.read_before("bad", "assets")

    unfinished.finished(T1, "contacts")
    unfinished.finished(T2, "accounts")
    unfinished.save(state, run_completed=False, stopped=())
    assert state[STATE_KEY][T1] == {"since": "2026-11-30T10:00:00Z", "read": ["accounts", "assets", "contacts"]}
    assert state[STATE_KEY][T2]["read"] == ["accounts"]
    assert state[STATE_KEY][T3] == saved[T3]  # kept: not this run's to judge

    unfinished.save(state, run_completed=True, stopped=())
    assert state[STATE_KEY] == {T3: saved[T3], "bad": saved["bad"]}


def test_an_inactive_record_skips_nothing_and_leaves_the_state_alone():
    state = {STATE_KEY: {T1: {"since": "x", "read": ["assets"]}}}
    inactive = UnfinishedSyncs(state[STATE_KEY])  # a webhook-triggered run's
    inactive.finished(T1, "contacts")
    inactive.save(state, run_completed=True, stopped=())
    assert not inactive.read_before(T1, "assets")
    assert state == {STATE_KEY: {T1: {"since": "x", "read": ["assets"]}}}


def test_the_tap_keeps_the_record_from_its_input_state():
    state = {"bookmarks": {}, STATE_KEY: {T1: {"since": "x", "read": ["assets"]}}}
    tap = TapXero(config={"client_id": "c", "refresh_token": "r"}, state=state)
    assert tap.state[STATE_KEY] == state[STATE_KEY]
