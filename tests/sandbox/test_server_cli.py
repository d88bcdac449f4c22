"""`tap-xero-sandbox serve` as a real subprocess: --ready-file, the banner, serving, SIGTERM/SIGINT."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from xero_sandbox.cli import build_parser, config_from_args


def _start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, dict]:
    ready = tmp_path / "ready.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "xero_sandbox.cli", "serve", "--port", "0", "--scale", "20",
         "--ready-file", str(ready), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"sandbox did not start: {process.communicate()}")
        time.sleep(0.05)
    return process, json.loads(ready.read_text())


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_writes_ready_file_serves_and_stops_on_signal(tmp_path, stop_signal):
    process, info = _start(tmp_path, "--fault", "maintenance:count=1", "--client-id", "my-client")
    try:
        assert info["base_url"].startswith("http://127.0.0.1:")
        assert info["api_url"] == info["base_url"] + "/api.xro/2.0" and info["client_id"] == "my-client"
        token = requests.post(f"{info['base_url']}/connect/token", timeout=10,
                              auth=(info["client_id"], info["client_secret"]),
                              data={"grant_type": "refresh_token", "refresh_token": info["refresh_token"]})
        assert token.status_code == 200
        headers = {"Authorization": f"Bearer {token.json()['access_token']}",
                   "xero-tenant-id": info["tenant_ids"][0]}
        assert requests.get(f"{info['api_url']}/Invoices", headers=headers, timeout=10).status_code == 503
        assert requests.get(f"{info['api_url']}/Invoices", headers=headers, timeout=10).status_code == 200
        assert requests.get(f"{info['base_url']}/_sandbox/counts", timeout=10).json()[info["tenant_ids"][0]][
            "Invoices"] == 20
    finally:
        process.send_signal(stop_signal)
        stdout, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    assert info["base_url"] in stdout and "client_secret" in stdout and info["refresh_token"] in stdout
    assert "stopped" in stdout


def test_flags_map_to_the_config():
    args = build_parser().parse_args([
        "serve", "--port", "9999", "--seed", "7", "--scale", "10000", "--tenants", "3", "--no-limits",
        "--minute-limit", "10", "--day-limit", "20", "--concurrent-limit", "2", "--app-minute-limit", "30",
        "--time-scale", "60", "--latency-ms", "5", "--per-record-ms", "0.5", "--fault", "reset:count=2",
        "--fault", "slow:delay=1", "--client-secret", "s", "--refresh-token", "r",
        "--webhook-url", "http://127.0.0.1:1/h", "--webhook-key", "k", "--classic-expenses", "0,2",
    ])
    config = config_from_args(args)
    assert (config.port, config.seed, config.scale, config.tenants, config.limits) == (9999, 7, 10000, 3, False)
    assert (config.minute_limit, config.day_limit, config.concurrent_limit, config.app_minute_limit) == (
        10, 20, 2, 30)
    assert (config.time_scale, config.latency_ms, config.per_record_ms) == (60, 5, 0.5)
    assert config.faults == ("reset:count=2", "slow:delay=1")
    assert (config.client_secret, config.refresh_token, config.webhook_url, config.webhook_key) == (
        "s", "r", "http://127.0.0.1:1/h", "k")
    assert config.classic_expenses_tenants == (0, 2)
    assert config_from_args(build_parser().parse_args(["serve"])).classic_expenses_tenants == (0,)


@pytest.mark.parametrize("bad", [["--fault", "explode"], ["--classic-expenses", "first"]])
def test_bad_flag_values_are_usage_errors(bad):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["serve", *bad])
    assert exit_info.value.code == 2


@pytest.mark.load
def test_serve_is_ready_in_under_10_seconds_at_scale_100000(tmp_path):
    started = time.monotonic()
    process, info = _start(tmp_path, "--scale", "100000", "--no-limits")
    ready_after = time.monotonic() - started
    try:
        answer = requests.get(f"{info['base_url']}/_sandbox/counts", timeout=30).json()
        assert answer[info["tenant_ids"][0]]["Invoices"] == 100000
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
    assert ready_after < 10, f"ready after {ready_after:.1f} s"
