"""output.XeroWriter: the SDK msgspec writer's exact bytes, buffered until a non-RECORD message."""

from __future__ import annotations

import contextlib
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import (
    ActivateVersionMessage,
    RecordMessage,
    SchemaMessage,
    StateMessage,
)

from tap_xero import output


class FakeStdout(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.buffer = io.BytesIO()


def written(writer, messages) -> bytes:
    out = FakeStdout()
    with contextlib.redirect_stdout(out):
        for message in messages:
            writer.write_message(message)
        if hasattr(writer, "flush"):
            writer.flush()
    return out.buffer.getvalue()


MOMENT = datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)
RECORD = {
    "InvoiceID": "0f6e-1", "Total": Decimal("1234.5600"), "Tiny": Decimal("0.0001"), "Big": Decimal("1E+30"),
    "Negative": Decimal("-0.10"), "Count": 3, "Nothing": None, "Flag": False, "Text": "caf\u00e9 \"quoted\"\n",
    "LineItems": [{"UnitAmount": Decimal("10.1"), "Tracking": [], "Missing": None}, {}],
    "Contact": {"ContactID": "c-1", "Addresses": [[1, 2], {"a": None}]},
}


def messages() -> list:
    return [
        SchemaMessage(stream="invoices", schema={"type": "object", "properties": {"x": {"type": ["null", "string"]}},
                                                  "nested": None}, key_properties=["tenant_id", "InvoiceID"]),
        SchemaMessage(stream="s2", schema={"type": "object"}, key_properties=None, bookmark_properties=["UpdatedDateUTC"]),
        SchemaMessage(stream="s3", schema={}, key_properties=[]),
        RecordMessage(stream="invoices", record=RECORD, time_extracted=MOMENT),
        RecordMessage(stream="invoices", record=RECORD, version=1709290000000, time_extracted=MOMENT),
        RecordMessage(stream="alias_name", record={"a": 1}),
        RecordMessage(stream="offset", record={}, time_extracted=datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=13)))),
        StateMessage(value={"bookmarks": {"invoices": {"partitions": [{"context": {"tenant_id": "t"},
                                                                       "replication_key_value": None}]}}}),
        ActivateVersionMessage(stream="invoices", version=1709290000000),
    ]


def test_bytes_are_the_sdk_msgspec_writers_for_every_kind_of_message():
    ours = written(output.XeroWriter(), messages())
    sdk = written(MsgSpecWriter(), messages())
    assert ours == sdk
    assert b'"Total":1234.5600' in ours and b'"Big":1E+30' in ours  # exact numbers, never floats or strings


def test_a_record_given_as_a_dictionary_is_written_as_its_record_message():
    for version in (None, 42):
        as_dict = output.record_message("invoices", RECORD, version, MOMENT)
        as_message = RecordMessage(stream="invoices", record=RECORD, version=version, time_extracted=MOMENT)
        assert written(output.XeroWriter(), [as_dict]) == written(MsgSpecWriter(), [as_message])
        assert list(as_dict) == list(as_message.to_dict())  # same keys in the same order


def test_records_wait_for_the_next_state_and_come_out_before_it():
    writer = output.XeroWriter()
    out = FakeStdout()
    with contextlib.redirect_stdout(out):
        writer.write_message(RecordMessage(stream="s", record={"n": 1}))
        writer.write_message(output.record_message("s", {"n": 2}, None, MOMENT))
        assert out.buffer.getvalue() == b""  # buffered
        writer.write_message(StateMessage(value={"bookmarks": {}}))
        lines = out.buffer.getvalue().splitlines()
        assert [line[:16] for line in lines] == [b'{"type":"RECORD"', b'{"type":"RECORD"', b'{"type":"STATE",']
        writer.write_message(RecordMessage(stream="s", record={"n": 3}))
        writer.flush()
    assert out.buffer.getvalue().splitlines()[-1] == b'{"type":"RECORD","stream":"s","record":{"n":3}}'


def test_a_full_buffer_is_written_without_waiting(monkeypatch):
    monkeypatch.setattr(output, "FLUSH_BYTES", 100)
    writer = output.XeroWriter()
    out = FakeStdout()
    with contextlib.redirect_stdout(out):
        for number in range(10):
            writer.write_message(RecordMessage(stream="s", record={"n": number, "pad": "x" * 20}))
        assert out.buffer.getvalue().count(b"\n") >= 5
        writer.flush()
    assert out.buffer.getvalue().count(b"\n") == 10


@pytest.mark.parametrize("message", messages())
def test_serialize_message_is_the_sdks_too(message):
    assert bytes(output.XeroWriter().serialize_message(message)) == bytes(MsgSpecWriter().serialize_message(message))
