"""Signed deliveries that are not valid Xero payloads: a 400 in time, nothing of them stored."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tap_xero.webhooks.payload import build_payload
from tap_xero.webhooks.queue import EventQueue

from .helpers import make_event, post


def stored(queue_path) -> list[dict]:
    with EventQueue(queue_path) as queue:
        return [event for _, event in queue.read_after(0, limit=10_000)]


def delivery_with(bad: dict) -> bytes:
    """A signed-to-be body: two good events around ``bad``, so a partial store would show."""
    document = {"events": [make_event("INVOICE"), bad, make_event("CONTACT")],
                "firstEventSequence": 1, "lastEventSequence": 3, "entropy": "ABCDEFGHIJKLMNOPQRST"}
    return json.dumps(document).encode("utf-8")


POISON = {
    "lone surrogate in tenantId": delivery_with({**make_event(), "tenantId": "\ud800"}),
    "lone surrogate in a key": delivery_with({**make_event(), "data": {"\udfff": 1}}),
    "lone surrogate in a free-text field": json.dumps({"events": [make_event()], "entropy": "\udbff"}).encode(),
    "category of the wrong type": delivery_with({**make_event(), "eventCategory": 5}),
    "category not in the spec": delivery_with({**make_event(), "eventCategory": "PAYMENT"}),
    "event type not in the spec": delivery_with({**make_event(), "eventType": "DELETE"}),
    "date of the wrong type": delivery_with({**make_event(), "eventDateUtc": 1764633600}),
    "date that is no date": delivery_with({**make_event(), "eventDateUtc": "2026-02-30T10:00:00"}),
    "URL of the wrong type": delivery_with({**make_event(), "resourceUrl": {"href": "https://x"}}),
    "URL that is no URL": delivery_with({**make_event(), "resourceUrl": "not a url"}),
    "resource id that is no UUID": delivery_with({**make_event(), "resourceId": "a|b"}),
    "missing tenantType": delivery_with({k: v for k, v in make_event().items() if k != "tenantType"}),
    "credit note data of the wrong type": delivery_with({**make_event("CREDITNOTE"), "data": {"Type": 1}}),
    "event that is a list": delivery_with([make_event()]),  # type: ignore[dict-item]
    "deep nesting in an event": delivery_with({**make_event(), "data": json.loads("[" * 40 + "]" * 40)}),
    "JSON nested 100,000 deep": b'{"events": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
    "NaN": b'{"events": [], "entropy": NaN}',
    "a float too large": b'{"events": [], "x": 1e999}',
    "an integer of 5,000 digits": b'{"events": [], "x": ' + b"7" * 5000 + b"}",
    "sequence of the wrong type": b'{"events": [], "firstEventSequence": "1"}',
    "not UTF-8": b'{"events": [], "entropy": "\xff"}',
    "raw surrogate bytes": b'{"events": [], "entropy": "\xed\xa0\x80"}',
}


@pytest.mark.parametrize("body", POISON.values(), ids=POISON.keys())
def test_a_signed_poison_delivery_is_refused_400_in_time_and_nothing_of_it_is_stored(receiver, queue_path, body,
                                                                                     caplog):
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    status, answer = post(receiver.url, body)
    assert status == 400, answer
    assert time.monotonic() - started < 2  # Xero allows 5 s
    assert stored(queue_path) == []
    assert receiver.stats["malformed"] == 1
    # One warning line saying what is wrong and where, quoting no value.
    assert len(caplog.records) == 1 and "nothing stored" in caplog.text
    assert "\ud800" not in caplog.text and "PAYMENT" not in caplog.text
    # The same body unsigned learns nothing more than a 401.
    assert post(receiver.url, body, key="not-the-key")[0] == 401
    # And the receiver goes on.
    assert post(receiver.url, build_payload([make_event()]))[0] == 200


def test_the_400_names_the_field_and_the_event(receiver):
    status, answer = post(receiver.url, POISON["date of the wrong type"])
    assert (status, answer) == (400, b"events[1].eventDateUtc: is not a string")


def test_xeros_intent_to_receive_body_is_accepted(receiver, queue_path):
    # Xero's documented probe: sequences of 0, below the spec's minimum of 1.
    body = b'{"events": [], "lastEventSequence": 0, "firstEventSequence": 0, "entropy": "S0m3r4Nd0mt3xt"}'
    assert post(receiver.url, body) == (200, b"")
    assert post(receiver.url, body, key="wrong")[0] == 401
    assert stored(queue_path) == []
