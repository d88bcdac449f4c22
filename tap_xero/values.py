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

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Dates repeat a lot (DueDate, Date, the same UpdatedDateUTC second): a small
# cache turns most conversions into one dict lookup. Cleared when full.
_CACHE_LIMIT = 65536
_datetime_cache: dict[str, str] = {}
_date_cache: dict[str, str] = {}

Converter = Callable[[dict], None]


def _ms_value(value: str) -> int | None:
    """The milliseconds of ``/Date(ms)/`` or ``/Date(ms+hhmm)/``; None for anything else."""
    if not (value.startswith("/Date(") and value.endswith(")/")):
        return None
    inner = value[6:-2]
    cut = max(inner.rfind("+"), inner.rfind("-"))  # the offset note's sign (a leading minus is at 0)
    if cut > 0:
        inner = inner[:cut]
    try:
        return int(inner)
    except ValueError:
        return None


def _parse(value: str) -> datetime | None:
    """A Xero date value as an aware UTC datetime; None when it is not a date."""
    millis = _ms_value(value)
    if millis is not None:
        # timedelta arithmetic is exact for negative values too (fromtimestamp is not portable).
        return EPOCH + timedelta(milliseconds=millis)
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


# The schema is compiled once into closures: for each object, the (field, function) pairs of the fields
# that hold dates at some depth. Per record, only those fields are looked at.
ValueFunction = Callable[[object], object]


def _types(schema: dict) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    return set(kind or ())


def _date_text(convert: Callable[[str], str | None]) -> ValueFunction:
    def apply(value: object) -> object:
        return convert(value) if value.__class__ is str else value

    return apply


def _value_function(schema: dict) -> ValueFunction | None:
    """How to convert a value of ``schema`` (None: nothing in it is a date)."""
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key) or ():
            function = _value_function(option)
            if function is not None:
                return function
    fmt = schema.get("format")
    if fmt == "date-time":
        return _date_text(to_datetime_string)
    if fmt == "date":
        return _date_text(to_date_string)
    types = _types(schema)
    if "object" in types or "properties" in schema:
        return _object_function(schema)
    if "array" in types or "items" in schema:
        items = schema.get("items")
        item_function = _value_function(items) if isinstance(items, dict) else None
        if item_function is None:
            return None

        def convert_list(value: object) -> object:
            if value.__class__ is list:
                return [item_function(item) for item in value] if value else value
            return value

        return convert_list
    return None


def _object_function(schema: dict) -> ValueFunction | None:
    fields = []
    for name, field_schema in (schema.get("properties") or {}).items():
        function = _value_function(field_schema)
        if function is not None:
            fields.append((name, function))
    if not fields:
        return None
    fields_tuple = tuple(fields)

    def convert_object(value: object) -> object:
        if value.__class__ is dict:
            get = value.get  # type: ignore[attr-defined]
            for name, function in fields_tuple:
                field_value = get(name)
                if field_value is not None:
                    value[name] = function(field_value)  # type: ignore[index]
        return value

    return convert_object


def build_converter(schema: dict) -> Converter:
    """A function that converts, in place, every date field of a record of ``schema``."""
    function = _object_function(schema)
    if function is None:
        return lambda record: None
    return function  # type: ignore[return-value]


def ims_header(moment: datetime) -> str:
    """The If-Modified-Since value Xero reads: UTC, second precision, ``YYYY-MM-DDTHH:MM:SS``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
