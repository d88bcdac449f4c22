"""Singer output: the SDK's msgspec encoding, buffered, without the per-message detours.

``XeroWriter`` is the tap's ``message_writer_class``. It writes exactly the bytes the SDK's
``singer_sdk.contrib.msgspec.MsgSpecWriter`` writes (the same encoder: Decimal amounts as exact JSON
numbers, keys in the same order, ``None`` fields of the message left out), with three differences in how:

- Messages are collected in one buffer and written to stdout in chunks (``FLUSH_BYTES``), not with one
  write and one flush (one system call) per message; under ``PYTHONUNBUFFERED`` stdout's buffer is the
  raw file, and a chunk it takes only part of is written on (``write_all``). Every message that is not a
  RECORD (STATE, SCHEMA, ACTIVATE_VERSION, BATCH) flushes the buffer, so a STATE is never on stdout
  before the records it follows; a process killed between two STATEs loses only records its next run
  reads again. ``flush()`` is also called at the end of a run (``TapXero``) and at exit.
- A message is turned into its dictionary directly instead of through ``dataclasses.asdict`` (which
  deep-copies a whole schema or state just to encode it). Only top-level ``None`` fields are left out,
  as ``asdict(..., dict_factory=exclude_null_dict)`` does.
- A record may also be given as its message dictionary (``record_message(...)``, or as
  ``client.XeroStream.direct_record_messages`` builds it when ``direct_record_maps`` allows): no
  ``RecordMessage`` object, no conversion.
"""

from __future__ import annotations

import atexit
import select
import sys
import weakref
from datetime import datetime
from typing import TYPE_CHECKING, Any

from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.singerlib.encoding.simple import (
    ActivateVersionMessage,
    Message,
    RecordMessage,
    SchemaMessage,
    StateMessage,
)

if TYPE_CHECKING:
    from tap_xero.sdk_compat import CompatStream

FLUSH_BYTES = 1 << 16  # records are written to stdout in chunks of about this size
_NEWLINE = b"\n"
_STATE_PREFIX = b'{"type":"STATE","value":'
_STATE_SUFFIX = b"}\n"


def record_message(stream: str, record: dict, version: int | None, time_extracted: datetime) -> dict:
    """A RECORD message as the dictionary ``RecordMessage(...).to_dict()`` gives (same keys, same order)."""
    if version is None:
        return {"type": "RECORD", "stream": stream, "record": record, "time_extracted": time_extracted}
    return {"type": "RECORD", "stream": stream, "record": record, "version": version,
            "time_extracted": time_extracted}


def message_dict(message: Any) -> dict:  # noqa: ANN401
    """What the SDK encodes for ``message``: its ``to_dict()``, without deep copies."""
    kind = message.__class__
    if kind is dict:
        return message
    if kind is RecordMessage:
        result = {"type": "RECORD", "stream": message.stream, "record": message.record}
        if message.version is not None:
            result["version"] = message.version
        if message.time_extracted is not None:
            result["time_extracted"] = message.time_extracted
        return result
    if kind is StateMessage:
        return {"type": message.type, "value": message.value}
    if kind is SchemaMessage:
        result = {"type": message.type, "stream": message.stream, "schema": message.schema}
        if message.key_properties is not None:
            result["key_properties"] = message.key_properties
        if message.bookmark_properties is not None:
            result["bookmark_properties"] = message.bookmark_properties
        return result
    if kind is ActivateVersionMessage:
        return {"type": message.type, "stream": message.stream, "version": message.version}
    return message.to_dict()  # BATCH and anything else: the SDK's own conversion


class XeroWriter(MsgSpecWriter):
    """The SDK's msgspec writer, buffered; see the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        reference = weakref.ref(self)

        def flush_at_exit() -> None:
            writer = reference()
            if writer is not None:
                writer.flush()

        atexit.register(flush_at_exit)

    def serialize_message(self, message: Message | dict) -> bytearray:
        return bytearray(encoder.encode(message_dict(message)) + _NEWLINE)

    def write_message(self, message: Message | dict) -> None:
        pending = self._pending
        if message.__class__ is dict:  # a ready message (record_message): the hot path
            encoder.encode_into(message, pending, len(pending))
            pending += _NEWLINE
            if message["type"] != "RECORD" or len(pending) >= FLUSH_BYTES:
                self.flush()
            return
        encoder.encode_into(message_dict(message), pending, len(pending))
        pending += _NEWLINE
        if message.__class__ is not RecordMessage or len(pending) >= FLUSH_BYTES:
            self.flush()

    def write_encoded_state(self, value: bytes) -> None:
        """A STATE message whose value is already encoded (sdk_compat.EncodedStateWriter): the same bytes as
        ``write_message(StateMessage(value=...))`` writes, without encoding the state again."""
        pending = self._pending
        pending += _STATE_PREFIX
        pending += value
        pending += _STATE_SUFFIX
        self.flush()

    def flush(self) -> None:
        """Write what is buffered to stdout, all of it."""
        if self._pending:
            data = bytes(self._pending)
            self._pending.clear()
            write_all(sys.stdout.buffer, data)
        sys.stdout.flush()


def write_all(out: Any, data: bytes) -> None:  # noqa: ANN401
    """Write every byte of ``data`` to ``out``.

    Under ``PYTHONUNBUFFERED`` ``sys.stdout.buffer`` is the raw file: one ``write`` to a pipe may take only
    part of a large chunk (a signal arriving mid-write, e.g. a profiler attaching), and returns how much;
    the rest must be written again, or a line is cut. A non-blocking stdout that is full (``None``) is
    waited for.
    """
    view = memoryview(data)
    while view:
        written = out.write(view)
        if written is None:
            select.select([], [out], [])
            continue
        view = view[written:]


def direct_record_maps(stream: CompatStream) -> list[tuple[str, Any]] | bool:
    """How ``stream`` may write its records as ready dictionaries, or False for the SDK's own path.

    The direct path needs this module's writer (it encodes dictionaries) and nothing deselected (the
    SDK's path drops deselected properties). One (alias, transform) per stream map; transform is None
    for a map that leaves records as they are (the SDK's SameRecordTransform without flattening), so
    it is not called per record.
    """
    from singer_sdk.mapper import SameRecordTransform

    if not isinstance(getattr(stream.tap, "message_writer", None), XeroWriter):
        return False
    if not all(stream.mask.values()):
        return False
    maps = []
    for stream_map in stream.stream_maps:
        unchanged = type(stream_map) is SameRecordTransform and not stream_map.flattening_enabled
        maps.append((stream_map.stream_alias, None if unchanged else stream_map.transform))
    return maps
