"""XeroAuthenticator over real HTTP against the sandbox's identity server: all three modes."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import time

import pytest
from singer_sdk.authenticators import OAuthAuthenticator

from tap_xero.auth import XeroAuthenticator
from tap_xero.token_endpoint import jwt_claims
from tap_xero.errors import AuthError, ConfigError
from tap_xero.settings import XeroSettings, merge_sources
from tap_xero.token_store import StoredToken, TokenStore, token_fingerprint

GRACE = 1800  # Xero keeps a rotated refresh token valid this long


class Clock:
    """The authenticator's clock, moved by hand (the sandbox keeps its own)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def refresh_settings(sb, store_path, refresh_token=None, **extra) -> XeroSettings:
    config = {
        "client_id": sb.client_id, "client_secret": sb.client_secret, "identity_url": sb.base_url,
        "api_url": sb.api_url, "token_store_path": str(store_path), **extra,
    }
    if refresh_token:
        config["refresh_token"] = refresh_token
    return XeroSettings.from_config(config)


@pytest.fixture
def isolated(make_sandbox):
    """A sandbox of our own (tests here move its clock)."""
    return make_sandbox(scale=5, tenants=2, limits=False)


# -- refresh token mode --------------------------------------------------------------------------


def test_sdk_oauth_authenticator_loses_the_rotated_refresh_token(sandbox, tmp_path):
    """Why XeroAuthenticator replaces update_access_token: the SDK keeps no rotated token."""
    original = sandbox.issue_refresh_token()

    class SdkRefresh(OAuthAuthenticator):
        @property
        def oauth_request_body(self):
            return {"grant_type": "refresh_token", "refresh_token": original,
                    "client_id": sandbox.client_id, "client_secret": sandbox.client_secret}

    sdk = SdkRefresh(auth_endpoint=sandbox.base_url + "/connect/token")
    sdk.update_access_token()
    assert sdk.access_token and sdk.refresh_token is None  # the new refresh token is gone

    ours = XeroAuthenticator(refresh_settings(sandbox, tmp_path / "t.json", original))
    ours.update_access_token()  # the same SDK entry point
    stored = TokenStore(str(tmp_path / "t.json")).load()
    assert ours.refresh_token not in (None, original) and stored.refresh_token == ours.refresh_token


def test_rotated_token_is_persisted_atomically_and_used_by_the_next_run(isolated, tmp_path):
    store_path = tmp_path / "state" / "tokens.json"
    configured = isolated.issue_refresh_token()
    first_run = XeroAuthenticator(refresh_settings(isolated, store_path, configured))
    assert first_run.mode == "refresh_token"
    first_run.bearer_token()
    rotated = first_run.refresh_token
    assert rotated != configured
    assert stat.S_IMODE(os.stat(store_path).st_mode) == 0o600
    data = json.loads(store_path.read_text())
    assert data["refresh_token"] == rotated and configured not in store_path.read_text()
    assert data["lineage"] == [token_fingerprint(configured)]
    assert not [name for name in os.listdir(store_path.parent) if name.endswith(".tmp")]

    isolated.clock.advance(GRACE + 60)  # the configured token is now dead at Xero
    next_run = XeroAuthenticator(refresh_settings(isolated, store_path, configured))
    assert next_run.refresh_token == rotated  # newest wins over the (older) configured one
    next_run._expires_at = 0  # force a refresh now rather than reuse the stored access token
    token = next_run.bearer_token()
    assert jwt_claims(token)["exp"] > time.time()  # a fresh token (its exp is real time)
    assert TokenStore(str(store_path)).load().lineage == [token_fingerprint(configured), token_fingerprint(rotated)]


def test_store_without_configured_refresh_token_selects_refresh_mode(sandbox, tmp_path):
    store_path = tmp_path / "t.json"
    TokenStore(str(store_path)).save(StoredToken(refresh_token=sandbox.issue_refresh_token()))
    auth = XeroAuthenticator(refresh_settings(sandbox, store_path))  # client id + secret only
    assert auth.mode == "refresh_token" and auth.sends_tenant_header
    assert auth.bearer_token()


