"""XeroClient: the one way the tap talks to Xero's Accounting API (and its Assets and Projects APIs).

    client = XeroClient(api_url, authenticator, timeout=60, max_concurrent_per_tenant=5, logger=log)
    body = client.get_json(tenant_id, "Invoices", params={"page": 1}, headers={"If-Modified-Since": ...})

What every call gets, in this order:

1. The limiter (``limits.Limits``): waits for one of the tenant's concurrent slots and for the tenant's and
   the app's minute allowance (proactive, from X-MinLimit-Remaining / X-AppMinLimit-Remaining, and with
   ``shared_app`` counted with the app's other processes: ``app_limiter_pg``); refuses a
   call when X-DayLimit-Remaining already said 0 (``errors.DayLimitReached``) or when the run's
   ``call_budget`` for the tenant is spent (``errors.CallBudgetReached``). While it waits, and right before
   the call is sent, the ``run_guard.RunGuard`` may stop the run (a stop request, or a token that cannot be
   renewed and would expire before the call could finish).
2. ``Authorization: Bearer`` from ``authenticator.bearer_token()`` and, when
   ``authenticator.sends_tenant_header``, ``xero-tenant-id``. A timeout on every request.
3. The answer:
   - 200: the body decoded with exact decimals (``decode_body``: msgspec, every JSON float a ``Decimal``).
   - 429 minute / app-minute / concurrent: the tenant (or app) pauses for Retry-After, then the call is
     made again (at most ``max_rate_limited`` times in a row).
   - 429 day (X-Rate-Limit-Problem: day, or a Retry-After over an hour): ``errors.DayLimitReached``.
   - 401: one ``authenticator.on_unauthorized(rejected_token)`` (a renewal, unless another thread just
     renewed) and one retry, for each 401, up to ``MAX_RENEWALS_PER_CALL`` for one call; beyond that, or
     when the token cannot be renewed (a platform token), ``errors.AuthError`` (with ``.status = 401``)
     whose message says which of the two happened. A run survives any number of expiries. A 401 whose
     detail is ``AuthorizationUnsuccessful`` (a missing scope, or an app tier without access: Journals
     need Xero's Advanced tier) is not a token problem: no refresh, ``errors.AuthorizationUnsuccessful``.
   - 5xx (503 maintenance in plain text too), 408, connection resets, timeouts, truncated or invalid JSON:
     retried with exponential backoff and full jitter (the ``backoff`` library) until ``max_retry_seconds``
     have passed since the first attempt; then ``errors.XeroApiError``.
   - 400: ``errors.XeroApiError`` carrying Xero's own validation messages.
   - 403, 404, 410 and the rest: ``errors.XeroApiError`` with a message that says what to do.

``path`` is below the Accounting base (``api_url``), or starts with another API's base
(``endpoints.OTHER_API_BASES``: ``assets.xro/1.0/Assets``), which is served beside it: ``api_url`` without its
``api.xro/2.0`` (its origin when it does not end so), so the sandbox or a proxy stands in for every API.

Every call asks for gzip (Xero bills egress by the GB above a tier's allowance); the bytes received on the
wire are counted per tenant for the progress lines and the summary.

Thread-safe: one ``requests.Session`` per thread (connection pooling without sharing a session across
threads). ``client.executor`` is the thread pool the page look-ahead runs on; the limiter, not the pool
size, is what bounds concurrency per tenant.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import urllib.parse
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, Protocol

import backoff
import msgspec
import requests
import urllib3

from tap_xero import errors
from tap_xero.endpoints import ACCOUNTING_API, OTHER_API_BASES
from tap_xero.limits import APP_PER_MINUTE, TENANT_CONCURRENCY, TENANT_PER_MINUTE, Limits, SharedAllowance
from tap_xero.progress import Progress
from tap_xero.run_guard import RunGuard

USER_AGENT = "tap-xero"
DAY_RETRY_AFTER_THRESHOLD = 3600  # a Retry-After longer than this is the day limit, whatever the header says


class Authenticator(Protocol):
    """What XeroClient needs from ``auth.XeroAuthenticator`` (duck-typed; tests use a stand-in)."""

    @property
    def sends_tenant_header(self) -> bool: ...

    def bearer_token(self) -> str: ...

    def on_unauthorized(self, rejected_token: str) -> bool: ...


class TransientError(Exception):
    """A failure that retrying can fix (5xx, reset, timeout, truncated body). Never leaves XeroClient."""


# Decoding Xero's pages is the tap's largest CPU cost: msgspec parses in C, and its float hook builds each
# amount as a Decimal straight from the JSON text (exact, like ``json.loads(parse_float=Decimal)``; integers
# stay int). One decoder for every thread (msgspec decoders are thread-safe).
_PAGE_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def decode_body(body: bytes) -> Any:  # noqa: ANN401 - a JSON document: any JSON value
    """A 200 body as Python values, amounts exact; ValueError when it is not (whole) JSON.

    The cyclic garbage collector is paused while a page decodes: a 1,000-invoice page allocates some
    100,000 dicts and lists, each allocation counting towards a collection that would walk the pages
    still held by the look-ahead (measured: decoding took 1.6x as long with five pages held). A decoded
    page has no reference cycles, so nothing is lost; collection resumes at the next allocation after.
    Threads decoding at once may re-enable it early (a slower decode, never a disabled collector: only a
    call that saw it enabled disables it, and that call enables it again).

    What msgspec refuses but the stdlib reads (a UTF-8 BOM, NaN, a lone surrogate escape) goes to
    ``json.loads`` with the same Decimal rule, so no body that decoded before fails now.
    """
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        return _PAGE_DECODER.decode(body)
    except msgspec.DecodeError:
        return json.loads(body, parse_float=Decimal)  # raises ValueError for a truncated or invalid body
    finally:
        if collecting:
            gc.enable()


def _xero_message(body: bytes) -> str:
    """Xero's own words from an error body: validation messages, problem detail, or the text itself."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500]
    if not isinstance(data, dict):
        return text[:500]
    parts: list[str] = []
    for key in ("Message", "Title", "Detail", "detail", "title", "message", "error"):
        value = data.get(key)
        if isinstance(value, str) and value and value not in parts:
            parts.append(value)
    for element in data.get("Elements") or ():
        for problem in (element or {}).get("ValidationErrors") or ():
            message = (problem or {}).get("Message")
            if message and message not in parts:
                parts.append(message)
    return ": ".join(parts) if parts else text[:500]


