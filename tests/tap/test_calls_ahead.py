"""sync/calls_ahead.py: the next streams' first calls made while a stream is read, never a call wasted.

Units with a fake call function, then runs against the sandbox over HTTP: with calls ahead, a run makes
exactly the calls it makes without them (every call made ahead is the one its stream then makes), writes
the same records, and a small organisation's streams no longer wait for each other's answers.
"""

from __future__ import annotations

import copy
import threading
import time
from datetime import datetime

import pytest
from xero_sandbox import Sandbox

from tap_xero.sync.calls_ahead import AHEAD_AT_ONCE, CallsAhead, FirstCall
from tap_xero.tap import TapXero
from tests.capture import sync_selected


class Calls:
    """A fake XeroClient.call: records each call, answers after ``pause`` (or when ``gate`` is set)."""

    def __init__(self, pause: float = 0.0) -> None:
        self.pause = pause
        self.made: list[tuple[str, str]] = []
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.failing: set[str] = set()
        self.gate: threading.Event | None = None
        self._lock = threading.Lock()

    def __call__(self, tenant_id: str, path: str, params: dict | None, headers: dict | None) -> dict:
        with self._lock:
            self.made.append((tenant_id, path))
            self.in_flight[tenant_id] = self.in_flight.get(tenant_id, 0) + 1
            self.peak[tenant_id] = max(self.peak.get(tenant_id, 0), self.in_flight[tenant_id])
        try:
            if self.gate is not None:
                self.gate.wait(5)
            time.sleep(self.pause)
            if path in self.failing:
                raise ConnectionError(f"{path} failed")
            return {"path": path, "params": params}
        finally:
            with self._lock:
                self.in_flight[tenant_id] -= 1


def first(stream: str, path: str, records: int = 100, **params) -> FirstCall:
    return FirstCall(stream, path, params or None, None, records)


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def test_a_call_made_ahead_answers_the_stream_that_makes_it_and_is_made_once():
    calls = Calls()
    ahead = CallsAhead(calls)
    ahead.plan("t1", [first("accounts", "Accounts"), first("contacts", "Contacts", page=1)])
    wait_for(lambda: len(calls.made) == 2)
    assert ahead.take("t1", "Contacts", {"page": 1}, None) == {"path": "Contacts", "params": {"page": 1}}
    assert ahead.take("t1", "Contacts", {"page": 1}, None) is None  # taken once: a second call is the stream's
    assert ahead.take("t1", "Contacts", {"page": 2}, None) is None  # another call is not answered from here
    assert ahead.take("t2", "Accounts", None, None) is None  # nor another tenant's
    assert ahead.take("t1", "Accounts", None, None) == {"path": "Accounts", "params": None}
    ahead.close()
    assert (ahead.made, ahead.used, ahead.unused) == (2, 2, 0)
    assert len(calls.made) == 2


def test_at_most_ahead_at_once_calls_per_organisation_and_organisations_in_parallel():
    calls = Calls(pause=0.02)
    ahead = CallsAhead(calls, threads=12)
    for tenant in ("t1", "t2", "t3"):
        ahead.plan(tenant, [first(s, s) for s in ("A", "B", "C", "D", "E")])
    wait_for(lambda: len(calls.made) == 15)
    # Within the organisation's five: the running stream keeps the others (the limiter holds the total).
    assert calls.peak == {"t1": AHEAD_AT_ONCE, "t2": AHEAD_AT_ONCE, "t3": AHEAD_AT_ONCE}
    ahead.close()


def test_a_planned_call_not_yet_started_is_left_to_the_stream_and_never_made_twice():
    calls = Calls()
    calls.gate = threading.Event()
    ahead = CallsAhead(calls)
    planned = [first(name.lower(), name) for name in "ABCDE"[:AHEAD_AT_ONCE + 1]]
    ahead.plan("t1", planned)
    wait_for(lambda: len(calls.made) == AHEAD_AT_ONCE)  # held at the gate; the last waits its turn
    last = planned[-1]
    assert ahead.take("t1", last.path, None, None) is None  # the stream makes it itself
    calls.gate.set()
    assert ahead.take("t1", "A", None, None) == {"path": "A", "params": None}
    time.sleep(0.05)
    ahead.close()
    assert last.path not in [path for _, path in calls.made] and len(calls.made) == AHEAD_AT_ONCE