def test_a_configured_token_new_to_the_store_wins(sandbox, tmp_path):
    store_path = tmp_path / "t.json"
    TokenStore(str(store_path)).save(StoredToken(refresh_token="old-stored", lineage=[token_fingerprint("older")]))
    fresh = sandbox.issue_refresh_token()
    assert XeroAuthenticator(refresh_settings(sandbox, store_path, fresh)).refresh_token == fresh
    assert XeroAuthenticator(refresh_settings(sandbox, store_path, "older")).refresh_token == "old-stored"


def test_crash_after_refresh_before_persisting_recovers_through_the_grace_period(isolated, tmp_path, monkeypatch):
    store_path = tmp_path / "t.json"
    configured = isolated.issue_refresh_token()

    def crash(self, token):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(TokenStore, "save", crash)
    crashed = XeroAuthenticator(refresh_settings(isolated, store_path, configured))
    with pytest.raises(AuthError, match="could not be saved") as caught:
        crashed.bearer_token()
    assert crashed.access_token is None  # the new access token was never used
    assert "30 minutes" in str(caught.value)
    monkeypatch.undo()

    isolated.clock.advance(GRACE - 120)  # still inside the rotated-out token's grace period
    recovered = XeroAuthenticator(refresh_settings(isolated, store_path, configured))
    assert recovered.bearer_token()
    assert TokenStore(str(store_path)).load().refresh_token == recovered.refresh_token != configured

    isolated.clock.advance(GRACE + 60)  # the configured token is long dead; the stored one carries on
    later = XeroAuthenticator(refresh_settings(isolated, store_path, configured))
    later._expires_at = 0
    assert later.bearer_token()


def test_an_unusable_token_store_stops_before_the_refresh(sandbox, tmp_path):
    (tmp_path / "a-file").write_text("")
    configured = sandbox.issue_refresh_token()
    auth = XeroAuthenticator(refresh_settings(sandbox, tmp_path / "a-file" / "tokens.json", configured))
    token_calls = sandbox.requests()["token"]
    with pytest.raises(ConfigError) as caught:
        auth.ensure_usable()
    assert caught.value.setting == "token_store_path" and "writable" in str(caught.value)
    assert sandbox.requests()["token"] == token_calls  # the refresh token was not spent


def test_a_stale_store_from_another_identity_server_falls_back_to_the_configured_token(sandbox, tmp_path):
    store_path = tmp_path / "t.json"
    configured = sandbox.issue_refresh_token()
    # a store written against some other server: its token descends from the configured one
    TokenStore(str(store_path)).save(StoredToken(refresh_token="unknown-here", lineage=[token_fingerprint(configured)]))
    auth = XeroAuthenticator(refresh_settings(sandbox, store_path, configured))
    assert auth.refresh_token == "unknown-here"
    assert auth.bearer_token()
    stored = TokenStore(str(store_path)).load()
    assert stored.refresh_token == auth.refresh_token not in ("unknown-here", configured)
    assert stored.lineage == [token_fingerprint(configured)]


def test_invalid_grant_says_to_reconnect_and_mentions_60_days(isolated, tmp_path):
    configured = isolated.issue_refresh_token()
    XeroAuthenticator(refresh_settings(isolated, tmp_path / "a.json", configured)).bearer_token()
    isolated.clock.advance(GRACE + 1)  # the rotated-out token is past its grace period
    stale = XeroAuthenticator(refresh_settings(isolated, tmp_path / "b.json", configured))
    with pytest.raises(AuthError) as caught:
        stale.ensure_usable()
    message = str(caught.value)
    assert "invalid_grant" in message and "Reconnect" in message and "60 days" in message
    assert "tap-xero auth" in message and configured not in message
    assert caught.value.exit_code == 3


def test_refreshes_ahead_of_expiry_by_the_margin(sandbox, tmp_path):
    clock = Clock()
    auth = XeroAuthenticator(
        refresh_settings(sandbox, tmp_path / "t.json", sandbox.issue_refresh_token(), token_refresh_margin_seconds=300),
        clock=clock,
    )
    first = auth.bearer_token()
    clock.now = auth.expires_at - 301
    assert auth.bearer_token() == first  # still more than the margin left
    clock.now = auth.expires_at - 299
    second = auth.bearer_token()
    assert second != first
    assert TokenStore(str(tmp_path / "t.json")).load().access_token == second


