"""Xero's identity server, emulated: tokens, authorize, revocation, connections.

Access tokens are JWT-shaped (``header.payload.signature``, HS256 with a key
made fresh for each sandbox) and carry ``exp``, ``iat``, ``scope`` (a list),
``client_id``, ``sub`` and ``xero_userid`` like Xero's. Refresh tokens rotate:
each refresh returns a new one, and the previous one keeps working for a
30-minute grace period on the sandbox clock; after that, or for a token never
issued or revoked, the answer is ``400 {"error": "invalid_grant"}``.

Lifetimes run on the sandbox clock, but what a token tells its client is real time:
``exp``/``iat`` are real Unix seconds and ``expires_in`` real seconds, so with
``--clock-speed 60`` a 30-minute token says it lives 30 real seconds (and does),
and a client that plans around its token's expiry plans correctly.

Nothing here knows HTTP: methods take parsed form fields and return
``(status, json body)``; ``app.py`` routes the requests to them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

from tap_xero.endpoints import ENDPOINTS, OTHER_API_ENDPOINTS, REPORTS
from xero_sandbox.core.clock import SandboxClock

ACCESS_TOKEN_LIFETIME = 1800  # seconds, as Xero
REFRESH_GRACE_SECONDS = 1800  # the previous refresh token stays valid this long after rotation
REFRESH_IDLE_LIFETIME = 60 * 24 * 3600  # unused refresh tokens die after 60 days
CODE_LIFETIME = 300  # authorization codes are single-use and short-lived

DEMO_CLIENT_ID = "SANDBOX0CLIENT0ID0000000000000001"
DEMO_CLIENT_SECRET = "sandbox-demo-client-secret-not-a-real-secret"
DEMO_REFRESH_TOKEN = "sandbox-demo-refresh-token-0001"
# Broad scopes: everything the tap can read, plus offline_access so the demo refresh token can refresh.
DEMO_SCOPES: tuple[str, ...] = (
    "openid", "profile", "email", "offline_access",
    "accounting.transactions", "accounting.contacts", "accounting.settings",
    "accounting.reports.read", "accounting.journals.read", "accounting.budgets.read",
    "accounting.attachments", "paymentservices", "assets.read", "projects.read",
)
_NOT_GRANTABLE_TO_MACHINES = {"openid", "profile", "email", "offline_access"}


def _known_scopes() -> frozenset[str]:
    """Every scope an app may ask for: identity scopes, broad and granular Accounting scopes."""
    known = set(DEMO_SCOPES) | {"accounting.attachments.read", "accounting.reports.aged.read",
                                "accounting.reports.tenninetynine.read"}
    for scopes in [e.scopes for e in (*ENDPOINTS, *OTHER_API_ENDPOINTS)] + [report.scopes for report in REPORTS]:
        known.update(scopes)
    return frozenset(known)


KNOWN_SCOPES = _known_scopes()


class TokenRejected(Exception):
    """An access token cannot be used. ``detail`` is Xero's 401 Detail text."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class AccessGrant:
    """What a valid access token lets its bearer do."""

    token_id: str
    client_id: str
    scopes: frozenset[str]
    grant_id: str  # the authentication event the token descends from
    tenant_id: str | None  # client_credentials tokens are bound to one tenant
    expires_at: float


@dataclass
class _RefreshToken:
    grant_id: str
    client_id: str
    scopes: tuple[str, ...]
    last_used: float
    superseded_at: float | None = None
    public: bool = False  # issued to a PKCE app: refreshed with client_id alone, no secret


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    expires_at: float
    code_challenge: str | None = None  # PKCE (S256): the token request must bring the verifier


@dataclass
class _Issued:
    serial: int
    grant_id: str
    tenant_id: str | None
    expires_at: float  # on the sandbox clock


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _subject(user_id: str) -> str:
    """The token's ``sub``: a stable opaque id of the user (a digest, not a secret)."""
    return hashlib.sha1(user_id.encode(), usedforsecurity=False).hexdigest()


def _http_date(ts: float) -> str:
    # Xero writes the expiry moment in the TokenExpired detail in US notation.
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%m/%d/%Y %H:%M:%S")


