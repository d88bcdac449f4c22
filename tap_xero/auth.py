"""XeroAuthenticator: the one source of bearer tokens, whatever way the user connects.

The mode follows from what is configured (see ``XeroSettings.auth_mode``):

- ``access_token``: a platform-provided token used as given. Its expiry comes from the JWT ``exp``
  claim, else ``access_token_expires_at``, else ``expires_in`` counted from the start of the run. It
  cannot be renewed, so ``ensure_usable`` refuses one that has expired or has less than the margin
  left, before any record is emitted.
- ``refresh_token``: Xero rotates the refresh token on every refresh. Each new one is saved to the
  token store (atomically) BEFORE the new access token is used; at start the newest of the stored
  and configured tokens is chosen. The store (``open_token_store``) is the file ``token_store_path``,
  or PostgreSQL when ``token_store_url`` is set (it wins: see the function). A still-valid access
  token in the store is used as it is, at start and whenever another process renewed it first, so
  processes that share a store share one access token and rotate once between them. singer-sdk's
  ``OAuthAuthenticator.update_access_token`` drops the rotated token from the response, so this
  class replaces it.
- ``client_credentials``: a Xero Custom Connection; a new token is fetched when one runs out. Xero
  does not need the tenant header there.

Nothing here talks to Xero until the first ``bearer_token()`` call, so ``--discover`` and
``--about`` never refresh. All state changes happen under one lock (thread-safe).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from singer_sdk.authenticators import OAuthAuthenticator

from tap_xero.errors import AuthError
from tap_xero.scopes import parse_scopes
from tap_xero.settings import (
    MODE_ACCESS_TOKEN,
    MODE_CLIENT_CREDENTIALS,
    MODE_REFRESH_TOKEN,
    XeroSettings,
    describe_setting,
)
from tap_xero.token_endpoint import access_token_of, jwt_claims, request_token
from tap_xero.token_rotation import RefreshTokenRotation, TokenStoreBackend
from tap_xero.token_store import StoredToken, TokenStore

LOGGER = logging.getLogger("tap-xero.auth")


def open_token_store(settings: XeroSettings, logger: logging.Logger | None = None) -> TokenStoreBackend:
    """The configured token store: PostgreSQL when ``token_store_url`` is set, else the file ``token_store_path``.

    The URL wins when both are set: it is the store every process of the connection shares, and a file beside it
    would be a private copy of a token the other processes rotate (a split lineage, a dead token within 30
    minutes). A token_store_path that is set anyway is ignored, with a warning to ``logger`` (if given).
    """
    if settings.token_store_url:
        from tap_xero.token_store_pg import PostgresTokenStore  # psycopg is an optional extra

        if settings.token_store_path_given and logger is not None:
            logger.warning(
                "token_store_path is ignored: token_store_url is set, and the shared store wins."
            )
        return PostgresTokenStore(settings.token_store_url, settings.token_store_key)
    return TokenStore(settings.token_store_path)

def _utc_text(unix_seconds: float) -> str:
    return dt.datetime.fromtimestamp(unix_seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        self._token_session = session or requests.Session()  # not the SDK's private _session
        self._clock = clock
        self._lock = threading.RLock()
        self._store = open_token_store(settings, self.logger)
        self._started_at = clock()

        self.access_token: str | None = None
        self._expires_at: float | None = None  # Unix seconds
        self._obtained_at: float | None = None
        self._response_scope: str | None = None
        self._rotation = RefreshTokenRotation(self._store, settings.refresh_token, self._refresh_grant, self.logger)

        stored = self._store.load() if settings.client_id else None
        self.mode = settings.auth_mode(stored_refresh_token=stored is not None)
        if self.mode == MODE_ACCESS_TOKEN:
            self._adopt_configured_access_token()
        elif self.mode == MODE_REFRESH_TOKEN:
            self._choose_refresh_token(stored)

    @property
    def refresh_token(self) -> str | None:
        """The refresh token in use (the newest: rotated tokens replace it)."""
        rotation = self.__dict__.get("_rotation")
        return rotation.refresh_token if rotation is not None else None

    @refresh_token.setter
    def refresh_token(self, value: str | None) -> None:
        # The SDK's base class sets None at construction; the rotation (token_rotation.py) owns the token.
        if value is not None:
            raise AttributeError("the refresh token is owned by token_rotation.RefreshTokenRotation")

    @staticmethod
    def store_has_token(settings: XeroSettings) -> bool:
        """True when the token store holds a refresh token for this app (it then counts as configured)."""
        return bool(settings.client_id) and open_token_store(settings).load() is not None

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
        """Xero answered 401 to ``rejected_token``: renew it (unless another thread did).

        True if retrying can succeed."""
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
        """Newest wins (token_rotation.py); a usable access token that came with it saves one rotation."""
        chosen = self._rotation.choose(stored)
        if chosen is not None:
            self._adopt_stored_access_token(chosen)
        elif self.settings.access_token:  # a still-valid access token issued with the configured refresh token
            claims = jwt_claims(self.settings.access_token) or {}
            if isinstance(claims.get("exp"), (int, float)):
                self._set_access_token(self.settings.access_token, float(claims["exp"]), None)

    def _adopt_stored_access_token(self, stored: StoredToken) -> None:
        if stored.access_token and stored.access_token_expires_at:
            self._set_access_token(stored.access_token, stored.access_token_expires_at, stored.scope)

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
            self._set_access_token(*access_token_of(payload, self.settings, self._clock))
            self.logger.info("Obtained an access token (client credentials).")
            return
        rotation = self._rotation
        with rotation.locked():
            newer = rotation.adopt_newer()
            if newer is not None:
                self._adopt_stored_access_token(newer)
            if self._is_fresh() and self.access_token != rejected:
                return  # another process refreshed while we waited for the lock
            payload = rotation.grant()
            access_token, expires_at, scope = access_token_of(payload, self.settings, self._clock)
            rotation.save(payload.get("refresh_token"), access_token, expires_at, scope)  # before it is used
            self._set_access_token(access_token, expires_at, scope)
            self.logger.info("Refreshed the access token; saved the rotated refresh token to %s.", self._store.path)

    def _refresh_grant(self, refresh_token: str) -> dict[str, Any]:
        return self._request_token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _request_token(self, form: dict[str, str]) -> dict[str, Any]:
        return request_token(self.settings, form, self.mode, session=self._token_session)

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