def test_a_failed_call_ahead_is_raised_to_the_stream_as_its_own():
    calls = Calls()
    calls.failing.add("Journals")
    ahead = CallsAhead(calls)
    ahead.plan("t1", [first("journals", "Journals", offset=0)])
    wait_for(lambda: len(calls.made) == 1)
    with pytest.raises(ConnectionError, match="Journals failed"):
        ahead.take("t1", "Journals", {"offset": 0}, None)
    ahead.close()


def test_answers_waiting_are_bounded_by_records_and_the_next_call_starts_once_one_is_taken():
    calls = Calls()
    ahead = CallsAhead(calls, records=250)
    ahead.plan("t1", [first("a", "A", records=100), first("b", "B", records=100), first("c", "C", records=100)])
    wait_for(lambda: len(calls.made) == 2)
    time.sleep(0.05)
    assert len(calls.made) == 2  # a third answer would hold more than 250 records
    assert ahead.take("t1", "A", None, None) is not None
    wait_for(lambda: len(calls.made) == 3)
    ahead.close()


def test_an_answer_keeps_claimed_only_the_records_it_holds():
    calls = Calls()
    ahead = CallsAhead(calls, records=1500)
    # Pages of up to 1,000 records whose answers hold none ("Invoices" is absent from the fake's answers).
    ahead.plan("t1", [FirstCall(s, s, None, None, 1000, "Invoices") for s in ("A", "B", "C", "D")])
    # Claimed at 1,000 each, only one fits 1,500 until its empty answer gives its claim back; none is taken.
    wait_for(lambda: len(calls.made) == 4)
    ahead.close()


def test_what_a_stream_never_asked_for_is_dropped_and_counted_when_its_stream_is_done():
    calls = Calls()
    ahead = CallsAhead(calls)
    ahead.plan("t1", [first("a", "A"), first("b", "B")])
    wait_for(lambda: len(calls.made) == 2)
    ahead.forget("a")  # stream a asked differently (a bug: the tests below hold it at zero)
    assert ahead.take("t1", "A", None, None) is None
    ahead.close()
    assert ahead.unused == 2  # a's, dropped when its stream was done; b's, dropped at the end of the run
    ahead.plan("t1", [first("c", "C")])  # nothing is made ahead once the run has ended
    time.sleep(0.05)
    assert len(calls.made) == 2


# -- runs against the sandbox ------------------------------------------------------------------------------

STREAMS = {
    "accounts", "bank_transactions", "bank_transfers", "branding_themes", "contact_groups", "contacts",
    "credit_notes", "currencies", "invoices", "invoice_line_items", "items", "journals", "journal_lines",
    "linked_transactions", "manual_journals", "organisations", "overpayments", "payments", "prepayments",
    "purchase_orders", "quotes", "repeating_invoices", "tax_rates", "tracking_categories", "users",
    "report_profit_and_loss",
}


@pytest.fixture
def sb(make_sandbox) -> Sandbox:
    return make_sandbox(scale=120, tenants=3, limits=False, minute_limit=100_000, latency_ms=15)


def run(sb: Sandbox, *, ahead: bool, state: dict | None, monkeypatch) -> tuple[list[dict], dict, dict]:
    """One in-process run of every tenant: (messages, calls by tenant and path, calls-ahead figures)."""
    monkeypatch.setattr("tap_xero.tap.AHEAD_STREAMS", 6 if ahead else 0)
    settings = {"access_token": sb.issue_access_token(), "api_url": sb.api_url, "identity_url": sb.base_url,
                "tenant_ids": sb.tenant_ids, "start_date": "2015-01-01T00:00:00Z", "report_history_months": 3}
    before = copy.deepcopy(sb.requests()["by_tenant"])
    tap = TapXero(config=settings, state=copy.deepcopy(state))
    figures: dict = {}
    close = type(tap)._stop_calls_ahead

    def keep_figures(self) -> None:
        calls_ahead = getattr(self._xero_client, "calls_ahead", None)
        if calls_ahead is not None:
            figures.update(made=calls_ahead.made, used=calls_ahead.used)
        close(self)
        if calls_ahead is not None:
            figures["unused"] = calls_ahead.unused

    monkeypatch.setattr(type(tap), "_stop_calls_ahead", keep_figures)
    messages, error = sync_selected(tap, STREAMS)
    assert error is None
    after = sb.requests()["by_tenant"]
    calls = {t: {p: n - before.get(t, {}).get(p, 0) for p, n in paths.items() if n - before.get(t, {}).get(p, 0)}
             for t, paths in after.items()}
    return messages, calls, figures


