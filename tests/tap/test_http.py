"""XeroClient over real HTTP against a stub server: retries, refresh-once, errors, exact decimals."""

from __future__ import annotations

import gc
import gzip
import itertools
import logging
import math
import threading
import time
from decimal import Decimal

import pytest

from tap_xero import errors
from tap_xero.http import XeroClient, decode_body

from tests.tap.stub_xero import StubAuth, StubXero, envelope

TENANT = "11111111-1111-1111-1111-111111111111"


def make_client(stub: StubXero, auth=None, **kw) -> XeroClient:
    kw.setdefault("timeout", 2.0)
    kw.setdefault("retry_base_seconds", 0.01)
    kw.setdefault("retry_max_wait_seconds", 0.05)
    kw.setdefault("max_retry_seconds", 5.0)
    return XeroClient(stub.url, auth or StubAuth(), logger=logging.getLogger("test"), **kw)


def sequence(*replies):
    """A handler answering with ``replies`` in turn, then repeating the last one."""
    it = itertools.chain(replies, itertools.repeat(replies[-1]))
    return lambda request: next(it)


OK = (200, {"Content-Type": "application/json"}, envelope("Invoices", [{"InvoiceID": "a", "Total": 1.10}]))


def test_ok_body_decoded_with_exact_decimals_and_headers_sent():
    with StubXero(sequence((200, {}, '{"Invoices": [{"Total": 0.1, "Qty": 3, "Big": 12345678901234567.89}]}'))) as stub:
        body = make_client(stub).get_json(TENANT, "Invoices", params={"page": 2}, headers={"If-Modified-Since": "x"})
    record = body["Invoices"][0]
    assert record["Total"] == Decimal("0.1") and isinstance(record["Total"], Decimal)
    assert record["Qty"] == 3 and isinstance(record["Qty"], int)
    assert record["Big"] == Decimal("12345678901234567.89")
    request = stub.requests[0]
    assert request.path == "Invoices" and request.query == {"page": "2"}
    assert request.headers["authorization"] == "Bearer token-1"
    assert request.headers["xero-tenant-id"] == TENANT
    assert request.headers["if-modified-since"] == "x"


@pytest.mark.parametrize(
    "fault",
    [
        (500, {}, '{"Message": "boom"}'),
        (503, {"Content-Type": "text/plain"}, "The Xero API is currently offline for maintenance"),
        (502, {}, "<html>bad gateway</html>"),
        (200, {"X-Stub-Truncate": "1"}, '{"Invoices": [{"Invo'),
        (200, {}, '{"Invoices": [{"Invo'),  # complete response, invalid JSON
        (200, {"X-Stub-Drop": "1"}, ""),  # connection closed without an answer
    ],
    ids=["500", "503-plain", "502-html", "truncated", "bad-json", "reset"],
)
def test_transient_faults_are_retried(fault):
    with StubXero(sequence(fault, fault, OK)) as stub:
        client = make_client(stub)
        body = client.get_json(TENANT, "Invoices")
    assert body["Invoices"][0]["InvoiceID"] == "a"
    assert len(stub.requests) == 3
    assert client.retries == 2


def test_timeouts_are_retried():
    calls = itertools.count()

    def slow_then_ok(request):
        if next(calls) == 0:
            time.sleep(0.6)
        return OK

    with StubXero(slow_then_ok) as stub:
        body = make_client(stub, timeout=0.3).get_json(TENANT, "Invoices")
    assert body["Invoices"] and len(stub.requests) == 2


def test_retries_stop_after_bounded_total_time():
    with StubXero(sequence((500, {}, "down"))) as stub:
        client = make_client(stub, max_retry_seconds=0.5)
        began = time.monotonic()
        with pytest.raises(errors.XeroApiError) as raised:
            client.get_json(TENANT, "Invoices")
    elapsed = time.monotonic() - began
    assert elapsed < 2.0
    assert len(stub.requests) >= 3
    assert "kept failing" in str(raised.value)


