"""TapXero and the real `tap-xero` console script: --about, offline discovery, PAN_SEC_* runs, errors."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tap_xero.errors import ConfigError, ScopeError
from tap_xero.settings import CONFIG_SCHEMA
from tap_xero.tap import TapXero

TAP_XERO = str(Path(sys.executable).parent / "tap-xero")
TENANT = "7f3e1b2a-9c4d-4e5f-8a6b-1c2d3e4f5a6b"


def clean_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    """The parent's environment without any tap or platform variable, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAN_", "TAP_XERO_"))}
    env.update(XDG_STATE_HOME=str(tmp_path / "state"), HOME=str(tmp_path), **variables)
    return env


def run_tap(tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
    return subprocess.run(
        [TAP_XERO, *args], capture_output=True, text=True, timeout=timeout, cwd=tmp_path,
        env=env if env is not None else clean_env(tmp_path),
    )


def write_json(path: Path, data: dict) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def test_about_json_lists_every_setting_with_its_description(tmp_path):
    result = run_tap(tmp_path, "--about", "--format", "json")
    assert result.returncode == 0, result.stderr
    about = json.loads(result.stdout)
    assert about["name"] == "tap-xero"
    settings = about["settings"]["properties"]
    for name, schema in CONFIG_SCHEMA["properties"].items():
        assert settings[name]["description"] == schema["description"]
    for secret in ("client_secret", "refresh_token", "access_token", "webhook_key"):
        assert settings[secret].get("secret") is True
    assert settings["page_size"]["default"] == 1000 and settings["include_archived"]["default"] is True
    markdown = run_tap(tmp_path, "--about", "--format", "markdown")
    assert markdown.returncode == 0 and "token_store_path" in markdown.stdout


def test_discover_works_offline_with_no_credentials(tmp_path):
    result = run_tap(tmp_path, "--discover")
    assert result.returncode == 0, result.stderr
    catalog = json.loads(result.stdout)
    assert catalog["streams"]  # every stream, without a single request
    for entry in catalog["streams"]:
        assert entry["key_properties"][0] == "tenant_id"


def test_discover_never_refreshes(tmp_path):
    config = write_json(tmp_path / "config.json", {
        "client_id": "cid", "client_secret": "cs", "refresh_token": "SECRET-REFRESH-DISCOVER",
        "identity_url": "http://127.0.0.1:9", "api_url": "http://127.0.0.1:9/api.xro/2.0",
        "token_store_path": str(tmp_path / "tokens.json"),
    })
    result = run_tap(tmp_path, "--config", config, "--discover")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "tokens.json").exists()
    assert "SECRET-REFRESH-DISCOVER" not in result.stdout + result.stderr


def test_platform_secrets_alone_drive_the_tap_and_an_expired_token_stops_it_cleanly(sandbox, tmp_path):
    expired = sandbox.issue_access_token(expires_in=-600)
    env = clean_env(
        tmp_path, PAN_SEC_XERO_ACCESS_TOKEN=expired, PAN_SEC_XERO_SCOPE="accounting.transactions.read",
        PAN_SEC_XERO_EXPIRES_IN="1800", PAN_SEC_XERO_CLIENT_ID="SECRET-CLIENT-ID-PAN",
        PAN_SEC_XERO_CLIENT_SECRET="SECRET-CLIENT-SECRET-PAN", PAN_SEC_XERO_TENANT_URL=TENANT,
        PAN_SEC_XERO_WEBHOOK_KEY="SECRET-WEBHOOK-KEY-PAN",
    )
    result = run_tap(tmp_path, env=env)  # no --config at all: the platform's way
    assert result.returncode == 3, result.stderr
    assert "PAN_SEC_XERO_ACCESS_TOKEN" in result.stderr and "expired at" in result.stderr
    assert "Traceback" not in result.stderr
    # Stopped before any record, and still ends on a STATE (the input state) for the platform's next run.
    assert [json.loads(line) for line in result.stdout.splitlines()] == [{"type": "STATE", "value": {}}]
    for secret in (expired, "SECRET-CLIENT-SECRET-PAN", "SECRET-WEBHOOK-KEY-PAN"):
        assert secret not in result.stderr


