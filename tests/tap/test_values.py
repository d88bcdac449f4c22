"""values.py: Xero dates to RFC 3339 UTC, schema-driven conversion, exact amounts untouched."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from tap_xero import values


def test_ms_date_is_utc_with_microseconds():
    assert values.to_datetime_string("/Date(1573755038314+0000)/") == "2019-11-14T18:10:38.314000+00:00"


def test_offset_suffix_is_a_note_not_added():
    # The value is already UTC: +1300 must not move it.
    assert values.to_datetime_string("/Date(1573755038314+1300)/") == "2019-11-14T18:10:38.314000+00:00"
    assert values.to_datetime_string("/Date(1573755038314-0500)/") == "2019-11-14T18:10:38.314000+00:00"


def test_negative_values_before_1970():
    assert values.to_datetime_string("/Date(-1000)/") == "1969-12-31T23:59:59.000000+00:00"
    assert values.to_datetime_string("/Date(-86400001+0000)/") == "1969-12-30T23:59:59.999000+00:00"
    assert values.to_date_string("/Date(-1)/") == "1969-12-31"


def test_fractional_milliseconds_and_whole_seconds_have_one_format():
    assert values.to_datetime_string("/Date(0)/") == "1970-01-01T00:00:00.000000+00:00"
    assert values.to_datetime_string("/Date(1)/") == "1970-01-01T00:00:00.001000+00:00"


def test_iso_strings_xero_sometimes_sends():
    assert values.to_datetime_string("2019-11-14T00:00:00") == "2019-11-14T00:00:00.000000+00:00"
    assert values.to_datetime_string("2019-11-14T10:00:00+10:00") == "2019-11-14T00:00:00.000000+00:00"
    assert values.to_datetime_string("2019-11-14T00:00:00Z") == "2019-11-14T00:00:00.000000+00:00"
    assert values.to_date_string("2019-11-14T00:00:00") == "2019-11-14"
    assert values.to_date_string("/Date(1573689600000+0000)/") == "2019-11-14"


def test_null_and_unparseable_pass_through():
    assert values.to_datetime_string(None) is None
    assert values.to_date_string(None) is None
    assert values.to_datetime_string("not a date") == "not a date"


def test_converter_follows_schema_recursively_and_leaves_amounts_exact():
    schema = {
        "type": "object",
        "properties": {
            "UpdatedDateUTC": {"type": ["string", "null"], "format": "date-time"},
            "Date": {"type": ["string", "null"], "format": "date"},
            "DateString": {"type": ["string", "null"]},
            "Total": {"type": ["number", "null"]},
            "Contact": {"type": ["object", "null"], "properties": {
                "UpdatedDateUTC": {"type": ["string", "null"], "format": "date-time"}}},
            "Payments": {"type": ["array", "null"], "items": {"type": "object", "properties": {
                "Date": {"type": ["string", "null"], "format": "date"}}}},
            "Dates": {"type": "array", "items": {"type": "string", "format": "date"}},
        },
    }
    convert = values.build_converter(schema)
    record = {
        "UpdatedDateUTC": "/Date(1573755038314+0000)/",
        "Date": "/Date(1573689600000+0000)/",
        "DateString": "2019-11-14T00:00:00",
        "Total": Decimal("0.10"),
        "Contact": {"UpdatedDateUTC": "/Date(-1000)/"},
        "Payments": [{"Date": "/Date(0)/"}, {"Date": None}],
        "Dates": ["/Date(0)/"],
        "NewField": "/Date(0)/",
    }
    convert(record)
    assert record == {
        "UpdatedDateUTC": "2019-11-14T18:10:38.314000+00:00",
        "Date": "2019-11-14",
        "DateString": "2019-11-14T00:00:00",  # not a date in the schema: untouched
        "Total": Decimal("0.10"),
        "Contact": {"UpdatedDateUTC": "1969-12-31T23:59:59.000000+00:00"},
        "Payments": [{"Date": "1970-01-01"}, {"Date": None}],
        "Dates": ["1970-01-01"],
        "NewField": "/Date(0)/",
    }


def test_converter_is_idempotent_on_converted_values():
    convert = values.build_converter({"properties": {"D": {"format": "date-time"}}})
    record = {"D": "/Date(1573755038314)/"}
    convert(record)
    convert(record)
    assert record["D"] == "2019-11-14T18:10:38.314000+00:00"


def test_parse_datetime_and_ims_header():
    moment = values.parse_datetime("/Date(1573755038314+0000)/")
    assert moment == datetime(2019, 11, 14, 18, 10, 38, 314000, tzinfo=timezone.utc)
    assert values.ims_header(moment) == "2019-11-14T18:10:38"
