"""`tap-xero auth` end to end against the sandbox's auto-approving authorize endpoint."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tap_xero.auth import XeroAuthenticator
from tap_xero.auth_cli import DEFAULT_SCOPES, consent_url, run_authorization
from tap_xero.errors import AuthError, ConfigError
from tap_xero.settings import XeroSettings
from tap_xero.token_store import StoredToken, TokenStore, token_fingerprint

SANDBOX_SCOPES = "offline_access accounting.transactions accounting.contacts accounting.settings"


def visit_in_background(url: str) -> None:
    """The user's browser: follow the consent page's redirect to the local callback."""
    threading.Thread(target=requests.get, args=(url,), kwargs={"timeout": 10}, daemon=True).start()


def helper_settings(sb, store_path, **extra) -> XeroSettings:
    return XeroSettings.from_config({
        "client_id": sb.client_id, "client_secret": sb.client_secret, "identity_url": sb.base_url,
        "api_url": sb.api_url, "token_store_path": str(store_path), **extra,
    })


def test_consent_url_points_at_xero_or_the_overriding_identity_server():
    xero = XeroSettings.from_config({"client_id": "cid"})
    url = consent_url(xero, "http://localhost:8765/callback", DEFAULT_SCOPES, "st", None)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://login.xero.com/identity/connect/authorize"
    query = parse_qs(parts.query)
    assert query["response_type"] == ["code"] and query["client_id"] == ["cid"] and query["state"] == ["st"]
    assert query["redirect_uri"] == ["http://localhost:8765/callback"] and "offline_access" in query["scope"][0]
    local = XeroSettings.from_config({"client_id": "cid", "identity_url": "http://127.0.0.1:5000"})
    pkce = consent_url(local, "http://localhost:1/callback", "offline_access", "st", "challenge")
    assert pkce.startswith("http://127.0.0.1:5000/identity/connect/authorize?")
    assert parse_qs(urlsplit(pkce).query)["code_challenge_method"] == ["S256"]


def test_authorization_code_flow_writes_the_store_the_tap_then_uses(sandbox, tmp_path):
    store_path = tmp_path / "store" / "tokens.json"
    TokenStore(str(store_path)).save(StoredToken(refresh_token="an-old-connection"))
    settings = helper_settings(sandbox, store_path)
    result = run_authorization(settings, scopes=SANDBOX_SCOPES, port=0, open_url=visit_in_background, timeout=15)

    assert [t.tenant_id for t in result.tenants] == [t.lower() for t in sandbox.tenant_ids]
    assert all(t.name for t in result.tenants)
    assert stat.S_IMODE(os.stat(store_path).st_mode) == 0o600
    stored = TokenStore(str(store_path)).load()
    assert stored.refresh_token and stored.refresh_token != "an-old-connection"
    assert token_fingerprint("an-old-connection") in stored.lineage  # the new connection wins over the old
    assert [t["tenant_id"] for t in stored.tenants] == [t.tenant_id for t in result.tenants]

    # The tap, configured with client id + secret only, picks the stored refresh token up.
    auth = XeroAuthenticator(helper_settings(sandbox, store_path))
    assert auth.mode == "refresh_token"
    auth._expires_at = 0  # force a refresh: the stored token really works at the identity server
    assert auth.bearer_token() and TokenStore(str(store_path)).load().refresh_token != stored.refresh_token


def test_a_pkce_app_connects_and_the_tap_refreshes_with_no_secret(sandbox, tmp_path):
    store_path = tmp_path / "tokens.json"
    public = XeroSettings.from_config({
        "client_id": sandbox.client_id, "identity_url": sandbox.base_url, "api_url": sandbox.api_url,
        "token_store_path": str(store_path),
    })
    consent_urls = []

    def browser(url: str) -> None:
        consent_urls.append(url)
        visit_in_background(url)

    result = run_authorization(public, scopes=SANDBOX_SCOPES, port=0, open_url=browser, timeout=15)
    assert len(result.tenants) == len(sandbox.tenant_ids)
    assert parse_qs(urlsplit(consent_urls[0]).query)["code_challenge_method"] == ["S256"]
    stored = TokenStore(str(store_path)).load()

    auth = XeroAuthenticator(public)  # client_id and the stored refresh token; no secret anywhere
    assert auth.mode == "refresh_token"
    auth._expires_at = 0  # force a refresh: the PKCE app's token rotates without a secret
    assert auth.bearer_token() and TokenStore(str(store_path)).load().refresh_token != stored.refresh_token


def test_without_offline_access_there_is_no_refresh_token(sandbox, tmp_path):
    with pytest.raises(ConfigError, match="offline_access"):
        run_authorization(helper_settings(sandbox, tmp_path / "t.json"), scopes="accounting.settings", port=0,
                          open_url=visit_in_background, timeout=5)


def test_a_wrong_state_is_refused(sandbox, tmp_path):
    def forge_state(url: str) -> None:
        query = parse_qs(urlsplit(url).query)
        callback = query["redirect_uri"][0]
        threading.Thread(target=requests.get, args=(f"{callback}?code=x&state=forged",), daemon=True).start()

    with pytest.raises(AuthError, match="wrong state"):
        run_authorization(helper_settings(sandbox, tmp_path / "t.json"), scopes=SANDBOX_SCOPES, port=0,
                          open_url=forge_state, timeout=10)
    assert not (tmp_path / "t.json").exists()


def test_the_console_script_connects_with_no_browser_and_prints_no_token(sandbox, tmp_path):
    store_path = tmp_path / "cli.json"
    env = {**os.environ, "TAP_XERO_CLIENT_SECRET": sandbox.client_secret}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "tap-xero"), "auth", "--client-id", sandbox.client_id, "--no-browser",
         "--port", "0", "--identity-url", sandbox.base_url, "--api-url", sandbox.api_url,
         "--token-store-path", str(store_path), "--scopes", SANDBOX_SCOPES, "--timeout", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert process.stdout.readline().startswith("Open this URL")
        url = process.stdout.readline().strip()
        assert url.startswith(sandbox.base_url + "/identity/connect/authorize?")
        assert requests.get(url, timeout=10).status_code == 200  # the redirect reached the helper
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    stored = TokenStore(str(store_path)).load()
    for tenant_id in sandbox.tenant_ids:
        assert tenant_id.lower() in out
    config = json.loads(out[out.index("{"):])
    assert config["token_store_path"] == str(store_path) and config["client_id"] == sandbox.client_id
    for secret in (stored.refresh_token, stored.access_token, sandbox.client_secret):
        assert secret not in out and secret not in err


def test_cli_module_dispatches_auth_and_the_tap():
    for args, expected in ((["auth", "--help"], "usage: tap-xero auth"), (["--help"], "Execute the Singer tap")):
        result = subprocess.run([sys.executable, "-m", "tap_xero.cli", *args], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0 and expected in result.stdout
