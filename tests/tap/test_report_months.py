"""Which report months a run reads (tap_xero/report_months.py): the rules, month by month."""

from __future__ import annotations

import datetime as dt

import pytest

from tap_xero.sync.report_months import (
    Evidence, MonthsRead, ReportPolicy, add_months, chunks, lock_month, months_between, plan,
)

M = dt.date
BALANCES = ReportPolicy(balances=True, from_postings=True, months_per_call=1)  # a trial balance
PERIOD = ReportPolicy(balances=False, from_postings=True, months_per_call=12)  # a profit and loss
BUDGET = ReportPolicy(balances=False, from_postings=False, months_per_call=12)  # a budget summary
NOW = "2026-12-01T15:00:00Z"
WINDOW = (M(2025, 1, 1), M(2026, 12, 1))  # 24 months


def settled(window=WINDOW, **fields) -> MonthsRead:
    """A coverage of ``window`` with nothing pending."""
    return MonthsRead(first=window[0], last=window[1], planned_at="2026-11-30T00:00:00Z", **fields)


def months(first: dt.date, last: dt.date) -> set[dt.date]:
    return set(months_between(first, last))


def test_a_first_read_reads_the_whole_window_and_keeps_its_baselines() -> None:
    planned = plan(MonthsRead(), window=WINDOW, policy=BALANCES, locked=M(2023, 12, 1),
                   evidence=Evidence(frozenset(), 500), reread_months=3, now_text=NOW)
    assert planned.pending == months(*WINDOW)
    assert (planned.first, planned.last) == WINDOW
    assert planned.locked_through == M(2023, 12, 1)
    assert planned.journal_number == 500 and planned.planned_at == NOW


def test_with_evidence_only_the_months_the_new_journals_touch_are_read_again() -> None:
    evidence = Evidence(frozenset({M(2026, 3, 1), M(2026, 7, 1)}), 520)
    period = plan(settled(journal_number=500), window=WINDOW, policy=PERIOD, locked=None, evidence=evidence,
                  reread_months=3, now_text=NOW)
    assert period.pending == {M(2026, 3, 1), M(2026, 7, 1)}  # a period report: exactly those months
    balances = plan(settled(journal_number=500), window=WINDOW, policy=BALANCES, locked=None, evidence=evidence,
                    reread_months=3, now_text=NOW)
    assert balances.pending == months(M(2026, 3, 1), M(2026, 12, 1))  # balances: every month from the earliest
    assert balances.journal_number == 520 and balances.planned_at == NOW


def test_nothing_changed_means_nothing_to_read() -> None:
    planned = plan(settled(journal_number=500), window=WINDOW, policy=BALANCES, locked=None,
                   evidence=Evidence(frozenset(), 500), reread_months=3, now_text=NOW)
    assert planned.pending == frozenset()


def test_a_posting_before_the_window_changes_every_balance_in_it() -> None:
    planned = plan(settled(journal_number=1), window=WINDOW, policy=BALANCES, locked=None,
                   evidence=Evidence(frozenset({M(2019, 5, 1)}), 2), reread_months=3, now_text=NOW)
    assert planned.pending == months(*WINDOW)


@pytest.mark.parametrize("lock_date, first_open", [
    (M(2026, 5, 31), M(2026, 6, 1)),  # a month-end lock locks that month
    (M(2026, 5, 30), M(2026, 5, 1)),  # a lock inside a month leaves that month open
    (M(2026, 6, 1), M(2026, 6, 1)),
])
def test_the_lock_date_boundary_month_before_and_after(lock_date, first_open) -> None:
    locked = lock_month(lock_date)
    evidence = Evidence(frozenset({M(2025, 2, 1)}), 9)  # a back-dated posting in a long-locked month
    planned = plan(settled(journal_number=8, locked_through=locked), window=WINDOW, policy=BALANCES,
                   locked=locked, evidence=evidence, reread_months=3, now_text=NOW)
    assert min(planned.pending) == first_open  # the month after the lock is read again, the one before is not
    assert add_months(first_open, -1) not in planned.pending


def test_without_evidence_the_latest_months_after_the_lock_are_read_again() -> None:
    no_lock = plan(settled(), window=WINDOW, policy=BALANCES, locked=None, evidence=None, reread_months=3,
                   now_text=NOW)
    assert no_lock.pending == {M(2026, 10, 1), M(2026, 11, 1), M(2026, 12, 1)}
    assert no_lock.planned_at == "2026-11-30T00:00:00Z"  # no evidence: the baseline does not move
    recent_lock = plan(settled(locked_through=M(2026, 10, 1)), window=WINDOW, policy=BALANCES,
                       locked=M(2026, 10, 1), evidence=None, reread_months=3, now_text=NOW)
    assert recent_lock.pending == {M(2026, 11, 1), M(2026, 12, 1)}
    wider = plan(settled(), window=WINDOW, policy=BALANCES, locked=None, evidence=None, reread_months=6,
                 now_text=NOW)
    assert wider.pending == months(M(2026, 7, 1), M(2026, 12, 1))  # the setting widens the window
    none = plan(settled(), window=WINDOW, policy=BALANCES, locked=None, evidence=None, reread_months=0,
                now_text=NOW)
    assert none.pending == frozenset()


