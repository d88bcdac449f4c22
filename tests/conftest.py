"""Shared fixtures: a running Xero sandbox over real HTTP on an ephemeral port of 127.0.0.1."""

from __future__ import annotations

import pytest
import requests

from xero_sandbox import Sandbox, SandboxConfig

SMALL_SCALE = 150  # invoices per tenant: enough for two pages of 100, fast to generate


@pytest.fixture(scope="module")
def sandbox():
    """One sandbox per test module: small data, two tenants, no rate limits. Do not mutate shared state
    you did not create; use ``make_sandbox`` for tests that change limits, faults or the clock."""
    with Sandbox(SandboxConfig(seed=1, scale=SMALL_SCALE, tenants=2, limits=False)) as running:
        yield running


@pytest.fixture
def make_sandbox():
    """Factory: ``make_sandbox(scale=50, minute_limit=3, ...)`` starts a sandbox (SandboxConfig fields as
    keywords; defaults: seed 1, small scale, two tenants, limits on) and stops it after the test."""
    started: list[Sandbox] = []

    def make(**config) -> Sandbox:
        config.setdefault("scale", SMALL_SCALE)
        running = Sandbox(SandboxConfig(**config)).start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


class XeroSession(requests.Session):
    """A requests session for one sandbox tenant: bearer token and xero-tenant-id already set."""

    def __init__(self, sandbox: Sandbox, scopes: list[str] | None = None, tenant_index: int | None = 0) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.headers["Authorization"] = f"Bearer {sandbox.issue_access_token(scopes)}"
        if tenant_index is not None:
            self.headers["xero-tenant-id"] = sandbox.tenant_ids[tenant_index]

    def api(self, path: str, **kwargs) -> requests.Response:
        """GET an Accounting path, e.g. ``api("Invoices", params={"page": 2})``."""
        kwargs.setdefault("timeout", 30)
        return self.get(f"{self.sandbox.api_url}/{path}", **kwargs)


@pytest.fixture
def xero_session():
    """Factory: ``xero_session(sb, scopes=None, tenant_index=0)`` → XeroSession (closed after the test)."""
    sessions: list[XeroSession] = []

    def make(sandbox: Sandbox, scopes: list[str] | None = None, tenant_index: int | None = 0) -> XeroSession:
        session = XeroSession(sandbox, scopes, tenant_index)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()
