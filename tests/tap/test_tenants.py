"""Tenants: tenant_ids, else TENANT_URL, else GET /connections (over HTTP against the sandbox)."""

from __future__ import annotations

import pytest

from tap_xero.errors import AuthError, ConfigError
from tap_xero.settings import XeroSettings, merge_sources
from tap_xero.tenants import Tenant, fetch_connections, resolve_tenants, tenant_id_in

TENANT = "7f3e1b2a-9c4d-4e5f-8a6b-1c2d3e4f5a6b"
OTHER = "11111111-2222-4333-8444-555555555555"


def never_called():
    raise AssertionError("/connections must not be called when the settings name the tenant")


@pytest.mark.parametrize(
    "text",
    [TENANT, TENANT.upper(), f"https://go.xero.com/organisationlogin/default.aspx?shortcode=!x&tenantId={TENANT}",
     f"https://api.xero.com/connections/{TENANT}", f"xero://tenant/{TENANT}/"],
)
def test_tenant_id_in_finds_the_uuid(text):
    assert tenant_id_in(text) == TENANT


def test_tenant_id_in_without_uuid():
    assert tenant_id_in("https://go.xero.com/Dashboard/") is None and tenant_id_in(None) is None


def test_tenant_ids_come_first_then_tenant_url():
    settings = XeroSettings.from_config({"tenant_ids": [TENANT, OTHER], "tenant_url": "x"})
    assert [t.tenant_id for t in resolve_tenants(settings, never_called)] == [TENANT, OTHER]
    settings = XeroSettings.from_config({"tenant_url": f"https://go.xero.com/app/{TENANT}/dashboard"})
    assert resolve_tenants(settings, never_called) == [Tenant(TENANT)]


def test_tenant_url_without_id_uses_the_only_connection():
    settings = XeroSettings.from_config({"tenant_url": "https://go.xero.com/Dashboard/"})
    assert resolve_tenants(settings, lambda: [Tenant(TENANT, "Acme", "ORGANISATION")]) == [
        Tenant(TENANT, "Acme", "ORGANISATION")
    ]


def test_tenant_url_without_id_and_several_connections_asks_which():
    config, origins = merge_sources({}, {"PAN_SEC_XERO_TENANT_URL": "https://go.xero.com/Dashboard/"})
    settings = XeroSettings.from_config(config, origins)
    with pytest.raises(ConfigError) as caught:
        resolve_tenants(settings, lambda: [Tenant(TENANT, "Acme"), Tenant(OTHER, "Beta")])
    message = str(caught.value)
    assert "PAN_SEC_XERO_TENANT_URL" in message and TENANT in message and OTHER in message and "tenant_ids" in message


def test_no_reachable_tenant_is_an_error():
    with pytest.raises(AuthError, match="no Xero organisation"):
        resolve_tenants(XeroSettings.from_config({}), list)


def test_every_connected_tenant_from_the_sandbox(sandbox):
    settings = XeroSettings.from_config({"api_url": sandbox.api_url})
    token = sandbox.issue_access_token()
    tenants = resolve_tenants(settings, lambda: fetch_connections(settings.connections_url, lambda: token))
    assert [t.tenant_id for t in tenants] == [t.lower() for t in sandbox.tenant_ids]
    assert all(t.name and t.type in ("ORGANISATION", "PRACTICE") for t in tenants)


def test_connections_renews_once_on_401(sandbox):
    settings = XeroSettings.from_config({"api_url": sandbox.api_url})
    tokens = iter(["not-a-valid-token", sandbox.issue_access_token()])
    current = {"token": next(tokens)}
    renewals = []

    def on_unauthorized(rejected):
        renewals.append(rejected)
        current["token"] = next(tokens)
        return True

    tenants = fetch_connections(settings.connections_url, lambda: current["token"], on_unauthorized)
    assert len(tenants) == len(sandbox.tenant_ids) and renewals == ["not-a-valid-token"]


def test_connections_with_a_dead_token_is_an_auth_error(sandbox):
    settings = XeroSettings.from_config({"api_url": sandbox.api_url})
    with pytest.raises(AuthError, match="401"):
        fetch_connections(settings.connections_url, lambda: "dead-token", lambda rejected: False)


# -- sharding (tenant_shard "K/N") -------------------------------------------------------------------


def test_every_tenant_belongs_to_exactly_one_of_n_shards_the_same_every_time() -> None:
    import uuid

    from tap_xero.settings import XeroSettings
    from tap_xero.tenants import Tenant, resolve_tenants, shard_of

    tenants = [Tenant(str(uuid.UUID(int=n * 7919 + 13))) for n in range(500)]
    for shards in (1, 2, 3, 7):
        seen: list[str] = []
        for shard in range(1, shards + 1):
            settings = XeroSettings.from_config({"tenant_shard": f"{shard}/{shards}"})
            seen += [t.tenant_id for t in resolve_tenants(settings, lambda: tenants)]
        assert sorted(seen) == sorted(t.tenant_id for t in tenants)  # each exactly once
    sizes = [sum(shard_of(t.tenant_id, 4) == k for t in tenants) for k in range(1, 5)]
    assert min(sizes) > 90  # spread evenly enough (500 over 4)
    # Stable: a hash of the id alone, whatever the order, the case or the other tenants.
    assert shard_of(tenants[0].tenant_id.upper(), 7) == shard_of(tenants[0].tenant_id, 7) == 1 + int(
        __import__("hashlib").sha256(tenants[0].tenant_id.encode()).hexdigest()[:16], 16) % 7


def test_tenant_ids_are_sharded_too_and_an_empty_shard_is_allowed() -> None:
    from tap_xero.settings import XeroSettings
    from tap_xero.tenants import resolve_tenants, shard_of

    ids = ["7f3e1b2a-9c4d-4e5f-8a6b-1c2d3e4f5a6b", "00000000-0000-4000-8000-000000000001"]
    mine = {k: [t.tenant_id for t in resolve_tenants(
        XeroSettings.from_config({"tenant_ids": ids, "tenant_shard": f"{k}/2"}), lambda: [])] for k in (1, 2)}
    assert sorted(mine[1] + mine[2]) == sorted(ids)
    assert all(shard_of(t, 2) == k for k, ts in mine.items() for t in ts)


@pytest.mark.parametrize("value", ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", " /2", 3])
def test_a_bad_shard_is_a_configuration_error_naming_the_setting(value) -> None:
    from tap_xero.errors import EXIT_CONFIG, ConfigError
    from tap_xero.settings import XeroSettings

    with pytest.raises(ConfigError) as refused:
        XeroSettings.from_config({"tenant_shard": value})
    assert "tenant_shard" in str(refused.value) and refused.value.exit_code == EXIT_CONFIG
