"""RefreshTokenRotation: the refresh-token mode's rotation, with the token store.

Xero rotates the refresh token on every refresh and the old one dies 30 minutes later, so:

- **Newest wins** at start (``choose``): the stored token unless the configured one is new to the store (a new
  connection); the store remembers fingerprints of the tokens it replaced.
- Every refresh runs under the store's lock (``locked``); first it adopts a newer token another process may
  have rotated meanwhile (``adopt_newer``); then the grant (``grant``), falling back once to a different
  configured token when the stored one is refused; and the rotated token is **saved before it is used**
  (``save``): a store that cannot be written stops the run while the previous token still lives.

The store is ``token_store.TokenStore`` (a file shared by the processes of one machine) or
``token_store_pg.PostgresTokenStore`` (PostgreSQL, shared by processes on any machine); anything with the same
``load``/``save``/``locked``/``path`` works, plus ``setting`` and ``fix`` for the messages when it fails.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from tap_xero.errors import AuthError, ConfigError
from tap_xero.token_endpoint import RefreshTokenRejected
from tap_xero.token_store import StoredToken


class TokenStoreBackend(Protocol):
    """What the rotation needs of a token store."""

    @property
    def path(self) -> str: ...  # where it is, for messages (never a password)

    @property
    def setting(self) -> str: ...  # the setting that configures it

    @property
    def fix(self) -> str: ...  # what to do when it cannot be created, read or written

    def load(self) -> StoredToken | None: ...

    def save(self, record: StoredToken) -> None: ...

    def locked(self) -> contextlib.AbstractContextManager[Any]: ...


class RefreshTokenRotation:
    """See the module docstring."""

    def __init__(
        self,
        store: TokenStoreBackend,
        configured: str | None,
        grant: Callable[[str], dict[str, Any]],
        logger: logging.Logger,
    ) -> None:
        self.store = store
        self.configured = configured  # the refresh_token setting
        self._grant = grant  # one refresh_token grant for a given token
        self.logger = logger
        self.refresh_token: str | None = None
        self.stored: StoredToken | None = None  # the store record our refresh token belongs to

    def choose(self, stored: StoredToken | None) -> StoredToken | None:
        """Pick the token to start with; the store record whose access token may be adopted, if any."""
        configured = self.configured
        if stored is not None and (configured is None or stored.descends_from(configured)):
            self.refresh_token, self.stored = stored.refresh_token, stored
            if configured and configured != stored.refresh_token:
                self.logger.info("Using the newer refresh token from the token store %s.", self.store.path)
            return stored
        self.refresh_token = configured
        if stored is not None:
            self.logger.info(
                "The configured refresh_token is new to the token store %s: using it (a new connection).",
                self.store.path,
            )
        return None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """The store's lock; a store that cannot even be created stops the run before the refresh."""
        try:
            lock = self.store.locked()
            lock.__enter__()
        except OSError as exc:
            raise ConfigError(
                self.store.setting, f"cannot create the token store {self.store.path} ({exc.strerror})",
                self.store.fix,
            ) from None
        try:
            yield
        finally:
            lock.__exit__(None, None, None)

    def adopt_newer(self) -> StoredToken | None:
        """Another process may have rotated our refresh token: then the store holds its successor (returned)."""
        assert self.refresh_token is not None
        stored = self.store.load()
        if stored is None or stored.refresh_token == self.refresh_token or not stored.descends_from(self.refresh_token):
            return None
        self.refresh_token, self.stored = stored.refresh_token, stored
        return stored

    def grant(self) -> dict[str, Any]:
        """The refresh_token grant; a refused stored token falls back once to a different configured one.

        The fallback covers a store left by another identity server (a restarted sandbox, a copied file): with
        Xero itself an older configured token is dead too, and the second refusal is final.
        """
        assert self.refresh_token is not None
        try:
            return self._grant(self.refresh_token)
        except RefreshTokenRejected:
            configured = self.configured
            if not configured or configured == self.refresh_token:
                raise
        self.logger.warning("Xero refused the stored refresh token; trying the configured refresh_token once.")
        self.refresh_token, self.stored = configured, None
        return self._grant(configured)

    def save(self, rotated: str | None, access_token: str, expires_at: float, scope: str | None) -> None:
        """Persist the rotated refresh token (with its access token) BEFORE the access token is used."""
        assert self.refresh_token is not None
        new_token = rotated or self.refresh_token
        base = self.stored if self.stored is not None else StoredToken(refresh_token=self.refresh_token)
        record = base.rotated_to(new_token, access_token, expires_at, scope)
        try:
            self.store.save(record)
        except OSError as exc:
            raise AuthError(
                f"Xero issued a new refresh token but it could not be saved to the token store {self.store.path} "
                f"({exc.strerror or type(exc).__name__}). Stopping before using it; the previous refresh token stays "
                f"valid for 30 minutes: {self.store.fix}, and run again."
            ) from None
        self.stored, self.refresh_token = record, new_token