def test_a_month_read_while_open_is_read_once_more_when_it_locks() -> None:
    before = settled(locked_through=M(2026, 3, 1))
    planned = plan(before, window=WINDOW, policy=BALANCES, locked=M(2026, 6, 1), evidence=None, reread_months=1,
                   now_text=NOW)
    assert planned.pending == months(M(2026, 4, 1), M(2026, 6, 1)) | {M(2026, 12, 1)}
    assert planned.locked_through == M(2026, 6, 1)
    again = plan(planned.read(planned.pending), window=WINDOW, policy=BALANCES, locked=M(2026, 6, 1),
                 evidence=None, reread_months=1, now_text=NOW)
    assert again.pending == {M(2026, 12, 1)}  # final now: not read again


def test_a_lock_date_moved_back_opens_the_months_again() -> None:
    before = settled(locked_through=M(2026, 9, 1), journal_number=3)
    planned = plan(before, window=WINDOW, policy=BALANCES, locked=M(2026, 3, 1),
                   evidence=Evidence(frozenset({M(2026, 5, 1)}), 4), reread_months=3, now_text=NOW)
    assert planned.pending == months(M(2026, 5, 1), M(2026, 12, 1))


def test_new_months_and_a_wider_window_are_read_and_pending_months_survive() -> None:
    before = MonthsRead(first=M(2025, 6, 1), last=M(2026, 10, 1), pending=frozenset({M(2025, 8, 1)}),
                        journal_number=7, planned_at=NOW)
    planned = plan(before, window=WINDOW, policy=PERIOD, locked=None, evidence=Evidence(frozenset(), 7),
                   reread_months=3, now_text=NOW)
    assert planned.pending == months(M(2025, 1, 1), M(2025, 5, 1)) | {M(2025, 8, 1)} | months(
        M(2026, 11, 1), M(2026, 12, 1))
    assert (planned.first, planned.last) == WINDOW


def test_a_narrower_window_drops_what_it_no_longer_asks_for() -> None:
    before = MonthsRead(first=M(2020, 1, 1), last=M(2026, 12, 1), pending=frozenset({M(2020, 5, 1)}),
                        journal_number=7, planned_at=NOW)
    planned = plan(before, window=WINDOW, policy=PERIOD, locked=None, evidence=Evidence(frozenset(), 7),
                   reread_months=3, now_text=NOW)
    assert planned.pending == frozenset()


def test_budgets_ignore_lock_dates_and_journals() -> None:
    planned = plan(settled(locked_through=M(2026, 11, 1)), window=WINDOW, policy=BUDGET, locked=M(2026, 11, 1),
                   evidence=None, reread_months=3, now_text=NOW)
    assert planned.pending == {M(2026, 10, 1), M(2026, 11, 1), M(2026, 12, 1)}
    assert planned.locked_through is None


def test_state_round_trip_and_garbage_reads_as_nothing() -> None:
    read = MonthsRead(first=M(2025, 1, 1), last=M(2026, 12, 1), pending=frozenset({M(2025, 3, 1)}),
                      locked_through=M(2024, 6, 1), journal_number=42, planned_at=NOW)
    assert MonthsRead.from_state(read.to_state()) == read
    for garbage in (None, "x", {"first": "2025-13"}, {"first": "2026-01", "last": "2025-01"}, []):
        assert MonthsRead.from_state(garbage) == MonthsRead()
    odd = MonthsRead.from_state({**read.to_state(), "pending": ["2019-01", "nope"], "journal_number": True})
    assert odd.pending == frozenset() and odd.journal_number is None


DEC_2026 = M(2026, 12, 1)


@pytest.mark.parametrize("pending, per_call, last, expected", [
    (months(M(2025, 1, 1), DEC_2026), 12, DEC_2026, [(M(2025, 1, 1), 12), (M(2026, 1, 1), 12)]),
    (months(M(2025, 1, 1), M(2026, 2, 1)), 12, M(2026, 2, 1), [(M(2025, 1, 1), 12), (M(2026, 1, 1), 2)]),
    ({M(2025, 3, 1), M(2025, 9, 1), M(2026, 4, 1)}, 12, DEC_2026, [(M(2025, 3, 1), 12), (M(2026, 4, 1), 9)]),
    ({M(2025, 3, 1), M(2025, 9, 1)}, 1, DEC_2026, [(M(2025, 3, 1), 1), (M(2025, 9, 1), 1)]),
    (set(), 12, DEC_2026, []),
])
def test_chunks_are_the_fewest_calls_never_past_the_last_month(pending, per_call, last, expected) -> None:
    calls = chunks(pending, months_per_call=per_call, last=last)
    assert [(call[0], len(call)) for call in calls] == expected
    assert set(pending) <= {month for call in calls for month in call}