def test_401_refreshes_once_and_retries_with_the_new_token():
    unauthorized = (401, {}, {"Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired: token expired"})
    with StubXero(sequence(unauthorized, OK)) as stub:
        auth = StubAuth()
        body = make_client(stub, auth).get_json(TENANT, "Invoices")
    assert body["Invoices"]
    assert auth.refreshes == 1
    assert [r.headers["authorization"] for r in stub.requests] == ["Bearer token-1", "Bearer token-2"]


def test_a_token_refused_after_every_renewal_is_an_auth_error_without_the_token():
    unauthorized = (401, {}, {"Title": "Unauthorized", "Detail": "TokenExpired: Bearer token-4 expired"})
    with StubXero(sequence(unauthorized)) as stub:
        auth = StubAuth()
        with pytest.raises(errors.AuthError) as raised:
            make_client(stub, auth).get_json(TENANT, "Invoices")
    renewals = XeroClient.MAX_RENEWALS_PER_CALL
    assert auth.refreshes == renewals and len(stub.requests) == renewals + 1
    assert raised.value.status == 401
    assert raised.value.exit_code == errors.EXIT_AUTH
    assert "token-4" not in str(raised.value)


def test_a_token_expired_again_right_after_its_renewal_is_renewed_again():
    unauthorized = (401, {}, {"Title": "Unauthorized", "Detail": "TokenExpired: token expired"})
    with StubXero(sequence(unauthorized, unauthorized, OK)) as stub:
        auth = StubAuth()
        body = make_client(stub, auth).get_json(TENANT, "Invoices")
    assert body["Invoices"] and auth.refreshes == 2
    assert [r.headers["authorization"] for r in stub.requests] == ["Bearer token-1", "Bearer token-2", "Bearer token-3"]


def test_refresh_that_cannot_help_stops_at_once_and_never_claims_a_refresh():
    with StubXero(sequence((401, {}, {"Detail": "TokenExpired"}))) as stub:
        auth = StubAuth(refresh_ok=False)
        with pytest.raises(errors.AuthError) as raised:
            make_client(stub, auth).get_json(TENANT, "Invoices")
    assert len(stub.requests) == 1
    message = str(raised.value)
    assert "cannot be renewed" in message and "refresh token" in message
    assert "after" not in message.split("cannot be renewed")[0]  # no renewal claimed


def test_authorization_unsuccessful_is_not_a_token_problem():
    with StubXero(sequence((401, {}, {"Title": "Unauthorized", "Detail": "AuthorizationUnsuccessful"}))) as stub:
        auth = StubAuth()
        with pytest.raises(errors.AuthorizationUnsuccessful) as raised:
            make_client(stub, auth).get_json(TENANT, "Journals")
    assert auth.refreshes == 0 and raised.value.status == 401
    assert "scope" in str(raised.value) and "tier" in str(raised.value)


def test_the_call_budget_is_exact_per_tenant_even_with_concurrent_calls():
    with StubXero(sequence(OK)) as stub:
        client = make_client(stub, call_budget=7)
        other = "22222222-2222-2222-2222-222222222222"
        outcomes = []

        def call():
            try:
                client.get_json(TENANT, "Invoices")
                outcomes.append("ok")
            except errors.CallBudgetReached as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=call) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client.get_json(other, "Invoices")  # another organisation has its own budget
    assert outcomes.count("ok") == 7 and len(stub.requests) == 8
    refused = [o for o in outcomes if o != "ok"]
    assert len(refused) == 5 and all(r.exit_code == 75 and r.tenant_id == TENANT for r in refused)
    assert "call_budget" in str(refused[0]) and client.calls == 8


def test_no_call_starts_after_the_deadline_of_a_token_that_cannot_be_renewed():
    from tap_xero.run_guard import DEADLINE_SAFETY_SECONDS, RunGuard

    now = [1_000.0]
    guard = RunGuard(token_expires_at=lambda: 1_000.0 + 60 + DEADLINE_SAFETY_SECONDS + 10, call_seconds=60,
                     clock=lambda: now[0])
    with StubXero(sequence(OK)) as stub:
        client = make_client(stub, guard=guard)
        client.get_json(TENANT, "Invoices")  # ten seconds before the deadline
        now[0] += 10
        with pytest.raises(errors.TokenDeadlineReached) as raised:
            client.get_json(TENANT, "Invoices")
    assert len(stub.requests) == 1 and client.calls == 1
    assert raised.value.exit_code == 75 and "fresh token" in str(raised.value)


