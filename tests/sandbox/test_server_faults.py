"""Each injected fault kind over real HTTP, plus how faults are targeted and specified."""

from __future__ import annotations

import json

import pytest
import requests

from xero_sandbox.core.faults import Fault, FaultInjector, parse_fault


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(scale=150, limits=False)


def test_error_burst_answers_n_times_then_recovers(sb, xero_session):
    session = xero_session(sb)
    sb.faults.add("error:status=502,count=2")
    answers = [session.api("Accounts") for _ in range(3)]
    assert [a.status_code for a in answers] == [502, 502, 200]
    assert answers[0].json()["Status"] == 502


def test_refuse_answers_as_xero_refuses_then_recovers(sb, xero_session):
    session = xero_session(sb)
    sb.faults.add("refuse:path=Invoices")  # 400 by default
    sb.faults.add("refuse:status=403,path=Contacts")
    refused = session.api("Invoices")
    assert refused.status_code == 400 and refused.json()["Type"] == "ValidationException"
    forbidden = session.api("Contacts")
    assert forbidden.status_code == 403 and forbidden.json()["Detail"] == "AuthenticationUnsuccessful"
    assert session.api("Invoices").status_code == 200
    with pytest.raises(ValueError, match="refuse fault"):
        parse_fault("refuse:status=502")


def test_maintenance_is_503_plain_text(sb, xero_session):
    sb.faults.add({"kind": "maintenance"})
    answer = xero_session(sb).api("Accounts")
    assert answer.status_code == 503
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert "offline for maintenance" in answer.text


def test_reset_closes_the_connection_without_an_answer(sb, xero_session):
    session = xero_session(sb)
    sb.faults.add(kind="reset")
    with pytest.raises(requests.ConnectionError):
        session.api("Accounts")
    assert session.api("Accounts").status_code == 200  # the next connection is fine


def test_slow_response_exceeds_the_client_timeout(sb, xero_session):
    session = xero_session(sb)
    sb.faults.add("slow:delay=1.0")
    with pytest.raises(requests.ReadTimeout):
        session.api("Accounts", timeout=0.3)


def test_truncated_json_body(sb, xero_session):
    sb.faults.add("truncate:path=Accounts")
    answer = xero_session(sb).api("Accounts")
    assert answer.status_code == 200
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)


def test_expire_tokens_mid_sync(sb, xero_session):
    session = xero_session(sb)
    sb.faults.add("expire_tokens:after=1")
    assert session.api("Accounts").status_code == 200
    expired = session.api("Accounts")
    assert expired.status_code == 401 and expired.json()["Detail"].startswith("TokenExpired")
    assert xero_session(sb).api("Accounts").status_code == 200  # a token issued afterwards works


def test_day_limit_reached_mid_sync(make_sandbox, xero_session):
    sb = make_sandbox(scale=20)  # limits on
    session = xero_session(sb)
    sb.faults.add({"kind": "day_limit", "after": 1, "tenant": sb.tenant_ids[0]})
    assert session.api("Accounts").status_code == 200
    refused = session.api("Accounts")
    assert (refused.status_code, refused.headers["X-Rate-Limit-Problem"]) == (429, "day")
    assert xero_session(sb, tenant_index=1).api("Accounts").status_code == 200


def test_record_modified_while_paging_touches_a_served_record(sb, xero_session):
    session = xero_session(sb)
    sb.faults.add("shift_page:path=Invoices,page=1")
    first_page = session.api("Invoices", params={"page": 1}).json()["Invoices"]
    touched_id = first_page[0]["InvoiceID"]
    after = session.api(f"Invoices/{touched_id}").json()["Invoices"][0]
    assert after["UpdatedDateUTC"] != first_page[0]["UpdatedDateUTC"]
    # Fired once: page 1 again changes nothing more.
    again = session.api("Invoices", params={"page": 1}).json()["Invoices"]
    assert session.api(f"Invoices/{again[0]['InvoiceID']}").json()["Invoices"][0]["UpdatedDateUTC"] == \
        again[0]["UpdatedDateUTC"]


def test_faults_target_path_and_tenant(sb, xero_session):
    sb.faults.add({"kind": "error", "path": "Invoices", "tenant": sb.tenant_ids[1], "count": 0})
    first, second = xero_session(sb), xero_session(sb, tenant_index=1)
    assert first.api("Invoices").status_code == 200
    assert second.api("Accounts").status_code == 200
    assert second.api("Invoices").status_code == 500
    assert second.api("Invoices").status_code == 500  # count=0: forever
    sb.faults.clear()
    assert second.api("Invoices").status_code == 200


def test_faults_can_target_the_token_endpoint(sb):
    sb.faults.add("error:path=connect/token,status=503")
    answer = requests.post(f"{sb.base_url}/connect/token", data={
        "grant_type": "refresh_token", "refresh_token": sb.refresh_token,
    }, auth=(sb.client_id, sb.client_secret), timeout=10)
    assert answer.status_code == 503


def test_after_lets_n_requests_through(sb, xero_session):
    session = xero_session(sb)
    sb.faults.add("error:after=2")
    assert [session.api("Accounts").status_code for _ in range(4)] == [200, 200, 500, 200]


def test_probability_is_reproducible_from_the_seed():
    def pattern() -> list[bool]:
        injector = FaultInjector(seed=7)
        injector.add("error:probability=0.5,count=0")
        return [bool(injector.fire(("error",), "api.xro/2.0/Invoices", None)) for _ in range(40)]

    first = pattern()
    assert first == pattern()
    assert 5 < sum(first) < 35


def test_faults_from_config_are_active_at_start(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, limits=False, faults=("maintenance:count=1",))
    session = xero_session(sb)
    assert [session.api("Accounts").status_code for _ in range(2)] == [503, 200]


def test_fault_specs_parse_and_reject_nonsense():
    fault = parse_fault("error:status=503,count=3,path=Invoices,after=2,probability=0.5")
    assert (fault.kind, fault.status, fault.count, fault.path, fault.after, fault.probability) == (
        "error", 503, 3, "Invoices", 2, 0.5)
    assert parse_fault({"kind": "slow", "delay": 2}) == Fault("slow", delay=2.0)
    for bad in ("explode", "error:status=200", "error:count", "slow:delay=x", "error:colour=red",
                "error:probability=2"):
        with pytest.raises(ValueError):
            parse_fault(bad)