def test_config_file_beats_platform_secrets(sandbox, tmp_path):
    """PAN_SEC_* < config file < TAP_XERO_* (with --config ENV): the valid file token wins, the run works."""
    env = clean_env(tmp_path, PAN_SEC_XERO_ACCESS_TOKEN=sandbox.issue_access_token(expires_in=-600),
                    PAN_SEC_XERO_TENANT_URL=f"https://go.xero.com/app/{sandbox.tenant_ids[0]}")
    config = write_json(tmp_path / "config.json", {
        "access_token": sandbox.issue_access_token(), "api_url": "http://127.0.0.1:9/wrong",
        "identity_url": sandbox.base_url,
    })
    catalog = write_json(tmp_path / "catalog.json", {"streams": []})  # nothing selected: preflight only
    env["TAP_XERO_API_URL"] = sandbox.api_url  # overrides the file's wrong api_url
    result = run_tap(tmp_path, "--config", config, "--config", "ENV", "--catalog", catalog, env=env)
    assert result.returncode == 0, result.stderr
    assert sandbox.tenant_ids[0].lower() in result.stderr  # the PAN_SEC tenant URL was used


def test_bad_config_exits_2_with_one_line_naming_the_setting(tmp_path):
    config = write_json(tmp_path / "config.json", {"access_token": "x", "page_size": 5000})
    result = run_tap(tmp_path, "--config", config)
    assert result.returncode == 2
    assert "Setting 'page_size'" in result.stderr and "between 1 and 1000" in result.stderr
    assert "Traceback" not in result.stderr
    nothing = run_tap(tmp_path, "--config", write_json(tmp_path / "empty.json", {}), "--test")
    assert nothing.returncode == 2 and "nothing to authenticate with" in nothing.stderr


def test_tenants_and_client_are_lazy_and_shared(sandbox, tmp_path):
    tap = TapXero(config={"access_token": sandbox.issue_access_token(), "api_url": sandbox.api_url},
                  environ={}, validate_config=True)
    assert tap._tenants is None and tap._xero_client is None and tap._authenticator is None
    assert [t.tenant_id for t in tap.tenants] == [t.lower() for t in sandbox.tenant_ids]
    assert tap.xero_client is tap.xero_client and tap.xero_client.authenticator is tap.authenticator


def narrow_tap(sandbox, **config) -> TapXero:
    token = sandbox.issue_access_token(["accounting.contacts.read"])
    return TapXero(config={"api_url": sandbox.api_url, "identity_url": sandbox.base_url, **config},
                   environ={"PAN_SEC_XERO_ACCESS_TOKEN": token})


def test_preflight_leaves_out_streams_whose_scope_is_missing(sandbox, caplog):
    tap = narrow_tap(sandbox)
    selected_before = {name for name, stream in tap.streams.items() if stream.selected}
    assert {"contacts", "invoices"} <= selected_before
    with caplog.at_level(logging.WARNING):
        tap.preflight()
    assert tap.streams["contacts"].selected and not tap.streams["invoices"].selected
    warnings = [r.getMessage() for r in caplog.records if "Skipping stream 'invoices'" in r.getMessage()]
    assert len(warnings) == 1 and "accounting.transactions.read" in warnings[0]


def test_fail_on_missing_scope_stops_the_run(sandbox):
    with pytest.raises(ScopeError, match="invoices needs"):
        narrow_tap(sandbox, fail_on_missing_scope=True).preflight()


@pytest.mark.parametrize(
    "extra",
    [{"start_date": "2024-01-01"}, {"access_token_expires_at": "2030-01-01T00:00:00"}, {"scopes": ["a.read"]},
     {"scopes": "a.read b.read"}, {"tenant_ids": [TENANT]}, {"include_archived": False, "page_size": 10}],
)
def test_values_our_checks_accept_pass_the_sdk_schema_too(extra):
    TapXero(config={"access_token": "x", **extra}, environ={})


def test_validation_runs_before_any_request():
    with pytest.raises(ConfigError, match="client_id"):
        TapXero(config={"refresh_token": "r"}, environ={})
    TapXero(config={"refresh_token": "r"}, environ={}, validate_config=False)  # discovery: no checks


