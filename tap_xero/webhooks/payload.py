"""Xero webhook payloads: parse a delivery into events, build one (for the sandbox), name an event.

A delivery is ``{"events": [...], "firstEventSequence", "lastEventSequence", "entropy"}``; the
intent-to-receive probe is the same with ``"events": []``.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Sequence
from typing import Any

# The fields that make two deliveries "the same event": Xero's retries repeat them unchanged.
IDENTITY_FIELDS = ("tenantId", "eventCategory", "resourceId", "eventDateUtc", "eventType")


class PayloadError(ValueError):
    """The body is not a Xero webhook payload (malformed JSON or missing event fields)."""


def parse_payload(body: bytes) -> list[dict[str, Any]]:
    """The events of a delivery body; raises PayloadError when it is not a valid payload."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise PayloadError('body is not an object with an "events" list')
    events = document["events"]
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise PayloadError(f"event {index} is not an object")
        missing = [f for f in IDENTITY_FIELDS if not isinstance(event.get(f), str) or not event[f]]
        if missing:
            raise PayloadError(f"event {index} lacks {', '.join(missing)}")
    return events


def event_identity(event: dict[str, Any]) -> str:
    """A stable key for one event, equal for Xero's retries of it."""
    return "|".join(str(event[f]) for f in IDENTITY_FIELDS)


def build_payload(events: Sequence[dict[str, Any]], first_sequence: int = 1) -> bytes:
    """The body Xero would send for ``events`` (sequences numbered from ``first_sequence``)."""
    first = max(1, first_sequence)
    document = {
        "events": list(events),
        "firstEventSequence": first,
        "lastEventSequence": first + max(0, len(events) - 1),
        "entropy": "".join(secrets.choice(string.ascii_uppercase) for _ in range(20)),
    }
    return json.dumps(document, separators=(",", ":")).encode("utf-8")
