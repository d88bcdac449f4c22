"""Sandbox life cycle in-process: start/stop, pooled connections after stop, how a sandbox bug is answered."""

from __future__ import annotations

import time

import pytest
import requests

from xero_sandbox import Sandbox, SandboxConfig
from xero_sandbox import Store


def test_stop_hangs_up_on_kept_alive_connections(xero_session):
    sb = Sandbox(SandboxConfig(scale=10, limits=False)).start()
    session = xero_session(sb)
    assert session.api("Currencies").status_code == 200  # the connection is now pooled
    sb.stop()
    with pytest.raises(requests.ConnectionError):
        session.api("Currencies", timeout=5)


def test_a_sandbox_bug_is_answered_500_and_listed(monkeypatch, xero_session):
    store = Store(seed=1, scale=10, tenants=1)

    def broken_list(*args, **kwargs):
        raise RuntimeError("generator bug")

    monkeypatch.setattr(store, "list", broken_list)
    with Sandbox(SandboxConfig(limits=False), store=store) as sb:
        answer = xero_session(sb).api("Invoices")
        assert answer.status_code == 500
        assert xero_session(sb).api("Currencies").status_code == 500
        errors = requests.get(f"{sb.base_url}/_sandbox/errors", timeout=10).json()
        assert errors and "RuntimeError: generator bug" in errors[0]


def test_handles_need_a_started_sandbox():
    sb = Sandbox(scale=10)
    with pytest.raises(RuntimeError, match="not started"):
        _ = sb.base_url
    with pytest.raises(TypeError):
        Sandbox(SandboxConfig(), scale=10)


def test_two_sandboxes_run_side_by_side_on_their_own_ports():
    with Sandbox(scale=10, limits=False) as first, Sandbox(scale=10, limits=False, seed=2) as second:
        assert first.base_url != second.base_url
        assert first.tenant_ids != second.tenant_ids
        token = first.issue_access_token()
        answer = requests.get(f"{second.api_url}/Currencies", timeout=10, headers={
            "Authorization": f"Bearer {token}", "xero-tenant-id": second.tenant_ids[0]})
        assert answer.status_code == 401  # each sandbox signs with its own key


def test_small_calls_on_a_kept_alive_connection_are_fast(sandbox, xero_session):
    """Headers and body are separate writes: without TCP_NODELAY each call would wait ~40 ms for an ACK."""
    session = xero_session(sandbox)
    session.api("Currencies")
    started = time.perf_counter()
    for _ in range(120):
        assert session.api("Currencies").status_code == 200
    assert time.perf_counter() - started < 2.5  # ~0.2 s normally, ~5 s with Nagle: room for a loaded machine
