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

from tap_xero import endpoints
from xero_sandbox import Sandbox, SandboxConfig
from xero_sandbox import Query
from tap_xero.tap import TapXero

# A large minute allowance: the tap paces itself by the X-MinLimit-Remaining the sandbox reports.
_SANDBOX = Sandbox(SandboxConfig(seed=11, scale=60, tenants=2, minute_limit=100_000, day_limit=1_000_000)).start()
_TOKENS = Path(tempfile.mkdtemp(prefix="tap-xero-sdk-")) / "tokens.json"
# Reports are read month by month from start_date, one call a month, and the tap keeps Xero's 60 calls
# a minute per tenant: a start two months back keeps the suite within a minute's allowance. So that
# every incremental stream has records after it, one record of each is changed now (as a user would).
_START = (dt.date.today().replace(day=1) - dt.timedelta(days=40)).replace(day=1)


def _change_one_record_of_each_incremental_collection() -> None:
    for index, tenant in enumerate(_SANDBOX.tenant_ids):
        for endpoint in endpoints.ENDPOINTS:
            if endpoint.retired and index not in _SANDBOX.config.classic_expenses_tenants:
                continue
            if endpoint.timestamp_field == "UpdatedDateUTC" and endpoint.if_modified_since or (
                endpoint is endpoints.LINKED_TRANSACTIONS
            ):
                first = _SANDBOX.store.list(tenant, endpoint.envelope_key, Query()).records[0]
                _SANDBOX.mutate(tenant, endpoint.envelope_key, "touch", str(first[endpoint.id_field]))
        _SANDBOX.mutate(tenant, "BankTransfers", "create", None, {})
        # Voiding a payment posts a reversing journal (with lines) after start_date.
        payments = _SANDBOX.store.list(tenant, "Payments", Query()).records
        payment = next(p for p in payments if p["Status"] == "AUTHORISED")
        _SANDBOX.mutate(tenant, "Payments", "void", str(payment["PaymentID"]))


_change_one_record_of_each_incremental_collection()

SDK_CONFIG = {
    "access_token": _SANDBOX.issue_access_token(expires_in=6 * 3600),
    "api_url": _SANDBOX.api_url,
    "identity_url": _SANDBOX.base_url,
    "token_store_path": str(_TOKENS),
    "start_date": f"{_START.isoformat()}T00:00:00Z",
}


def _catalog_selecting_everything() -> dict:
    """Every stream selected, the retired ones too, as a user's catalog would say.

    (Selecting a stream after the tap is built, as the SDK's dry run does, leaves the SDK's stream
    map with the schema of an unselected stream: an empty one for streams off by default.)
    """
    catalog = TapXero(config={}, validate_config=False).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = True
    return catalog


TestTapXeroStandard = get_tap_test_class(
    TapXero,
    config=SDK_CONFIG,
    catalog=_catalog_selecting_everything(),
    suite_config=SuiteConfig(
        max_records_limit=200,
    ),
)


@pytest.fixture(scope="module", autouse=True)
def _stop_sandbox_after_module():
    yield
    _SANDBOX.stop()