def records(messages: list[dict]) -> list[tuple]:
    """Every record, in a stable order, without the moment a report was run (each run's own)."""
    return sorted((m["stream"], str(sorted((k, v) for k, v in m["record"].items() if k != "report_updated_utc")))
                  for m in messages if m["type"] == "RECORD")


def test_runs_make_the_same_calls_and_write_the_same_records_with_calls_ahead(sb, monkeypatch):
    plain, plain_calls, none = run(sb, ahead=False, state=None, monkeypatch=monkeypatch)
    assert none == {}
    ahead_run, ahead_calls, figures = run(sb, ahead=True, state=None, monkeypatch=monkeypatch)
    assert ahead_calls == plain_calls  # not one call more or less, per tenant and path
    assert records(ahead_run) == records(plain)
    assert figures["made"] >= 3 * 10 and figures["used"] == figures["made"] and figures["unused"] == 0
    # Incremental, from the state the first run ended on: the predicted first calls carry its bookmarks.
    state = next(m["value"] for m in reversed(ahead_run) if m["type"] == "STATE")
    _, plain_calls, _ = run(sb, ahead=False, state=state, monkeypatch=monkeypatch)
    _, ahead_calls, figures = run(sb, ahead=True, state=state, monkeypatch=monkeypatch)
    assert ahead_calls == plain_calls
    assert figures["made"] > 0 and figures["unused"] == 0


def overlapping_streams(log: list[dict]) -> int:
    """Pairs of calls to different paths of one tenant that were answered at the same time."""
    spans = []
    for entry in log:
        if entry["tenant"] and not entry["path"].startswith("/_sandbox"):
            end = datetime.fromisoformat(entry["time"]).timestamp()
            spans.append((entry["tenant"], entry["path"], end - entry["ms"] / 1000, end))
    return sum(1 for i, a in enumerate(spans) for b in spans[i + 1:]
               if a[0] == b[0] and a[1] != b[1] and a[2] < b[3] and b[2] < a[3])


def test_a_small_organisations_streams_no_longer_wait_for_each_other(make_sandbox, monkeypatch):
    """One tiny organisation, one call a stream, 100 ms a call: one after another, no two streams' calls are
    ever in flight together; with calls ahead, the next streams' calls are answered while one is read."""
    small = make_sandbox(scale=5, tenants=1, limits=False, minute_limit=100_000, latency_ms=100)
    small.reset_counters()
    run(small, ahead=False, state=None, monkeypatch=monkeypatch)
    assert overlapping_streams(small.request_log()) == 0
    small.reset_counters()
    _, _, figures = run(small, ahead=True, state=None, monkeypatch=monkeypatch)
    assert figures["used"] >= 15 and figures["unused"] == 0
    assert overlapping_streams(small.request_log()) >= 10


def test_no_call_ahead_for_an_organisation_that_may_not_call():
    calls = Calls()
    allowed = {"t1"}
    ahead = CallsAhead(calls, may_call=lambda tenant_id: tenant_id in allowed)
    ahead.plan("t2", [first("a", "A")])  # stopped, or fewer than AHEAD_DAY_RESERVE calls left today
    ahead.plan("t1", [first("a", "A")])
    wait_for(lambda: len(calls.made) == 1)
    time.sleep(0.05)
    assert calls.made == [("t1", "A")]
    assert ahead.take("t2", "A", None, None) is None  # its stream makes the call itself if it still reads t2
    ahead.close()
