from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from tap_xero.webhooks.payload import build_payload
from tap_xero.webhooks.queue import EventQueue

from .helpers import TEST_KEY, make_event, post, receiver_log, start_receiver_process


def test_serve_receives_reports_health_and_stops_cleanly(tmp_path):
    queue_path = tmp_path / "events.sqlite"
    process, base_url = start_receiver_process(queue_path, tmp_path / "ready")
    try:
        body = build_payload([make_event("INVOICE", "i-1")])
        assert post(base_url + "/webhooks/xero", body) == (200, b"")
        assert post(base_url + "/webhooks/xero", body, key="forged")[0] == 401
        with urllib.request.urlopen(base_url + "/healthz", timeout=5) as response:
            assert json.loads(response.read())["max_position"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    stderr = receiver_log(tmp_path / "ready")
    assert process.returncode == 0
    assert "Receiving Xero webhooks at http://127.0.0.1:" in stderr
    assert "/webhooks/xero -> 200" in stderr and "-> 401" in stderr
    assert TEST_KEY not in stderr
    with EventQueue(queue_path) as queue:
        assert queue.count() == 1


def test_key_from_the_platform_variable_and_from_the_flag(tmp_path):
    process, base_url = start_receiver_process(
        tmp_path / "q.sqlite", tmp_path / "ready",
        extra_env={"TAP_XERO_WEBHOOK_KEY": "", "PAN_SEC_XERO_WEBHOOK_KEY": TEST_KEY},
    )
    try:
        assert post(base_url + "/webhooks/xero", build_payload([]))[0] == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    # --webhook-key wins over the environment.
    process, base_url = start_receiver_process(
        tmp_path / "q.sqlite", tmp_path / "ready", extra_env={"TAP_XERO_WEBHOOK_KEY": "env-key"},
        extra_args=("--webhook-key", TEST_KEY),
    )
    try:
        assert post(base_url + "/webhooks/xero", build_payload([]))[0] == 200
        assert post(base_url + "/webhooks/xero", build_payload([]), key="env-key")[0] == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_missing_key_is_a_clear_config_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("TAP_XERO_WEBHOOK_KEY", "PAN_SEC_XERO_WEBHOOK_KEY")}
    result = subprocess.run(
        [sys.executable, "-m", "tap_xero.webhooks.cli", "serve", "--port", "0", "--queue", str(tmp_path / "q.sqlite")],
        env=env, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    for source in ("--webhook-key", "TAP_XERO_WEBHOOK_KEY", "PAN_SEC_XERO_WEBHOOK_KEY"):
        assert source in result.stderr


def test_serve_takes_the_limit_flags_and_reports_them(tmp_path):
    process, base_url = start_receiver_process(
        tmp_path / "q.sqlite", tmp_path / "ready",
        extra_args=("--max-connections", "50", "--header-timeout", "1.5", "--body-timeout", "1",
                    "--backlog", "64", "--shutdown-timeout", "2"),
    )
    try:
        assert post(base_url + "/webhooks/xero", build_payload([make_event()]))[0] == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    assert process.returncode == 0
    assert "at most 50 connections, header and body deadlines 1.5 s and 1 s" in receiver_log(tmp_path / "ready")


def test_a_limit_that_makes_no_sense_exits_2_naming_its_flag(tmp_path):
    env = {**os.environ, "TAP_XERO_WEBHOOK_KEY": TEST_KEY}
    for flag, value in (("--header-timeout", "5"), ("--body-timeout", "-1"), ("--max-connections", "0")):
        result = subprocess.run(
            [sys.executable, "-m", "tap_xero.webhooks.cli", "serve", "--port", "0", "--queue",
             str(tmp_path / "q.sqlite"), flag, value],
            env=env, capture_output=True, text=True, timeout=30,
        )
        assert result.returncode == 2, result.stderr
        assert f"Setting '{flag}'" in result.stderr and "Traceback" not in result.stderr


def test_serve_exits_1_when_the_http_server_fails(tmp_path, monkeypatch, caplog):
    from tap_xero.webhooks import cli, server

    class EndsByItself(server.EmbeddedGranian):
        async def serve(self, *args, **kwargs):
            serving = asyncio.ensure_future(super().serve(*args, **kwargs))
            await asyncio.sleep(0.5)  # listening by now; then it stops as if it had crashed
            self.stop()
            await serving

    monkeypatch.setattr(server, "EmbeddedGranian", EndsByItself)
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)  # leave pytest's own handlers alone
    monkeypatch.setenv("TAP_XERO_WEBHOOK_KEY", TEST_KEY)
    started = time.monotonic()
    assert cli.main(["serve", "--port", "0", "--queue", str(tmp_path / "q.sqlite")]) == 1
    assert time.monotonic() - started < 10
    assert "The HTTP server stopped: RuntimeError" in caplog.text