def test_a_stop_request_ends_a_call_waiting_for_the_minute_allowance():
    from tap_xero.run_guard import RunGuard

    guard = RunGuard()
    with StubXero(sequence(OK)) as stub:
        client = make_client(stub, guard=guard, per_minute_per_tenant=1)
        client.get_json(TENANT, "Invoices")
        threading.Timer(0.3, guard.request_stop, args=("SIGTERM",)).start()
        started = time.monotonic()
        with pytest.raises(errors.RunInterrupted) as raised:
            client.get_json(TENANT, "Invoices")  # would wait a minute for the next allowance
    assert time.monotonic() - started < 3
    assert len(stub.requests) == 1 and raised.value.exit_code == 143


def test_gzip_is_asked_for_and_the_bytes_on_the_wire_are_counted():
    payload = envelope("Invoices", [{"InvoiceID": str(n), "Reference": "x" * 50} for n in range(200)])
    import json as json_module

    raw = json_module.dumps(payload).encode()
    squeezed = gzip.compress(raw)
    with StubXero(sequence((200, {"Content-Encoding": "gzip"}, squeezed))) as stub:
        client = make_client(stub)
        body = client.get_json(TENANT, "Invoices")
    assert len(body["Invoices"]) == 200
    assert "gzip" in stub.requests[0].headers["accept-encoding"]
    assert client.progress.received_bytes[TENANT] == len(squeezed) < len(raw)


def test_400_carries_xeros_validation_messages():
    body = {
        "ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
        "Elements": [{"ValidationErrors": [{"Message": "Invoice not of valid status for modification"}]}],
    }
    with StubXero(sequence((400, {}, body))) as stub, pytest.raises(errors.XeroApiError) as raised:
        make_client(stub).get_json(TENANT, "Invoices")
    text = str(raised.value)
    assert "A validation exception occurred" in text
    assert "Invoice not of valid status for modification" in text
    assert raised.value.status == 400 and len(stub.requests) == 1


@pytest.mark.parametrize(("status", "words"), [(403, "not connected"), (404, "no such"), (410, "retired")])
def test_client_errors_are_clear_and_not_retried(status, words):
    with StubXero(sequence((status, {}, {"Title": "x"}))) as stub, pytest.raises(errors.XeroApiError) as raised:
        make_client(stub).get_json(TENANT, "Receipts")
    assert raised.value.status == status and words in str(raised.value)
    assert len(stub.requests) == 1


def test_minute_429_waits_retry_after_then_succeeds():
    limited = (429, {"Retry-After": "1", "X-Rate-Limit-Problem": "minute"}, "")
    with StubXero(sequence(limited, OK)) as stub:
        make_client(stub).get_json(TENANT, "Invoices")
    first, second = stub.requests
    assert 0.9 <= second.at - first.at < 2.5


def test_day_429_raises_day_limit_with_retry_after():
    limited = (429, {"Retry-After": "43200", "X-Rate-Limit-Problem": "day"}, "")
    with StubXero(sequence(limited)) as stub, pytest.raises(errors.DayLimitReached) as raised:
        make_client(stub).get_json(TENANT, "Invoices")
    assert raised.value.retry_after_seconds == 43200
    assert raised.value.exit_code == errors.EXIT_DAY_LIMIT
    assert len(stub.requests) == 1


def test_day_limit_remaining_zero_stops_before_the_next_call():
    spent = (200, {"X-DayLimit-Remaining": "0"}, envelope("Invoices", []))
    with StubXero(sequence(spent)) as stub:
        client = make_client(stub)
        client.get_json(TENANT, "Invoices")
        with pytest.raises(errors.DayLimitReached):
            client.get_json(TENANT, "Invoices")
    assert len(stub.requests) == 1
    assert client.limits.day_left[TENANT] == 0


# -- decoding and reading bodies (the hot path) ------------------------------------------------------

