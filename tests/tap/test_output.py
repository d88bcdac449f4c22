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
        SchemaMessage(stream="s2", schema={"type": "object"}, key_properties=None,
                      bookmark_properties=["UpdatedDateUTC"]),
        SchemaMessage(stream="s3", schema={}, key_properties=[]),
        RecordMessage(stream="invoices", record=RECORD, time_extracted=MOMENT),
        RecordMessage(stream="invoices", record=RECORD, version=1709290000000, time_extracted=MOMENT),
        RecordMessage(stream="alias_name", record={"a": 1}),
        RecordMessage(stream="offset", record={},
                      time_extracted=datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=13)))),
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


# The tap's direct record path (client.XeroStream.direct_record_messages with output.direct_record_maps)
# against the SDK's own path (taken when the writer is not ours), on a real sync: same lines but for the
# moment of extraction (and the moments inside STATE values).

STREAM_MAPS_CASES = {
    "no maps": {},
    "alias, expression, filter, new stream": {"stream_maps": {
        "invoices": {"__alias__": "sales", "Reference": "InvoiceNumber + '-x'", "__filter__": "Status != 'VOIDED'"},
        "currencies": {"Description": None},
        "copied_currencies": {"__source__": "currencies"},
    }},
    "flattening": {"flattening_enabled": True, "flattening_max_depth": 1},
}


def _sync_lines(sandbox, tmp_path, config: dict, message_writer) -> list[dict]:
    import json
    import re

    from tap_xero.tap import TapXero
    from tests.capture import CapturedStdout

    settings = {
        "access_token": sandbox.issue_access_token(), "api_url": sandbox.api_url, "identity_url": sandbox.base_url,
        "token_store_path": str(tmp_path / "tokens.json"), **config,
    }
    tap = TapXero(config=settings, message_writer=message_writer)
    for stream in tap.streams.values():
        stream.selected = stream.name in {"invoices", "invoice_line_items", "currencies"}
    out = CapturedStdout()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    text = re.sub(r'"time_extracted":"[^"]+"', '"time_extracted":"T"', out.getvalue())
    return [json.loads(line, parse_float=Decimal) for line in text.splitlines()]


def _by_stream_and_tenant(lines: list[dict]) -> list[dict]:
    """Every message but STATE, stably sorted by stream and tenant: the order inside each is kept."""
    kept = [line for line in lines if line["type"] != "STATE"]
    return sorted(kept, key=lambda line: (line.get("stream", ""), str((line.get("record") or {}).get("tenant_id"))))


@pytest.mark.parametrize("case", list(STREAM_MAPS_CASES))
def test_direct_records_are_the_sdks_records_with_stream_maps(sandbox, tmp_path, case):
    config = STREAM_MAPS_CASES[case]
    ours = _sync_lines(sandbox, tmp_path / "ours", config, None)
    sdk = _sync_lines(sandbox, tmp_path / "sdk", config, MsgSpecWriter())
    records = [line for line in ours if line["type"] == "RECORD"]
    assert records and all(line.get("time_extracted") == "T" for line in records)
    # Same messages, in the same order within each stream and tenant (tenants are read at once, so their pages
    # interleave as they arrive); STATEs are paced by time (sdk_compat.EncodedStateWriter) and their values
    # carry moments of their own run (signposts), so only their place at the end is compared.
    assert [line["type"] for line in ours if line["type"] not in ("RECORD", "STATE")] == \
        [line["type"] for line in sdk if line["type"] not in ("RECORD", "STATE")]
    assert ours[-1]["type"] == sdk[-1]["type"] == "STATE"
    assert _by_stream_and_tenant(ours) == _by_stream_and_tenant(sdk)
    streams = {line["stream"] for line in records}
    if case.startswith("alias"):
        assert {"sales", "currencies", "copied_currencies", "invoice_line_items"} <= streams
        assert all(line["record"]["Reference"].endswith("-x") for line in records if line["stream"] == "sales")
        assert all("Description" not in line["record"] for line in records if line["stream"] == "currencies")
    if case == "flattening":
        assert any("Contact__ContactID" in line["record"] for line in records if line["stream"] == "invoices")


@pytest.mark.parametrize("console_command", [False, True])
def test_the_run_keeps_start_up_objects_out_of_full_collections_and_lets_them_go_after(
    sandbox, tmp_path, monkeypatch, console_command
):
    import gc

    from tap_xero.tap import TapXero, XeroCommand

    monkeypatch.setattr(XeroCommand, "ends_process", console_command)
    from tests.capture import CapturedStdout

    frozen_while_writing: list[int] = []

    class Watching(TapXero.message_writer_class):
        def write_message(self, message) -> None:
            frozen_while_writing.append(gc.get_freeze_count())
            super().write_message(message)

    settings = {"access_token": sandbox.issue_access_token(), "api_url": sandbox.api_url,
                "identity_url": sandbox.base_url, "token_store_path": str(tmp_path / "tokens.json")}
    tap = TapXero(config=settings, message_writer=Watching())
    for stream in tap.streams.values():
        stream.selected = stream.name == "currencies"
    try:
        with contextlib.redirect_stdout(CapturedStdout()):
            tap.sync_all()
        assert frozen_while_writing and min(frozen_while_writing) > 0
        # In-process callers get them back; the console command's process exits with them frozen (its
        # exit-time collection skips them).
        assert (gc.get_freeze_count() > 0) is console_command
    finally:
        gc.unfreeze()


def test_a_write_that_takes_only_part_of_a_chunk_is_continued():
    """Under PYTHONUNBUFFERED stdout's buffer is the raw pipe: a write may take part of a chunk."""

    class Trickle(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()
            self.calls = 0

        def writable(self) -> bool:
            return True

        def write(self, chunk) -> int | None:
            self.calls += 1
            if self.calls % 3 == 0:
                return None  # full for a moment (non-blocking)
            taken = bytes(chunk[:1000])
            self.data += taken
            return len(taken)

    out = FakeStdout()
    out.buffer = Trickle()
    out.buffer.fileno = lambda: 1  # select() on a writable descriptor returns at once
    writer = output.XeroWriter()
    records = [RecordMessage(stream="s", record={"n": n, "text": "y" * 300}) for n in range(100)]
    with contextlib.redirect_stdout(out):
        for message in records:
            writer.write_message(message)
        writer.flush()
    assert bytes(out.buffer.data) == written(MsgSpecWriter(), records)
