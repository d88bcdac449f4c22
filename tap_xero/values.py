"""Xero values → Singer values: dates to RFC 3339 UTC, amounts kept exact.

Xero sends timestamps as ``/Date(1573755038314+0000)/``: Unix milliseconds, UTC,
possibly negative (before 1970). The ``+hhmm`` suffix is a note about the
organisation's offset, already applied: it is NOT added again. Some fields come
as ISO strings instead (``2019-11-14T00:00:00``, no offset: read as UTC).

Amounts are decoded as ``decimal.Decimal`` by the HTTP client
(``http.decode_body``: msgspec with ``float_hook=Decimal``) and never touched
here, so they reach the target exactly.

Which fields are dates comes from the stream's schema (``"format": "date-time"``
or ``"date"``): ``build_converter(schema)`` walks the schema once and returns a
function that rewrites only those fields of a record, in place. This runs for
every record, so the per-record work is a few dict lookups per date field.
``/Date(ms)/`` becomes text by integer arithmetic (days since 1970 looked up in
a per-day cache, the time of day from ready-made digit strings), without a
datetime object; ISO text goes through ``datetime.fromisoformat``.

Output formats (stable, so that string comparison of bookmarks is time order):
- date-time: ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (always microseconds)
- date: ``YYYY-MM-DD``
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_ORDINAL = EPOCH.toordinal()
_MS_PER_DAY = 86_400_000
# Dates repeat a lot (DueDate, Date, the same UpdatedDateUTC second): a small
# cache turns most conversions into one dict lookup. Cleared when full.
_CACHE_LIMIT = 65536
_datetime_cache: dict[str, str] = {}
_date_cache: dict[str, str] = {}
# Day number since 1970 → "YYYY-MM-DD": timestamps that differ (UpdatedDateUTC, to the millisecond)
# still share few days, so the calendar arithmetic runs once per day, not once per value.
_day_cache: dict[int, str] = {}
# Ready-made pieces of the time of day: indexing a list is a third of the cost of a format spec.
_TWO_DIGITS = [f"{number:02d}" for number in range(100)]
_FRACTION_AND_ZONE = [f".{millis:03d}000+00:00" for millis in range(1000)]

Converter = Callable[[dict], None]


def _ms_value(value: str) -> int | None:
    """The milliseconds of ``/Date(ms)/`` or ``/Date(ms+hhmm)/``; None for anything else."""
    if value[:6] != "/Date(" or value[-2:] != ")/":
        return None
    inner = value[6:-2]
    if len(inner) > 5 and inner[-5] in "+-":  # the usual four-digit offset note: one slice
        inner = inner[:-5]
    else:
        cut = max(inner.rfind("+"), inner.rfind("-"))  # any other offset note (a leading minus is at 0)
        if cut > 0:
            inner = inner[:cut]
    try:
        return int(inner)
    except ValueError:
        return None


def _day_string(days: int) -> str | None:
    """Days since 1970-01-01 (negative before) → ``YYYY-MM-DD``; None outside years 1-9999."""
    text = _day_cache.get(days)
    if text is None:
        try:
            text = date.fromordinal(_EPOCH_ORDINAL + days).isoformat()
        except (ValueError, OverflowError):
            return None
        if len(_day_cache) >= _CACHE_LIMIT:
            _day_cache.clear()
        _day_cache[days] = text
    return text


def _ms_datetime_string(millis: int) -> str | None:
    """UTC milliseconds → ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` with integer arithmetic, no datetime.

    Floor division keeps negative values right: -1 ms is 23:59:59.999 on the day before 1970-01-01.
    """
    days, millis_of_day = divmod(millis, _MS_PER_DAY)
    day = _day_string(days)
    if day is None:
        return None
    seconds, millis_part = divmod(millis_of_day, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{day}T{_TWO_DIGITS[hour]}:{_TWO_DIGITS[minute]}:{_TWO_DIGITS[second]}{_FRACTION_AND_ZONE[millis_part]}"


def _parse(value: str) -> datetime | None:
    """A Xero date value as an aware UTC datetime; None when it is not a date."""
    millis = _ms_value(value)
    if millis is not None:
        # timedelta arithmetic is exact for negative values too (fromtimestamp is not portable).
        try:
            return EPOCH + timedelta(milliseconds=millis)
        except OverflowError:  # outside years 1-9999: not a date we can represent
            return None
    return _parse_iso(value)


def _parse_iso(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _new_datetime_string(value: str) -> str:
    """``to_datetime_string`` for a value not in the cache yet (the cache is looked at by the caller)."""
    millis = _ms_value(value)
    if millis is not None:
        result = _ms_datetime_string(millis) or value
    else:
        parsed = _parse_iso(value)
        result = value if parsed is None else parsed.isoformat(timespec="microseconds")
    if len(_datetime_cache) >= _CACHE_LIMIT:
        _datetime_cache.clear()
    _datetime_cache[value] = result
    return result


def _new_date_string(value: str) -> str:
    """``to_date_string`` for a value not in the cache yet (the cache is looked at by the caller)."""
    millis = _ms_value(value)
    if millis is not None:
        result = _day_string(millis // _MS_PER_DAY) or value
    else:
        parsed = _parse_iso(value)
        result = value if parsed is None else parsed.date().isoformat()
    if len(_date_cache) >= _CACHE_LIMIT:
        _date_cache.clear()
    _date_cache[value] = result
    return result


def to_datetime_string(value: str | None) -> str | None:
    """``/Date(ms+hhmm)/`` or ISO text → ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (unparseable: unchanged)."""
    if value is None:
        return None
    return _datetime_cache.get(value) or _new_datetime_string(value)


def to_date_string(value: str | None) -> str | None:
    """``/Date(ms+hhmm)/`` or ISO text → ``YYYY-MM-DD`` (the UTC calendar day; unparseable: unchanged)."""
    if value is None:
        return None
    return _date_cache.get(value) or _new_date_string(value)


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


# A date field's converter with its cache: per value the walk looks in the cache itself (a hit costs no call).
_TEXT_CONVERTERS: dict[str, tuple[dict[str, str], Callable[[str], str]]] = {
    "date-time": (_datetime_cache, _new_datetime_string),
    "date": (_date_cache, _new_date_string),
}


def _date_text(fmt: str) -> ValueFunction:
    cache, convert = _TEXT_CONVERTERS[fmt]

    def apply(value: object) -> object:
        if value.__class__ is str:
            return cache.get(value) or convert(value)
        return value

    apply.date_format = fmt  # type: ignore[attr-defined]  # lets an enclosing object inline this field
    return apply


def _value_function(schema: dict) -> ValueFunction | None:
    """How to convert a value of ``schema`` (None: nothing in it is a date)."""
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key) or ():
            function = _value_function(option)
            if function is not None:
                return function
    fmt = schema.get("format")
    if fmt in _TEXT_CONVERTERS:
        return _date_text(fmt)
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


def _object_function(schema: dict) -> ValueFunction | None:  # noqa: C901 - one flat closure: the per-record hot path
    text_fields = []  # (name, cache, convert): a date directly in this object, converted inline
    nested_fields = []  # (name, function): an object or array with dates inside
    for name, field_schema in (schema.get("properties") or {}).items():
        function = _value_function(field_schema)
        if function is None:
            continue
        fmt = getattr(function, "date_format", None)
        if fmt is not None:
            text_fields.append((name, *_TEXT_CONVERTERS[fmt]))
        else:
            nested_fields.append((name, function))
    if not text_fields and not nested_fields:
        return None
    text_tuple = tuple(text_fields)
    nested_tuple = tuple(nested_fields)

    def convert_object(value: object) -> object:
        if value.__class__ is dict:
            get = value.get
            for name, cache, convert in text_tuple:
                text = get(name)
                if text.__class__ is str:
                    value[name] = cache.get(text) or convert(text)
            for name, function in nested_tuple:
                field_value = get(name)
                if field_value is not None:
                    value[name] = function(field_value)
        return value

    return convert_object


def build_converter(schema: dict) -> Converter:
    """A function that converts, in place, every date field of a record of ``schema``."""
    function = _object_function(schema)
    if function is None:
        return lambda record: None
    return function  # type: ignore[return-value]


def ims_header(moment: datetime) -> str:
    """The If-Modified-Since value as the spec types it (an RFC 3339 ``date-time``), in UTC to the second:
    ``YYYY-MM-DDTHH:MM:SSZ``, the form Xero's official SDKs send."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
