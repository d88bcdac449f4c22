"""Rate limits over real HTTP: the X-*Limit-Remaining headers and every kind of 429, plus latency."""

from __future__ import annotations

import threading
import time

import requests

LIMIT_HEADERS = ("X-MinLimit-Remaining", "X-DayLimit-Remaining", "X-AppMinLimit-Remaining")


def test_every_response_carries_the_limit_headers(make_sandbox, xero_session):
    sb = make_sandbox(scale=20)
    session = xero_session(sb)
    answers = [
        session.api("Accounts"),  # 200
        session.api("NoSuchThing"),  # 404
        requests.get(f"{sb.api_url}/Accounts", timeout=10),  # 401
        requests.get(f"{sb.api_url}/Accounts", headers={"Authorization": session.headers["Authorization"]},
                     timeout=10),  # 403
        session.get(f"{sb.base_url}/connections", timeout=10),
        requests.post(f"{sb.base_url}/connect/token", data={"grant_type": "nope"}, timeout=10),
    ]
    assert [a.status_code for a in answers] == [200, 404, 401, 403, 200, 400]
    for answer in answers:
        assert all(name in answer.headers for name in LIMIT_HEADERS), answer.headers


def test_remaining_counts_down_per_call(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, minute_limit=10, day_limit=100, app_minute_limit=1000)
    session = xero_session(sb)
    first, second = session.api("Accounts"), session.api("Accounts")
    assert (first.headers["X-MinLimit-Remaining"], second.headers["X-MinLimit-Remaining"]) == ("9", "8")
    assert (first.headers["X-DayLimit-Remaining"], second.headers["X-DayLimit-Remaining"]) == ("99", "98")
    assert second.headers["X-AppMinLimit-Remaining"] == "998"


def test_minute_limit_gives_429_minute_then_resets_after_a_minute(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, minute_limit=3)
    session, other_tenant = xero_session(sb), xero_session(sb, tenant_index=1)
    assert [session.api("Accounts").status_code for _ in range(3)] == [200, 200, 200]
    refused = session.api("Accounts")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-MinLimit-Remaining"] == "0"
    assert other_tenant.api("Accounts").status_code == 200  # limits are per tenant
    sb.clock.advance(61)
    assert session.api("Accounts").status_code == 200


def test_day_limit_gives_429_day_with_a_long_retry_after(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, day_limit=2)
    session = xero_session(sb)
    assert [session.api("Accounts").status_code for _ in range(2)] == [200, 200]
    refused = session.api("Accounts")
    assert (refused.status_code, refused.headers["X-Rate-Limit-Problem"]) == (429, "day")
    assert int(refused.headers["Retry-After"]) > 3600
    assert refused.headers["X-DayLimit-Remaining"] == "0"
    sb.clock.advance(86401)
    assert xero_session(sb).api("Accounts").status_code == 200  # a new day (and a new token)


def test_concurrent_limit_gives_429_concurrent(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, concurrent_limit=2, latency_ms=400)
    session = xero_session(sb)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def call() -> None:
        answer = requests.get(f"{sb.api_url}/Accounts", headers=session.headers, timeout=10)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 2 and statuses.count(429) == 3
    assert {a.headers.get("X-Rate-Limit-Problem") for a in answers if a.status_code == 429} == {"concurrent"}


def test_app_minute_limit_spans_tenants(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, app_minute_limit=3)
    first, second = xero_session(sb), xero_session(sb, tenant_index=1)
    assert [first.api("Accounts").status_code, first.api("Accounts").status_code] == [200, 200]
    assert second.api("Accounts").status_code == 200
    refused = second.api("Accounts")
    assert (refused.status_code, refused.headers["X-Rate-Limit-Problem"]) == (429, "appminute")
    assert refused.headers["X-AppMinLimit-Remaining"] == "0"


def test_time_scale_shortens_the_minute(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, minute_limit=2, time_scale=60)  # a "minute" lasts one second
    session = xero_session(sb)
    assert [session.api("Accounts").status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(1.1)
    assert session.api("Accounts").status_code == 200


def test_limits_switched_off_never_refuse_and_show_full_allowances(make_sandbox, xero_session):
    """Switched off, the headers never run down: a client pacing itself on them is not slowed."""
    sb = make_sandbox(scale=20, limits=False, minute_limit=1, day_limit=1)
    session = xero_session(sb)
    answers = [session.api("Accounts") for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert answers[-1].headers["X-MinLimit-Remaining"] == "1"
    assert answers[-1].headers["X-DayLimit-Remaining"] == "1"


def test_latency_model_adds_base_and_per_record_time(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, limits=False, latency_ms=150)
    session = xero_session(sb)
    started = time.perf_counter()
    assert session.api("Accounts").status_code == 200
    assert time.perf_counter() - started >= 0.15
    sb.limiter.config.latency_ms = 0
    sb.limiter.config.per_record_ms = 5
    answer = session.api("Accounts")
    records = len(answer.json()["Accounts"])
    assert records > 0
    assert answer.elapsed.total_seconds() >= records * 0.005 * 0.9
