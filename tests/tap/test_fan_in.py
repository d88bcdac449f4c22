"""sync/fan_in.py: every tenant of a stream read at once, deliveries written as they arrive, memory bounded."""

from __future__ import annotations

import threading
import time

import pytest

from tap_xero.sync.fan_in import DONE, Delivery, TenantFanIn, TenantRead, written_records


def numbered(tenant: str, n: int, pause: float = 0.0):
    def deliveries():
        for i in range(n):
            if pause:
                time.sleep(pause)
            yield Delivery(records=[{"tenant": tenant, "i": i}])
    return deliveries


def drain(fan_in: TenantFanIn) -> list[tuple[str, object]]:
    try:
        return list(fan_in)
    finally:
        fan_in.close()


def test_each_tenants_deliveries_arrive_in_their_order_interleaved_with_the_others():
    fan_in = TenantFanIn(max_readers=4)
    for t in "abcd":
        fan_in.add(t, numbered(t, 30, pause=0.001))
    items = drain(fan_in)
    for t in "abcd":
        mine = [item for tenant, item in items if tenant == t]
        assert [d.records[0]["i"] for d in mine[:-1]] == list(range(30))
        assert mine[-1] is DONE
    # Read at once, not one after another: the first tenant's DONE comes after other tenants' deliveries.
    first_done = next(i for i, (_, item) in enumerate(items) if item is DONE)
    assert len({tenant for tenant, _ in items[:first_done]}) > 1


def test_at_most_max_readers_read_at_once_and_every_tenant_is_read():
    active, peak, lock = 0, 0, threading.Lock()

    def reader(t):
        def deliveries():
            nonlocal active, peak
            with lock:
                active += 1
                peak = max(peak, active)
            try:
                for i in range(3):
                    time.sleep(0.005)
                    yield Delivery(records=[{"tenant": t, "i": i}])
            finally:
                with lock:
                    active -= 1
        return deliveries

    fan_in = TenantFanIn(max_readers=3)
    for n in range(12):
        fan_in.add(f"t{n}", reader(f"t{n}"))
    items = drain(fan_in)
    assert peak == 3
    assert {tenant for tenant, item in items if item is DONE} == {f"t{n}" for n in range(12)}


@pytest.mark.parametrize("tenants", [10, 200])
def test_records_held_do_not_grow_with_the_number_of_tenants(tenants):
    """A slow writer: readers run ahead only as far as the queue and one delivery each in hand allow."""
    made, written, peak_held, lock = 0, 0, 0, threading.Lock()
    per_delivery = 50

    def reader(t):
        def deliveries():
            nonlocal made
            for _ in range(5):
                with lock:
                    made += per_delivery
                yield Delivery(records=[{"tenant": t}] * per_delivery)
        return deliveries

    fan_in = TenantFanIn(max_readers=4, queued=3)
    for n in range(tenants):
        fan_in.add(f"t{n}", reader(f"t{n}"))
    try:
        for _, item in fan_in:
            if isinstance(item, Delivery):
                with lock:
                    peak_held = max(peak_held, made - written)
                    written += len(item.records)
                time.sleep(0.0005)
    finally:
        fan_in.close()
    assert written == tenants * 5 * per_delivery
    # queued deliveries + the one being handed over + one in each reader's hand
    assert peak_held <= (3 + 1 + 4) * per_delivery


def test_a_failure_is_that_tenants_last_item_and_the_others_go_on():
    def failing():
        yield Delivery(records=[{"i": 0}])
        raise ValueError("boom")

    fan_in = TenantFanIn(max_readers=2)
    fan_in.add("bad", failing)
    fan_in.add("good", numbered("good", 5))
    items = drain(fan_in)
    bad = [item for tenant, item in items if tenant == "bad"]
    assert isinstance(bad[0], Delivery) and isinstance(bad[-1], ValueError) and len(bad) == 2
    assert [item for tenant, item in items if tenant == "good"][-1] is DONE


def test_close_stops_every_reader_and_closes_its_generator():
    closed = threading.Event()

    def endless():
        try:
            while True:
                yield Delivery(records=[{}])
        finally:
            closed.set()

    fan_in = TenantFanIn(max_readers=2, queued=1)
    fan_in.add("a", endless)
    iterator = iter(fan_in)
    next(iterator)
    fan_in.close()
    assert closed.wait(5)
    for thread in fan_in._threads:
        thread.join(5)
        assert not thread.is_alive()


class Outcomes:
    def __init__(self, ends: type[Exception] | None = None) -> None:
        self.ends, self.completed_tenants, self.ended_tenants = ends, [], []

    def ended(self, tenant_id, state, write_state, exc):
        if self.ends is not None and isinstance(exc, self.ends):
            self.ended_tenants.append(tenant_id)
            return True
        return False

    def completed(self, tenant_id, state, write_state):
        self.completed_tenants.append(tenant_id)


def test_written_records_runs_after_once_its_records_are_written_and_ends_only_a_tenant_outcomes_end():
    log: list[str] = []

    def with_after(t):
        def deliveries():
            for i in range(3):
                yield Delivery(records=[{"t": t, "i": i}], after=lambda t=t, i=i: log.append(f"after {t}{i}"))
        return deliveries

    def stops():
        yield Delivery(records=[{"t": "s", "i": 0}], after=lambda: log.append("after s0"))
        raise LookupError("day limit")

    outcomes = Outcomes(ends=LookupError)
    reads = [TenantRead(t, {}, with_after(t)) for t in "ab"] + [TenantRead("s", {}, stops)]
    for record in written_records(reads, outcomes, lambda: None, lambda record, tenant: None, max_readers=3):
        log.append(f"record {record['t']}{record['i']}")
    for t, n in (("a", 3), ("b", 3), ("s", 1)):
        for i in range(n):
            assert log.index(f"record {t}{i}") < log.index(f"after {t}{i}")
            if i:
                assert log.index(f"after {t}{i - 1}") < log.index(f"record {t}{i}")
    assert sorted(outcomes.completed_tenants) == ["a", "b"] and outcomes.ended_tenants == ["s"]


def test_written_records_raises_what_outcomes_do_not_end_and_stops_the_readers():
    closed = threading.Event()

    def endless():
        try:
            while True:
                time.sleep(0.001)
                yield Delivery(records=[{"t": "e"}])
        finally:
            closed.set()

    def broken():
        yield Delivery(records=[{"t": "x"}])
        raise RuntimeError("unexpected")

    reads = [TenantRead("e", {}, endless), TenantRead("x", {}, broken)]
    with pytest.raises(RuntimeError, match="unexpected"):
        for _ in written_records(reads, Outcomes(), lambda: None, lambda record, tenant: None, max_readers=2):
            pass
    assert closed.wait(5)
