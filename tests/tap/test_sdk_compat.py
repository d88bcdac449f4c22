"""Every singer-sdk assumption of tap_xero/sdk_compat.py, checked against the installed SDK.

An upgrade that renames a private hook, stops calling it, or changes what a final method does makes one of
these fail, instead of silently changing what the tap emits.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import signal
import time
from pathlib import Path

import pytest
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.helpers._state import StateWriter

from tap_xero.output import XeroWriter
from singer_sdk.singerlib import StateMessage

from tap_xero.sdk_compat import STATE_TIME_SHARE, CompatStream, CompatTap, EncodedStateWriter, read_json_file
from tests.capture import CapturedStdout

VERIFIED_SDK = "0.54."  # sdk_compat.py was checked against this series; pyproject pins singer-sdk <0.55


class Numbers(CompatStream):
    name = "numbers"
    primary_keys = ("n",)
    replication_key = "n"
    schema = th.PropertiesList(th.Property("n", th.IntegerType)).to_dict()
    per_record_calls = 0
    sdk_bookmarks = False
    direct = False

    def keeps_sdk_bookmarks(self) -> bool:
        return self.sdk_bookmarks

    def _increment_stream_state(self, latest_record: dict, *, context: dict | None = None) -> None:
        type(self).per_record_calls += 1
        super()._increment_stream_state(latest_record, context=context)

    def direct_record_messages(self, record: dict) -> list[dict] | None:
        if not self.direct:
            return None
        return [{"type": "RECORD", "stream": self.name, "record": {**record, "direct": True}}]

    def get_records(self, context: dict | None):
        yield from ({"n": n} for n in range(3))


class Small(CompatTap):
    name = "tap-small"
    message_writer_class = XeroWriter  # encodes ready message dictionaries (the direct hook's)
    config_jsonschema = th.PropertiesList(th.Property("x", th.StringType)).to_dict()
    ran: list[str] = []

    def discover_streams(self) -> list[Stream]:
        return [Numbers(tap=self)]

    def run_sync(self, sdk_sync_all) -> None:
        type(self).ran.append("run_sync")
        sdk_sync_all()

    def check_settings(self) -> None:
        if self.config.get("x") == "bad":
            raise ValueError("bad x")

    def on_stop_signal(self, signum: int) -> None:
        type(self).ran.append(f"signal {signum}")


def messages(run) -> list[dict]:
    out = CapturedStdout()
    with contextlib.redirect_stdout(out):
        run()
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture(autouse=True)
def reset():
    Numbers.per_record_calls, Numbers.sdk_bookmarks, Numbers.direct = 0, False, False
    Small.ran = []


def test_the_installed_sdk_is_the_series_this_module_was_verified_against() -> None:
    version = importlib.metadata.version("singer-sdk")
    assert version.startswith(VERIFIED_SDK), f"singer-sdk {version}: re-verify tap_xero/sdk_compat.py, then this test"


def test_the_sdk_calls_the_per_record_bookmark_hook_and_the_tap_keeps_it_a_no_op() -> None:
    tap = Small(config={})
    out = messages(tap.sync_all)
    assert Numbers.per_record_calls == 3  # the hook the SDK calls per record is still this one
    assert Small.ran == ["run_sync"]  # the final sync_all still runs the tap's run around the SDK's
    state = [m for m in out if m["type"] == "STATE"][-1]["value"]
    assert "replication_key_value" not in json.dumps(state)  # no bookmark moved by the SDK


def test_a_stream_that_keeps_the_sdks_bookmarks_gets_them() -> None:
    Numbers.sdk_bookmarks = True
    out = messages(Small(config={}).sync_all)
    state = [m for m in out if m["type"] == "STATE"][-1]["value"]
    assert state["bookmarks"]["numbers"]["replication_key_value"] == 2


def test_record_messages_come_from_the_direct_hook_when_it_gives_them() -> None:
    Numbers.direct = True
    out = messages(Small(config={}).sync_all)
    records = [m for m in out if m["type"] == "RECORD"]
    assert len(records) == 3 and all(m["record"]["direct"] for m in records)


def test_writes_through_the_private_members_reach_the_output() -> None:
    tap = Small(config={})
    stream = tap.streams["numbers"]
    assert stream.tap is tap and stream.stream_version is None

    def write() -> None:
        stream.write_schema()
        stream.write_record({"n": 7})
        stream.get_context_state(None)["mark"] = 1
        stream.write_state_now()

    out = messages(write)
    assert [m["type"] for m in out][:2] == ["SCHEMA", "RECORD"] and out[1]["record"] == {"n": 7}
    assert out[-1]["type"] == "STATE" and out[-1]["value"]["bookmarks"]["numbers"]["mark"] == 1


def test_the_sdks_state_writer_skips_an_unchanged_state_so_the_final_one_goes_around_it() -> None:
    written = []

    class Writer:
        def write_message(self, message) -> None:
            written.append(message)

    writer = StateWriter(Writer())
    writer.write_state({"bookmarks": {}})
    writer.write_state({"bookmarks": {}})
    assert len(written) == 1  # hence TapXero.run_sync writes its last STATE itself


def test_the_taps_state_writer_is_the_one_the_sdk_writes_through_and_dedupes_on_the_encoded_state() -> None:
    tap = Small(config={})
    assert isinstance(tap.state_writer, EncodedStateWriter) and tap._state_writer is tap.state_writer
    stream = tap.streams["numbers"]

    def write() -> None:
        stream.get_context_state(None)["mark"] = 1
        stream.write_state_now()  # through the SDK's Stream._write_state_message
        tap.state_writer._next_due = 0.0
        stream.write_state_now()  # unchanged: nothing
        stream.get_context_state(None)["mark"] = 2
        tap.state_writer._next_due = 0.0
        stream.write_state_now()
        stream.get_context_state(None)["mark"] = 3
        tap.state_writer._next_due = time.monotonic() + 60
        stream.write_state_now()  # not due: left for the next due one (or the end of the stream)

    out = messages(write)
    assert [m["value"]["bookmarks"]["numbers"]["mark"] for m in out if m["type"] == "STATE"] == [1, 2]
    assert not stream.state_manager.is_flushed  # mark 3 is still to be written


def test_states_at_safe_points_take_a_bounded_share_of_the_time() -> None:
    writer = EncodedStateWriter(XeroWriter())
    big = {"bookmarks": {f"s{n}": {"partitions": [{"context": {"tenant_id": f"t{t}"}, "replication_key_value": t}
                                                  for t in range(400)]} for n in range(40)}}
    out = CapturedStdout()
    with contextlib.redirect_stdout(out):
        started = time.monotonic()
        writer.write_state(big)
        took = time.monotonic() - started
    assert not writer.due()
    time.sleep(took / STATE_TIME_SHARE + 0.01)
    assert writer.due()


def test_encoded_states_are_the_bytes_the_sdks_writer_writes_and_other_writers_get_a_copy() -> None:
    state = {"bookmarks": {"s": {"partitions": [{"context": {"tenant_id": "t"}, "replication_key_value": 5}]}}}
    ours = XeroWriter()
    out = CapturedStdout()
    with contextlib.redirect_stdout(out):
        EncodedStateWriter(ours).write_state(state)
    assert out.getvalue().encode() == bytes(ours.serialize_message(StateMessage(value=state)))
    kept = []

    class Keeping:
        def write_message(self, message) -> None:
            kept.append(message)

    EncodedStateWriter(Keeping()).write_state(state)
    state["bookmarks"]["s"]["partitions"][0]["replication_key_value"] = 6
    assert kept[0].value["bookmarks"]["s"]["partitions"][0]["replication_key_value"] == 5


def test_the_final_members_are_still_final_and_still_run_through_the_tap() -> None:
    assert getattr(Tap.sync_all, "__final__", False) and getattr(Tap.run_connection_test, "__final__", False)
    assert CompatTap.sync_all is not Tap.sync_all and CompatTap.run_connection_test is not Tap.run_connection_test


def test_the_settings_check_runs_before_the_sdks_validation() -> None:
    with pytest.raises(ValueError, match="bad x"):
        Small(config={"x": "bad"})
    Small(config={"x": "good"})


def test_sigterm_reaches_the_taps_stop_request(monkeypatch) -> None:
    Small(config={})
    handler = signal.getsignal(signal.SIGTERM)
    assert callable(handler)
    handler(signal.SIGTERM, None)
    assert Small.ran == [f"signal {int(signal.SIGTERM)}"]  # asked to stop, not exited


def test_env_var_config_and_config_files(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TAP_SMALL_X", "from-env")
    assert Small(config={}).env_var_config == {"x": "from-env"}
    path = tmp_path / "c.json"
    path.write_text('{"x": "from-file"}')
    assert read_json_file(path) == {"x": "from-file"}