def test_on_unauthorized_renews_once(sandbox, tmp_path):
    auth = XeroAuthenticator(refresh_settings(sandbox, tmp_path / "t.json", sandbox.issue_refresh_token()))
    first = auth.bearer_token()
    assert auth.on_unauthorized(first) is True
    second = auth.bearer_token()
    assert second != first
    assert auth.on_unauthorized(first) is True and auth.bearer_token() == second  # already renewed
    # A renewed token refused later (expired or revoked again) is renewed again; each request renews at
    # most once (tests/tap/test_http.py: a second 401 on the same request is final).
    assert auth.on_unauthorized(second) is True and auth.bearer_token() not in (first, second)


def test_concurrent_callers_share_one_refresh(sandbox, tmp_path):
    auth = XeroAuthenticator(refresh_settings(sandbox, tmp_path / "t.json", sandbox.issue_refresh_token()))
    tokens: list[str] = []
    start = threading.Barrier(8)

    def call():
        start.wait()
        tokens.append(auth.bearer_token())

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens) == 8 and len(set(tokens)) == 1
    assert len(TokenStore(str(tmp_path / "t.json")).load().lineage) == 1  # exactly one rotation


def test_two_runs_sharing_a_store_do_not_both_spend_the_refresh_token(sandbox, tmp_path):
    configured = sandbox.issue_refresh_token()
    first = XeroAuthenticator(refresh_settings(sandbox, tmp_path / "t.json", configured))
    second = XeroAuthenticator(refresh_settings(sandbox, tmp_path / "t.json", configured))  # started meanwhile
    token_calls = sandbox.requests()["token"]
    token = first.bearer_token()
    assert second.bearer_token() == token  # adopted from the store under its lock
    assert second.refresh_token == first.refresh_token != configured
    assert sandbox.requests()["token"] == token_calls + 1


def test_granted_scopes_from_the_token_claim_or_the_setting(sandbox, tmp_path):
    narrow = sandbox.issue_refresh_token(["offline_access", "accounting.contacts.read"])
    auth = XeroAuthenticator(refresh_settings(sandbox, tmp_path / "t.json", narrow))
    assert auth.granted_scopes() == {"offline_access", "accounting.contacts.read"}
    configured = XeroAuthenticator(
        refresh_settings(sandbox, tmp_path / "u.json", sandbox.issue_refresh_token(), scopes="accounting.settings.read")
    )
    assert configured.granted_scopes() == {"accounting.settings.read"}


# -- platform access token mode ------------------------------------------------------------------


def platform_settings(sb, token, **extra) -> XeroSettings:
    config, origins = merge_sources(
        {"api_url": sb.api_url, "identity_url": sb.base_url, **extra}, {"PAN_SEC_XERO_ACCESS_TOKEN": token}
    )
    return XeroSettings.from_config(config, origins)


def test_platform_token_expiry_comes_from_the_jwt(sandbox):
    token = sandbox.issue_access_token(expires_in=1800)
    auth = XeroAuthenticator(platform_settings(sandbox, token, expires_in=5))  # the JWT claim wins
    assert auth.mode == "access_token" and auth.sends_tenant_header and not auth.renewable
    assert auth.expires_at == jwt_claims(token)["exp"]
    auth.ensure_usable()
    assert auth.bearer_token() == token
    assert auth.on_unauthorized(token) is False


def test_expired_platform_token_stops_before_any_request_naming_it(sandbox):
    token = sandbox.issue_access_token(expires_in=-120)
    auth = XeroAuthenticator(platform_settings(sandbox, token))
    with pytest.raises(AuthError) as caught:
        auth.ensure_usable()
    message = str(caught.value)
    assert "access_token (from PAN_SEC_XERO_ACCESS_TOKEN) expired at " in message
    assert "Z (" in message and "s ago" in message and token not in message
    assert caught.value.exit_code == 3


def test_platform_token_expiring_within_the_margin_is_refused(sandbox):
    auth = XeroAuthenticator(platform_settings(sandbox, sandbox.issue_access_token(expires_in=120)))
    with pytest.raises(AuthError, match="before the run can finish"):
        auth.ensure_usable()


