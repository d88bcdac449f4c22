"""The sandbox's identity server over real HTTP: every grant, rotation, grace, revocation, authorize, connections."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from xero_sandbox.core.oauth import REFRESH_GRACE_SECONDS


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _token(sb, **form) -> requests.Response:
    return requests.post(f"{sb.base_url}/connect/token", data=form, auth=(sb.client_id, sb.client_secret), timeout=10)


def _invoices(sb, access_token: str, tenant: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"}
    if tenant:
        headers["xero-tenant-id"] = tenant
    return requests.get(f"{sb.api_url}/Invoices", headers=headers, timeout=10)


def _authorize(sb, redirect_uri: str, scope: str, **extra) -> requests.Response:
    """The consent page's answer (not followed): a 302 to ``redirect_uri`` with a code, or a 400."""
    return requests.get(f"{sb.base_url}/identity/connect/authorize", params={
        "response_type": "code", "client_id": sb.client_id, "redirect_uri": redirect_uri, "scope": scope, **extra,
    }, allow_redirects=False, timeout=10)


def _code(answer: requests.Response) -> str:
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(limits=False, scale=20)


def test_refresh_token_grant_rotates_and_the_new_access_token_works(sb):
    refresh = sb.issue_refresh_token()
    answer = _token(sb, grant_type="refresh_token", refresh_token=refresh)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    assert body["refresh_token"] != refresh
    assert "accounting.transactions" in body["scope"].split()
    assert _invoices(sb, body["access_token"], sb.tenant_ids[0]).status_code == 200


def test_access_token_is_jwt_shaped_with_xero_claims(sb):
    body = _token(sb, grant_type="refresh_token", refresh_token=sb.issue_refresh_token()).json()
    header = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[0] + "=="))
    claims = _claims(body["access_token"])
    assert header["alg"] == "HS256"
    assert claims["exp"] - claims["iat"] == 1800
    assert isinstance(claims["scope"], list) and "offline_access" in claims["scope"]
    assert claims["client_id"] == sb.client_id
    assert claims["sub"] and claims["xero_userid"]


def test_on_a_fast_clock_a_token_says_when_it_really_dies_and_dies_then(make_sandbox):
    fast = make_sandbox(clock_speed=600, limits=False)  # a 30-minute token lives 3 real seconds
    body = _token(fast, grant_type="refresh_token", refresh_token=fast.issue_refresh_token()).json()
    claims = _claims(body["access_token"])
    assert body["expires_in"] == 3
    assert abs(claims["exp"] - (time.time() + 3)) <= 1.5  # real Unix seconds, not the sandbox clock's
    assert _invoices(fast, body["access_token"], fast.tenant_ids[0]).status_code == 200
    time.sleep(max(0.0, claims["exp"] - time.time()) + 1.0)
    expired = _invoices(fast, body["access_token"], fast.tenant_ids[0])
    assert expired.status_code == 401 and "TokenExpired" in expired.text


def test_previous_refresh_token_works_within_grace_then_invalid_grant(sb):
    first = sb.issue_refresh_token()
    assert _token(sb, grant_type="refresh_token", refresh_token=first).status_code == 200
    sb.clock.advance(REFRESH_GRACE_SECONDS - 60)
    assert _token(sb, grant_type="refresh_token", refresh_token=first).status_code == 200  # still in grace
    sb.clock.advance(120)
    late = _token(sb, grant_type="refresh_token", refresh_token=first)
    assert late.status_code == 400 and late.json() == {"error": "invalid_grant"}


def test_unknown_refresh_token_is_invalid_grant(sb):
    answer = _token(sb, grant_type="refresh_token", refresh_token="never-issued")
    assert answer.status_code == 400 and answer.json() == {"error": "invalid_grant"}


def test_demo_refresh_token_and_client_auth_in_form_fields(sb):
    answer = requests.post(f"{sb.base_url}/connect/token", data={
        "grant_type": "refresh_token", "refresh_token": sb.refresh_token,
        "client_id": sb.client_id, "client_secret": sb.client_secret,
    }, timeout=10)
    assert answer.status_code == 200 and answer.json()["refresh_token"]


def test_wrong_client_secret_is_invalid_client(sb):
    answer = requests.post(f"{sb.base_url}/connect/token", data={
        "grant_type": "refresh_token", "refresh_token": sb.refresh_token,
    }, auth=(sb.client_id, "wrong"), timeout=10)
    assert answer.status_code == 400 and answer.json() == {"error": "invalid_client"}


def test_unsupported_grant_type(sb):
    assert _token(sb, grant_type="password").json() == {"error": "unsupported_grant_type"}