def test_decode_body_keeps_every_number_form_exact():
    body = b'{"A": 0.1, "B": 1E5, "C": -2.50, "D": 123456789012345678901234567890, "E": 1e400, "F": [1.10]}'
    data = decode_body(body)
    assert data == {"A": Decimal("0.1"), "B": Decimal("1E5"), "C": Decimal("-2.50"),
                    "D": 123456789012345678901234567890, "E": Decimal("1e400"), "F": [Decimal("1.10")]}
    assert str(data["C"]) == "-2.50" and str(data["F"][0]) == "1.10"  # trailing zeros kept, as Xero sent them
    assert type(data["D"]) is int


def test_decode_body_reads_what_the_stdlib_read_and_refuses_what_it_refused():
    # msgspec refuses a UTF-8 BOM and NaN; json.loads read both: both decode as they did before.
    assert decode_body(b'\xef\xbb\xbf{"Total": 1.5}') == {"Total": Decimal("1.5")}
    assert math.isnan(decode_body(b'{"Total": NaN}')["Total"])  # a float NaN, as json.loads gave
    for broken in (b'{"Invoices": [{"Invo', b"", b"<html>", b'{"a": 1} trailing'):
        with pytest.raises(ValueError):
            decode_body(broken)


def test_decode_body_leaves_the_garbage_collector_as_it_found_it():
    assert gc.isenabled()
    decode_body(b'{"a": [1.5]}')
    assert gc.isenabled()
    with pytest.raises(ValueError):
        decode_body(b'{"a": [1.')
    assert gc.isenabled()
    gc.disable()
    try:
        decode_body(b'{"a": [1.5]}')
        assert not gc.isenabled()  # someone else turned it off: not ours to turn on
    finally:
        gc.enable()


def test_gzip_bodies_are_read_whole_and_the_connection_is_kept_alive():
    connections = []  # the server serves each connection on a thread of its own

    def gzipped(request):
        connections.append(threading.current_thread())
        payload = b'{"Invoices": [{"InvoiceID": "a", "Total": 0.10}], "pad": "' + b"x" * 200_000 + b'"}'
        return 200, {"Content-Encoding": "gzip", "Content-Type": "application/json"}, gzip.compress(payload)

    with StubXero(gzipped) as stub:
        client = make_client(stub)
        bodies = [client.get_json(TENANT, "Invoices") for _ in range(3)]
    assert all(body["Invoices"][0]["Total"] == Decimal("0.10") for body in bodies)
    assert len(bodies[0]["pad"]) == 200_000
    assert len(set(map(id, connections))) == 1  # three calls, one connection


@pytest.mark.parametrize("broken", ["truncated", "corrupt"])
def test_broken_gzip_bodies_are_retried(broken):
    payload = gzip.compress(b'{"Invoices": [{"InvoiceID": "a"}]}' + b" " * 5000)
    fault = (
        (200, {"Content-Encoding": "gzip", "X-Stub-Truncate": "1"}, payload[: len(payload) // 2])
        if broken == "truncated"
        else (200, {"Content-Encoding": "gzip"}, payload[:10] + b"\x00" * 40 + payload[50:])
    )
    with StubXero(sequence(fault, OK)) as stub:
        client = make_client(stub)
        body = client.get_json(TENANT, "Invoices")
    assert body["Invoices"][0]["InvoiceID"] == "a"
    assert len(stub.requests) == 2 and client.retries == 1


def test_proxy_from_the_environment_is_still_used(monkeypatch):
    # Read once per session now, not per call: the call must still go through HTTP_PROXY.
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with StubXero(sequence(OK)) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url.split("/api.xro")[0])
        unreachable_api = "http://xero-api.invalid/api.xro/2.0"  # only the proxy can answer for it
        client = XeroClient(unreachable_api, StubAuth(), timeout=2.0, logger=logging.getLogger("test"),
                            max_retry_seconds=1.0, retry_base_seconds=0.01, retry_max_wait_seconds=0.05)
        body = client.get_json(TENANT, "Invoices")
    assert body["Invoices"][0]["InvoiceID"] == "a"
    assert [r.path for r in proxy.requests] == ["Invoices"]
