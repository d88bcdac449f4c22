"""Xero webhook payloads: parse and validate a delivery, name an event, build one (for the sandbox).

A delivery is ``{"events": [...], "firstEventSequence", "lastEventSequence", "entropy"}``; the
intent-to-receive probe is the same with ``"events": []`` and sequences of 0.

``parse_payload(body)`` returns the events of a valid delivery or raises ``PayloadError``, whose
message names the first problem by its place (``events[2].tenantId: is not a valid uuid``) and never
quotes a value. A delivery is valid only as a whole; one bad event refuses it all:

1. the body is strict UTF-8 JSON: no ``NaN``/``Infinity``, no number too large for a float or an int;
2. no string (key or value) holds a lone surrogate (``"\\ud800"`` parses in Python, but is not Unicode
   and cannot be stored), and nothing is nested deeper than ``MAX_DEPTH`` (JSON nested 100,000 deep
   is refused here, not by a parser running out of stack);
3. it matches ``event_schema.DELIVERY_SCHEMA``, generated from Xero's webhook spec: each event has
   every field with the spec's type and format (``uuid``, ``date-time``, ``uri``) and one of its
   constants (``INVOICE``, ``UPDATE``, ``ORGANISATION`` ...); a credit note's ``data`` its types.

Formats, as Xero sends them: ``uuid`` is the 8-4-4-4-12 hex form; ``date-time`` is ISO 8601 with an
optional fraction and an optional offset (Xero's ``eventDateUtc`` has none, e.g.
``2025-12-02T00:44:09.923``; RFC 3339 would refuse it); ``uri`` is an absolute URI: a scheme, then
printable ASCII without spaces.

``event_identity(event)``: the deduplication key, equal for Xero's retries of one event and
different for any two events that differ in ``tenantId``, ``eventCategory``, ``resourceId``,
``eventDateUtc`` or ``eventType``: each field is escaped (``\\`` -> ``\\\\``, ``|`` -> ``\\|``) and
the fields joined with ``|``, so no field can forge a separator. For fields without ``|`` or ``\\``
(every valid event) this is the plain ``a|b|c|d|e`` of earlier versions, so queues and ``event_id``
values written before stay valid.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import string
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import jsonschema

from tap_xero.webhooks.event_schema import DELIVERY_SCHEMA

# The fields that make two deliveries "the same event": Xero's retries repeat them unchanged.
IDENTITY_FIELDS = ("tenantId", "eventCategory", "resourceId", "eventDateUtc", "eventType")
# A delivery's events sit at depth 3 (document, list, event); a credit note's data at 4.
MAX_DEPTH = 32

_SURROGATE = re.compile("[\ud800-\udfff]")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[!-~]+$")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class PayloadError(ValueError):
    """The body is not a valid Xero webhook payload; the message names the first problem."""


_formats = jsonschema.FormatChecker(formats=())


@_formats.checks("uuid")
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


@_formats.checks("date-time")
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    try:  # the shape is right; is it a real moment (no 2026-02-30, no 25:00)?
        datetime.fromisoformat(value[:19])
    except ValueError:
        return False
    return True


@_formats.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


_validator = jsonschema.Draft202012Validator(DELIVERY_SCHEMA, format_checker=_formats)


def parse_payload(body: bytes) -> list[dict[str, Any]]:
    """The events of a delivery body; raises PayloadError when it is not a valid payload."""
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise PayloadError("body is not UTF-8") from None
    except RecursionError:
        raise PayloadError(f"body is nested deeper than {MAX_DEPTH} levels") from None
    except PayloadError:
        raise
    except ValueError as exc:  # JSONDecodeError, or an integer over Python's digit limit
        raise PayloadError(f"body is not JSON ({exc.__class__.__name__})") from None
    _check_structure(document)
    problem = _first_schema_problem(document)
    if problem:
        raise PayloadError(problem)
    return document["events"]


def event_problem(event: object) -> str | None:
    """Why one stored event is not valid (as if it came in a delivery of its own), or None."""
    try:
        _check_structure(event, depth=3)
    except PayloadError as exc:
        return str(exc)
    problem = _first_schema_problem({"events": [event]})
    return problem.replace("events[0]", "event", 1) if problem else None


def event_identity(event: dict[str, Any]) -> str:
    """A stable key for one event, equal for Xero's retries of it and never shared by two events."""
    return "|".join(str(event[f]).replace("\\", "\\\\").replace("|", "\\|") for f in IDENTITY_FIELDS)


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


def _refuse_constant(name: str) -> Any:  # noqa: ANN401 - json's parse_constant hook returns a JSON value
    raise PayloadError(f"body is not strict JSON ({name})")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise PayloadError("body holds a number too large for a float")
    return value


def _check_structure(document: object, depth: int = 1) -> None:
    """Depth and surrogates, without recursion (an attacker chooses the depth)."""
    stack: list[tuple[Any, int, str]] = [(document, depth, "body")]
    while stack:
        value, level, where = stack.pop()
        if level > MAX_DEPTH:
            raise PayloadError(f"body is nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise PayloadError(f"{where}: holds a lone surrogate, which is not Unicode")
        elif isinstance(value, dict):
            for key, item in value.items():
                if _SURROGATE.search(key):
                    raise PayloadError(f"{where}: has a key holding a lone surrogate, which is not Unicode")
                name = key if _PLAIN_KEY.match(key) else "?"  # keys are the sender's: never log them raw
                stack.append((item, level + 1, f"{where}.{name}" if where != "body" else name))
        elif isinstance(value, list):
            stack.extend((item, level + 1, f"{where}[{index}]") for index, item in enumerate(value))


def _first_schema_problem(document: object) -> str | None:
    errors = sorted(_validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return _describe(errors[0]) if errors else None


def _describe(error: jsonschema.ValidationError) -> str:
    """What is wrong and where, from the schema only: a value an attacker sent is never quoted."""
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    kind, expected = error.validator, error.validator_value
    if kind == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        missing = [name for name in expected if name not in present]
        if not where:
            return 'body is not an object with an "events" list'
        return f"{where}: lacks {', '.join(missing)}"
    if kind == "type":
        if where in ("", "events"):
            return 'body is not an object with an "events" list'
        if expected == "object" and where.startswith("events[") and where.endswith("]"):
            return f"{where}: is not an object"
        return f"{where}: is not {'an' if str(expected)[0] in 'aeiou' else 'a'} {expected}"
    if kind == "format":
        return f"{where}: is not a valid {expected}"
    if kind in ("oneOf", "anyOf", "const", "enum"):
        return f"{where}: is not one of {', '.join(_constants(error.schema))}"
    if kind in ("minimum", "maximum"):
        return f"{where}: is out of range"
    return f"{where or 'body'}: fails {kind}"


def _constants(schema: dict[str, Any]) -> list[str]:
    if "const" in schema:
        return [str(schema["const"])]
    if "enum" in schema:
        return [str(v) for v in schema["enum"]]
    return [str(option.get("const")) for option in schema.get("oneOf", schema.get("anyOf", [])) if "const" in option]