def _read_body(response: requests.Response) -> bytes:
    """The whole (decompressed) body of a ``stream=True`` response; TransientError if it breaks off.

    A complete read hands the connection back to the pool (keep-alive, as with ``.content``); a broken
    one is closed, never reused.
    """
    try:
        return response.raw.read(decode_content=True)
    except urllib3.exceptions.HTTPError as exc:  # truncated (IncompleteRead), reset, read timeout, bad gzip
        response.close()
        raise TransientError(f"connection broken mid-body ({type(exc).__name__})") from None


def _retry_after(headers: Mapping[str, str]) -> int | None:
    try:
        return max(int(float(headers["Retry-After"])), 0)
    except (KeyError, ValueError):
        return None


class AnswersAhead(Protocol):
    """What ``get_json`` asks of ``sync.calls_ahead.CallsAhead``: the answer of a call made ahead, or None."""

    def take(self, tenant_id: str, path: str, params: dict | None, headers: dict | None) -> dict | None: ...


def apis_root(api_url: str) -> str:
    """Where Xero's APIs sit side by side: ``api_url`` without its ``/api.xro/2.0``, else its origin."""
    api_url = api_url.rstrip("/")
    suffix = "/" + ACCOUNTING_API
    if api_url.endswith(suffix):
        return api_url.removesuffix(suffix)
    parts = urllib.parse.urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}"