def test_access_token_expires_after_30_minutes_on_the_sandbox_clock(sb):
    token = sb.issue_access_token()
    assert _invoices(sb, token, sb.tenant_ids[0]).status_code == 200
    sb.clock.advance(1801)
    expired = _invoices(sb, token, sb.tenant_ids[0])
    assert expired.status_code == 401
    assert expired.headers["Content-Type"].startswith("application/problem+json")
    assert expired.json()["Detail"].startswith("TokenExpired")


def test_client_credentials_token_is_bound_to_tenant_zero_and_needs_no_header(sb):
    answer = _token(sb, grant_type="client_credentials")
    assert answer.status_code == 200
    body = answer.json()
    assert "refresh_token" not in body
    assert _invoices(sb, body["access_token"]).status_code == 200  # no xero-tenant-id header
    assert _invoices(sb, body["access_token"], sb.tenant_ids[1]).status_code == 403  # another tenant
    connections = requests.get(
        f"{sb.base_url}/connections", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10
    ).json()
    assert [c["tenantId"] for c in connections] == [sb.tenant_ids[0]]


def test_client_credentials_with_a_scope_not_granted_is_invalid_scope(sb):
    answer = _token(sb, grant_type="client_credentials", scope="accounting.transactions made.up.scope")
    assert answer.status_code == 400 and answer.json() == {"error": "invalid_scope"}


def test_authorize_redirects_with_code_and_state_then_code_exchanges_once(sb):
    redirect_uri = "http://127.0.0.1:9/callback"
    answer = _authorize(sb, redirect_uri, "offline_access accounting.invoices.read", state="xyz")
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    code = query["code"][0]
    wrong_uri = _token(sb, grant_type="authorization_code", code=code, redirect_uri="http://127.0.0.1:9/other")
    assert wrong_uri.json() == {"error": "invalid_grant"}  # and the code is spent
    code = _code(_authorize(sb, redirect_uri, "offline_access accounting.invoices.read", state="xyz"))
    tokens = _token(sb, grant_type="authorization_code", code=code, redirect_uri=redirect_uri)
    assert tokens.status_code == 200
    assert tokens.json()["refresh_token"]
    assert _claims(tokens.json()["access_token"])["scope"] == ["offline_access", "accounting.invoices.read"]
    reuse = _token(sb, grant_type="authorization_code", code=code, redirect_uri=redirect_uri)
    assert reuse.status_code == 400 and reuse.json() == {"error": "invalid_grant"}


def test_authorize_without_offline_access_gives_no_refresh_token(sb):
    redirect_uri = "http://127.0.0.1:9/cb"
    code = _code(_authorize(sb, redirect_uri, "accounting.transactions"))
    body = _token(sb, grant_type="authorization_code", code=code, redirect_uri=redirect_uri).json()
    assert "refresh_token" not in body and body["access_token"]
    assert "id_token" not in body  # no openid scope


def test_openid_scope_adds_an_id_token(sb):
    redirect_uri = "http://127.0.0.1:9/cb"
    code = _code(_authorize(sb, redirect_uri, "openid profile email accounting.transactions"))
    body = _token(sb, grant_type="authorization_code", code=code, redirect_uri=redirect_uri).json()
    identity = _claims(body["id_token"])
    assert identity["aud"] == sb.client_id and identity["email"] and identity["xero_userid"]


def test_authorize_rejects_unknown_client(sb):
    answer = _authorize(sb, "http://127.0.0.1:9/cb", "openid", client_id="nobody")
    assert answer.status_code == 400 and answer.json() == {"error": "unauthorized_client"}


def test_revocation_kills_the_refresh_token_and_its_access_tokens(sb):
    refresh = sb.issue_refresh_token()
    body = _token(sb, grant_type="refresh_token", refresh_token=refresh).json()
    assert _invoices(sb, body["access_token"], sb.tenant_ids[0]).status_code == 200
    revoked = requests.post(f"{sb.base_url}/connect/revocation", data={"token": body["refresh_token"]},
                            auth=(sb.client_id, sb.client_secret), timeout=10)
    assert revoked.status_code == 200
    assert _token(sb, grant_type="refresh_token", refresh_token=body["refresh_token"]).json() == {
        "error": "invalid_grant"}
    assert _token(sb, grant_type="refresh_token", refresh_token=refresh).json() == {"error": "invalid_grant"}
    assert _invoices(sb, body["access_token"], sb.tenant_ids[0]).status_code == 401


