"""``tap-xero auth``: connect your own Xero app once, with the authorization-code flow.

    tap-xero auth --client-id ID [--client-secret SECRET] [--scopes "..."] [--port 8765]
                  [--identity-url URL] [--api-url URL] [--token-store-path FILE] [--no-browser]
                  [--token-store-url postgresql://... [--token-store-key NAME]]

1. builds the consent URL (Xero's login server, or ``<identity_url>/identity/connect/authorize``
   when identity_url is overridden, e.g. the sandbox) and opens it in a browser (``--no-browser``
   prints it instead);
2. listens on 127.0.0.1 for the redirect to ``http://localhost:<port>/callback`` (register that
   exact URI in your Xero app) and checks the ``state``;
3. exchanges the code (PKCE instead of a secret when no client secret is given);
4. lists the tenants the new connection reaches (GET /connections);
5. writes the token store (the file, or PostgreSQL with ``--token-store-url``; under the store's lock, so a
   run rotating the previous token meanwhile cannot overwrite the new connection), where the tap finds the
   refresh token on its next run.

The client secret and the store's URL can come from ``TAP_XERO_CLIENT_SECRET`` and ``TAP_XERO_TOKEN_STORE_URL``
instead of the command line (keeps them out of shell history). No token or password is ever printed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tap_xero.token_endpoint import TokenEndpointError, post_token_form, token_endpoint_failure
from tap_xero.errors import AuthError, ConfigError, TapXeroError, redact
from tap_xero.settings import DEFAULT_API_URL, DEFAULT_IDENTITY_URL, XeroSettings
from tap_xero.tenants import Tenant, fetch_connections
from tap_xero.auth import open_token_store
from tap_xero.token_store import StoredToken, token_fingerprint

DEFAULT_PORT = 8765
CALLBACK_PATH = "/callback"
# Read access to everything the tap syncs, in the granular model new Xero apps must use (March 2026+).
DEFAULT_SCOPES = (
    "offline_access accounting.invoices.read accounting.payments.read accounting.banktransactions.read "
    "accounting.manualjournals.read accounting.contacts.read accounting.settings.read accounting.journals.read "
    "accounting.budgets.read accounting.reports.balancesheet.read accounting.reports.profitandloss.read "
    "accounting.reports.trialbalance.read accounting.reports.banksummary.read "
    "accounting.reports.budgetsummary.read accounting.reports.executivesummary.read assets.read projects.read"
)
BROAD_SCOPES_HINT = (
    "offline_access accounting.transactions.read accounting.contacts.read accounting.settings.read "
    "accounting.reports.read accounting.journals.read accounting.budgets.read assets.read projects.read"
)


@dataclass
class AuthorizationResult:
    token_store_path: str
    tenants: list[Tenant]
    scope: str | None
    stored: StoredToken = field(repr=False)


class _CallbackServer(HTTPServer):
    """Receives exactly one redirect on /callback and keeps its query parameters."""

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _CallbackHandler)
        self.params: dict[str, str] | None = None
        self.received = threading.Event()


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _CallbackServer

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH or self.server.received.is_set():
            self.send_error(404)
            return
        self.server.params = {key: values[0] for key, values in parse_qs(parts.query).items()}
        ok = "code" in self.server.params
        page = (
            "<h1>tap-xero is connected</h1><p>You can close this window and go back to the terminal.</p>"
            if ok else "<h1>tap-xero was not connected</h1><p>See the terminal for what to do.</p>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)
        self.server.received.set()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
        return  # the query carries the authorization code: keep it out of the terminal


def consent_url(settings: XeroSettings, redirect_uri: str, scopes: str, state: str, code_challenge: str | None) -> str:
    query = {
        "response_type": "code",
        "client_id": settings.client_id or "",
        "redirect_uri": redirect_uri,
        "scope": scopes,
        "state": state,
    }
    if code_challenge:
        query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    return f"{settings.authorize_url}?{urlencode(query)}"


def _pkce_pair() -> tuple[str, str]:
    """(code verifier, S256 code challenge) for an app without a client secret (Xero's PKCE flow)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _exchange_code(settings: XeroSettings, code: str, redirect_uri: str, verifier: str | None) -> dict[str, Any]:
    """The authorization code exchanged for tokens at the token endpoint."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier:
        form["code_verifier"] = verifier
    try:
        return post_token_form(settings, form)
    except TokenEndpointError as exc:
        if exc.error == "invalid_grant":
            raise AuthError("Xero refused the authorization code (invalid_grant: expired or already used); "
                            "run `tap-xero auth` again.") from None
        raise token_endpoint_failure(settings, exc.error, "the authorization code") from None


def run_authorization(
    settings: XeroSettings,
    *,
    scopes: str = DEFAULT_SCOPES,
    port: int = DEFAULT_PORT,
    open_url: Callable[[str], Any],
    timeout: float = 300.0,
) -> AuthorizationResult:
    """The whole flow; ``open_url`` shows the consent URL to the user (a browser, or print)."""
    if not settings.client_id:
        raise ConfigError("client_id", "is missing", "pass --client-id from your app at developer.xero.com")
    if "offline_access" not in scopes.split():
        raise ConfigError("scopes", "offline_access is missing, so Xero would issue no refresh token",
                          "add offline_access to --scopes")
    verifier, challenge = _pkce_pair() if not settings.client_secret else (None, None)
    state = secrets.token_urlsafe(16)

    try:
        server = _CallbackServer(port)
    except OSError as exc:
        raise ConfigError("port", f"cannot listen on 127.0.0.1:{port} ({exc.strerror})",
                          "pass another --port (and register that redirect URI in your Xero app)") from None
    redirect_uri = f"http://localhost:{server.server_address[1]}{CALLBACK_PATH}"
    listener = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    listener.start()
    try:
        open_url(consent_url(settings, redirect_uri, scopes, state, challenge))
        if not server.received.wait(timeout):
            raise AuthError(f"No answer from Xero's consent page within {int(timeout)} s; run `tap-xero auth` again.")
        params = server.params or {}
    finally:
        server.shutdown()
        server.server_close()

    if params.get("state") != state:
        raise AuthError("The redirect carried the wrong state (not the request this helper made); run it again.")
    if "code" not in params:
        error = redact(params.get("error", "no code"))
        raise AuthError(f"Xero did not grant access ({error}). Run `tap-xero auth` again and approve the request.")

    payload = _exchange_code(settings, params["code"], redirect_uri, verifier)
    access_token, refresh_token = payload.get("access_token"), payload.get("refresh_token")
    if not access_token or not refresh_token:
        raise AuthError("Xero issued no refresh token; include offline_access in --scopes and run again.")

    tenants = fetch_connections(settings.connections_url, lambda: access_token, timeout=settings.request_timeout)
    store = open_token_store(settings)
    with store.locked():
        previous = store.load()
        lineage = [*previous.lineage, token_fingerprint(previous.refresh_token)] if previous else []
        stored = StoredToken(
            refresh_token=refresh_token,
            access_token=access_token,
            access_token_expires_at=time.time() + float(payload.get("expires_in") or 1800),
            scope=payload.get("scope"),
            saved_at=time.time(),
            lineage=lineage[-50:],  # an older configured refresh token must not win over this new connection
            tenants=[{"tenant_id": t.tenant_id, "name": t.name, "type": t.type} for t in tenants],
        )
        store.save(stored)
    return AuthorizationResult(store.path, tenants, payload.get("scope"), stored)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap-xero auth",
        description="Connect a Xero organisation to your own Xero app and save the refresh token for tap-xero.",
    )
    parser.add_argument("--client-id", default=os.environ.get("TAP_XERO_CLIENT_ID"),
                        help="your app's client id (default: $TAP_XERO_CLIENT_ID)")
    parser.add_argument("--client-secret", default=os.environ.get("TAP_XERO_CLIENT_SECRET"),
                        help="your app's client secret (default: $TAP_XERO_CLIENT_SECRET; omit for a PKCE app)")
    parser.add_argument("--scopes", default=DEFAULT_SCOPES,
                        help="space-separated scopes (default: granular read scopes + offline_access; apps from "
                             f"before March 2026 may use: {BROAD_SCOPES_HINT})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port of the redirect URI http://localhost:PORT{CALLBACK_PATH} (default {DEFAULT_PORT})")
    parser.add_argument("--identity-url", default=DEFAULT_IDENTITY_URL, help="identity server (default: Xero's)")
    parser.add_argument("--api-url", default=DEFAULT_API_URL, help="Accounting API base (for /connections)")
    parser.add_argument("--token-store-path", help="where to save the tokens (default: the tap's per-app path)")
    parser.add_argument("--token-store-url", default=os.environ.get("TAP_XERO_TOKEN_STORE_URL"),
                        help="save them in PostgreSQL instead, postgresql://... (default: $TAP_XERO_TOKEN_STORE_URL; "
                             "needs pip install 'tap-xero[postgres]')")
    parser.add_argument("--token-store-key", help="the connection's row in that store (default: a hash of the "
                                                  "client id)")
    parser.add_argument("--no-browser", action="store_true", help="print the consent URL instead of opening it")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for consent (default 300)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = XeroSettings.from_config({
            "client_id": args.client_id,
            "client_secret": args.client_secret,
            "identity_url": args.identity_url,
            "api_url": args.api_url,
            "token_store_path": args.token_store_path,
            "token_store_url": args.token_store_url,
            "token_store_key": args.token_store_key,
        })

        def open_url(url: str) -> None:
            print(f"Open this URL to connect Xero:\n{url}", flush=True)
            if not args.no_browser:
                webbrowser.open(url)

        result = run_authorization(settings, scopes=args.scopes, port=args.port, open_url=open_url,
                                   timeout=args.timeout)
    except TapXeroError as exc:
        print(f"tap-xero auth: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    where = "" if settings.token_store_url else " (mode 0600)"
    print(f"Saved the tokens to {result.token_store_path}{where}. Tenants this connection reaches:")
    for tenant in result.tenants:
        print(f"  {tenant.tenant_id}  {tenant.type or ''}  {tenant.name or ''}")
    store: dict[str, str] = {"token_store_path": result.token_store_path}
    if settings.token_store_url:  # never the URL itself: it may hold a password
        store = {"token_store_url": "<your token_store_url>"}
        if args.token_store_key:
            store["token_store_key"] = settings.token_store_key
    config = {"client_id": settings.client_id, "client_secret": "<your client secret>", **store,
              "tenant_ids": [tenant.tenant_id for tenant in result.tenants]}
    if settings.identity_url != DEFAULT_IDENTITY_URL:
        config |= {"identity_url": settings.identity_url, "api_url": settings.api_url}
    print("Config for the tap (no refresh_token needed: it is read from the token store):")
    print(json.dumps(config, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
