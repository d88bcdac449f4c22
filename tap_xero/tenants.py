"""Which Xero tenants (organisations) a run syncs.

In order: the ``tenant_ids`` setting; else ``tenant_url`` (a bare tenant id or any URL containing
one, as integration platforms hand it over); else every tenant the token reaches, from
``GET <api origin>/connections``. Every record carries its ``tenant_id`` and state is kept per
tenant, so the same tap can sync several organisations in one run.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from tap_xero.errors import AuthError, ConfigError, XeroApiError
from tap_xero.settings import UUID_PATTERN, XeroSettings, describe_setting

LOGGER = logging.getLogger("tap-xero.tenants")


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str | None = None
    type: str | None = None  # ORGANISATION | PRACTICE

    @classmethod
    def from_connection(cls, connection: dict[str, Any]) -> Tenant:
        return cls(
            tenant_id=str(connection["tenantId"]).lower(),
            name=connection.get("tenantName"),
            type=connection.get("tenantType"),
        )


def tenant_id_in(text: str | None) -> str | None:
    """The first UUID in ``text`` (a bare id or a URL holding one), lower-cased; None if there is none."""
    if not text:
        return None
    match = UUID_PATTERN.search(text)
    return match.group(0).lower() if match else None


def fetch_connections(
    url: str,
    bearer_token: Callable[[], str],
    on_unauthorized: Callable[[str], bool] | None = None,
    *,
    session: requests.Session | None = None,
    timeout: float = 60,
) -> list[Tenant]:
    """GET /connections (it lives at the API origin, outside the Accounting base) as tenants.

    One renewal-and-retry on 401, like every other call; nothing else is retried here because this
    runs once, at start, where failing fast with a clear message serves the user best.
    """
    http = session or requests.Session()
    for _attempt in range(2):
        token = bearer_token()
        try:
            response = http.get(
                url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}, timeout=timeout
            )
        except requests.RequestException as exc:
            raise XeroApiError(f"Could not list tenants: {type(exc).__name__} talking to {url}") from None
        if response.status_code == 401 and on_unauthorized is not None and on_unauthorized(token):
            continue
        break
    if response.status_code == 401:
        raise AuthError(
            f"Xero refused the access token when listing tenants at {url} (401). Reconnect, or set tenant_ids."
        )
    if not response.ok:
        raise XeroApiError(f"Could not list tenants: {response.text[:300]}", status=response.status_code, path=url)
    try:
        body = response.json()
    except ValueError:
        raise XeroApiError("The tenant list is not JSON", status=response.status_code, path=url) from None
    if not isinstance(body, list):
        raise XeroApiError("The tenant list is not a JSON array", status=response.status_code, path=url)
    return [Tenant.from_connection(item) for item in body if isinstance(item, dict) and item.get("tenantId")]


def shard_of(tenant_id: str, shards: int) -> int:
    """The shard (1..shards) a tenant belongs to: a stable hash of its id, the same on every machine and run."""
    digest = hashlib.sha256(tenant_id.strip().lower().encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") % shards + 1


def resolve_tenants(settings: XeroSettings, list_connections: Callable[[], list[Tenant]]) -> list[Tenant]:
    """The tenants to sync: those the settings or /connections name, then only this job's shard."""
    tenants = _named_tenants(settings, list_connections)
    if settings.tenant_shard is None:
        return tenants
    shard, shards = settings.tenant_shard
    mine = [tenant for tenant in tenants if shard_of(tenant.tenant_id, shards) == shard]
    LOGGER.info("tenant_shard %d/%d: %d of %d tenant(s) are this job's.", shard, shards, len(mine), len(tenants))
    return mine


def _named_tenants(settings: XeroSettings, list_connections: Callable[[], list[Tenant]]) -> list[Tenant]:
    """The tenants to sync. ``list_connections`` is called only when the settings do not say."""
    if settings.tenant_ids:
        return [Tenant(tenant_id) for tenant_id in settings.tenant_ids]
    from_url = tenant_id_in(settings.tenant_url)
    if from_url:
        return [Tenant(from_url)]
    reachable = list_connections()
    if settings.tenant_url:
        # A tenant URL without an id: the platform connected exactly one organisation, so one is expected.
        if len(reachable) == 1:
            LOGGER.info("tenant_url holds no tenant id; using the only connected tenant %s.", reachable[0].tenant_id)
            return reachable
        choices = ", ".join(f"{t.tenant_id} ({t.name})" for t in reachable) or "none"
        raise ConfigError(
            describe_setting("tenant_url", settings.origins),
            f"holds no tenant id, and the token reaches {len(reachable)} tenants, so which one is meant is unclear",
            f"set tenant_ids (or tenant_url) to one of: {choices}",
        )
    if not reachable:
        raise AuthError(
            "The token reaches no Xero organisation (GET /connections is empty). Connect an organisation to the "
            "app (run `tap-xero auth`), or set tenant_ids."
        )
    return reachable
