"""The /_sandbox/ control and introspection API over real HTTP, and its Python twins on Sandbox."""

from __future__ import annotations

import http.server
import threading
import time

import pytest
import requests

from tap_xero.endpoints import BY_COLLECTION, BY_ENVELOPE
from xero_sandbox import Query
from tap_xero.webhooks.signature import sign


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(scale=30, limits=False)


def _control(sb, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{sb.base_url}/_sandbox/{path}", timeout=10, **kwargs)


def test_counts_shape(sb):
    counts = _control(sb, "GET", "counts").json()
    assert set(counts) == set(sb.tenant_ids)
    for per_tenant in counts.values():
        assert per_tenant["Invoices"] == 30
        assert set(per_tenant) <= set(BY_ENVELOPE) | set(BY_COLLECTION) | {"CashJournals", "CashJournalLines"}
        assert {"Assets", "AssetTypes", "Projects", "ProjectUsers", "ProjectTasks", "ProjectTimeEntries"} <= set(
            per_tenant)
        assert all(isinstance(n, int) for n in per_tenant.values())
    assert counts == sb.counts()


def test_requests_counts_per_tenant_and_path(sb, xero_session):
    first, second = xero_session(sb), xero_session(sb, tenant_index=1)
    first.api("Invoices")
    first.api("Invoices")
    invoice_id = first.api("Invoices").json()["Invoices"][0]["InvoiceID"]
    first.api(f"Invoices/{invoice_id}")
    second.api("Reports/TrialBalance")
    first.get(f"{sb.base_url}/connections")
    requests.post(f"{sb.base_url}/connect/token", data={"grant_type": "x"}, timeout=10)
    counters = _control(sb, "GET", "requests").json()
    assert counters == {
        "total": 7,
        "by_tenant": {
            sb.tenant_ids[0]: {"Invoices": 3, "Invoices/{id}": 1},
            sb.tenant_ids[1]: {"Reports/TrialBalance": 1},
        },
        "token": 1,
        "connections": 1,
    }
    assert counters == sb.requests()
    assert _control(sb, "POST", "reset-counters").status_code == 200
    assert sb.requests() == {"total": 0, "by_tenant": {}, "token": 0, "connections": 0}


def test_log_lists_recent_requests_without_secrets(sb, xero_session):
    session = xero_session(sb)
    session.api("Invoices", params={"page": 2})
    session.api("Nope")
    requests.get(f"{sb.base_url}/identity/connect/authorize", params={"access_token": "s3cr3t"}, timeout=10)
    log = _control(sb, "GET", "log", params={"limit": 3}).json()
    assert [entry["status"] for entry in log] == [200, 404, 400]
    first = log[0]
    assert set(first) >= {"method", "path", "query", "tenant", "status", "ms"}
    assert (first["method"], first["path"], first["query"], first["tenant"]) == (
        "GET", "/api.xro/2.0/Invoices", "page=2", sb.tenant_ids[0])
    assert "s3cr3t" not in str(log)
    assert len(_control(sb, "GET", "log", params={"limit": 1}).json()) == 1


def test_faults_add_list_clear(sb, xero_session):
    added = _control(sb, "POST", "faults", json={"kind": "error", "status": 503, "count": 1, "path": "Accounts"})
    assert added.status_code == 201 and added.json()["kind"] == "error"
    assert [f["kind"] for f in _control(sb, "GET", "faults").json()] == ["error"]
    assert xero_session(sb).api("Accounts").status_code == 503
    assert _control(sb, "DELETE", "faults").status_code == 200
    assert _control(sb, "GET", "faults").json() == []
    bad = _control(sb, "POST", "faults", json={"kind": "explode"})
    assert bad.status_code == 400 and "unknown fault kind" in bad.json()["error"]


def test_mutations_update_void_archive_and_create(sb, xero_session):
    tenant = sb.tenant_ids[0]
    session = xero_session(sb)
    invoices = session.api("Invoices", params={"Statuses": "AUTHORISED"}).json()["Invoices"]
    target = invoices[0]
    answer = _control(sb, "POST", "mutations", json={
        "tenant_id": tenant, "envelope_key": "Invoices", "action": "update",
        "record_id": target["InvoiceID"], "fields": {"Reference": "changed by test"}})
    assert answer.status_code == 200
    served = session.api(f"Invoices/{target['InvoiceID']}").json()["Invoices"][0]
    assert served["Reference"] == "changed by test"
    assert served["UpdatedDateUTC"] != target["UpdatedDateUTC"]
    voided = _control(sb, "POST", "mutations", json={
        "tenant_id": tenant, "envelope_key": "Invoices", "action": "void", "record_id": target["InvoiceID"]})
    assert voided.json()["record"]["Status"] == "VOIDED"
    contact = session.api("Contacts").json()["Contacts"][0]
    archived = _control(sb, "POST", "mutations", json={
        "tenant_id": tenant, "envelope_key": "Contacts", "action": "archive", "record_id": contact["ContactID"]})
    assert archived.json()["record"]["ContactStatus"] == "ARCHIVED"
    before = sb.counts()[tenant]["Contacts"]
    created = _control(sb, "POST", "mutations", json={
        "tenant_id": tenant, "envelope_key": "Contacts", "action": "create", "fields": {"Name": "New Co"}})
    assert created.status_code == 200 and created.json()["record"]["ContactID"]
    assert sb.counts()[tenant]["Contacts"] == before + 1


def test_mutation_errors(sb):
    tenant = sb.tenant_ids[0]
    assert _control(sb, "POST", "mutations", json={"tenant_id": tenant, "envelope_key": "Invoices",
                                                    "action": "explode", "record_id": "x"}).status_code == 400
    assert _control(sb, "POST", "mutations", json={"tenant_id": "nobody", "envelope_key": "Invoices",
                                                    "action": "touch", "record_id": "x"}).status_code == 404
    assert _control(sb, "POST", "mutations", data="not json").status_code == 400


def test_clock_advance_and_speed(sb):
    before = _control(sb, "GET", "clock").json()
    after = _control(sb, "POST", "clock", json={"advance_seconds": 3600}).json()
    assert after["time"] - before["time"] >= 3600
    assert _control(sb, "POST", "clock", json={"speed": 10}).json()["speed"] == 10
    assert _control(sb, "POST", "clock", json={"advance_seconds": -5}).status_code == 400


def test_limits_can_be_changed_at_runtime(sb, xero_session):
    assert _control(sb, "POST", "limits", json={"enabled": True, "minute_limit": 1}).json()["minute_limit"] == 1
    session = xero_session(sb)
    assert [session.api("Accounts").status_code for _ in range(2)] == [200, 429]
    assert _control(sb, "POST", "limits", json={"colour": 1}).status_code == 400


def test_credentials(sb):
    body = _control(sb, "GET", "credentials").json()
    assert body["client_id"] == sb.client_id and body["client_secret"] == sb.client_secret
    assert body["refresh_token"] == sb.refresh_token
    assert body["api_url"] == sb.api_url and body["identity_url"] == sb.base_url
    assert body["tenant_ids"] == sb.tenant_ids


def test_tokens_issues_scoped_and_short_tokens(sb):
    tenant = sb.tenant_ids[0]
    body = _control(sb, "POST", "tokens", json={"scopes": ["accounting.contacts.read"], "expires_in": 60,
                                                 "refresh": True}).json()
    headers = {"Authorization": f"Bearer {body['access_token']}", "xero-tenant-id": tenant}
    assert requests.get(f"{sb.api_url}/Contacts", headers=headers, timeout=10).status_code == 200
    assert requests.get(f"{sb.api_url}/Invoices", headers=headers, timeout=10).status_code == 401
    refreshed = requests.post(f"{sb.base_url}/connect/token", timeout=10, auth=(sb.client_id, sb.client_secret),
                              data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    assert refreshed.json()["scope"] == "accounting.contacts.read"
    sb.clock.advance(61)
    assert requests.get(f"{sb.api_url}/Contacts", headers=headers, timeout=10).status_code == 401
    assert _control(sb, "POST", "tokens", json={"scopes": "all"}).status_code == 400


def test_unknown_control_path_is_404_and_the_index_lists_the_api(sb):
    assert _control(sb, "GET", "nothing-here").status_code == 404
    listed = " ".join(_control(sb, "GET", "").json()["endpoints"])
    assert all(word in listed for word in ("counts", "requests", "log", "faults", "mutations", "clock", "tokens"))


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append((self.headers.get("x-xero-signature", ""), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_webhook_control_configures_probes_and_sends(sb, receiver):
    assert _control(sb, "POST", "webhooks/send", json={"events": []}).status_code == 409  # not configured
    assert _control(sb, "POST", "webhooks", json={"url": receiver, "key": "k" * 20}).status_code == 200
    probe = _control(sb, "POST", "webhooks/intent-to-receive")
    assert probe.status_code == 200 and isinstance(probe.json(), dict)
    event = {"resourceUrl": f"{sb.api_url}/Invoices/x", "resourceId": "x", "eventDateUtc": "2026-01-01T00:00:00",
             "eventType": "UPDATE", "eventCategory": "INVOICE", "tenantId": sb.tenant_ids[0],
             "tenantType": "ORGANISATION"}
    sent = _control(sb, "POST", "webhooks/send", json={"events": [event], "repeat": 2})
    assert sent.status_code == 200 and sent.json()["statuses"] == [200, 200]
    assert any(b'"resourceId":"x"' in body.replace(b" ", b"") for _, body in _Receiver.received)
    assert isinstance(_control(sb, "GET", "webhooks").json(), dict)
    assert _control(sb, "DELETE", "webhooks").status_code == 200


def test_webhook_url_in_the_config_delivers_signed_events_for_mutations(make_sandbox, receiver):
    sb = make_sandbox(scale=30, limits=False, webhook_url=receiver, webhook_key="k" * 20)
    tenant = sb.tenant_ids[0]
    contact = sb.store.list(tenant, "Contacts", Query(page=1, page_size=1)).records[0]
    sb.mutate(tenant, "Contacts", "update", contact["ContactID"], {"Name": "Renamed by webhook test"})
    deadline = time.monotonic() + 10
    while not _Receiver.received and time.monotonic() < deadline:
        time.sleep(0.05)
    signature, body = _Receiver.received[0]
    assert signature == sign(body, "k" * 20)
    assert contact["ContactID"] in body.decode()