class XeroClient:
    """The one HTTP mechanism: limiter, timeout, retries, refresh-on-401, errors. See the module docstring."""

    # Backoff between retries: full jitter over base * 2**n seconds, at most the max wait per retry.
    DEFAULT_RETRY_BASE_SECONDS = 1.0
    # Token renewals one call may trigger: each 401 renews once and retries, and a token refused again
    # right after its renewal (Xero expired or revoked it meanwhile) is renewed again, up to this bound.
    # A dead connection fails sooner: its renewal itself is refused (invalid_grant).
    MAX_RENEWALS_PER_CALL = 3
    DEFAULT_RETRY_MAX_WAIT_SECONDS = 30.0

    def __init__(
        self,
        api_url: str,
        authenticator: Authenticator,
        *,
        timeout: float = 60.0,
        max_concurrent_per_tenant: int = TENANT_CONCURRENCY,
        logger: logging.Logger | None = None,
        per_minute_per_tenant: int = TENANT_PER_MINUTE,
        app_per_minute: int = APP_PER_MINUTE,
        max_retry_seconds: float = 300.0,
        retry_base_seconds: float | None = None,
        retry_max_wait_seconds: float | None = None,
        max_rate_limited: int = 20,
        max_workers: int = 64,
        reader_threads: int = 48,
        limits: Limits | None = None,
        guard: RunGuard | None = None,
        call_budget: int | None = None,
        shared_app: SharedAllowance | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.apis_root = apis_root(self.api_url)
        self.authenticator = authenticator
        self.timeout = timeout
        self.logger = logger or logging.getLogger("tap_xero.http")
        self.max_concurrent_per_tenant = max_concurrent_per_tenant
        self.max_retry_seconds = max_retry_seconds
        self.max_rate_limited = max_rate_limited
        self.max_workers = max_workers
        self.reader_threads = reader_threads  # organisations read at once (the tap passes fan_in.MAX_READERS)
        self.guard = guard or RunGuard(call_seconds=timeout)
        self.limits = limits or Limits(
            max_concurrent_per_tenant=max_concurrent_per_tenant,
            per_minute_per_tenant=per_minute_per_tenant,
            app_per_minute=app_per_minute,
            call_budget=call_budget,
            before_call=self.guard.check,
            shared_app=shared_app,
        )
        self.progress = Progress(self.limits)
        self.retries = 0  # transient failures retried, for the summary
        self.sessions_opened = 0  # one per thread that called Xero (each keeps its connections)
        # Answers of calls made ahead for the streams to come (sync/calls_ahead.py); set by the tap for a run.
        self.calls_ahead: AnswersAhead | None = None
        self._local = threading.local()
        self._executor: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        self._get_with_retries = backoff.on_exception(
            backoff.expo,
            TransientError,
            max_time=max_retry_seconds,
            factor=self.DEFAULT_RETRY_BASE_SECONDS if retry_base_seconds is None else retry_base_seconds,
            max_value=self.DEFAULT_RETRY_MAX_WAIT_SECONDS if retry_max_wait_seconds is None else retry_max_wait_seconds,
            jitter=backoff.full_jitter,
            on_backoff=self._log_backoff,
            raise_on_giveup=True,
            logger=None,
        )(self._get_once)

    # -- public -------------------------------------------------------------------------------------

    def get_json(
        self,
        tenant_id: str,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict:
        """GET ``path`` (below the API base) for ``tenant_id``; the decoded body. Raises ``errors.*``.

        A call the tap made ahead (``calls_ahead``) is answered from there: the same call, made earlier."""
        ahead = self.calls_ahead
        if ahead is not None:
            answer = ahead.take(tenant_id, path, params, headers)
            if answer is not None:
                return answer
        return self.call(tenant_id, path, params, headers)

    def call(
        self,
        tenant_id: str,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict:
        """``get_json`` made now, whatever was made ahead."""
        try:
            return self._get_with_retries(tenant_id, path, params, headers)
        except TransientError as exc:
            raise errors.XeroApiError(
                f"Xero kept failing for {self.max_retry_seconds:.0f} s ({exc}); giving up. "
                "Xero may be in maintenance: run the tap again later, it resumes from its state",
                path=path,
            ) from None

    def url(self, path: str) -> str:
        """The URL of ``path`` (module docstring)."""
        path = path.lstrip("/")
        return f"{self.apis_root}/{path}" if path.startswith(OTHER_API_BASES) else f"{self.api_url}/{path}"

    @property
    def executor(self) -> ThreadPoolExecutor:
        """Threads for page look-ahead (created on first use)."""
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix="xero-page")
            return self._executor

    @property
    def readers(self) -> ThreadPoolExecutor:
        """Threads that each read one organisation's collection (sync/fan_in.py); long-lived, so each keeps
        its connections to Xero from one stream to the next (created on first use)."""
        with self._executor_lock:
            if self._readers is None:
                self._readers = ThreadPoolExecutor(self.reader_threads, thread_name_prefix="xero-tenant")
            return self._readers

    def close(self) -> None:
        with self._executor_lock:
            for pool in (self._executor, self._readers):
                if pool is not None:
                    pool.shutdown(wait=False, cancel_futures=True)
            self._executor = self._readers = None

    @property
    def calls(self) -> int:
        """API calls made so far, all tenants."""
        return sum(self.limits.calls.values())

    # -- one attempt --------------------------------------------------------------------------------

    def _thread_session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            self.sessions_opened += 1
            session = self._local.session = new_session(self.api_url)
        return session

    def _log_backoff(self, details: Mapping[str, Any]) -> None:
        self.retries += 1
        exc = details.get("exception")
        self.logger.warning(
            "Xero call to %s failed (%s); retry %d in %.1f s",
            details["args"][1], exc, details["tries"], details["wait"],
        )

    def _get_once(self, tenant_id: str, path: str, params: dict | None, headers: dict | None) -> dict:
        """One logical attempt: waits out minute 429s and renews on 401 (bounded); raises TransientError."""
        url = self.url(path)
        renewals = rate_limited = 0
        while True:
            token = self.authenticator.bearer_token()
            response, body = self._send(tenant_id, url, params, headers, token)
            status = response.status_code
            if status == 200:
                try:
                    return decode_body(body)
                except ValueError:  # msgspec.DecodeError and json.JSONDecodeError are both ValueErrors
                    raise TransientError("truncated or invalid JSON body") from None
            if status == 429:
                rate_limited += 1
                self._wait_out_429(tenant_id, path, response.headers, rate_limited)
                continue
            if status == 401:
                detail = _xero_message(body)
                if "AuthorizationUnsuccessful" in detail:
                    raise errors.AuthorizationUnsuccessful(
                        "Xero says the connection may not read this (AuthorizationUnsuccessful): the token lacks "
                        "the scope, or the app's Xero pricing tier does not include it",
                        status=401, path=path,
                    )
                if renewals < self.MAX_RENEWALS_PER_CALL and self.authenticator.on_unauthorized(token):
                    renewals += 1
                    continue
                raise token_refused(detail, renewals)
            if status >= 500 or status == 408:
                raise TransientError(f"HTTP {status}: {errors.redact(_xero_message(body))[:200]}")
            raise api_error(status, tenant_id, path, body)

    def _send(self, tenant_id: str, url: str, params: dict | None, headers: dict | None,
              token: str) -> tuple[requests.Response, bytes]:
        """One request within the tenant's allowance: (response, its whole decompressed body)."""
        request_headers = {"Authorization": f"Bearer {token}"}
        if self.authenticator.sends_tenant_header:
            request_headers["xero-tenant-id"] = tenant_id
        if headers:
            request_headers.update(headers)
        with self.limits.slot(tenant_id):
            try:
                # stream=True, then the whole body in one read: requests' own ``.content`` reads (and
                # gunzips) it 10 KB at a time, a fifth of the CPU of a 1,000-invoice page.
                response = self._thread_session().get(
                    url, params=params, headers=request_headers, timeout=self.timeout, stream=True
                )
                body = _read_body(response)
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise TransientError(type(exc).__name__) from None
        self.progress.add_bytes(tenant_id, response.raw.tell() or len(body))
        self.limits.observe(tenant_id, response.headers)
        return response, body

    def _wait_out_429(self, tenant_id: str, path: str, headers: Mapping[str, str], rate_limited: int) -> None:
        """A 429: the day limit ends the tenant's run; a minute or app limit is waited out (bounded)."""
        problem = headers.get("X-Rate-Limit-Problem", "").lower()
        retry_after = _retry_after(headers)
        if problem == "day" or (retry_after or 0) > DAY_RETRY_AFTER_THRESHOLD:
            self.limits.day_spent(tenant_id)
            raise errors.DayLimitReached(tenant_id, retry_after)
        if rate_limited > self.max_rate_limited:
            raise errors.XeroApiError(
                f"Xero rate-limited {rate_limited} calls in a row ({problem or 'no reason given'}); "
                "another process may be using this app's allowance",
                status=429, path=path,
            )
        wait = retry_after if retry_after is not None else 60
        self.logger.warning(
            "Xero %s rate limit for tenant %s: waiting %d s (Retry-After)", problem or "minute", tenant_id, wait
        )
        self.limits.pause(tenant_id, wait, app_wide=problem.startswith("app"))


def new_session(api_url: str) -> requests.Session:
    """A session for one thread's calls to ``api_url``, with the environment's proxy and CA bundle.

    They are read once for the API's host: requests would otherwise scan os.environ and look for ~/.netrc on
    every call (a third of its own CPU per call). A .netrc entry is never wanted here: it would replace the
    Bearer header."""
    session = requests.Session()
    session.headers.update({"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "User-Agent": USER_AGENT})
    settings = session.merge_environment_settings(api_url, {}, None, None, None)
    session.trust_env = False
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"]
    session.cert = settings["cert"]
    return session


def token_refused(detail: str, renewals: int) -> errors.AuthError:
    """The 401 that ends a run: say whether the token was renewed, never claim a renewal that did not happen."""
    if renewals:
        message = (
            f"Xero rejected the access token ({errors.redact(detail)}) even after {renewals} renewal(s): "
            "reconnect the Xero connection or renew the credentials"
        )
    else:
        message = (
            f"Xero rejected the access token ({errors.redact(detail)}) and it cannot be renewed: there is no "
            "refresh token (a platform's access token). Start the run with a fresh token, or configure "
            "refresh_token with client_id and client_secret"
        )
    error = errors.AuthError(message)
    error.status = 401  # type: ignore[attr-defined]
    return error


def api_error(status: int, tenant_id: str, path: str, body: bytes) -> errors.XeroApiError:
    detail = _xero_message(body)
    if status == 400:
        message = f"Xero rejected the request: {detail}"
    elif status == 403:
        message = (
            f"Xero refused access to tenant {tenant_id} ({detail or 'Forbidden'}): the organisation is not "
            "connected to this app any more; reconnect it or remove it from tenant_ids"
        )
    elif status == 404:
        message = f"Xero has no such resource ({detail or 'Not Found'})"
    elif status == 410:
        message = f"Xero has retired this resource ({detail or 'Gone'})"
    else:
        message = f"Xero answered HTTP {status}: {detail}"
    return errors.XeroApiError(message, status=status, path=path)
