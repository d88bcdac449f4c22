"""Xero values → Singer values: dates to RFC 3339 UTC, amounts kept exact.

Xero sends timestamps as ``/Date(1573755038314+0000)/``: Unix milliseconds, UTC,
possibly negative (before 1970). The ``+hhmm`` suffix is a note about the
organisation's offset, already applied: it is NOT added again. Some fields come
as ISO strings instead (``2019-11-14T00:00:00``, no offset: read as UTC).

Amounts are decoded as ``decimal.Decimal`` by the HTTP client
(``json.loads(..., parse_float=Decimal)``) and never touched here, so they
reach the target exactly.

Which fields are dates comes from the stream's schema (``"format": "date-time"``
or ``"date"``): ``build_converter(schema)`` walks the schema once and returns a
function that rewrites only those fields of a record, in place. This runs for
every record, so the per-record work is a few dict lookups per date field.

Output formats (stable, so that string comparison of bookmarks is time order):
- date-time: ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (always microseconds)
- date: ``YYYY-MM-DD``
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")
# Dates repeat a lot (DueDate, Date, the same UpdatedDateUTC second): a small
# cache turns most conversions into one dict lookup. Cleared when full.
_CACHE_LIMIT = 65536
_datetime_cache: dict[str, str] = {}
_date_cache: dict[str, str] = {}

Converter = Callable[[dict], None]


def _parse(value: str) -> datetime | None:
    """A Xero date value as an aware UTC datetime; None when it is not a date."""
    match = _MS_DATE.match(value)
    if match:
        # timedelta arithmetic is exact for negative values too (fromtimestamp is not portable).
        return EPOCH + timedelta(milliseconds=int(match.group(1)))
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def to_datetime_string(value: str | None) -> str | None:
    """``/Date(ms+hhmm)/`` or ISO text → ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (unparseable: unchanged)."""
    if value is None:
        return None
    cached = _datetime_cache.get(value)
    if cached is not None:
        return cached
    parsed = _parse(value)
    result = value if parsed is None else parsed.isoformat(timespec="microseconds")
    if len(_datetime_cache) >= _CACHE_LIMIT:
        _datetime_cache.clear()
    _datetime_cache[value] = result
    return result


def to_date_string(value: str | None) -> str | None:
    """``/Date(ms+hhmm)/`` or ISO text → ``YYYY-MM-DD`` (the UTC calendar day; unparseable: unchanged)."""
    if value is None:
        return None
    cached = _date_cache.get(value)
    if cached is not None:
        return cached
    parsed = _parse(value)
    result = value if parsed is None else parsed.date().isoformat()
    if len(_date_cache) >= _CACHE_LIMIT:
        _date_cache.clear()
    _date_cache[value] = result
    return result


def parse_datetime(value: str) -> datetime:
    """A Xero or RFC 3339 timestamp as an aware UTC datetime (ValueError if it is neither)."""
    parsed = _parse(value)
    if parsed is None:
        raise ValueError(f"not a Xero date: {value!r}")
    return parsed


# A plan says, for one object schema, what to do with each field that holds dates:
# a conversion function (a date field), a nested plan (an object), or ("items", plan) (an array).
_Plan = dict[str, object]


def _types(schema: dict) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    return set(kind or ())


def _field_action(schema: dict) -> object | None:
    """What to do with a value of ``schema``: a function, a nested plan, ("items", plan), or None."""
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key) or ():
            action = _field_action(option)
            if action is not None:
                return action
    fmt = schema.get("format")
    if fmt == "date-time":
        return to_datetime_string
    if fmt == "date":
        return to_date_string
    types = _types(schema)
    if "object" in types or "properties" in schema:
        plan = _object_plan(schema)
        return plan or None
    if "array" in types or "items" in schema:
        items = schema.get("items")
        if isinstance(items, dict):
            item_action = _field_action(items)
            if item_action is not None:
                return ("items", item_action)
    return None


def _object_plan(schema: dict) -> _Plan:
    plan: _Plan = {}
    for name, field_schema in (schema.get("properties") or {}).items():
        action = _field_action(field_schema)
        if action is not None:
            plan[name] = action
    return plan


def _apply(value: object, action: object) -> object:
    if value is None:
        return None
    if callable(action):
        return action(value) if isinstance(value, str) else value
    if isinstance(action, dict):
        if isinstance(value, dict):
            _apply_plan(value, action)
        return value
    item_action = action[1]  # type: ignore[index]
    if isinstance(value, list):
        if callable(item_action):
            return [item_action(v) if isinstance(v, str) else v for v in value]
        for item in value:
            _apply(item, item_action)
    return value


def _apply_plan(record: dict, plan: _Plan) -> None:
    for name, action in plan.items():
        value = record.get(name)
        if value is not None:
            record[name] = _apply(value, action)


def build_converter(schema: dict) -> Converter:
    """A function that converts, in place, every date field of a record of ``schema``."""
    plan = _object_plan(schema)

    def convert(record: dict) -> None:
        _apply_plan(record, plan)

    return convert


def ims_header(moment: datetime) -> str:
    """The If-Modified-Since value Xero reads: UTC, second precision, ``YYYY-MM-DDTHH:MM:SS``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
