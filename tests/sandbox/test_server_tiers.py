"""Xero's pricing tiers over real HTTP: Journals only on Advanced, Starter's 1,000 calls a day, live changes."""

from __future__ import annotations

import pytest
import requests

from xero_sandbox.cli import build_parser, config_from_args
from xero_sandbox import Query

JOURNALS_SCOPES = ["accounting.journals.read", "accounting.transactions.read"]


def _control(sb, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{sb.base_url}/_sandbox/{path}", timeout=10, **kwargs)


def _journal_calls(session) -> list[requests.Response]:
    sb = session.sandbox
    journal_id = sb.store.list(sb.tenant_ids[0], "Journals", Query(offset=0)).records[0]["JournalID"]
    return [session.api("Journals"), session.api("Journals", params={"paymentsOnly": "true"}),
            session.api("Journals", params={"offset": 5}), session.api(f"Journals/{journal_id}")]


def _assert_authorization_unsuccessful(answer: requests.Response) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    body = answer.json()
    assert (body["Title"], body["Status"], body["Detail"]) == ("Unauthorized", 401, "AuthorizationUnsuccessful")


@pytest.mark.parametrize("tier", ["starter", "core", "plus"])
def test_below_advanced_every_journals_read_is_401_authorization_unsuccessful(make_sandbox, xero_session, tier):
    sb = make_sandbox(scale=20, limits=False, tier=tier)
    session = xero_session(sb, scopes=JOURNALS_SCOPES)  # the scope is granted: the tier refuses
    for answer in _journal_calls(session):
        _assert_authorization_unsuccessful(answer)
    assert session.api("Invoices").status_code == 200  # only Journals are gated
    missing_scope = xero_session(sb, scopes=["accounting.transactions.read"]).api("Journals")
    assert missing_scope.json()["Detail"] == "AuthorizationUnsuccessful"  # the same shape as a missing scope


def test_advanced_is_the_default_and_serves_journals(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, limits=False)
    assert sb.config.tier == "advanced"
    answers = _journal_calls(xero_session(sb, scopes=JOURNALS_SCOPES))
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert _control(sb, "GET", "credentials").json()["tier"] == "advanced"
    limits = _control(sb, "GET", "limits").json()
    assert (limits["tier"], limits["day_limit"], limits["day_limit_source"]) == ("advanced", 5000, "tier")


def test_starter_allows_1000_calls_a_day_and_an_explicit_day_limit_wins(make_sandbox, xero_session):
    starter = make_sandbox(scale=20, tier="starter")
    assert xero_session(starter).api("Accounts").headers["X-DayLimit-Remaining"] == "999"
    limits = _control(starter, "GET", "limits").json()
    assert (limits["day_limit"], limits["day_limit_source"]) == (1000, "tier")
    explicit = make_sandbox(scale=20, tier="starter", day_limit=40)
    assert xero_session(explicit).api("Accounts").headers["X-DayLimit-Remaining"] == "39"
    assert _control(explicit, "GET", "limits").json()["day_limit_source"] == "explicit"
    core = make_sandbox(scale=20, tier="core")
    assert xero_session(core).api("Accounts").headers["X-DayLimit-Remaining"] == "4999"


def test_the_tier_changes_while_running_by_control_call_and_in_python(make_sandbox, xero_session):
    sb = make_sandbox(scale=20)
    session = xero_session(sb, scopes=JOURNALS_SCOPES)
    assert session.api("Journals").status_code == 200
    changed = _control(sb, "POST", "limits", json={"tier": "Core"})
    assert changed.status_code == 200 and changed.json()["tier"] == "core"
    assert _control(sb, "GET", "credentials").json()["tier"] == "core"
    _assert_authorization_unsuccessful(session.api("Journals"))
    sb.set_tier("starter")
    answer = session.api("Accounts")
    assert int(answer.headers["X-DayLimit-Remaining"]) == 1000 - 3  # every call so far counted
    _control(sb, "POST", "limits", json={"day_limit": 10})
    assert session.api("Accounts").headers["X-DayLimit-Remaining"] == str(10 - 4)
    back = _control(sb, "POST", "limits", json={"day_limit": None, "tier": "advanced"}).json()
    assert (back["day_limit"], back["day_limit_source"], back["tier"]) == (5000, "tier", "advanced")
    assert session.api("Journals").status_code == 200


def test_a_bad_tier_is_refused(make_sandbox):
    sb = make_sandbox(scale=20)
    answer = _control(sb, "POST", "limits", json={"tier": "gold"})
    assert answer.status_code == 400 and "starter" in answer.json()["error"]
    with pytest.raises(ValueError):
        sb.set_tier("enterprise-ish")
    assert sb.app.limiter.config.tier == "advanced"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--tier", "gold"])


def test_the_tier_flag_maps_to_the_config():
    assert config_from_args(build_parser().parse_args(["serve", "--tier", "STARTER"])).tier == "starter"
    default = config_from_args(build_parser().parse_args(["serve"]))
    assert (default.tier, default.day_limit) == ("advanced", None)


def test_a_gated_answer_counts_against_the_minute_and_day_allowances(make_sandbox, xero_session):
    sb = make_sandbox(scale=20, tier="plus", minute_limit=2, day_limit=100)
    session = xero_session(sb, scopes=JOURNALS_SCOPES)
    gated = session.api("Journals")
    _assert_authorization_unsuccessful(gated)
    assert (gated.headers["X-MinLimit-Remaining"], gated.headers["X-DayLimit-Remaining"]) == ("1", "99")
    assert session.api("Journals").status_code == 401
    assert session.api("Journals").status_code == 429  # the minute is spent on refused Journals calls
    assert sb.requests()["by_tenant"][sb.tenant_ids[0]]["Journals"] == 3