def test_connections_lists_every_tenant_in_xero_shape(sb):
    answer = requests.get(f"{sb.base_url}/connections",
                          headers={"Authorization": f"Bearer {sb.issue_access_token()}"}, timeout=10)
    assert answer.status_code == 200
    connections = answer.json()
    assert [c["tenantId"] for c in connections] == sb.tenant_ids
    for connection in connections:
        assert set(connection) == {
            "id", "authEventId", "tenantId", "tenantType", "tenantName", "createdDateUtc", "updatedDateUtc"}
        assert connection["tenantType"] in ("ORGANISATION", "PRACTICE")


def test_connections_needs_a_token(sb):
    answer = requests.get(f"{sb.base_url}/connections", timeout=10)
    assert answer.status_code == 401 and answer.json()["Detail"] == "AuthenticationUnsuccessful"


def test_clock_speed_makes_tokens_expire_sooner(make_sandbox):
    sb = make_sandbox(limits=False, scale=10, clock_speed=1200)  # the 30-minute token lives 1.5 s
    token = sb.issue_access_token()
    assert _invoices(sb, token, sb.tenant_ids[0]).status_code == 200
    time.sleep(1.7)
    assert _invoices(sb, token, sb.tenant_ids[0]).json()["Detail"].startswith("TokenExpired")


def test_deleting_a_connection_disconnects_that_tenant_for_that_grant(sb):
    token = sb.issue_access_token()
    headers = {"Authorization": f"Bearer {token}"}
    connections = requests.get(f"{sb.base_url}/connections", headers=headers, timeout=10).json()
    gone = connections[1]
    deleted = requests.delete(f"{sb.base_url}/connections/{gone['id']}", headers=headers, timeout=10)
    assert deleted.status_code == 204
    left = requests.get(f"{sb.base_url}/connections", headers=headers, timeout=10).json()
    assert [c["tenantId"] for c in left] == [connections[0]["tenantId"]]
    assert _invoices(sb, token, gone["tenantId"]).status_code == 403
    assert _invoices(sb, token, connections[0]["tenantId"]).status_code == 200
    assert _invoices(sb, sb.issue_access_token(), gone["tenantId"]).status_code == 200  # another grant
    again = requests.delete(f"{sb.base_url}/connections/{gone['id']}", headers=headers, timeout=10)
    assert again.status_code == 404


def _pkce_code(sb, redirect_uri: str, challenge: str, method: str = "S256") -> requests.Response:
    return _authorize(sb, redirect_uri, "offline_access accounting.invoices.read", code_challenge=challenge,
                      code_challenge_method=method)


def _public_token(sb, **form) -> requests.Response:
    """A PKCE app's token request: client_id in the form, no secret anywhere."""
    return requests.post(f"{sb.base_url}/connect/token", data={"client_id": sb.client_id, **form}, timeout=10)


def test_pkce_app_exchanges_and_refreshes_without_a_secret(sb):
    import hashlib

    redirect_uri = "http://127.0.0.1:9/callback"
    verifier = "a-verifier-of-the-app-" + "x" * 30
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()

    code = _code(_pkce_code(sb, redirect_uri, challenge))
    wrong = _public_token(sb, grant_type="authorization_code", code=code, redirect_uri=redirect_uri,
                          code_verifier="not-the-verifier")
    assert wrong.status_code == 400 and wrong.json() == {"error": "invalid_grant"}

    code = _code(_pkce_code(sb, redirect_uri, challenge))
    tokens = _public_token(sb, grant_type="authorization_code", code=code, redirect_uri=redirect_uri,
                           code_verifier=verifier)
    assert tokens.status_code == 200, tokens.text
    refreshed = _public_token(sb, grant_type="refresh_token", refresh_token=tokens.json()["refresh_token"])
    assert refreshed.status_code == 200 and refreshed.json()["refresh_token"] != tokens.json()["refresh_token"]
    assert _invoices(sb, refreshed.json()["access_token"], sb.tenant_ids[0]).status_code == 200


def test_without_a_secret_only_a_pkce_grant_is_accepted(sb):
    redirect_uri = "http://127.0.0.1:9/callback"
    code = _code(_authorize(sb, redirect_uri, "offline_access accounting.invoices.read"))
    no_challenge = _public_token(sb, grant_type="authorization_code", code=code, redirect_uri=redirect_uri,
                                 code_verifier="anything")
    assert no_challenge.json() == {"error": "invalid_grant"}  # a code asked for without PKCE needs the secret
    confidential = _public_token(sb, grant_type="refresh_token", refresh_token=sb.issue_refresh_token())
    assert confidential.json() == {"error": "invalid_client"}  # a confidential app's refresh token too
    assert _public_token(sb, grant_type="client_credentials").json() == {"error": "invalid_client"}
    plain_method = _pkce_code(sb, redirect_uri, "challenge", method="plain")
    assert plain_method.status_code == 400  # only S256
