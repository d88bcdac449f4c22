"""Settings: schema, PAN_SEC_* mapping and precedence, validation with actionable errors."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from tap_xero.errors import EXIT_CONFIG, ConfigError
from tap_xero.settings import (
    CONFIG_SCHEMA,
    DEFAULT_API_URL,
    DEFAULT_IDENTITY_URL,
    MODE_ACCESS_TOKEN,
    MODE_CLIENT_CREDENTIALS,
    MODE_REFRESH_TOKEN,
    PAN_SEC_SETTINGS,
    SECRET_SETTINGS,
    XeroSettings,
    connector_secrets,
    default_token_store_path,
    merge_sources,
)

ALL_SETTINGS = {
    "client_id", "client_secret", "refresh_token", "access_token", "expires_in", "access_token_expires_at",
    "scopes", "tenant_ids", "tenant_url", "webhook_key", "start_date", "api_url", "identity_url",
    "token_store_path", "page_size", "include_archived", "lookback_days", "request_timeout",
    "max_concurrent_requests", "fail_on_missing_scope", "webhook_queue_path", "token_refresh_margin_seconds",
    "token_store_url", "token_store_key", "app_limiter_url", "app_calls_per_minute",
}
TENANT = "7f3e1b2a-9c4d-4e5f-8a6b-1c2d3e4f5a6b"


def test_schema_has_every_setting_each_described_and_secrets_flagged():
    properties = CONFIG_SCHEMA["properties"]
    assert set(properties) >= ALL_SETTINGS
    for name in ALL_SETTINGS:
        assert len(properties[name].get("description", "")) > 20, name
    assert {"client_secret", "refresh_token", "access_token", "webhook_key", "token_store_url",
            "app_limiter_url"} == SECRET_SETTINGS
    for name in SECRET_SETTINGS:
        assert properties[name]["writeOnly"] is True


def test_defaults():
    settings = XeroSettings.from_config({})
    assert settings.api_url == DEFAULT_API_URL
    assert settings.identity_url == DEFAULT_IDENTITY_URL
    assert settings.token_url == "https://identity.xero.com/connect/token"
    assert settings.revocation_url == "https://identity.xero.com/connect/revocation"
    assert settings.connections_url == "https://api.xero.com/connections"
    assert settings.authorize_url == "https://login.xero.com/identity/connect/authorize"
    assert (settings.page_size, settings.include_archived, settings.lookback_days) == (1000, True, 0)
    assert (settings.request_timeout, settings.max_concurrent_requests) == (60.0, 5)
    assert (settings.fail_on_missing_scope, settings.token_refresh_margin_seconds) == (False, 300)
    assert settings.scopes is None and settings.tenant_ids == ()


def test_overridden_urls_move_every_endpoint():
    settings = XeroSettings.from_config(
        {"api_url": "http://127.0.0.1:9000/api.xro/2.0/", "identity_url": "http://127.0.0.1:9000"}
    )
    assert settings.api_url == "http://127.0.0.1:9000/api.xro/2.0"
    assert settings.connections_url == "http://127.0.0.1:9000/connections"
    assert settings.token_url == "http://127.0.0.1:9000/connect/token"
    assert settings.authorize_url == "http://127.0.0.1:9000/identity/connect/authorize"


def test_values_are_typed():
    settings = XeroSettings.from_config({
        "scopes": "offline_access  accounting.transactions.read", "tenant_ids": [TENANT.upper()],
        "start_date": "2024-01-01", "access_token_expires_at": "2026-11-24T09:30:00Z", "expires_in": 1800,
        "include_archived": False, "page_size": 250, "request_timeout": 30,
    })
    assert settings.scopes == {"offline_access", "accounting.transactions.read"}
    assert settings.tenant_ids == (TENANT,)
    assert settings.start_date == dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    assert settings.access_token_expires_at == dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.timezone.utc)
    assert (settings.expires_in, settings.include_archived, settings.page_size) == (1800, False, 250)
    assert settings.request_timeout == 30.0
    assert XeroSettings.from_config({"scopes": ["a.read", "b.read"]}).scopes == {"a.read", "b.read"}


@pytest.mark.parametrize(
    ("config", "setting", "hint"),
    [
        ({"page_size": 5000}, "page_size", "between 1 and 1000"),
        ({"page_size": 0}, "page_size", "between 1 and 1000"),
        ({"page_size": "many"}, "page_size", "whole number"),
        ({"max_concurrent_requests": 6}, "max_concurrent_requests", "between 1 and 5"),
        ({"start_date": "last tuesday"}, "start_date", "2024-01-01"),
        ({"access_token_expires_at": "soon"}, "access_token_expires_at", "expires_in"),
        ({"tenant_ids": ["acme"]}, "tenant_ids", "/connections"),
        ({"api_url": "api.xero.com"}, "api_url", DEFAULT_API_URL),
        ({"identity_url": "ftp://x"}, "identity_url", DEFAULT_IDENTITY_URL),
        ({"request_timeout": 0}, "request_timeout", "60"),
        ({"include_archived": "sometimes"}, "include_archived", "true or false"),
        ({"include_archived": "false"}, "include_archived", "JSON booleans"),
        ({"page_size": "250"}, "page_size", "not a string"),
        ({"request_timeout": "30"}, "request_timeout", "60"),
        ({"tenant_ids": TENANT}, "tenant_ids", "a list"),
        ({"lookback_days": -1}, "lookback_days", "between 0"),
        ({"scopes": 42}, "scopes", "offline_access"),
    ],
)
def test_bad_values_name_the_setting_and_the_fix(config, setting, hint):
    with pytest.raises(ConfigError) as caught:
        XeroSettings.from_config(config)
    assert caught.value.setting == setting
    assert f"Setting '{setting}'" in str(caught.value) and "Fix:" in str(caught.value)
    assert hint in str(caught.value)
    assert caught.value.exit_code == EXIT_CONFIG


def test_auth_mode_follows_what_is_configured():
    both = {"client_id": "id", "client_secret": "secret"}
    assert XeroSettings.from_config({**both, "refresh_token": "r"}).auth_mode() == MODE_REFRESH_TOKEN
    assert XeroSettings.from_config({**both, "access_token": "a"}).auth_mode() == MODE_ACCESS_TOKEN
    assert XeroSettings.from_config({"access_token": "a"}).auth_mode() == MODE_ACCESS_TOKEN
    assert XeroSettings.from_config(both).auth_mode() == MODE_CLIENT_CREDENTIALS
    # a refresh token in the token store counts as configured (written by `tap-xero auth`)
    assert XeroSettings.from_config(both).auth_mode(stored_refresh_token=True) == MODE_REFRESH_TOKEN


def test_refresh_token_without_client_id_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        XeroSettings.from_config({"refresh_token": "r"}).auth_mode()
    assert caught.value.setting == "client_id" and "Fix: set client_id" in str(caught.value)


def test_nothing_to_authenticate_with_is_a_config_error():
    with pytest.raises(ConfigError, match="nothing to authenticate with") as caught:
        XeroSettings.from_config({}).auth_mode()
    assert "tap-xero auth" in str(caught.value)
    with pytest.raises(ConfigError, match="no client_secret") as caught:
        XeroSettings.from_config({"client_id": "id"}).auth_mode()
    assert caught.value.setting == "client_secret"


def test_connector_secrets_map_onto_settings():
    environ = {
        "PAN_SEC_XERO_ACCESS_TOKEN": "tok", "PAN_SEC_XERO_SCOPE": "accounting.settings.read",
        "PAN_SEC_XERO_EXPIRES_IN": "1800", "PAN_SEC_XERO_CLIENT_ID": "cid", "PAN_SEC_XERO_CLIENT_SECRET": "cs",
        "PAN_SEC_XERO_TENANT_URL": f"https://go.xero.com/app/{TENANT}", "PAN_SEC_XERO_WEBHOOK_KEY": "",
        "UNRELATED": "x",
    }
    assert connector_secrets(environ) == {
        "access_token": "tok", "scopes": "accounting.settings.read", "expires_in": 1800, "client_id": "cid",
        "client_secret": "cs", "tenant_url": f"https://go.xero.com/app/{TENANT}",
    }
    assert set(PAN_SEC_SETTINGS.values()) <= set(CONFIG_SCHEMA["properties"])
    config, origins = merge_sources({}, environ)
    settings = XeroSettings.from_config(config, origins)
    assert (settings.access_token, settings.expires_in, settings.client_id) == ("tok", 1800, "cid")
    assert settings.scopes == {"accounting.settings.read"}
    assert origins["access_token"] == "PAN_SEC_XERO_ACCESS_TOKEN"


def test_a_malformed_connector_expiry_names_its_variable():
    config, origins = merge_sources({}, {"PAN_SEC_XERO_ACCESS_TOKEN": "t", "PAN_SEC_XERO_EXPIRES_IN": "soon"})
    with pytest.raises(ConfigError, match="PAN_SEC_XERO_EXPIRES_IN"):
        XeroSettings.from_config(config, origins)


def test_explicit_config_beats_connector_secrets_setting_by_setting():
    environ = {"PAN_SEC_XERO_CLIENT_ID": "from-env", "PAN_SEC_XERO_TENANT_URL": TENANT,
               "PAN_SEC_XERO_WEBHOOK_KEY": "wk"}
    config, origins = merge_sources({"client_id": "from-file", "webhook_key": ""}, environ)
    assert config["client_id"] == "from-file" and "client_id" not in origins
    assert config["tenant_url"] == TENANT and origins["tenant_url"] == "PAN_SEC_XERO_TENANT_URL"
    assert config["webhook_key"] == "wk"  # an empty value in a file does not erase a secret


def test_platform_token_group_is_not_mixed_with_an_explicit_token():
    environ = {"PAN_SEC_XERO_ACCESS_TOKEN": "platform", "PAN_SEC_XERO_EXPIRES_IN": "60",
               "PAN_SEC_XERO_SCOPE": "accounting.settings.read", "PAN_SEC_XERO_CLIENT_SECRET": "cs"}
    config, _ = merge_sources({"refresh_token": "r", "client_id": "id"}, environ)
    assert "access_token" not in config and "expires_in" not in config and "scopes" not in config
    assert config["client_secret"] == "cs"
    config, _ = merge_sources({"access_token": "mine"}, environ)
    assert config["access_token"] == "mine" and "expires_in" not in config


def test_errors_name_the_connector_variable_a_value_came_from():
    config, origins = merge_sources({}, {"PAN_SEC_XERO_CLIENT_ID": "cid"})
    with pytest.raises(ConfigError) as caught:
        XeroSettings.from_config(config, origins).auth_mode()
    assert "PAN_SEC_XERO_CLIENT_SECRET" in str(caught.value)


def test_default_token_store_path_is_per_user_and_per_app(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    first, second = default_token_store_path("app-one"), default_token_store_path("app-two")
    assert first.startswith(os.path.join(str(tmp_path), "tap-xero") + os.sep) and first.endswith(".json")
    assert first != second and "app-one" not in first
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_token_store_path("app-one").startswith(os.path.expanduser("~/.local/state/tap-xero/"))
    assert XeroSettings.from_config({"token_store_path": "~/t.json"}).token_store_path == os.path.expanduser("~/t.json")


def test_secrets_stay_out_of_repr():
    settings = XeroSettings.from_config({
        "client_id": "id", "client_secret": "SECRET-CS-1", "refresh_token": "SECRET-RT-1",
        "access_token": "SECRET-AT-1", "webhook_key": "SECRET-WK-1",
    })
    assert "SECRET" not in repr(settings)
