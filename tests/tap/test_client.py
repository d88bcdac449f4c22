"""XeroStream against a small Xero-like server over real HTTP: queries, values, state, children, page shift."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from tests.tap.stub_xero import CollectionsHandler, StubXero, ms

from tests.capture import CapturedStdout, sync_selected
from tap_xero import errors
from tap_xero.sync.read_state import READ_MARKER
from tap_xero.paging import RecordsBudget
from tap_xero.tap import TapXero

T1 = "11111111-1111-1111-1111-111111111111"
T2 = "22222222-2222-2222-2222-222222222222"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
BASE = datetime(2024, 3, 1, tzinfo=timezone.utc)


def contact(n: int, updated: datetime) -> dict:
    return {"ContactID": f"con-{n:05d}", "Name": f"Contact {n}", "UpdatedDateUTC": ms(updated)}


def invoice(n: int, updated: datetime) -> dict:
    return {
        "InvoiceID": f"inv-{n:05d}", "InvoiceNumber": f"INV-{n}", "Total": Decimal("100.10") + n,
        "UpdatedDateUTC": ms(updated), "Date": ms(datetime(2024, 1, 2, tzinfo=timezone.utc)),
        "LineItems": [{"LineItemID": f"li-{n}-{k}", "LineAmount": Decimal("0.10"), "Quantity": Decimal("1.0000")}
                      for k in range(2)],
    }


@pytest.fixture
def fake():
    xero = CollectionsHandler()
    with StubXero(xero) as stub:
        xero.stub = stub
        yield xero


def run_tap(fake, streams, *, state=None, tenants=(T1,), **config):
    config = {
        "access_token": "platform-token", "tenant_ids": list(tenants), "api_url": fake.stub.url,
        "scopes": "accounting.transactions accounting.contacts accounting.settings accounting.journals.read",
        **config,
    }
    tap = TapXero(config=config, state=copy.deepcopy(state))
    messages, error = sync_selected(tap, streams)
    return messages, error, tap


def records(messages, stream):
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def states(messages):
    return [m["value"] for m in messages if m["type"] == "STATE"]


def bookmark(state, stream, tenant=T1):
    for partition in state["bookmarks"][stream].get("partitions", []):
        if partition["context"] == {"tenant_id": tenant}:
            return partition.get("replication_key_value")
    return None


def invoices_requests(fake):
    return [r for r in fake.stub.requests if r.path == "Invoices"]


def test_invoices_query_values_children_and_state(fake):
    fake.put(T1, "Invoices", [invoice(n, BASE + timedelta(minutes=n)) for n in range(250)])
    messages, error, _ = run_tap(fake, {"invoices", "invoice_line_items"}, page_size=100)
    assert error is None
    invoices = records(messages, "invoices")
    assert [r["InvoiceID"] for r in invoices] == [f"inv-{n:05d}" for n in range(250)]
    first = invoices[0]
    assert first["tenant_id"] == T1
    assert first["UpdatedDateUTC"] == "2024-03-01T00:00:00.000000+00:00"
    assert first["Date"] == "2024-01-02"
    assert first["Total"] == Decimal("100.10")

    lines = records(messages, "invoice_line_items")
    assert len(lines) == 500
    assert lines[0] == {"LineItemID": "li-0-0", "LineAmount": Decimal("0.10"), "Quantity": Decimal("1.0000"),
                        "tenant_id": T1, "InvoiceID": "inv-00000", "line_number": 1}
    assert sum(1 for m in messages if m["type"] == "SCHEMA" and m["stream"] == "invoice_line_items") == 1

    calls = invoices_requests(fake)
    for request in calls:
        assert request.query["order"] == "UpdatedDateUTC ASC"
        assert request.query["pageSize"] == "100"
        assert request.query["includeArchived"] == "true"
        assert request.query["unitdp"] == "4"
    full = [r for r in calls if "if-modified-since" not in r.headers]
    assert sorted(int(r.query["page"]) for r in full) == [1, 2, 3]
    # One more call after a multi-page read: what changed since it began (the page-shift guard).
    (tail,) = [r for r in calls if "if-modified-since" in r.headers]
    assert tail.query["page"] == "1"

    # State after every page, increasing, ending at the last record.
    marks = [bookmark(s, "invoices") for s in states(messages) if "invoices" in s.get("bookmarks", {})]
    marks = [m for m in marks if m]
    assert marks[0] == invoices[99]["UpdatedDateUTC"]
    assert invoices[199]["UpdatedDateUTC"] in marks
    assert marks[-1] == invoices[-1]["UpdatedDateUTC"] and marks == sorted(marks)


def test_decimals_reach_stdout_exactly(fake):
    fake.put(T1, "Invoices", [dict(invoice(1, BASE), Total=Decimal("12345678901234567.89"))])
    tap_out = CapturedStdout()
    tap = TapXero(config={"access_token": "t", "tenant_ids": [T1], "api_url": fake.stub.url,
                          "scopes": "accounting.transactions"})
    for stream in tap.streams.values():
        stream.selected = stream.name == "invoices"
    with contextlib.redirect_stdout(tap_out):
        tap.sync_all()
    assert '"Total":12345678901234567.89' in tap_out.getvalue().replace(" ", "")


def test_second_run_sends_if_modified_since_from_bookmark_with_lookback(fake):
    fake.put(T1, "Invoices", [invoice(n, BASE + timedelta(minutes=n)) for n in range(5)])
    messages, _, _ = run_tap(fake, {"invoices"})
    state = states(messages)[-1]
    fake.stub.requests.clear()
    fake.touch(T1, "Invoices", "InvoiceID", "inv-00001", BASE + timedelta(hours=2))
    messages, _, _ = run_tap(fake, {"invoices"}, state=state)
    assert [r["InvoiceID"] for r in records(messages, "invoices")] == ["inv-00004", "inv-00001"]
    assert invoices_requests(fake)[0].headers["if-modified-since"] == "2024-03-01T00:03:59Z"

    fake.stub.requests.clear()
    run_tap(fake, {"invoices"}, state=state, lookback_days=2)
    assert invoices_requests(fake)[0].headers["if-modified-since"] == "2024-02-28T00:03:59Z"


def test_many_records_in_one_second_survive_a_resume_mid_second(fake):
    same_second = BASE + timedelta(seconds=30)
    fake.put(T1, "Invoices", [invoice(n, same_second + timedelta(milliseconds=n % 7)) for n in range(300)])
    # A previous run stopped after one page inside that second.
    state = {"bookmarks": {"invoices": {"partitions": [{"context": {"tenant_id": T1},
             "replication_key": "UpdatedDateUTC", "replication_key_value": "2024-03-01T00:00:30.003000+00:00"}]}}}
    messages, _, _ = run_tap(fake, {"invoices"}, state=state, page_size=100)
    assert len({r["InvoiceID"] for r in records(messages, "invoices")}) == 300


def edit_first_record_after_page(fake, page_number: str) -> list[str]:
    """Once page ``page_number`` of Invoices is served, its first record is edited: it moves to the end
    of the UpdatedDateUTC order and every later record moves up one place. Returns the edited ids."""
    touched: list[str] = []

    def shift(request, page):
        if request.query.get("page") == page_number and not touched:
            touched.append(page[0]["InvoiceID"])
            fake.touch(T1, "Invoices", "InvoiceID", page[0]["InvoiceID"], datetime.now(timezone.utc))

    fake.on_page_served = shift
    return touched


def test_page_shift_loses_nothing(fake, caplog):
    fake.put(T1, "Invoices", [invoice(n, BASE + timedelta(minutes=n)) for n in range(500)])
    touched = edit_first_record_after_page(fake, "1")
    messages, error, _ = run_tap(fake, {"invoices"}, page_size=100, max_concurrent_requests=1)
    assert error is None
    emitted = records(messages, "invoices")
    assert {r["InvoiceID"] for r in emitted} == {f"inv-{n:05d}" for n in range(500)}
    assert len(emitted) <= 502  # few duplicates: the touched record's new version, at most one more
    assert [r for r in emitted if r["InvoiceID"] == touched[0]][-1]["UpdatedDateUTC"] > "2025"
    assert "page shift" in caplog.text  # the record pushed past page 1 was recovered, not luckily served


def test_manual_journals_never_send_order(fake):
    fake.put(T1, "ManualJournals", [{"ManualJournalID": "mj-1", "UpdatedDateUTC": ms(BASE),
                                     "JournalLines": [{"LineAmount": Decimal("5.00")}]}])
    messages, _, _ = run_tap(fake, {"manual_journals", "manual_journal_lines"})
    request = next(r for r in fake.stub.requests if r.path == "ManualJournals")
    assert "order" not in request.query
    assert records(messages, "manual_journal_lines")[0]["ManualJournalID"] == "mj-1"


def test_only_child_selected_emits_children_not_parents(fake):
    fake.put(T1, "Invoices", [invoice(n, BASE) for n in range(3)])
    messages, _, _ = run_tap(fake, {"invoice_line_items"})
    assert records(messages, "invoices") == []
    assert len(records(messages, "invoice_line_items")) == 6
    assert not any(m["type"] == "SCHEMA" and m["stream"] == "invoices" for m in messages)


def test_linked_transactions_filtered_client_side_without_stopping_early(fake):
    old, new = BASE - timedelta(days=30), BASE + timedelta(days=1)
    rows = [{"LinkedTransactionID": f"lt-{n}", "UpdatedDateUTC": ms(new if n >= 150 else old)} for n in range(250)]
    fake.put(T1, "LinkedTransactions", rows)
    messages, _, _ = run_tap(fake, {"linked_transactions"}, start_date="2024-03-01T00:00:00Z")
    got = [r["LinkedTransactionID"] for r in records(messages, "linked_transactions")]
    assert got == [f"lt-{n}" for n in range(150, 250)]
    calls = [r for r in fake.stub.requests if r.path == "LinkedTransactions"]
    assert sorted(int(r.query["page"]) for r in calls) == [1, 2, 3]  # pages 1-2 hold only old rows


def test_journals_page_by_offset_from_the_bookmark(fake):
    fake.put(T1, "Journals", [{"JournalID": f"j-{n}", "JournalNumber": n, "CreatedDateUTC": ms(BASE),
                               "JournalLines": []} for n in range(1, 231)])
    state = {"bookmarks": {"journals": {"partitions": [{"context": {"tenant_id": T1},
             "replication_key": "JournalNumber", "replication_key_value": 10}]}}}
    messages, _, _ = run_tap(fake, {"journals"}, state=state)
    assert [r["JournalNumber"] for r in records(messages, "journals")] == list(range(11, 231))
    offsets = [int(r.query["offset"]) for r in fake.stub.requests if r.path == "Journals"]
    assert offsets == [10, 110, 210]
    assert bookmark(states(messages)[-1], "journals") == 230


def test_journals_with_a_date_in_their_bookmark_start_from_the_first_journal(fake):
    """An orchestrator may leave start_date where a JournalNumber belongs: read from the start, do not crash."""
    fake.put(T1, "Journals", [{"JournalID": f"j-{n}", "JournalNumber": n, "CreatedDateUTC": ms(BASE),
                               "JournalLines": []} for n in range(1, 6)])
    state = {"bookmarks": {"journals": {"partitions": [{"context": {"tenant_id": T1},
             "replication_key": "JournalNumber", "replication_key_value": "2020-01-01"}]}}}
    messages, error, _ = run_tap(fake, {"journals"}, state=state, start_date="2020-01-01")
    assert error is None
    assert [r["JournalNumber"] for r in records(messages, "journals")] == [1, 2, 3, 4, 5]
    assert bookmark(states(messages)[-1], "journals") == 5


def test_retired_stream_ends_with_a_warning_not_the_run(fake, caplog):
    fake.status_for["Receipts"] = 410
    fake.put(T1, "Invoices", [invoice(1, BASE)])
    messages, error, _ = run_tap(fake, {"receipts", "invoices"})
    assert error is None
    assert len(records(messages, "invoices")) == 1
    assert "retired" in caplog.text


def test_tenants_are_partitions_with_their_own_state(fake):
    fake.put(T1, "Invoices", [invoice(n, BASE + timedelta(minutes=n)) for n in range(3)])
    fake.put(T2, "Invoices", [invoice(n, BASE + timedelta(hours=n)) for n in range(4)])
    messages, _, _ = run_tap(fake, {"invoices"}, tenants=(T1, T2))
    got = records(messages, "invoices")
    assert sum(r["tenant_id"] == T1 for r in got) == 3 and sum(r["tenant_id"] == T2 for r in got) == 4
    final = states(messages)[-1]
    assert bookmark(final, "invoices", T1) == "2024-03-01T00:02:00.000000+00:00"
    assert bookmark(final, "invoices", T2) == "2024-03-01T03:00:00.000000+00:00"


def test_day_limit_mid_stream_emits_state_for_finished_pages(fake):
    fake.put(T1, "Invoices", [invoice(n, BASE + timedelta(minutes=n)) for n in range(300)])
    served = []

    def day_limit_after_two(request):
        served.append(request)
        if len([r for r in served if r.path == "Invoices"]) > 2:
            return 429, {"Retry-After": "40000", "X-Rate-Limit-Problem": "day"}, ""
        return fake(request)

    fake.stub.handler = day_limit_after_two
    messages, error, _ = run_tap(fake, {"invoices"}, page_size=100, max_concurrent_requests=1)
    assert isinstance(error, errors.DayLimitReached) and error.exit_code == errors.EXIT_DAY_LIMIT
    emitted = records(messages, "invoices")
    assert len(emitted) == 200
    assert bookmark(states(messages)[-1], "invoices") == emitted[-1]["UpdatedDateUTC"]


def test_one_organisations_day_limit_does_not_stop_the_others(fake):
    for tenant in (T1, T2):
        fake.put(tenant, "Invoices", [invoice(n, BASE + timedelta(minutes=n)) for n in range(150)])
        fake.put(tenant, "Contacts", [contact(n, BASE + timedelta(minutes=n)) for n in range(3)])
    serve = fake.stub.handler

    def t1_spent_after_its_first_invoice_page(request):
        t1_invoices = [r for r in invoices_requests(fake) if r.headers.get("xero-tenant-id") == T1]
        if request.headers.get("xero-tenant-id") == T1 and len(t1_invoices) > 1:
            return 429, {"Retry-After": "40000", "X-Rate-Limit-Problem": "day"}, ""
        return serve(request)

    fake.stub.handler = t1_spent_after_its_first_invoice_page
    messages, error, _ = run_tap(fake, {"invoices", "contacts", "manual_journals"}, tenants=(T1, T2),
                                 page_size=100, max_concurrent_requests=1)
    assert isinstance(error, errors.DayLimitReached) and error.tenant_id == T1 and error.exit_code == 75
    got = records(messages, "invoices")
    assert sum(r["tenant_id"] == T2 for r in got) == 150  # T2 was read in full
    assert sum(r["tenant_id"] == T1 for r in got) == 100  # T1 up to its last call
    assert {r["tenant_id"] for r in records(messages, "contacts")} == {T1, T2}  # before the stop
    # After the stop, T1 is skipped without a call (its next streams' first calls may have been made ahead
    # before the stop, never after it); T2 goes on.
    stopped_at = min(r.at for r in invoices_requests(fake) if r.headers.get("xero-tenant-id") == T1
                     and int(r.query["page"]) > 1)
    assert not [r for r in fake.stub.requests if r.headers.get("xero-tenant-id") == T1 and r.at > stopped_at]
    assert [r for r in fake.stub.requests if r.path == "ManualJournals" and r.headers["xero-tenant-id"] == T2]
    assert messages[-1]["type"] == "STATE"  # the last line: what the next run resumes from
    final = messages[-1]["value"]
    t1_rows = [r for r in got if r["tenant_id"] == T1]
    assert bookmark(final, "invoices", T1) == t1_rows[-1]["UpdatedDateUTC"]
    assert bookmark(final, "invoices", T2) == max(r["UpdatedDateUTC"] for r in got if r["tenant_id"] == T2)


def test_a_call_budget_stops_cleanly_and_the_next_run_resumes_with_nothing_lost(fake):
    fake.put(T1, "Invoices", [invoice(n, BASE + timedelta(minutes=n)) for n in range(450)])
    emitted: list[str] = []
    state = None
    for _run in range(6):
        messages, error, _ = run_tap(fake, {"invoices"}, state=state, page_size=100, max_concurrent_requests=1,
                                     call_budget=2)
        emitted += [r["InvoiceID"] for r in records(messages, "invoices")]
        assert messages[-1]["type"] == "STATE"
        state = messages[-1]["value"]
        if error is None:
            break
        assert isinstance(error, errors.CallBudgetReached) and error.exit_code == 75
        assert "call_budget" in str(error)
    else:
        raise AssertionError("the runs never finished")
    assert set(emitted) == {f"inv-{n:05d}" for n in range(450)}  # nothing lost
    assert len(emitted) - 450 <= 5  # few duplicates: at most a page boundary a run
    assert _run >= 2  # it really took several runs


def test_every_tenant_is_read_at_once_and_written_page_by_page_each_in_its_order(fake):
    tenants = [f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-0000-0000-000000000000" for n in range(1, 5)]
    for tenant in tenants:
        fake.put(tenant, "Invoices", [invoice(n, BASE + timedelta(minutes=n)) for n in range(300)])
    serve = fake.stub.handler

    def slow(request):
        time.sleep(0.05)
        return serve(request)

    fake.stub.handler = slow
    messages, error, _ = run_tap(fake, {"invoices"}, tenants=tenants, page_size=100, max_concurrent_requests=1)
    assert error is None
    got = records(messages, "invoices")
    # Written as their pages arrive: each tenant in its own order, whole pages at a time.
    for tenant in tenants:
        assert [r["InvoiceID"] for r in got if r["tenant_id"] == tenant] == [f"inv-{n:05d}" for n in range(300)]
    switches = [i for i in range(1, len(got)) if got[i]["tenant_id"] != got[i - 1]["tenant_id"]]
    assert all(i % 100 == 0 for i in switches)  # a page is never split by another tenant's records
    # Read at once: one call per tenant at a time (max_concurrent_requests 1), every tenant together.
    assert fake.stub.max_in_flight == len(tenants)
    # Each tenant's bookmark is its own last record, whatever the order of the pages.
    final = states(messages)[-1]
    last = (BASE + timedelta(minutes=299)).strftime("%Y-%m-%dT%H:%M:%S.000000+00:00")
    assert {bookmark(final, "invoices", t) for t in tenants} == {last}


@pytest.mark.parametrize("tenant_count", [6, 24])
def test_records_held_stay_within_the_streams_budget_however_many_tenants(fake, monkeypatch, tenant_count):
    """Memory does not grow with the organisations: every page is claimed in one budget before its call."""
    budgets: list[RecordsBudget] = []

    class Recorded(RecordsBudget):
        def __init__(self, limit: int) -> None:
            super().__init__(limit)
            budgets.append(self)

    monkeypatch.setattr("tap_xero.client.RecordsBudget", Recorded)
    monkeypatch.setattr("tap_xero.client.RECORDS_BUDGET", 500)
    tenants = [f"{n:08d}-0000-0000-0000-000000000000" for n in range(1, tenant_count + 1)]
    for tenant in tenants:
        fake.put(tenant, "Invoices", [invoice(n, BASE + timedelta(minutes=n)) for n in range(250)])
    serve = fake.stub.handler

    def slow(request):
        time.sleep(0.02)
        return serve(request)

    fake.stub.handler = slow
    messages, error, _ = run_tap(fake, {"invoices"}, tenants=tenants, page_size=100)
    assert error is None
    got = records(messages, "invoices")
    assert len(got) == 250 * tenant_count and len({(r["tenant_id"], r["InvoiceID"]) for r in got}) == len(got)
    (budget,) = budgets
    assert 300 <= budget.peak <= 500  # several tenants' pages at once, never more than the budget
    assert budget.held == 0  # every claim given back once its records were written
    assert fake.stub.max_in_flight > 1


def test_reader_threads_keep_their_connections_from_one_stream_to_the_next(fake, monkeypatch):
    """Each organisation's read runs on a long-lived reader thread: not one new connection (a TLS handshake
    with Xero) per organisation per stream."""
    monkeypatch.setattr("tap_xero.tap.AHEAD_STREAMS", 0)
    tenants = [f"{n:08d}-0000-0000-0000-000000000000" for n in range(1, 5)]
    streams = {"invoices", "contacts", "credit_notes", "manual_journals", "overpayments", "prepayments",
               "purchase_orders", "quotes"}
    _, error, tap = run_tap(fake, streams, tenants=tenants, page_size=100)
    assert error is None
    reads = len(tenants) * len(streams)
    assert tap.xero_client.sessions_opened < reads / 2


def test_deselected_fields_are_dropped_and_the_rest_kept(fake):
    fake.put(T1, "Invoices", [dict(invoice(1, BASE), BrandNewXeroField="kept", Reference="PO-1")])
    tap_config = {"access_token": "t", "tenant_ids": [T1], "api_url": fake.stub.url,
                  "scopes": "accounting.transactions"}
    catalog = TapXero(config=tap_config).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == "invoices"
            if entry["tap_stream_id"] == "invoices" and item["breadcrumb"] == ["properties", "Reference"]:
                item["metadata"]["selected"] = False
    tap = TapXero(config=tap_config, catalog=catalog)
    out = CapturedStdout()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    (record,) = [m["record"] for m in map(json.loads, out.getvalue().splitlines()) if m["type"] == "RECORD"]
    assert "Reference" not in record
    assert record["BrandNewXeroField"] == "kept"  # a field Xero adds tomorrow reaches the target


def test_unknown_new_field_is_kept_when_everything_is_selected(fake):
    fake.put(T1, "Invoices", [dict(invoice(1, BASE), BrandNewXeroField={"Nested": "/Date(0)/"})])
    messages, _, _ = run_tap(fake, {"invoices"})
    assert records(messages, "invoices")[0]["BrandNewXeroField"] == {"Nested": "/Date(0)/"}


def test_a_balance_sheet_reads_twelve_months_a_call_and_splits_the_columns_into_months(fake):
    calls = []

    def report(request):
        if request.path == "Organisation":
            return 200, {}, {"Organisations": [{"OrganisationID": "org-1", "Name": "Org"}]}
        if request.path != "BalanceSheet":
            return fake(request)
        calls.append(dict(request.query))
        columns = int(request.query.get("periods", 0)) + 1
        values_newest_first = [f"{100 + n}.10" for n in range(columns)]
        return 200, {}, {"Reports": [{"ReportID": "BalanceSheet", "ReportName": "Balance Sheet", "Rows": [
            {"RowType": "Header", "Cells": [{"Value": ""}] + [{"Value": f"col {n}"} for n in range(columns)]},
            {"RowType": "Section", "Title": "Bank", "Rows": [
                {"RowType": "Row", "Cells": [{"Value": "Business Account",
                                              "Attributes": [{"Id": "account", "Value": "acc-1"}]}]
                 + [{"Value": value} for value in values_newest_first]}]}]}]}

    fake.stub.handler = report
    today = datetime.now(timezone.utc).date()
    messages, error, _ = run_tap(fake, {"report_balance_sheet"}, report_history_months=14,
                                 scopes="accounting.reports.read")
    assert error is None
    # Fourteen months: one call for the oldest twelve, one for the newest two (the fewest calls Xero allows);
    # the two calls run at once, so they may arrive in either order.
    by_periods = {call.get("periods"): call for call in calls}
    assert len(calls) == 2 and set(by_periods) == {"11", "1"}
    assert all(call["timeframe"] == "MONTH" for call in calls)
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    assert by_periods["1"]["date"] == month_end.isoformat()  # the newest call ends at the current month's end
    rows = records(messages, "report_balance_sheet")
    assert len(rows) == 14
    by_month = {row["period_start"]: row for row in rows}
    newest = today.replace(day=1).isoformat()
    assert by_month[newest]["value"] == Decimal("100.10")  # column 0 of the newest call
    assert rows[0]["tenant_id"] == T1 and len(rows[0]["columns"]) == 1
    assert sorted(by_month) == sorted(row["period_start"] for row in rows)


def test_progress_lines_every_interval_and_the_summary():
    from tap_xero.limits import Limits
    from tap_xero.progress import Progress

    now = [0.0]
    limits = Limits(clock=lambda: now[0])
    out = io.StringIO()
    progress = Progress(limits, interval=5.0, out=out, clock=lambda: now[0])
    progress.start("invoices", T1)
    for page in range(1, 11):
        with limits.slot(T1):
            pass
        progress.add_bytes(T1, 250_000)
        now[0] += 1.0
        progress.page_done("invoices", T1, records=1000, page=page, page_count=20)
    lines = out.getvalue().splitlines()
    # Quiet during the first interval, then one line per interval.
    assert len(lines) == 2
    assert lines[0] == (
        f"progress invoices [tenant {T1}]: 5000 records, page 5/20, 5 calls/min, 1.2 MB received, ETA 00:00:15"
    )
    assert lines[1].startswith(f"progress invoices [tenant {T1}]: 10000 records, page 10/20, 10 calls/min")
    limits.observe(T1, {"X-DayLimit-Remaining": "4321"})
    progress.add_records("invoice_line_items", T1, 30000)
    summary = progress.summary()
    assert f"invoices [tenant {T1}]: 10000 records" in summary
    assert f"invoice_line_items [tenant {T1}]: 30000 records" in summary
    assert f"API calls [tenant {T1}]: 10 used, 4321 left today, 2.5 MB received" in summary
    assert "API calls in total: 10, 2.5 MB received" in summary


def test_page_shift_within_one_shared_second_loses_nothing(fake):
    same_second = BASE + timedelta(seconds=7)
    fake.put(T1, "Invoices", [invoice(n, same_second) for n in range(300)])
    touched = []

    def shift(request, page):
        if request.query.get("page") == "2" and not touched and "if-modified-since" not in request.headers:
            touched.append(page[0]["InvoiceID"])
            fake.touch(T1, "Invoices", "InvoiceID", page[0]["InvoiceID"], datetime.now(timezone.utc))

    fake.on_page_served = shift
    messages, error, _ = run_tap(fake, {"invoices"}, page_size=100, max_concurrent_requests=1)
    assert error is None and touched
    assert {r["InvoiceID"] for r in records(messages, "invoices")} == {f"inv-{n:05d}" for n in range(300)}


def partition(state, stream, tenant=T1):
    return next(p for p in state["bookmarks"][stream]["partitions"] if p["context"] == {"tenant_id": tenant})


def killed_after(messages, marked_states):
    """What a target got from a run killed -9 right after its ``marked_states``-th STATE with a read marker."""
    seen = 0
    for index, message in enumerate(messages):
        if message["type"] == "STATE" and READ_MARKER in partition(message["value"], "invoices"):
            seen += 1
            if seen == marked_states:
                return messages[: index + 1]
    raise AssertionError(f"fewer than {marked_states} marked STATE messages")


def test_a_kill_between_a_page_shift_and_its_repair_loses_nothing(fake):
    """Page 1's first record is edited after page 1 is served, so the first record of page 2 slides onto
    page 1 and is not served; the run is killed after page 3's state, before the end-of-read repair."""
    everything = {f"inv-{n:05d}" for n in range(1000)}
    fake.put(T1, "Invoices", [invoice(n, BASE + timedelta(minutes=n)) for n in range(1000)])
    edit_first_record_after_page(fake, "1")
    messages, error, _ = run_tap(fake, {"invoices"}, page_size=100, max_concurrent_requests=1)
    assert error is None
    before_kill = killed_after(messages, 3)
    got_before = {r["InvoiceID"] for r in records(before_kill, "invoices")}
    assert "inv-00100" not in got_before  # the skipped record: the bookmark already passed it
    state = states(before_kill)[-1]
    assert bookmark(state, "invoices") > "2024-03-01T05:00"  # beyond inv-00100 (minute 100)

    fake.on_page_served = None
    fake.stub.requests.clear()
    resumed, error, _ = run_tap(fake, {"invoices"}, state=state, page_size=100, max_concurrent_requests=1)
    assert error is None
    assert got_before | {r["InvoiceID"] for r in records(resumed, "invoices")} == everything
    # The window (of 10 pages) is read again only as far as the killed read had got: its bookmark is on
    # page 3 or 4 of the window now, plus one page fetched ahead.
    window_pages = [r for r in invoices_requests(fake) if "if-modified-since" not in r.headers]
    assert 3 <= len(window_pages) <= 5, [r.query for r in window_pages]
    assert READ_MARKER not in partition(states(resumed)[-1], "invoices")  # the read is complete


def test_a_resume_with_nothing_changed_reads_no_window_again(fake):
    fake.put(T1, "Invoices", [invoice(n, BASE + timedelta(minutes=n)) for n in range(500)])
    messages, error, _ = run_tap(fake, {"invoices"}, page_size=100, max_concurrent_requests=1)
    assert error is None
    first = states(messages)
    assert READ_MARKER in partition(first[0], "invoices")  # written with the first page's bookmark
    assert READ_MARKER not in partition(first[-1], "invoices")  # and removed when the read completed
    before_kill = killed_after(messages, 2)
    fake.stub.requests.clear()
    resumed, error, _ = run_tap(fake, {"invoices"}, state=states(before_kill)[-1], page_size=100)
    assert error is None
    got = {r["InvoiceID"] for run in (before_kill, resumed) for r in records(run, "invoices")}
    assert got == {f"inv-{n:05d}" for n in range(500)}
    assert len(records(resumed, "invoices")) <= 301  # pages 3-5 and the bookmark's second, not the window
    assert READ_MARKER not in partition(states(resumed)[-1], "invoices")
