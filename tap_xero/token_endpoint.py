"""Xero's token endpoint (``/connect/token``): the one place that talks to it, and what its answers mean.

- ``post_token_form``: a form POSTed as the configured client (Basic auth, or ``client_id`` in the form for a
  PKCE app); network errors, 429 and 5xx retried; a refusal is ``TokenEndpointError`` (its OAuth error code).
- ``request_token``: the same for one auth mode, Xero's OAuth errors turned into messages naming the
  setting and the fix (``RefreshTokenRejected`` for a dead refresh token).
- ``access_token_of``: the access token, its expiry and scope from an answer.
- ``jwt_claims``: the (unverified) claims of a JWT, read for ``exp`` and ``scope`` only.

Used by ``auth.XeroAuthenticator`` and ``tap-xero auth`` (auth_cli.py).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import requests

from tap_xero import errors
from tap_xero.errors import AuthError, ConfigError, redact
from tap_xero.settings import MODE_CLIENT_CREDENTIALS, MODE_REFRESH_TOKEN, XeroSettings, describe_setting

DEFAULT_TOKEN_LIFETIME = 1800  # Xero access tokens live 30 minutes when the response does not say
TOKEN_REQUEST_ATTEMPTS = 3
# Advice, not a secret (the linter's S105 reads "token" in the name).
REFRESH_TOKEN_LIFETIME_NOTE = (
    "Xero refresh tokens expire after 60 days without use, die when the connection is revoked, and an "  # noqa: S105
    "old one stops working 30 minutes after it has been rotated"
)


def jwt_claims(token: str | None) -> dict[str, Any] | None:
    """The (unverified) payload of a JWT, or None if ``token`` is not one. Only read for exp/scope."""
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


class RefreshTokenRejected(AuthError):
    """invalid_grant for a refresh token: expired, revoked, or rotated out more than 30 minutes ago."""


class TokenEndpointError(Exception):
    """The token endpoint refused a request; ``error`` is the OAuth error code (e.g. invalid_grant)."""

    def __init__(self, error: str, status: int) -> None:
        super().__init__(f"{error} ({status})")
        self.error = error
        self.status = status


def post_token_form(
    settings: XeroSettings, form: dict[str, str], *, session: requests.Session | None = None
) -> dict[str, Any]:
    """POST ``form`` to the token endpoint as the configured client; the JSON answer.

    The one place that talks to /connect/token (the authenticator and ``tap-xero auth`` both use
    it). Client authentication is HTTP Basic; without a secret (a PKCE app) client_id goes in the
    form. Network errors, 429 and 5xx are retried; a refusal raises TokenEndpointError.
    """
    http = session or requests.Session()
    url = settings.token_url
    auth = None
    if settings.client_secret:
        auth = (settings.client_id or "", settings.client_secret)
    elif settings.client_id:
        form = {**form, "client_id": settings.client_id}
    problem = "no answer"
    for attempt in range(TOKEN_REQUEST_ATTEMPTS):
        if attempt:
            time.sleep(min(2.0**attempt / 2, 4.0))
        try:
            response = http.post(
                url, data=form, auth=auth, timeout=settings.request_timeout, headers={"Accept": "application/json"}
            )
        except requests.RequestException as exc:
            problem = type(exc).__name__
            continue
        if response.status_code == 429 or response.status_code >= 500:
            problem = f"HTTP {response.status_code}"
            continue
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = {}
        if response.ok:
            return payload
        raise TokenEndpointError(str(payload.get("error") or f"HTTP {response.status_code}"), response.status_code)
    raise AuthError(
        f"Could not reach Xero's token endpoint {url} after {TOKEN_REQUEST_ATTEMPTS} attempts ({problem}). "
        "Check identity_url and the network, then run again."
    )


def token_endpoint_failure(settings: XeroSettings, error: str, what: str) -> errors.TapXeroError:
    """The actionable error for an OAuth error code the caller has no special message for."""
    if error == "invalid_client":
        return ConfigError(
            describe_setting("client_secret", settings.origins),
            "Xero rejected client_id/client_secret (invalid_client)",
            "copy both again from your app at developer.xero.com (generate a new secret if needed)",
        )
    if error == "invalid_scope":
        return ConfigError(
            describe_setting("scopes", settings.origins), "Xero refused the requested scopes (invalid_scope)",
            "request only scopes the app is allowed (granular scopes for apps created after 2 March 2026)",
        )
    return AuthError(
        f"Xero's token endpoint refused {what} ({redact(error)}). "
        "Check client_id, client_secret and identity_url, or reconnect."
    )


def request_token(
    settings: XeroSettings, form: dict[str, str], mode: str, *, session: requests.Session | None = None
) -> dict[str, Any]:
    """One token-endpoint call in auth ``mode``, with Xero's OAuth errors turned into messages for that mode."""
    try:
        return post_token_form(settings, form, session=session)
    except TokenEndpointError as exc:
        error = exc.error
    if error == "invalid_grant" and mode == MODE_REFRESH_TOKEN:
        raise RefreshTokenRejected(
            f"Xero rejected the refresh token (invalid_grant): {REFRESH_TOKEN_LIFETIME_NOTE}. Reconnect: run "
            "`tap-xero auth --client-id ... --client-secret ...` (or reconnect Xero in your platform) and "
            "use the new refresh token."
        )
    if error in ("unauthorized_client", "unsupported_grant_type") and mode == MODE_CLIENT_CREDENTIALS:
        raise ConfigError(
            "client_id", f"Xero refused client credentials for this app ({error})",
            "client credentials only work for a Custom Connection app; for a standard app run "
            "`tap-xero auth` and configure the refresh token",
        )
    raise token_endpoint_failure(settings, error, f"a {mode} request")


def access_token_of(
    payload: dict[str, Any], settings: XeroSettings, clock: Callable[[], float]
) -> tuple[str, float, str | None]:
    """(access token, expiry in Unix seconds, granted scope) from a token-endpoint answer."""
    token = payload.get("access_token")
    if not isinstance(token, str) or not token:
        raise AuthError(f"Xero's token endpoint {settings.token_url} answered without an access token.")
    expires_in = payload.get("expires_in")
    claims = jwt_claims(token) or {}
    if isinstance(expires_in, (int, float)) or (isinstance(expires_in, str) and expires_in.isdigit()):
        expires_at = clock() + float(expires_in)
    elif isinstance(claims.get("exp"), (int, float)):
        expires_at = float(claims["exp"])
    else:
        expires_at = clock() + DEFAULT_TOKEN_LIFETIME
    scope = payload.get("scope") if isinstance(payload.get("scope"), str) else None
    return token, expires_at, scope