def catalog_selecting(tmp_path: Path, *names: str) -> str:
    """The tap's own discovered catalog with only ``names`` selected."""
    discovered = json.loads(run_tap(tmp_path, "--discover").stdout)
    for entry in discovered["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in names
    return write_json(tmp_path / "catalog.json", discovered)


def records_of(stdout: str, stream: str) -> list[dict]:
    messages = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [m["record"] for m in messages if m.get("type") == "RECORD" and m.get("stream") == stream]


def test_a_platform_token_syncs_records_carrying_the_tenant(sandbox, tmp_path):
    tenant = sandbox.tenant_ids[1]
    env = clean_env(
        tmp_path, PAN_SEC_XERO_ACCESS_TOKEN=sandbox.issue_access_token(), PAN_SEC_XERO_EXPIRES_IN="1800",
        PAN_SEC_XERO_TENANT_URL=f"https://go.xero.com/app/!x/{tenant}/dashboard",
        TAP_XERO_API_URL=sandbox.api_url, TAP_XERO_IDENTITY_URL=sandbox.base_url,
    )
    result = run_tap(tmp_path, "--config", "ENV", "--catalog", catalog_selecting(tmp_path, "accounts"), env=env)
    assert result.returncode == 0, result.stderr
    accounts = records_of(result.stdout, "accounts")
    assert accounts and {record["tenant_id"] for record in accounts} == {tenant.lower()}


def test_refresh_token_rotation_survives_between_runs_of_the_console_script(make_sandbox, tmp_path):
    """Meltano passes the same (stale) refresh token every run; the token store keeps the chain alive."""
    sb = make_sandbox(scale=5, tenants=1, limits=False)
    configured = sb.issue_refresh_token()
    config = write_json(tmp_path / "config.json", {
        "client_id": sb.client_id, "client_secret": sb.client_secret, "refresh_token": configured,
        "identity_url": sb.base_url, "api_url": sb.api_url, "token_store_path": str(tmp_path / "tokens.json"),
    })
    catalog = catalog_selecting(tmp_path, "accounts")
    first = run_tap(tmp_path, "--config", config, "--catalog", catalog)
    assert first.returncode == 0, first.stderr
    assert records_of(first.stdout, "accounts")
    sb.clock.advance(2 * 3600)  # the configured token is long past its 30-minute grace period
    second = run_tap(tmp_path, "--config", config, "--catalog", catalog)
    assert second.returncode == 0, second.stderr
    assert records_of(second.stdout, "accounts")
    for output in (first.stdout, first.stderr, second.stdout, second.stderr):
        assert configured not in output and sb.client_secret not in output


def test_connection_test_tries_only_the_streams_the_token_may_read(sandbox, tmp_path):
    env = clean_env(
        tmp_path, PAN_SEC_XERO_ACCESS_TOKEN=sandbox.issue_access_token(["accounting.contacts.read"]),
        PAN_SEC_XERO_TENANT_URL=sandbox.tenant_ids[0], TAP_XERO_API_URL=sandbox.api_url,
    )
    result = run_tap(tmp_path, "--config", "ENV", "--test", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    streams = {json.loads(line)["stream"] for line in result.stdout.splitlines()
               if line.startswith("{") and json.loads(line).get("type") == "RECORD"}
    assert "contacts" in streams and "invoices" not in streams
    assert "Skipping stream 'invoices'" in result.stderr


def test_connection_test_sends_whole_schemas_and_leaves_retired_streams_alone(sandbox, tmp_path):
    """--test tries the selected streams; none gets an empty SCHEMA (the SDK's maps would give one to a
    stream forced on after the catalog was read)."""
    env = clean_env(
        tmp_path, PAN_SEC_XERO_ACCESS_TOKEN=sandbox.issue_access_token(),
        PAN_SEC_XERO_TENANT_URL=sandbox.tenant_ids[1], TAP_XERO_API_URL=sandbox.api_url,
    )
    result = run_tap(tmp_path, "--config", "ENV", "--test", env=env, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    schemas = {m["stream"]: m["schema"] for m in messages if m["type"] == "SCHEMA"}
    assert {"invoices", "contacts", "accounts"} <= set(schemas)
    assert "expense_claims" not in schemas and "receipts" not in schemas
    for name, schema in schemas.items():
        assert schema.get("properties"), f"empty SCHEMA for {name}"