def test_opaque_platform_token_uses_expires_in_then_fails_cleanly_when_it_runs_out(sandbox):
    clock = Clock()
    auth = XeroAuthenticator(platform_settings(sandbox, "opaque-platform-token", expires_in=1800), clock=clock)
    assert auth.expires_at == pytest.approx(clock.now + 1800)
    auth.ensure_usable()
    assert auth.bearer_token() == "opaque-platform-token"
    clock.now += 1801
    with pytest.raises(AuthError, match="expired at"):
        auth.bearer_token()


def test_absolute_expiry_setting(sandbox):
    auth = XeroAuthenticator(platform_settings(sandbox, "opaque", access_token_expires_at="2020-01-01T00:00:00Z"))
    with pytest.raises(AuthError, match="expired at 2020-01-01T00:00:00Z"):
        auth.ensure_usable()


def test_platform_token_works_against_the_api(sandbox):
    import requests

    auth = XeroAuthenticator(platform_settings(sandbox, sandbox.issue_access_token()))
    response = requests.get(
        sandbox.base_url + "/connections", auth=auth, timeout=10  # the SDK's requests-auth interface
    )
    assert response.status_code == 200 and len(response.json()) == len(sandbox.tenant_ids)


# -- client credentials (Custom Connection) ------------------------------------------------------


def test_client_credentials_fetch_and_renew_without_tenant_header(sandbox, tmp_path):
    clock = Clock()
    settings = refresh_settings(sandbox, tmp_path / "cc.json")
    auth = XeroAuthenticator(settings, clock=clock)
    assert auth.mode == "client_credentials" and auth.sends_tenant_header is False
    first = auth.bearer_token()
    assert "accounting.transactions" in auth.granted_scopes()
    clock.now = auth.expires_at - 10
    assert auth.bearer_token() != first
    assert not (tmp_path / "cc.json").exists()  # nothing to persist: no refresh token


def test_client_credentials_with_a_wrong_secret_is_a_config_error(sandbox, tmp_path):
    settings = XeroSettings.from_config({
        "client_id": sandbox.client_id, "client_secret": "wrong-secret-value", "identity_url": sandbox.base_url,
        "token_store_path": str(tmp_path / "t.json"),
    })
    with pytest.raises(ConfigError, match="invalid_client") as caught:
        XeroAuthenticator(settings).bearer_token()
    assert "wrong-secret-value" not in str(caught.value)


def test_unreachable_identity_server_is_an_auth_error(tmp_path, monkeypatch):
    monkeypatch.setattr("tap_xero.auth.time.sleep", lambda seconds: None)
    settings = XeroSettings.from_config({
        "client_id": "id", "client_secret": "s", "identity_url": "http://127.0.0.1:9",
        "token_store_path": str(tmp_path / "t.json"), "request_timeout": 2,
    })
    with pytest.raises(AuthError, match="Could not reach"):
        XeroAuthenticator(settings).bearer_token()


# -- secrets never leak --------------------------------------------------------------------------


def test_no_secret_in_any_log_line_or_error_message(isolated, tmp_path, caplog, capfd):
    configured = isolated.issue_refresh_token()
    secrets = {isolated.client_secret, configured}
    messages: list[str] = []
    with caplog.at_level(logging.DEBUG):
        auth = XeroAuthenticator(refresh_settings(isolated, tmp_path / "t.json", configured))
        secrets.add(auth.bearer_token())
        auth.on_unauthorized(auth.access_token)
        secrets.update({auth.access_token, auth.refresh_token})
        isolated.clock.advance(GRACE + 1)
        for attempt in (
            lambda: XeroAuthenticator(refresh_settings(isolated, tmp_path / "x.json", configured)).bearer_token(),
            lambda: XeroAuthenticator(platform_settings(isolated, isolated.issue_access_token(expires_in=-2 * GRACE)))
            .ensure_usable(),
        ):
            with pytest.raises(AuthError) as caught:
                attempt()
            messages.append(str(caught.value))
    captured = capfd.readouterr()
    text = "\n".join([*(record.getMessage() for record in caplog.records), *messages, captured.out, captured.err])
    assert caplog.records  # something was logged, and it was checked
    for secret in secrets:
        assert secret and secret not in text