class Connections:
    """Which tenants each grant reaches: every tenant of the sandbox until ``DELETE /connections/{id}``
    disconnects one from that grant; a client_credentials token reaches its bound tenant only."""

    def __init__(self, tenant_ids: list[str]) -> None:
        self.tenant_ids = tenant_ids
        self._lock = threading.Lock()
        self._disconnected: set[tuple[str, str]] = set()  # (grant id, tenant id)

    @staticmethod
    def connection_id(grant: AccessGrant, tenant_id: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"connection/{grant.grant_id}/{tenant_id}"))

    def is_connected(self, grant: AccessGrant, tenant_id: str) -> bool:
        if grant.tenant_id:
            return tenant_id == grant.tenant_id
        return tenant_id in self.tenant_ids and (grant.grant_id, tenant_id) not in self._disconnected

    def disconnect(self, grant: AccessGrant, connection_id: str) -> bool:
        """DELETE /connections/{id}: the grant loses that tenant. False if no such connection."""
        for tenant_id in self.tenant_ids:
            if self.connection_id(grant, tenant_id) == connection_id and self.is_connected(grant, tenant_id):
                with self._lock:
                    self._disconnected.add((grant.grant_id, tenant_id))
                return True
        return False

    def listing(self, grant: AccessGrant, tenants: list) -> list[dict]:
        """GET /connections: the grant's connected tenants (the bound one for client_credentials)."""
        out = []
        for tenant in tenants:
            if not self.is_connected(grant, tenant.tenant_id):
                continue
            created = tenant.created.strftime("%Y-%m-%dT%H:%M:%S.%f0")
            out.append({
                "id": self.connection_id(grant, tenant.tenant_id),
                "authEventId": grant.grant_id,
                "tenantId": tenant.tenant_id,
                "tenantType": tenant.tenant_type,
                "tenantName": tenant.name,
                "createdDateUtc": created,
                "updatedDateUtc": created,
            })
        return out


