from __future__ import annotations

import json
import multiprocessing
import sqlite3

import pytest

from tap_xero.webhooks.payload import PayloadError, build_payload, event_identity, parse_payload
from tap_xero.webhooks.queue import EventQueue

from .helpers import make_event, rid


def test_build_and_parse_round_trip():
    events = [make_event("INVOICE"), make_event("CONTACT")]
    body = build_payload(events, first_sequence=7)
    document = json.loads(body)
    assert document["firstEventSequence"] == 7 and document["lastEventSequence"] == 8
    assert len(document["entropy"]) == 20
    assert parse_payload(body) == events
    assert parse_payload(build_payload([])) == []


@pytest.mark.parametrize("body, problem", [
    (b"{not json", "not JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[]", '"events" list'),
    (b'{"events": {}}', '"events" list'),
    (b'{"events": [1]}', "not an object"),
    (b'{"events": [{"resourceId": "x"}]}', r"events\[0\]: lacks resourceUrl, eventDateUtc, eventType, eventCategory, tenantId"),
])
def test_parse_refuses_what_is_not_a_payload(body, problem):
    with pytest.raises(PayloadError, match=problem):
        parse_payload(body)


def test_identity_ignores_url_and_extra_fields_but_not_the_date():
    event = make_event("INVOICE", "r1")
    same = {**event, "resourceUrl": "elsewhere", "data": {"Status": "PAID"}}
    later = {**event, "eventDateUtc": "2026-11-24T09:00:00.000"}
    assert event_identity(event) == event_identity(same)
    assert event_identity(event) != event_identity(later)


def test_queue_appends_deduplicates_and_reads_in_order(tmp_path):
    path = tmp_path / "q.sqlite"
    with EventQueue(path) as queue:
        first, second, third = (make_event("INVOICE", f"id-{i}") for i in range(3))
        assert queue.append([first, second]) == 2
        assert queue.append([second, third, third]) == 1  # retries and in-batch repeats
        assert queue.append([]) == 0
        entries = queue.read_after(0, limit=10)
        assert [e["resourceId"] for _, e in entries] == [rid("id-0"), rid("id-1"), rid("id-2")]
        positions = [p for p, _ in entries]
        assert positions == sorted(set(positions))
        assert queue.read_after(positions[0], limit=1) == [entries[1]]
        assert queue.max_position() == positions[-1] and queue.count() == 3
        received_at = queue.entries_after(0)[0][1]
        assert received_at.endswith("+00:00")
    # Durable and reopened: same content, WAL mode.
    with EventQueue(path) as reopened:
        assert reopened.read_after(0) == entries
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_positions_are_never_reused(tmp_path):
    path = tmp_path / "q.sqlite"
    with EventQueue(path) as queue:
        queue.append([make_event(), make_event()])
        top = queue.max_position()
    db = sqlite3.connect(path)
    db.execute("DELETE FROM events")  # an operator pruning processed events
    db.commit()
    db.close()
    with EventQueue(path) as queue:
        queue.append([make_event()])
        assert queue.read_after(0)[0][0] > top


def _append_many(path: str, worker: int, count: int) -> None:
    with EventQueue(path) as queue:
        for i in range(count):
            queue.append([make_event("CONTACT", f"w{worker}-{i}")])


def test_queue_is_safe_across_processes(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    EventQueue(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(path, w, 40)) for w in range(3)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    with EventQueue(path) as queue:
        entries = queue.read_after(0, limit=1000)
    assert len(entries) == 120
    assert len({e["resourceId"] for _, e in entries}) == 120
    positions = [p for p, _ in entries]
    assert positions == sorted(set(positions))
