"""The tap's webhook side against the sandbox over real HTTP: sandbox changes → signed deliveries →
receiver → queue → targeted sync, plus platform webhook runs."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tap_xero.sync.read_state import READ_MARKER
from xero_sandbox import Sandbox, SandboxConfig
from tap_xero.tap import TapXero
from tap_xero.webhooks import targeted
from tap_xero.webhooks.payload import build_payload
from tap_xero.webhooks.queue import EventQueue
from tap_xero.webhooks.receiver import WebhookReceiver
from tap_xero.webhooks.signature import sign
from tap_xero.webhooks.triggers import WebhookTriggerError

from .helpers import TEST_KEY, make_event

WEBHOOK_STREAMS = {"invoices", "invoice_line_items", "contacts", "credit_notes", "webhook_events"}
CATEGORY_STREAM = {"INVOICE": "invoices", "CONTACT": "contacts", "CREDITNOTE": "credit_notes"}
ID_FIELD = {"invoices": "InvoiceID", "contacts": "ContactID", "credit_notes": "CreditNoteID"}


class Crash(Exception):
    """Raised by the capturing writer to end a run in the middle, like a killed process."""


@dataclass
class Run:
    records: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    state: dict = field(default_factory=dict)

    def ids(self, stream: str) -> set[tuple[str, str]]:
        return {(r["tenant_id"], r[ID_FIELD[stream]]) for r in self.records.get(stream, [])}


def run_tap(sb: Sandbox, tmp_path: Path, *, state: dict | None = None, streams=WEBHOOK_STREAMS,
            crash_at: tuple[str, int] | None = None, run: Run | None = None, **config) -> Run:
    """Sync ``streams`` in-process; Singer messages are parsed back as a target would read them."""
    result = run or Run()

    class CapturingWriter(TapXero.message_writer_class):
        def write_message(self, message) -> None:
            parsed = json.loads(self.format_message(message))
            if parsed["type"] == "RECORD":
                rows = result.records[parsed["stream"]]
                if crash_at and parsed["stream"] == crash_at[0] and len(rows) + 1 == crash_at[1]:
                    raise Crash("the run dies before this record reaches the target")
                rows.append(parsed["record"])
            elif parsed["type"] == "STATE":
                result.state = parsed["value"]

    settings = {
        "access_token": sb.issue_access_token(),
        "api_url": sb.api_url,
        "identity_url": sb.base_url,
        "token_store_path": str(tmp_path / "tokens.json"),
        "tenant_ids": sb.tenant_ids,
        **config,
    }
    tap = TapXero(config=settings, state=copy.deepcopy(state) if state else None, message_writer=CapturingWriter())
    for name, stream in tap.streams.items():
        stream.selected = name in streams
    tap.sync_all()
    return result


@pytest.fixture
def receiver(tmp_path):
    with WebhookReceiver(tmp_path / "webhooks.sqlite", TEST_KEY) as running:
        yield running


@pytest.fixture
def sb(receiver):
    config = SandboxConfig(seed=3, scale=40, tenants=2, limits=False, webhook_url=receiver.url, webhook_key=TEST_KEY)
    with Sandbox(config) as running:
        yield running


def queued_events(receiver: WebhookReceiver) -> list[tuple[int, dict]]:
    with EventQueue(receiver.queue.path) as queue:
        return queue.read_after(0, 100_000)


def wait_for_events(receiver: WebhookReceiver, at_least: int) -> list[tuple[int, dict]]:
    deadline = time.monotonic() + 15
    while len(events := queued_events(receiver)) < at_least:
        assert time.monotonic() < deadline, f"only {len(events)} of {at_least} events arrived"
        time.sleep(0.02)
    return events


def api_requests(sb: Sandbox) -> list[str]:
    """The Accounting requests the sandbox served since its counters were reset (path and query).

    The sandbox logs a request after answering it: wait until the log stops growing.
    """
    entries, previous = sb.request_log(), None
    while entries != previous:
        time.sleep(0.05)
        previous, entries = entries, sb.request_log()
    return [f"{e['path']}?{e['query']}" for e in entries if "api.xro" in e["path"]]


def editable_invoices(run: Run, tenant_id: str) -> list[str]:
    """Invoice ids of ``tenant_id`` the sandbox lets us change (not voided or deleted)."""
    return [r["InvoiceID"] for r in run.records["invoices"]
            if r["tenant_id"] == tenant_id and r["Status"] not in ("VOIDED", "DELETED")]


def partition_state(state: dict, stream: str, tenant_id: str) -> dict:
    for partition in state["bookmarks"][stream]["partitions"]:
        if partition["context"] == {"tenant_id": tenant_id}:
            return partition
    raise AssertionError(f"no state for {stream} / {tenant_id}")


def change_some_records(sb: Sandbox, baseline: Run) -> None:
    """Two invoices and a contact of tenant 0, an invoice of tenant 1, a new credit note on tenant 1."""
    t0, t1 = sb.tenant_ids
    invoices = {tenant_id: editable_invoices(baseline, tenant_id) for tenant_id in sb.tenant_ids}
    contact = next(r for r in baseline.records["contacts"] if r["tenant_id"] == t0)
    sb.mutate(t0, "Invoices", "update", invoices[t0][0], {"Reference": "webhook test 1"})
    sb.mutate(t0, "Invoices", "update", invoices[t0][5], {"Reference": "webhook test 2"})
    sb.mutate(t0, "Contacts", "update", contact["ContactID"], {"EmailAddress": "changed@example.com"})
    sb.mutate(t1, "Invoices", "update", invoices[t1][3], {"Reference": "webhook test 3"})
    t1_contact = next(r for r in baseline.records["contacts"] if r["tenant_id"] == t1)
    credit_note = {"Type": "ACCRECCREDIT", "Contact": {"ContactID": t1_contact["ContactID"]}}
    sb.mutate(t1, "CreditNotes", "create", None, credit_note)


def test_targeted_sync_fetches_only_what_the_events_name(sb, receiver, tmp_path):
    queue_config = {"webhook_queue_path": receiver.queue.path}
    baseline = run_tap(sb, tmp_path, **queue_config)
    assert len(baseline.records["invoices"]) >= 80  # a normal sync: both tenants in full
    for tenant_id in sb.tenant_ids:
        first_state = partition_state(baseline.state, "invoices", tenant_id)
        assert first_state[targeted.POSITION_KEY] == 0 and first_state["replication_key_value"]

    change_some_records(sb, baseline)
    events = wait_for_events(receiver, 5)
    sb.reset_counters()
    second = run_tap(sb, tmp_path, state=baseline.state, **queue_config)

    for category, stream in CATEGORY_STREAM.items():
        expected = {(e["tenantId"], e["resourceId"]) for _, e in events if e["eventCategory"] == category}
        assert expected and second.ids(stream) == expected, stream
    changed_invoices = {invoice_id for _, invoice_id in second.ids("invoices")}
    assert {r["InvoiceID"] for r in second.records["invoice_line_items"]} == changed_invoices
    assert [r["Reference"] for r in second.records["invoices"] if r["Reference"].startswith("webhook")]
    # Only targeted reads: IDs= for Invoices/Contacts, one GET per credit note; no collection paging.
    served = api_requests(sb)
    collection_reads = [r for r in served if r.split("?")[0].endswith(("Invoices", "Contacts", "CreditNotes"))
                        and "IDs=" not in r]
    assert served and not collection_reads, served
    # webhook_events: every event once, in queue order, with its position.
    emitted = second.records["webhook_events"]
    assert [r["queue_position"] for r in emitted] == [p for p, _ in events]
    assert {r["resource_id"] for r in emitted} == {e["resourceId"] for _, e in events}
    assert all(r["event_date_utc"].endswith("+00:00") and len(r["event_id"]) == 36 for r in emitted)
    # State: positions moved to the queue's end; incremental bookmarks left alone.
    top = events[-1][0]
    for tenant_id in sb.tenant_ids:
        for stream in ("invoices", "contacts", "credit_notes"):
            before = partition_state(baseline.state, stream, tenant_id)
            after = partition_state(second.state, stream, tenant_id)
            assert after[targeted.POSITION_KEY] == top
            assert after.get("replication_key_value") == before.get("replication_key_value")
    assert second.state["bookmarks"]["webhook_events"]["replication_key_value"] == top

    # Nothing new: nothing fetched, nothing emitted.
    sb.reset_counters()
    third = run_tap(sb, tmp_path, state=second.state, **queue_config)
    assert not any(third.records.get(s) for s in WEBHOOK_STREAMS)
    assert not [r for r in api_requests(sb) if "Invoices" in r or "Contacts" in r or "CreditNotes" in r]

    # webhook_targeted_sync=false: an incremental run, which then records where the queue stood.
    fourth = run_tap(sb, tmp_path, state=second.state, webhook_targeted_sync=False, **queue_config)
    assert second.ids("invoices") <= fourth.ids("invoices")
    assert partition_state(fourth.state, "invoices", sb.tenant_ids[0])[targeted.POSITION_KEY] == top


def test_a_run_that_dies_midway_loses_no_event(sb, receiver, tmp_path, monkeypatch):
    queue_config = {"webhook_queue_path": receiver.queue.path}
    baseline = run_tap(sb, tmp_path, streams={"invoices"}, **queue_config)
    t0 = sb.tenant_ids[0]
    ids = editable_invoices(baseline, t0)[:6]
    for number, invoice_id in enumerate(ids):
        sb.mutate(t0, "Invoices", "update", invoice_id, {"Reference": f"crash test {number}"})
    events = wait_for_events(receiver, len(ids))
    monkeypatch.setattr(targeted, "READ_WINDOW", 2)  # save progress every two events

    crashed = Run()
    with pytest.raises(Crash):
        run_tap(sb, tmp_path, state=baseline.state, streams={"invoices"}, crash_at=("invoices", 4), run=crashed,
                **queue_config)
    saved = partition_state(crashed.state, "invoices", t0)[targeted.POSITION_KEY]
    assert 0 < saved < events[-1][0]  # progress was saved, but not past what reached the target

    resumed = run_tap(sb, tmp_path, state=crashed.state, streams={"invoices"}, **queue_config)
    delivered = {i for _, i in crashed.ids("invoices") | resumed.ids("invoices")}
    assert delivered >= set(ids)  # at least once
    assert len(resumed.records["invoices"]) < len(ids)  # and the finished windows were not redone
    assert partition_state(resumed.state, "invoices", t0)[targeted.POSITION_KEY] == events[-1][0]


def platform_triggers(events: list[dict], key: str = TEST_KEY) -> str:
    body = build_payload(events)
    return json.dumps([{"payload": body.decode(), "headers": {"x-xero-signature": sign(body, key)}}])


def test_platform_webhook_run_syncs_exactly_the_triggered_resources(sb, tmp_path, monkeypatch):
    t0, t1 = sb.tenant_ids
    baseline = run_tap(sb, tmp_path, streams={"invoices", "credit_notes"})
    invoice = next(r for r in baseline.records["invoices"] if r["tenant_id"] == t1)
    credit_note = next(r for r in baseline.records["credit_notes"] if r["tenant_id"] == t0)
    events = [make_event("INVOICE", invoice["InvoiceID"], tenant_id=t1),
              make_event("CREDITNOTE", credit_note["CreditNoteID"], tenant_id=t0)]
    monkeypatch.setenv("PAN_CTX_RUN_MODE", "webhook")
    monkeypatch.setenv("PAN_CTX_RUN_TRIGGERS", platform_triggers(events + events[:1]))  # a repeated event too
    sb.reset_counters()
    # A scheduled sync of t1 left unfinished, invoices already read: the webhook run still reads the invoice its
    # event names, and hands the record of the unfinished sync on untouched (sync/unfinished.py).
    unfinished = {"unfinished_syncs": {t1: {"since": "2026-11-30T10:00:00Z", "read": ["credit_notes", "invoices"]}}}
    run = run_tap(sb, tmp_path, state={**baseline.state, **unfinished},
                  streams=WEBHOOK_STREAMS | {"accounts", "payments"}, webhook_key=TEST_KEY)
    assert run.state["unfinished_syncs"] == unfinished["unfinished_syncs"]
    assert run.ids("invoices") == {(t1, invoice["InvoiceID"])}
    assert run.ids("credit_notes") == {(t0, credit_note["CreditNoteID"])}
    assert not run.records.get("contacts") and not run.records.get("accounts") and not run.records.get("payments")
    assert len(run.records["webhook_events"]) == 2
    served = api_requests(sb)
    assert len(served) == 2 and not [r for r in served if "Accounts" in r or "Payments" in r], served
    assert "webhook_position" not in json.dumps(run.state)


def test_platform_webhook_run_with_a_forged_signature_is_refused_before_any_request(sb, tmp_path, monkeypatch):
    monkeypatch.setenv("PAN_CTX_RUN_MODE", "webhook")
    monkeypatch.setenv("PAN_CTX_RUN_TRIGGERS", platform_triggers([make_event(tenant_id=sb.tenant_ids[0])], "forged"))
    sb.reset_counters()
    with pytest.raises(WebhookTriggerError, match="does not match the webhook key"):
        run_tap(sb, tmp_path, webhook_key=TEST_KEY)
    assert api_requests(sb) == []


def test_platform_webhook_run_refusal_exits_non_zero(sb, tmp_path):
    config = {"access_token": sb.issue_access_token(), "api_url": sb.api_url, "identity_url": sb.base_url,
              "token_store_path": str(tmp_path / "tokens.json"), "tenant_ids": sb.tenant_ids}
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    env = {"PAN_CTX_RUN_MODE": "webhook", "PAN_SEC_XERO_WEBHOOK_KEY": TEST_KEY,
           "PAN_CTX_RUN_TRIGGERS": platform_triggers([make_event(tenant_id=sb.tenant_ids[0])], "forged"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", "from tap_xero.tap import TapXero; TapXero.cli()",
                             "--config", str(config_path)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "does not match the webhook key" in result.stderr
    assert TEST_KEY not in result.stderr + result.stdout
    assert '"type": "RECORD"' not in result.stdout


def test_foreign_tenants_are_skipped_and_a_replaced_queue_falls_back_to_incremental(sb, receiver, tmp_path):
    queue_config = {"webhook_queue_path": receiver.queue.path}
    t0 = sb.tenant_ids[0]
    baseline = run_tap(sb, tmp_path, streams={"invoices", "webhook_events"}, **queue_config)
    invoice_id = editable_invoices(baseline, t0)[0]
    with EventQueue(receiver.queue.path) as queue:
        queue.append([make_event("INVOICE", invoice_id, tenant_id=t0),
                      make_event("INVOICE", tenant_id="00000000-0000-4000-8000-000000000000")])
        top = queue.max_position()
    targeted_run = run_tap(sb, tmp_path, state=baseline.state, streams={"invoices", "webhook_events"}, **queue_config)
    assert [r["tenant_id"] for r in targeted_run.records["webhook_events"]] == [t0]  # not the unknown tenant
    assert targeted_run.ids("invoices") == {(t0, invoice_id)}

    # A saved position past the queue's end means the queue file was replaced: sync incrementally.
    replaced = copy.deepcopy(targeted_run.state)
    partition_state(replaced, "invoices", t0)[targeted.POSITION_KEY] = top + 1000
    fallback = run_tap(sb, tmp_path, state=replaced, streams={"invoices"}, **queue_config)
    assert partition_state(fallback.state, "invoices", t0)[targeted.POSITION_KEY] == top
    assert len(fallback.ids("invoices")) >= 1


def test_an_interrupted_collection_read_is_finished_before_reads_by_event_ids(sb, receiver, tmp_path):
    """A run killed in the middle of a collection read leaves READ_MARKER: the next run reads that window
    again (records changed since it began), rather than only what queued events name."""
    queue_config = {"webhook_queue_path": receiver.queue.path}
    t0 = sb.tenant_ids[0]
    baseline = run_tap(sb, tmp_path, streams={"invoices", "webhook_events"}, **queue_config)
    interrupted = copy.deepcopy(baseline.state)
    partition_state(interrupted, "invoices", t0)[READ_MARKER] = {
        "since": None, "started": "2000-01-01T00:00:00.000000+00:00"}
    resumed = run_tap(sb, tmp_path, state=interrupted, streams={"invoices"}, **queue_config)
    assert {i for i in resumed.ids("invoices") if i[0] == t0} == {i for i in baseline.ids("invoices") if i[0] == t0}
    assert READ_MARKER not in partition_state(resumed.state, "invoices", t0)
    assert targeted.POSITION_KEY in partition_state(resumed.state, "invoices", t0)