@dataclass
class Identity:
    """The identity server's state: one client, its grants and tokens; ``connections``: which tenants
    each grant reaches."""

    clock: SandboxClock
    tenant_ids: list[str]
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    refresh_token: str = DEMO_REFRESH_TOKEN
    scopes: tuple[str, ...] = DEMO_SCOPES
    issuer: str = "http://127.0.0.1"
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _refresh: dict[str, _RefreshToken] = field(default_factory=dict)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _issued: dict[str, _Issued] = field(default_factory=dict)
    _revoked_grants: set[str] = field(default_factory=set)
    _serial: int = 0
    _invalid_up_to: int = 0  # tokens with serial <= this were expired by a fault
    user_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    connections: Connections = field(init=False)

    def __post_init__(self) -> None:
        self.connections = Connections(self.tenant_ids)
        self._refresh[self.refresh_token] = _RefreshToken(
            grant_id=str(uuid.uuid4()), client_id=self.client_id, scopes=tuple(self.scopes),
            last_used=self.clock.time(),
        )

    # -- access tokens -------------------------------------------------------------------------------

    def issue_access_token(
        self,
        scopes: list[str] | tuple[str, ...] | None = None,
        expires_in: int = ACCESS_TOKEN_LIFETIME,
        *,
        grant_id: str | None = None,
        tenant_id: str | None = None,
    ) -> str:
        """Sign a new access token (tests call this directly through ``Sandbox.issue_access_token``)."""
        now = self.clock.time()
        token_id = uuid.uuid4().hex
        grant_id = grant_id or str(uuid.uuid4())
        with self._lock:
            self._serial += 1
            self._issued[token_id] = _Issued(self._serial, grant_id, tenant_id, now + int(expires_in))
        # The token's times are real ones, as a client reads them: on a sped-up or advanced sandbox clock a
        # token still says when it really dies (the sandbox checks its own clock, ``_Issued.expires_at``).
        real_now = time.time()
        claims = {
            "nbf": int(real_now), "iat": int(real_now),
            "exp": int(real_now + self.clock.real_seconds(int(expires_in))),
            "iss": self.issuer, "aud": f"{self.issuer}/resources",
            "client_id": self.client_id, "sub": _subject(self.user_id),
            "auth_time": int(now), "xero_userid": self.user_id,
            "global_session_id": grant_id.replace("-", ""), "jti": token_id,
            "authentication_event_id": grant_id,
            "scope": list(self.scopes if scopes is None else scopes),
        }
        return self._sign(claims)

    def _sign(self, claims: dict) -> str:
        header = {"alg": "HS256", "kid": "sandbox", "typ": "JWT"}
        signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        signature = hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest()
        return signing_input + "." + _b64url(signature)

    def _id_token(self, grant_id: str) -> str:
        """The OpenID Connect identity of the sandbox's one user (only when ``openid`` was asked)."""
        now = int(self.clock.time())
        return self._sign({
            "nbf": now, "iat": now, "exp": now + 300, "iss": self.issuer, "aud": self.client_id,
            "sub": _subject(self.user_id), "auth_time": now,
            "xero_userid": self.user_id, "global_session_id": grant_id.replace("-", ""),
            "preferred_username": "sandbox.user@example.com", "email": "sandbox.user@example.com",
            "given_name": "Sandbox", "family_name": "User",
        })

    def verify(self, token: str) -> AccessGrant:
        """The grant behind a bearer token, or TokenRejected with Xero's 401 detail."""
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenRejected("AuthenticationUnsuccessful")
        expected = hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
        try:
            valid_signature = hmac.compare_digest(expected, _b64url_decode(parts[2]))
            claims = json.loads(_b64url_decode(parts[1]))
        except (ValueError, TypeError):
            raise TokenRejected("AuthenticationUnsuccessful") from None
        if not valid_signature or not isinstance(claims, dict):
            raise TokenRejected("AuthenticationUnsuccessful")
        issued = self._issued.get(claims.get("jti", ""))
        if issued is None or issued.grant_id in self._revoked_grants:
            raise TokenRejected("AuthenticationUnsuccessful")
        expires_at = issued.expires_at
        if self.clock.time() >= expires_at or issued.serial <= self._invalid_up_to:
            raise TokenRejected(f"TokenExpired: token expired at {_http_date(expires_at)}")
        return AccessGrant(
            token_id=claims["jti"], client_id=claims.get("client_id", ""),
            scopes=frozenset(claims.get("scope") or ()), grant_id=issued.grant_id,
            tenant_id=issued.tenant_id, expires_at=expires_at,
        )

    def issue_refresh_token(self, scopes: list[str] | tuple[str, ...] | None = None) -> str:
        """A new refresh token with its own grant (tests that must not share the demo token's rotation)."""
        with self._lock:
            return self._new_refresh_token(str(uuid.uuid4()), tuple(self.scopes if scopes is None else scopes))

    def expire_all_access_tokens(self) -> int:
        """Fault: every access token issued so far answers TokenExpired from now on. Returns how many."""
        with self._lock:
            count = self._serial - self._invalid_up_to
            self._invalid_up_to = self._serial
        return count

    # -- /connect/token ------------------------------------------------------------------------------

    def _client_ok(self, form: dict[str, str], basic_auth: tuple[str, str] | None) -> bool:
        client_id, secret = basic_auth or (form.get("client_id", ""), form.get("client_secret", ""))
        return hmac.compare_digest(client_id, self.client_id) and hmac.compare_digest(secret, self.client_secret)

    def _public_client_ok(self, form: dict[str, str], basic_auth: tuple[str, str] | None) -> bool:
        """A PKCE app: client_id in the form and no secret at all. What it may do is checked per grant."""
        return (basic_auth is None and "client_secret" not in form
                and hmac.compare_digest(form.get("client_id", ""), self.client_id))

    def token(self, form: dict[str, str], basic_auth: tuple[str, str] | None) -> tuple[int, dict]:
        """POST /connect/token: authorization_code, refresh_token or client_credentials."""
        grant_type = form.get("grant_type", "")
        if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
            return 400, {"error": "unsupported_grant_type"}
        public = False
        if not self._client_ok(form, basic_auth):
            # Without a secret only a PKCE app's code (with its verifier) or refresh token will do.
            if grant_type == "client_credentials" or not self._public_client_ok(form, basic_auth):
                return 400, {"error": "invalid_client"}
            public = True
        if grant_type == "client_credentials":
            return self._client_credentials(form)
        if grant_type == "authorization_code":
            return self._authorization_code(form, public)
        return self._refresh_grant(form, public)

    def _token_response(self, scopes: tuple[str, ...], grant_id: str, tenant_id: str | None = None) -> dict:
        return {
            "access_token": self.issue_access_token(scopes, grant_id=grant_id, tenant_id=tenant_id),
            "expires_in": max(1, int(self.clock.real_seconds(ACCESS_TOKEN_LIFETIME))),  # real seconds, as exp
            "token_type": "Bearer",
            "scope": " ".join(scopes),
        }

    def _new_refresh_token(self, grant_id: str, scopes: tuple[str, ...], public: bool = False) -> str:
        token = secrets.token_urlsafe(32)
        self._refresh[token] = _RefreshToken(
            grant_id, self.client_id, scopes, last_used=self.clock.time(), public=public
        )
        return token

    def _client_credentials(self, form: dict[str, str]) -> tuple[int, dict]:
        # A Custom Connection holds the scopes chosen when it was set up: the configured ones by default.
        configured = tuple(s for s in self.scopes if s not in _NOT_GRANTABLE_TO_MACHINES)
        asked = tuple(form.get("scope", "").split()) or configured
        if not set(asked) <= KNOWN_SCOPES - _NOT_GRANTABLE_TO_MACHINES:
            return 400, {"error": "invalid_scope"}
        tenant = self.tenant_ids[0] if self.tenant_ids else None
        return 200, self._token_response(asked, str(uuid.uuid4()), tenant_id=tenant)

    def _authorization_code(self, form: dict[str, str], public: bool) -> tuple[int, dict]:
        with self._lock:
            code = self._codes.pop(form.get("code", ""), None)
        if code is None or code.expires_at <= self.clock.time():
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri", "") != code.redirect_uri:
            return 400, {"error": "invalid_grant"}
        if code.code_challenge is not None or public:
            verifier = form.get("code_verifier", "")
            expected = _b64url(hashlib.sha256(verifier.encode()).digest())
            if code.code_challenge is None or not verifier or not hmac.compare_digest(expected, code.code_challenge):
                return 400, {"error": "invalid_grant"}
        grant_id = str(uuid.uuid4())
        body = self._token_response(code.scopes, grant_id)
        if "openid" in code.scopes:
            body["id_token"] = self._id_token(grant_id)
        if "offline_access" in code.scopes:
            with self._lock:
                body["refresh_token"] = self._new_refresh_token(grant_id, code.scopes, public)
        return 200, body

    def _refresh_grant(self, form: dict[str, str], public: bool) -> tuple[int, dict]:
        now = self.clock.time()
        with self._lock:
            record = self._refresh.get(form.get("refresh_token", ""))
            if public and record is not None and not record.public:
                return 400, {"error": "invalid_client"}  # a confidential app's token needs its secret
            if (
                record is None
                or record.grant_id in self._revoked_grants
                or now - record.last_used > REFRESH_IDLE_LIFETIME
                or (record.superseded_at is not None and now - record.superseded_at > REFRESH_GRACE_SECONDS)
            ):
                return 400, {"error": "invalid_grant"}
            if record.superseded_at is None:
                record.superseded_at = now
            record.last_used = now
            new_token = self._new_refresh_token(record.grant_id, record.scopes, record.public)
        body = self._token_response(record.scopes, record.grant_id)
        body["refresh_token"] = new_token
        return 200, body

    # -- authorize, revocation, connections ----------------------------------------------------------

    def authorize(self, params: dict[str, str]) -> tuple[int, str]:
        """GET /identity/connect/authorize: auto-approve. Returns (302, location) or (400, error)."""
        if params.get("response_type") != "code":
            return 400, "unsupported_response_type"
        if params.get("client_id") != self.client_id:
            return 400, "unauthorized_client"
        redirect_uri = params.get("redirect_uri", "")
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            return 400, "invalid_request: redirect_uri"
        scopes = tuple(params.get("scope", "").split())
        if not scopes or not set(scopes) <= KNOWN_SCOPES:
            return 400, "invalid_scope"
        challenge = params.get("code_challenge") or None
        if challenge is not None and params.get("code_challenge_method") != "S256":
            return 400, "invalid_request: code_challenge_method must be S256"
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(
                self.client_id, redirect_uri, scopes, self.clock.time() + CODE_LIFETIME, challenge
            )
        query = {"code": code, "scope": " ".join(scopes)}
        if "state" in params:
            query["state"] = params["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return 302, redirect_uri + separator + urlencode(query)

    def revoke(self, form: dict[str, str], basic_auth: tuple[str, str] | None) -> tuple[int, dict]:
        """POST /connect/revocation: a refresh token's whole grant dies (its access tokens too)."""
        if not self._client_ok(form, basic_auth):
            return 400, {"error": "invalid_client"}
        with self._lock:
            record = self._refresh.get(form.get("token", ""))
            if record is not None:
                self._revoked_grants.add(record.grant_id)
        return 200, {}
