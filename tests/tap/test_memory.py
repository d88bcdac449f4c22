"""memory.limit_malloc_arenas: glibc's arenas capped for a tap-xero run, the user's MALLOC_ARENA_MAX respected."""

from __future__ import annotations

import pytest

from tap_xero import memory, tap


def test_arenas_are_capped_on_glibc(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    if not memory._is_glibc():
        assert memory.limit_malloc_arenas() is False
        pytest.skip("not glibc: nothing to set")
    assert memory.limit_malloc_arenas() is True


def test_the_users_malloc_arena_max_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert memory.limit_malloc_arenas() is False


def test_the_console_command_caps_them_before_anything_else(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(tap, "limit_malloc_arenas", lambda: calls.append("capped"))
    with pytest.raises(SystemExit) as stopped:
        tap.TapXero.cli.main(["--about", "--format", "json"], prog_name="tap-xero")
    assert stopped.value.code in (0, None)
    assert calls == ["capped"]
    assert '"name": "tap-xero"' in capsys.readouterr().out
