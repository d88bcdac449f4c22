from __future__ import annotations

import itertools
import json
import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tap_xero.webhooks.payload import IDENTITY_FIELDS, PayloadError, build_payload, event_identity, parse_payload
from tap_xero.webhooks.queue import EventQueue

from .helpers import make_event, rid

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "scripts" / "generate_webhook_schema.py"
SPEC = REPO.parent / "shared" / "xero-openapi" / "xero-webhooks.yaml"
NEEDS_SPEC = pytest.mark.skipif(
    not SPEC.is_file(), reason=f"Xero's webhook spec is not at {SPEC} (../shared: CI and development only)")


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
    (b'{"events": [{"resourceId": "x"}]}',
     r"events\[0\]: lacks resourceUrl, eventDateUtc, eventType, eventCategory, tenantId"),
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


def test_identities_of_events_whose_fields_hold_separators_never_collide():
    base = make_event()
    # The classic collision of a plain join: "x|y" + "z" versus "x" + "y|z".
    left = {**base, "tenantId": "x|y", "eventCategory": "z"}
    right = {**base, "tenantId": "x", "eventCategory": "y|z"}
    assert "|".join(str(left[f]) for f in IDENTITY_FIELDS) == "|".join(str(right[f]) for f in IDENTITY_FIELDS)
    assert event_identity(left) != event_identity(right)
    # Exhaustively: every tuple of short fields over the separator, the escape and a letter.
    pieces = ["", "a", "|", "\\", "a|", "|a", "\\|", "|\\", "\\\\", "a\\"]
    seen: dict[str, tuple] = {}
    for fields in itertools.product(pieces, repeat=3):
        event = {**base, "tenantId": fields[0], "eventCategory": fields[1], "resourceId": fields[2]}
        identity = event_identity(event)
        assert seen.setdefault(identity, fields) == fields, f"{fields} and {seen[identity]} share {identity!r}"


def test_identity_of_a_valid_event_is_unchanged_from_earlier_versions():
    # Queues and event_id values written before stay valid: no valid field holds "|" or "\".
    event = make_event("CREDITNOTE")
    assert event_identity(event) == "|".join(event[f] for f in IDENTITY_FIELDS)


def test_the_queue_keeps_two_events_a_plain_join_would_have_merged(tmp_path):
    base = make_event()
    with EventQueue(tmp_path / "q.sqlite") as queue:
        assert queue.append([{**base, "tenantId": "x|y", "eventCategory": "z"},
                             {**base, "tenantId": "x", "eventCategory": "y|z"}]) == 2


def _store_raw(path, rows: list[str]) -> None:
    db = sqlite3.connect(path)
    for number, text in enumerate(rows):
        db.execute("INSERT INTO events (identity, tenant_id, event_category, resource_id, event_type,"
                   " event_date_utc, received_at, event) VALUES (?, 't', 'c', 'r', 'e', 'd', '2026-01-01', ?)",
                   (f"legacy-{number}", text))
    db.commit()
    db.close()


def test_invalid_events_stored_by_an_older_receiver_are_skipped_with_a_warning(tmp_path, caplog):
    path = tmp_path / "q.sqlite"
    EventQueue(path).close()
    good = make_event("INVOICE", "good")
    bad_date = json.dumps({**make_event(), "eventDateUtc": 12345})
    _store_raw(path, [bad_date] * 5 + ["{not json", json.dumps(good)])
    with EventQueue(path) as queue:
        # A window of 3 holds only invalid rows: the read goes on instead of ending early.
        assert [event for _, event in queue.read_after(0, limit=3)] == [good]
        assert queue.count() == 7
    assert caplog.text.count("skipping the event at position") == 6
    assert "eventDateUtc: is not a string" in caplog.text


@NEEDS_SPEC
def test_spec_examples_are_valid_deliveries():
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    credit_note = spec["webhooks"]["creditNotes"]["post"]["requestBody"]["content"]["application/json"]
    example = credit_note["examples"]["creditNoteCreate"]["value"]
    contact = spec["components"]["responses"]["200WebhookDataReceivedOk"]["content"]["application/json"]
    for document in (example, contact["schema"]["example"]):
        # YAML reads the unquoted eventDateUtc as a datetime: write it back as Xero sends it.
        body = json.dumps(document, default=lambda moment: moment.isoformat(timespec="milliseconds")).encode()
        assert parse_payload(body) == json.loads(body)["events"]


@NEEDS_SPEC
def test_the_embedded_schema_is_what_the_spec_gives():
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
