"""The sandbox under seeded random faults and concurrent load: every answer is one it means to give."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from xero_sandbox.core.faults import KINDS

PATHS = ("Invoices", "Contacts", "Accounts", "Journals", "Reports/TrialBalance", "Quotes")


@pytest.mark.faults
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_faults_only_give_the_injected_failures(make_sandbox, seed):
    sb = make_sandbox(scale=150, seed=seed, limits=False)
    for kind in KINDS:
        options = {"kind": kind, "count": 0, "probability": 0.08}
        if kind == "slow":
            options["delay"] = 0.05
        if kind == "day_limit":
            continue  # it would end every later call: covered on its own in test_server_faults
        sb.faults.add(options)
    rng = random.Random(seed)
    statuses: list[int | str] = []
    session = requests.Session()
    for _ in range(120):
        session.headers.update({"Authorization": f"Bearer {sb.issue_access_token()}",
                                "xero-tenant-id": rng.choice(sb.tenant_ids)})
        path = rng.choice(PATHS)
        params = {"offset": rng.randrange(0, 200)} if path == "Journals" else {"page": rng.randrange(1, 3)}
        try:
            answer = session.get(f"{sb.api_url}/{path}", params=params, timeout=10)
            if answer.status_code == 200:
                answer.json()  # raises on a truncated body
            statuses.append(answer.status_code)
        except requests.ConnectionError:
            statuses.append("reset")
            session = requests.Session()
        except ValueError:
            statuses.append("truncated")
    assert set(statuses) <= {200, 400, 401, 500, 503, "reset", "truncated"}  # 400: the refuse fault
    assert statuses.count(200) > 40
    assert requests.get(f"{sb.base_url}/_sandbox/errors", timeout=10).json() == []


@pytest.mark.load
def test_concurrent_reads_and_mutations_stay_consistent(make_sandbox):
    sb = make_sandbox(scale=500, limits=False)
    tenant = sb.tenant_ids[0]
    headers = {"Authorization": f"Bearer {sb.issue_access_token()}", "xero-tenant-id": tenant}
    stop = threading.Event()
    contacts = sb.store.counts()[tenant]["Contacts"]

    def mutate() -> int:
        session = requests.Session()
        done = 0
        page = session.get(f"{sb.api_url}/Contacts", params={"page": 1}, headers=headers, timeout=10).json()
        ids = [c["ContactID"] for c in page["Contacts"]]
        while not stop.is_set() and done < 200:
            answer = session.post(f"{sb.base_url}/_sandbox/mutations", timeout=10, json={
                "tenant_id": tenant, "envelope_key": "Contacts", "action": "touch", "record_id": ids[done % len(ids)]})
            assert answer.status_code == 200
            done += 1
        return done

    def read(_: int) -> int:
        session = requests.Session()
        seen = 0
        for page in range(1, 6):
            answer = session.get(f"{sb.api_url}/Invoices", params={"page": page, "pageSize": 100},
                                 headers=headers, timeout=30)
            assert answer.status_code == 200
            seen += len(answer.json()["Invoices"])
        listed = session.get(f"{sb.api_url}/Contacts", params={"page": 1, "pageSize": 1000},
                             headers=headers, timeout=30).json()["Contacts"]
        assert len({c["ContactID"] for c in listed}) == len(listed)
        return seen

    with ThreadPoolExecutor(max_workers=8) as pool:
        writer = pool.submit(mutate)
        seen = list(pool.map(read, range(16)))
        stop.set()
        assert writer.result() > 0
    assert seen == [500] * 16
    assert sb.store.counts()[tenant]["Contacts"] == contacts
    assert requests.get(f"{sb.base_url}/_sandbox/errors", timeout=10).json() == []
    assert sb.requests()["by_tenant"][tenant]["Invoices"] == 16 * 5
