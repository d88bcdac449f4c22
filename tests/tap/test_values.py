"""values.py: Xero dates to RFC 3339 UTC, schema-driven conversion, exact amounts untouched."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

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
    assert values.ims_header(moment) == "2019-11-14T18:10:38Z"  # RFC 3339, as the spec types the header
    plus_thirteen = timezone(timedelta(hours=13))
    assert values.ims_header(moment.astimezone(plus_thirteen)) == "2019-11-14T18:10:38Z"  # always in UTC


# -- the integer-arithmetic fast path: same text as datetime gave, for every shape -------------------

def _reference(millis: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=millis)


@pytest.mark.parametrize("millis", [
    0, 1, -1, 999, -999, 1000, -1000, 86_399_999, 86_400_000, -86_400_000, -86_400_001,
    951_782_400_000,  # 2000-02-29, a leap day
    1_573_755_038_314, 1_573_755_038_000, 1_573_689_600_000, -2_208_988_800_001,  # 1899-12-31T23:59:59.999
    253_402_300_799_999,  # 9999-12-31T23:59:59.999, the last representable millisecond
])
@pytest.mark.parametrize("suffix", ["", "+0000", "+1300", "-0500", "+0530"])
def test_ms_dates_match_datetime_arithmetic(millis, suffix):
    text = f"/Date({millis}{suffix})/"
    expected = _reference(millis)
    assert values.to_datetime_string(text) == expected.isoformat(timespec="microseconds")
    assert values.to_date_string(text) == expected.date().isoformat()
    assert values.parse_datetime(text) == expected


def test_ms_dates_match_datetime_arithmetic_on_many_values():
    generator = random.Random(8)
    for _ in range(5000):
        millis = generator.randrange(-5_000_000_000_000, 5_000_000_000_000)
        expected = _reference(millis)
        assert values.to_datetime_string(f"/Date({millis}+0000)/") == expected.isoformat(timespec="microseconds")
        assert values.to_date_string(f"/Date({millis})/") == expected.date().isoformat()


def test_fractional_seconds_zero_and_offsets_in_ms_dates():
    assert values.to_datetime_string("/Date(0+0000)/") == "1970-01-01T00:00:00.000000+00:00"
    assert values.to_datetime_string("/Date(-1+0000)/") == "1969-12-31T23:59:59.999000+00:00"
    assert values.to_datetime_string("/Date(1573755038010-0800)/") == "2019-11-14T18:10:38.010000+00:00"
    assert values.to_datetime_string("/Date(1573755038999+0530)/") == "2019-11-14T18:10:38.999000+00:00"
    assert values.to_date_string("/Date(1573775999999+1300)/") == "2019-11-14"  # the UTC day, not +13:00's


def test_iso_fractions_and_offsets_keep_their_microseconds():
    assert values.to_datetime_string("2019-11-14T18:10:38.123456") == "2019-11-14T18:10:38.123456+00:00"
    assert values.to_datetime_string("2019-11-14T18:10:38.5+01:00") == "2019-11-14T17:10:38.500000+00:00"
    assert values.to_date_string("2019-11-14T23:30:00-05:00") == "2019-11-15"


def test_out_of_range_and_malformed_ms_dates_pass_through_unchanged():
    for text in ("/Date(253402300800000)/", "/Date(-62135596800001)/", "/Date()/", "/Date(12a)/", "/Date(1"):
        assert values.to_datetime_string(text) == text
        assert values.to_date_string(text) == text
        with pytest.raises(ValueError):
            values.parse_datetime(text)
