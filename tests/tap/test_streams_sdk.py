"""The Singer SDK's standard tap test suite (get_tap_test_class) against the sandbox over HTTP.

The SDK builds its test class at import time from a config, so the sandbox is started here,
at import, on an ephemeral port of 127.0.0.1, and stopped when the module's tests are done.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_xero.sandbox import Sandbox, SandboxConfig
from tap_xero.tap import TapXero

# The retired endpoints answer 410 for the second tenant: still a pass (the stream ends with a warning).
# A large minute allowance: the tap paces itself by the X-MinLimit-Remaining the sandbox reports.
_SANDBOX = Sandbox(SandboxConfig(seed=11, scale=60, tenants=2, minute_limit=100_000, day_limit=1_000_000)).start()
_TOKENS = Path(tempfile.mkdtemp(prefix="tap-xero-sdk-")) / "tokens.json"
# Before the sandbox's first generated record; the SDK's record limit keeps the report streams short.
_START = dt.date(2023, 12, 1)

SDK_CONFIG = {
    "access_token": _SANDBOX.issue_access_token(expires_in=6 * 3600),
    "api_url": _SANDBOX.api_url,
    "identity_url": _SANDBOX.base_url,
    "token_store_path": str(_TOKENS),
    "start_date": f"{_START.isoformat()}T00:00:00Z",
}

TestTapXeroStandard = get_tap_test_class(
    TapXero,
    config=SDK_CONFIG,
    suite_config=SuiteConfig(
        max_records_limit=200,
    ),
)


@pytest.fixture(scope="module", autouse=True)
def _stop_sandbox_after_module():
    yield
    _SANDBOX.stop()
