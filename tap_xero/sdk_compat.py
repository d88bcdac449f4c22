"""Every touch of a private or final singer-sdk member, in one place (verified against singer-sdk 0.54).

The tap leans on the SDK for what it does well (catalog, selection, stream maps, flattening, state
bookkeeping, the CLI, message encoding) and goes around it where it must; each such place is here, with
why. ``tests/tap/test_sdk_compat.py`` checks every assumption below against the installed SDK, so an upgrade
that changes one fails a test instead of silently changing what the tap emits. pyproject.toml pins
``singer-sdk>=0.54.9,<0.55``; re-verify this module before widening it.

Streams (``CompatStream``, the base of every tap stream):
- ``_increment_stream_state`` (private hook, called per record): a no-op (unless ``keeps_sdk_bookmarks``).
  Bookmarks move only at safe points (after a whole page, sync/tenant_sync.py); the SDK's per-record
  bookmark would claim records not yet written when a page is read ahead.
- ``_generate_record_messages`` (private hook): the tap's writer takes ready message dictionaries
  (output.py); ``direct_record_messages`` (public, the stream's) gives them, or None for the SDK's own path.
- ``_write_state_message``, ``state_manager.is_flushed``: a STATE written at a safe point
  (``write_state_now``) when ``EncodedStateWriter.due()``, else by the next one or at the end of the stream.
  In batch mode (``batch_config``) the SDK writes the STATE after each BATCH message, so
  a state change only marks the state unflushed: a STATE never claims records still waiting for their batch.
- ``_write_batch_message`` (private): ``before_batch_written`` runs first (a parent writes its child tables'
  batches, so their rows are in files before the STATE that covers their parents); ``write_batch`` writes
  rows of this stream as batch files with the SDK's own ``Batcher``.
- ``_write_record_message``, ``_write_schema_message``: child-table rows and schemas written from the
  parent's read (``write_record``, ``write_schema``). ``_stream_version``, ``_tap``: read through
  ``stream_version`` and ``tap``.

The tap (``CompatTap``):
- ``sync_all`` and ``run_connection_test`` are final in the SDK: overridden to run the tap's preflight, stops
  and final state around the SDK's own (``run_sync``, ``run_connection_check``).
- ``_validate_config`` (private): the tap's own checks first, so a bad value gets a message naming the
  setting and the fix (``check_settings``).
- ``_handle_termination`` (private; the SDK's SIGTERM/SIGINT handler writes state and exits 0 at once, in
  the middle of whatever runs): asks the run to stop at its next safe point instead (``on_stop_signal``).
- ``_env_var_config`` (private): the ``TAP_XERO_*`` settings, read by the tap's own source merging.
- ``singer_sdk.helpers._util.read_json_file`` (private module): config files read as the SDK reads them.
- ``_state_writer`` (``singer_sdk.helpers._state.StateWriter``, private module): ``EncodedStateWriter`` keeps
  the SDK's rule (a STATE only when the state changed) but compares the encoded state instead of a deep copy
  of it, and hands the writer the encoded bytes. The state holds every organisation's bookmarks of every
  stream, so the SDK's deep copy and comparison per STATE grew with organisations x streams and took 60% of
  a 40-organisation run's CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

import copy
import time

from singer_sdk import Stream, Tap
from singer_sdk.batch import Batcher
from singer_sdk.contrib.msgspec import encoder
from singer_sdk.helpers import types
from singer_sdk.helpers._state import StateWriter
from singer_sdk.helpers._util import read_json_file as _read_json_file
from singer_sdk.singerlib import StateMessage


class CompatStream(Stream):
    """The private SDK members a stream relies on, as public methods. See the module docstring."""

    def direct_record_messages(self, record: dict) -> list[dict] | None:
        """The record's messages as ready dictionaries, or None for the SDK's own path (streams override)."""
        return None

    def keeps_sdk_bookmarks(self) -> bool:
        """True for a stream whose bookmark the SDK may move per record (the tap's own streams: False)."""
        return False

    def _increment_stream_state(self, latest_record: types.Record, *, context: types.Context | None = None) -> None:
        if self.keeps_sdk_bookmarks():
            super()._increment_stream_state(latest_record, context=context)
        # else: bookmarks are saved at safe points only (sync/tenant_sync.py)

    # The SDK types its hook as a generator of RecordMessage; the tap's writer (output.XeroWriter) also encodes
    # the ready dictionaries ``direct_record_messages`` gives.
    def _generate_record_messages(self, record: types.Record) -> Iterable[Any]:  # type: ignore[override]
        messages = self.direct_record_messages(record)
        return super()._generate_record_messages(record) if messages is None else messages

    @property
    def tap(self) -> Any:  # noqa: ANN401 - the TapXero; client.XeroStream.tap narrows it to client.TapServices
        return self._tap

    @property
    def stream_version(self) -> int | None:
        return self._stream_version

    @property
    def batch_mode(self) -> bool:
        """Records go to batch files (``batch_config``) instead of RECORD messages."""
        return self.get_batch_config(self.config) is not None

    def write_state_now(self) -> None:
        """Write the tap's state as a STATE message now (it changed at a safe point); in batch mode the SDK
        writes it after the next BATCH message instead."""
        self.state_manager.is_flushed = False
        if not self.batch_mode and self.tap.state_writer.due():
            self._write_state_message()

    def before_batch_written(self) -> None:
        """Called right before each BATCH message of this stream (streams override)."""

    def _write_batch_message(self, encoding: Any, manifest: list[str]) -> None:  # noqa: ANN401
        self.before_batch_written()
        super()._write_batch_message(encoding, manifest)

    def write_batch(self, records: Iterable[dict]) -> None:
        """Write ``records`` of this stream as batch files and their BATCH messages (batch mode only)."""
        batch_config = self.get_batch_config(self.config)
        assert batch_config is not None, "write_batch needs batch_config"
        batcher = Batcher(tap_name=self.tap_name, stream_name=self.name, batch_config=batch_config)
        for manifest in batcher.get_batches(records=iter(records)):
            super()._write_batch_message(batch_config.encoding, manifest)

    def write_record(self, record: dict) -> None:
        """Write one record of this stream (child-table rows, written from the parent's read)."""
        self._write_record_message(record)

    def write_schema(self) -> None:
        self._write_schema_message()


STATE_TIME_SHARE = 0.05  # of a run's time, the most that writing STATE messages at safe points may take


class EncodedStateWriter(StateWriter):
    """The SDK's StateWriter, deduplicating on the encoded state (see the module docstring).

    ``due()`` paces the STATEs written at safe points (``CompatStream.write_state_now``): a STATE holds every
    organisation's bookmarks, so writing one after every page of every organisation would cost organisations
    squared; the next is due once STATE_TIME_SHARE of the time since the last was spent writing it (a small
    state: after every page, as before; 40 organisations' state, about 3 ms: at most every 60 ms). A change
    not written yet is written by the next due one, at the end of its stream, or as the run's final STATE.
    """

    def __init__(self, message_writer: Any) -> None:  # noqa: ANN401 - the tap's message writer
        super().__init__(message_writer)
        self._last_encoded: bytes | None = None
        self._next_due = 0.0

    def due(self) -> bool:
        return time.monotonic() >= self._next_due

    def write_state(self, state: types.TapState) -> None:
        started = time.monotonic()
        try:
            self._write(state)
        finally:
            finished = time.monotonic()
            self._next_due = finished + (finished - started) / STATE_TIME_SHARE

    def _write(self, state: types.TapState) -> None:
        encoded = encoder.encode(state)
        if encoded == self._last_encoded:
            return
        self._last_encoded = encoded
        writer = self._message_writer
        write_encoded = getattr(writer, "write_encoded_state", None)
        if write_encoded is not None:
            write_encoded(encoded)  # output.XeroWriter: the bytes as they are
        else:  # another writer may keep the message: it gets a copy, as the SDK's writer gives it
            writer.write_message(StateMessage(value=copy.deepcopy(state)))


class CompatTap(Tap):
    """The private and final SDK members the tap relies on. See the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 - the SDK's own signature
        super().__init__(*args, **kwargs)
        self._state_writer = EncodedStateWriter(self.message_writer)

    def run_sync(self, sdk_sync_all: Callable[[], None]) -> None:
        """The tap's run around the SDK's ``sync_all`` (the tap overrides this)."""
        sdk_sync_all()

    def run_connection_check(self, sdk_check: Callable[[], bool]) -> bool:
        return sdk_check()

    def check_settings(self) -> None:
        """The tap's own validation, before the SDK's JSON-schema one (the tap overrides this)."""

    def on_stop_signal(self, signum: int) -> None:
        """SIGTERM/SIGINT (the tap overrides this)."""

    def sync_all(self) -> None:  # type: ignore[misc]  # final in the SDK
        self.run_sync(super().sync_all)

    def run_connection_test(self) -> bool:  # type: ignore[misc]  # final in the SDK
        return self.run_connection_check(super().run_connection_test)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        if raise_errors:
            self.check_settings()
        return super()._validate_config(raise_errors=raise_errors)

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        self.on_stop_signal(signum)

    @property
    def env_var_config(self) -> dict[str, Any]:
        """The settings given as ``TAP_XERO_<SETTING>`` environment variables (the SDK's convention)."""
        return dict(self._env_var_config)


def read_json_file(path: Any) -> dict:  # noqa: ANN401
    """A JSON config file, read as the SDK reads its own (``--config FILE``)."""
    return dict(_read_json_file(path))

