"""XeroAuthenticator: the one source of bearer tokens, whatever way the user connects.

The mode follows from what is configured (see ``XeroSettings.auth_mode``):

- ``access_token``: a platform-provided token used as given. Its expiry comes from the JWT ``exp``
  claim, else ``access_token_expires_at``, else ``expires_in`` counted from the start of the run. It
  cannot be renewed, so ``ensure_usable`` refuses one that has expired or has less than the margin
  left, before any record is emitted.
- ``refresh_token``: Xero rotates the refresh token on every refresh. Each new one is saved to the
  token store (atomically) BEFORE the new access token is used; at start the newest of the stored
  and configured tokens is chosen. singer-sdk's ``OAuthAuthenticator.update_access_token`` drops the
  rotated token from the response, so this class replaces it.
- ``client_credentials``: a Xero Custom Connection; a new token is fetched when one runs out. Xero
  does not need the tenant header there.

Nothing here talks to Xero until the first ``bearer_token()`` call, so ``--discover`` and
``--about`` never refresh. All state changes happen under one lock (thread-safe).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests
from singer_sdk.authenticators import OAuthAuthenticator

from tap_xero import errors
from tap_xero.errors import AuthError, ConfigError, redact
from tap_xero.scopes import parse_scopes
from tap_xero.settings import (
    MODE_ACCESS_TOKEN,
    MODE_CLIENT_CREDENTIALS,
    MODE_REFRESH_TOKEN,
    XeroSettings,
    describe_setting,
)
from tap_xero.token_store import StoredToken, TokenStore

LOGGER = logging.getLogger("tap-xero.auth")

DEFAULT_TOKEN_LIFETIME = 1800  # Xero access tokens live 30 minutes when the response does not say
TOKEN_REQUEST_ATTEMPTS = 3
REFRESH_TOKEN_LIFETIME_NOTE = (
    "Xero refresh tokens expire after 60 days without use, die when the connection is revoked, and an "
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


def _utc_text(unix_seconds: float) -> str:
    return dt.datetime.fromtimestamp(unix_seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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


class XeroAuthenticator(OAuthAuthenticator):
    """Bearer tokens for XeroClient: ``bearer_token()``, ``on_unauthorized()``, ``granted_scopes()``."""

    def __init__(
        self,
        settings: XeroSettings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(
            auth_endpoint=settings.token_url,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
        )
        self.settings = settings
        self.logger = logger or LOGGER
        self._session = session or requests.Session()
        self._clock = clock
        self._lock = threading.RLock()
        self._store = TokenStore(settings.token_store_path)
        self._started_at = clock()

        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self._expires_at: float | None = None  # Unix seconds
        self._obtained_at: float | None = None
        self._response_scope: str | None = None
        self._stored: StoredToken | None = None  # the store record our refresh token belongs to

        stored = self._store.load() if settings.client_id else None
        self.mode = settings.auth_mode(stored_refresh_token=stored is not None)
        if self.mode == MODE_ACCESS_TOKEN:
            self._adopt_configured_access_token()
        elif self.mode == MODE_REFRESH_TOKEN:
            self._choose_refresh_token(stored)

    @staticmethod
    def store_has_token(settings: XeroSettings) -> bool:
        """True when the token store holds a refresh token for this app (it then counts as configured)."""
        return bool(settings.client_id) and TokenStore(settings.token_store_path).load() is not None

    # Public contract ---------------------------------------------------------------------------

    @property
    def sends_tenant_header(self) -> bool:
        """Custom Connections reach one organisation and need no xero-tenant-id header."""
        return self.mode != MODE_CLIENT_CREDENTIALS

    @property
    def renewable(self) -> bool:
        return self.mode != MODE_ACCESS_TOKEN

    @property
    def unrenewable_expiry(self) -> float | None:
        """When the access token expires if it cannot be renewed (platform mode): the run's deadline. Else None."""
        return self._expires_at if self.mode == MODE_ACCESS_TOKEN else None

    @property
    def expires_at(self) -> float | None:
        """When the current access token expires (Unix seconds), if known."""
        return self._expires_at

    def bearer_token(self) -> str:
        """An access token valid for at least the margin; renews first when needed (under the lock)."""
        with self._lock:
            if self.mode == MODE_ACCESS_TOKEN:
                if self._expires_at is not None and self._clock() >= self._expires_at:
                    raise AuthError(self._expired_message())
                assert self.access_token is not None
                return self.access_token
            if not self._is_fresh():
                self._renew()
            assert self.access_token is not None
            return self.access_token

    def on_unauthorized(self, rejected_token: str) -> bool:
        """Xero answered 401 to ``rejected_token``: renew it (unless another thread did); True if retrying can succeed."""
        with self._lock:
            if not self.renewable:
                return False
            if self.access_token and rejected_token != self.access_token:
                return True  # another thread renewed it meanwhile
            # Each request renews at most once (http.py: a second 401 on its retry is final), so a dead
            # connection stops the run after a few renewals, while a long run survives any number of expiries.
            self.logger.info("Xero refused the access token (401); renewing it.")
            self._renew(rejected=rejected_token)
            return True

    def granted_scopes(self) -> frozenset[str] | None:
        """Scopes from the scopes setting, else the token's ``scope`` claim; None when unknown."""
        if self.settings.scopes is not None:
            return self.settings.scopes
        token = self.bearer_token()
        claims = jwt_claims(token) or {}
        return parse_scopes(claims.get("scope")) or parse_scopes(self._response_scope)

    def ensure_usable(self) -> None:
        """Fail now, before any record, if the run cannot authenticate.

        A platform token that expired, or has less than the margin left, stops the run with the
        token named and its expiry time. Renewable modes fetch their first token here, so a dead
        refresh token (invalid_grant) is reported at once.
        """
        if self.mode != MODE_ACCESS_TOKEN:
            self.bearer_token()
            return
        if self._expires_at is None:
            self.logger.warning(
                "The expiry of %s is unknown (not a JWT, and no expires_in or access_token_expires_at): "
                "if it expires mid-run the run stops with an authentication error.",
                describe_setting("access_token", self.settings.origins),
            )
            return
        now = self._clock()
        if now >= self._expires_at:
            raise AuthError(self._expired_message())
        left = self._expires_at - now
        if left < self.settings.token_refresh_margin_seconds:
            raise AuthError(
                f"The token in {describe_setting('access_token', self.settings.origins)} expires at "
                f"{_utc_text(self._expires_at)}, in {int(left)} s, before the run can finish, and it cannot be "
                "renewed without a refresh token. Start the run with a fresh token, or configure refresh_token "
                "with client_id and client_secret (or lower token_refresh_margin_seconds)."
            )

    # singer-sdk OAuthAuthenticator interface (so this also works as a requests auth) -----------

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.bearer_token()}"
        return request

    def is_token_valid(self) -> bool:
        with self._lock:
            if self.mode == MODE_ACCESS_TOKEN:
                return self._expires_at is None or self._clock() < self._expires_at
            return self._is_fresh()

    def update_access_token(self) -> None:
        """Replaces the SDK's version, which discards the rotated refresh token."""
        with self._lock:
            if self.mode == MODE_ACCESS_TOKEN:
                raise AuthError(self._expired_message())
            self._renew()

    # Start-up ----------------------------------------------------------------------------------

    def _adopt_configured_access_token(self) -> None:
        settings = self.settings
        self.access_token = settings.access_token
        claims = jwt_claims(settings.access_token)
        if claims and isinstance(claims.get("exp"), (int, float)):
            self._expires_at = float(claims["exp"])
        elif settings.access_token_expires_at is not None:
            self._expires_at = settings.access_token_expires_at.timestamp()
        elif settings.expires_in is not None:
            self._expires_at = self._started_at + settings.expires_in

    def _choose_refresh_token(self, stored: StoredToken | None) -> None:
        """Newest wins: the stored token unless the configured one is new to the store."""
        configured = self.settings.refresh_token
        if stored is not None and (configured is None or stored.descends_from(configured)):
            self.refresh_token = stored.refresh_token
            self._stored = stored
            if stored.access_token and stored.access_token_expires_at:
                self._set_access_token(stored.access_token, stored.access_token_expires_at, stored.scope)
            if configured and configured != stored.refresh_token:
                self.logger.info("Using the newer refresh token from the token store %s.", self._store.path)
            return
        self.refresh_token = configured
        if stored is not None:
            self.logger.info(
                "The configured refresh_token is new to the token store %s: using it (a new connection).",
                self._store.path,
            )
        if self.settings.access_token:  # a still-valid access token issued with it saves one rotation
            claims = jwt_claims(self.settings.access_token) or {}
            if isinstance(claims.get("exp"), (int, float)):
                self._set_access_token(self.settings.access_token, float(claims["exp"]), None)

    # Renewal -----------------------------------------------------------------------------------

    def _is_fresh(self) -> bool:
        if self.access_token is None:
            return False
        if self._expires_at is None:
            return True
        lifetime = self._expires_at - (self._obtained_at or self._expires_at)
        # A margin longer than half a short-lived token would renew on every call.
        margin = min(self.settings.token_refresh_margin_seconds, max(lifetime, 0) / 2)
        return self._expires_at - self._clock() > margin

    def _set_access_token(self, token: str, expires_at: float, scope: str | None) -> None:
        self.access_token = token
        self._expires_at = expires_at
        self._obtained_at = self._clock()
        self._response_scope = scope
        self.auth_headers["Authorization"] = f"Bearer {token}"

    def _renew(self, rejected: str | None = None) -> None:
        """Get a new access token; ``rejected``: the one Xero refused (renew even if it looks fresh)."""
        if self.mode == MODE_CLIENT_CREDENTIALS:
            form = {"grant_type": "client_credentials"}
            if self.settings.scopes:
                form["scope"] = " ".join(sorted(self.settings.scopes))
            payload = self._request_token(form)
            self._set_access_token(*self._access_token_of(payload))
            self.logger.info("Obtained an access token (client credentials).")
            return
        with self._locked_store():
            self._adopt_newer_stored_token()
            if self._is_fresh() and self.access_token != rejected:
                return  # another process refreshed while we waited for the lock
            payload = self._refresh_grant()
            assert self.refresh_token is not None  # refresh-token mode
            rotated = str(payload.get("refresh_token") or self.refresh_token)
            access_token, expires_at, scope = self._access_token_of(payload)
            base = self._stored if self._stored is not None else StoredToken(refresh_token=self.refresh_token)
            record = base.rotated_to(rotated, access_token, expires_at, scope)
            try:
                self._store.save(record)  # persist BEFORE the new access token is used
            except OSError as exc:
                raise AuthError(
                    f"Xero issued a new refresh token but it could not be saved to the token store "
                    f"{self._store.path} ({exc.strerror or type(exc).__name__}). Stopping before using it; the "
                    "previous refresh token stays valid for 30 minutes: fix token_store_path (a writable, "
                    "persistent file) and run again."
                ) from None
            self._stored = record
            self.refresh_token = rotated
            self._set_access_token(access_token, expires_at, scope)
            self.logger.info("Refreshed the access token; saved the rotated refresh token to %s.", self._store.path)

    def _refresh_grant(self) -> dict[str, Any]:
        """The refresh_token grant; a refused stored token falls back once to a different configured one.

        The fallback covers a store left by another identity server (a restarted sandbox, a copied
        file): with Xero itself an older configured token is dead too, and the second refusal is final.
        """
        assert self.refresh_token is not None
        try:
            return self._request_token({"grant_type": "refresh_token", "refresh_token": self.refresh_token})
        except RefreshTokenRejected:
            configured = self.settings.refresh_token
            if not configured or configured == self.refresh_token:
                raise
        self.logger.warning("Xero refused the stored refresh token; trying the configured refresh_token once.")
        self.refresh_token, self._stored = configured, None
        return self._request_token({"grant_type": "refresh_token", "refresh_token": configured})

    @contextlib.contextmanager
    def _locked_store(self) -> Iterator[None]:
        """The store's lock; a store that cannot even be created stops the run before the refresh."""
        try:
            lock = self._store.locked()
            lock.__enter__()
        except OSError as exc:
            raise ConfigError(
                "token_store_path", f"cannot create the token store {self._store.path} ({exc.strerror})",
                "point token_store_path at a writable file on persistent storage",
            ) from None
        try:
            yield
        finally:
            lock.__exit__(None, None, None)

    def _adopt_newer_stored_token(self) -> None:
        """Another process may have rotated our refresh token: then the store holds its successor."""
        assert self.refresh_token is not None
        stored = self._store.load()
        if stored is None or stored.refresh_token == self.refresh_token or not stored.descends_from(self.refresh_token):
            return
        self.refresh_token = stored.refresh_token
        self._stored = stored
        if stored.access_token and stored.access_token_expires_at:
            self._set_access_token(stored.access_token, stored.access_token_expires_at, stored.scope)

    def _access_token_of(self, payload: dict[str, Any]) -> tuple[str, float, str | None]:
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError(f"Xero's token endpoint {self.settings.token_url} answered without an access token.")
        expires_in = payload.get("expires_in")
        claims = jwt_claims(token) or {}
        if isinstance(expires_in, (int, float)) or (isinstance(expires_in, str) and expires_in.isdigit()):
            expires_at = self._clock() + float(expires_in)
        elif isinstance(claims.get("exp"), (int, float)):
            expires_at = float(claims["exp"])
        else:
            expires_at = self._clock() + DEFAULT_TOKEN_LIFETIME
        scope = payload.get("scope") if isinstance(payload.get("scope"), str) else None
        return token, expires_at, scope

    def _request_token(self, form: dict[str, str]) -> dict[str, Any]:
        """One token-endpoint call, with Xero's OAuth errors turned into messages for this mode."""
        try:
            return post_token_form(self.settings, form, session=self._session)
        except TokenEndpointError as exc:
            error = exc.error
        if error == "invalid_grant" and self.mode == MODE_REFRESH_TOKEN:
            raise RefreshTokenRejected(
                f"Xero rejected the refresh token (invalid_grant): {REFRESH_TOKEN_LIFETIME_NOTE}. Reconnect: run "
                "`tap-xero auth --client-id ... --client-secret ...` (or reconnect Xero in your platform) and "
                "use the new refresh token."
            )
        if error in ("unauthorized_client", "unsupported_grant_type") and self.mode == MODE_CLIENT_CREDENTIALS:
            raise ConfigError(
                "client_id", f"Xero refused client credentials for this app ({error})",
                "client credentials only work for a Custom Connection app; for a standard app run "
                "`tap-xero auth` and configure the refresh token",
            )
        raise token_endpoint_failure(self.settings, error, f"a {self.mode} request")

    def _expired_message(self) -> str:
        when = _utc_text(self._expires_at) if self._expires_at is not None else "an unknown time"
        ago = ""
        if self._expires_at is not None:
            ago = f" ({int(self._clock() - self._expires_at)} s ago)"
        return (
            f"The token in {describe_setting('access_token', self.settings.origins)} expired at {when}{ago} "
            "and cannot be renewed: there is no refresh token. Start the run with a fresh token (your "
            "platform renews it when it starts a run), or configure refresh_token with client_id and client_secret."
        )
