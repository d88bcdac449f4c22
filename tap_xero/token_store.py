"""The token store: the one file where a rotated refresh token survives between runs.

Xero rotates the refresh token on every refresh and the old one dies 30 minutes later, so losing the
new one means reconnecting. Saving is atomic (temporary file in the same folder, fsync, rename, then
fsync of the folder) with mode 0600, and happens BEFORE the new access token is used.

"Newest wins": the store keeps a short lineage (hashes, never the tokens) of every refresh token it
has replaced. A configured refresh token found in that lineage is older than the stored one, so the
stored one is used; a configured token the store has never seen is a new connection and wins.

Several processes may share one store: ``locked()`` holds an exclusive ``flock`` on a side file
while a refresh runs, so two runs never spend the same refresh token concurrently.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no flock; one process per store is then the user's responsibility
    fcntl = None  # type: ignore[assignment]

LINEAGE_LENGTH = 50  # enough to recognise any configured token from the last few weeks of runs


def token_fingerprint(token: str) -> str:
    """A short one-way hash that identifies a token without revealing it."""
    return hashlib.sha256(token.encode()).hexdigest()[:24]


@dataclass
class StoredToken:
    """What the store holds: the newest refresh token and what came with it."""

    refresh_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    access_token_expires_at: float | None = None  # Unix seconds
    scope: str | None = None
    saved_at: float = 0.0  # Unix seconds
    lineage: list[str] = field(default_factory=list)  # fingerprints of the refresh tokens it replaced
    tenants: list[dict[str, Any]] = field(default_factory=list)  # as listed by `tap-xero auth`

    def descends_from(self, refresh_token: str) -> bool:
        """True when ``refresh_token`` is this one or an ancestor of it (so this one is newer or equal)."""
        fingerprint = token_fingerprint(refresh_token)
        return refresh_token == self.refresh_token or fingerprint in self.lineage

    def rotated_to(
        self,
        refresh_token: str,
        access_token: str | None,
        access_token_expires_at: float | None,
        scope: str | None,
    ) -> StoredToken:
        """The record after a refresh that returned ``refresh_token``."""
        lineage = list(self.lineage)
        if refresh_token != self.refresh_token:
            lineage.append(token_fingerprint(self.refresh_token))
        return StoredToken(
            refresh_token=refresh_token,
            access_token=access_token,
            access_token_expires_at=access_token_expires_at,
            scope=scope or self.scope,
            saved_at=time.time(),
            lineage=lineage[-LINEAGE_LENGTH:],
            tenants=self.tenants,
        )


class TokenStore:
    """One JSON file per Xero app. Reading a missing or damaged file gives None, never an exception."""

    setting = "token_store_path"
    fix = "fix token_store_path (a writable file on persistent storage)"

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))

    def load(self) -> StoredToken | None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
            if not isinstance(data, dict) or not isinstance(data.get("refresh_token"), str):
                return None
            known = StoredToken.__dataclass_fields__
            return StoredToken(**{key: value for key, value in data.items() if key in known})
        except (OSError, ValueError, TypeError):
            return None

    def save(self, token: StoredToken) -> None:
        """Replace the file atomically with ``token``; the file is never readable by others."""
        folder = os.path.dirname(self.path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".tokens-", suffix=".tmp", dir=folder)  # mode 0600
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(asdict(token), handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _fsync_folder(folder)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive inter-process lock on this store (a side file; the store stays readable)."""
        folder = os.path.dirname(self.path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        descriptor = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (the folder entry), where the platform allows it."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
