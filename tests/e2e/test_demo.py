"""The README's first command, scripts/demo.sh, run for real (a small sandbox, a temporary database)."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest

from .conftest import ROOT, SCHEMA

pytestmark = pytest.mark.e2e


def _run_demo(tmp_path, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MELTANO_", "TAP_XERO_", "TARGET_", "DBT_"))}
    env.update({
        "DEMO_SCALE": "60",
        "DEMO_DB": str(tmp_path / "demo.duckdb"),
        # Keep the demo's Meltano state out of the developer's .meltano/meltano.db.
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
    })
    env.update(env_overrides)
    return subprocess.run(["bash", "scripts/demo.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)


def _sandbox_port(output: str) -> int:
    return int(re.search(r"sandbox ready at http://127\.0\.0\.1:(\d+)", output).group(1))


def _port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def demo(meltano_ready, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """One successful demo run for the tests that read its output (each run takes a minute or two)."""
    workdir = tmp_path_factory.mktemp("demo")
    return _run_demo(workdir), workdir


def test_demo_runs_the_pipeline_and_prints_rows_per_table(demo):
    result, tmp_path = demo
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert f"The demo data is in {tmp_path / 'demo.duckdb'} (DuckDB, schema '{SCHEMA}')" in result.stdout
    rows = {m.group(1): int(m.group(2)) for m in re.finditer(r"^  (\w+)\s+(\d+)$", result.stdout, re.MULTILINE)}
    assert rows["invoices"] > 0 and rows["contacts"] > 0 and rows["invoice_line_items"] > 0
    assert rows["total"] == sum(n for name, n in rows.items() if name != "total")
    assert "sandbox stopped" in result.stderr
    assert _port_is_closed(_sandbox_port(result.stderr))
    # The sandbox's demo secret is handed over through the environment, never printed.
    assert "sandbox-demo-client-secret" not in output
    # The query it suggests works as printed.
    pattern = r"^  (\.meltano/loaders/target-duckdb/venv/bin/python -c .*)$"
    (suggested,) = re.findall(pattern, result.stdout, re.MULTILINE)
    queried = subprocess.run(suggested, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert queried.returncode == 0, queried.stderr[-2000:]
    assert re.search(r"\b5 rows\b", queried.stdout), queried.stdout[-2000:]


def _profit_and_loss_tables(stdout: str) -> dict[str, dict[str, list[float]]]:
    """{organisation: {line: the three months' figures}} from the demo's profit and loss tables."""
    tables: dict[str, dict[str, list[float]]] = {}
    current = None
    for line in stdout.splitlines():
        if re.fullmatch(r"  \S.*?(\s+[A-Z][a-z]{2} \d{4}){1,3}", line):
            current = tables.setdefault(re.split(r"\s{2,}", line.strip())[0], {})
        elif current is not None and (match := re.fullmatch(r"    (\S.*?)((?:\s+-?[\d,]+\.\d\d){1,3})", line)):
            current[match.group(1)] = [float(v.replace(",", "")) for v in match.group(2).split()]
    return tables


def test_demo_builds_the_models_and_prints_each_organisations_profit_and_loss(demo):
    result, tmp_path = demo
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    # `meltano run ... dbt-duckdb:build` built every model and passed every tie-out into the DuckDB file.
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0 SKIP=0", result.stderr), result.stderr[-3000:]
    assert re.search(r"PASS tie_out_profit_and_loss ", result.stderr)
    tables = _profit_and_loss_tables(result.stdout)
    assert len(tables) == 2, result.stdout[-3000:]  # DEMO_TENANTS organisations
    for organisation, lines in tables.items():
        assert list(lines) == ["Income", "Less Cost of Sales", "Gross Profit", "Plus Other Income",
                               "Less Operating Expenses", "Net Profit"], organisation
        assert all(len(figures) == 3 for figures in lines.values())
        for month in range(3):  # the table adds up as Xero's does
            income, costs, gross, other, expenses, net = (lines[name][month] for name in lines)
            assert round(income - costs, 2) == gross and round(gross + other - expenses, 2) == net
    chart = tmp_path / "profit_and_loss.svg"
    assert f"Chart of monthly revenue, expenses and net profit: {chart}" in result.stdout
    svg = ElementTree.parse(chart).getroot()
    panels = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text") if t.text and t.text.endswith("net profit")
              and ":" in t.text]
    assert sorted(p.split(":")[0] for p in panels) == sorted(tables)


def test_demo_stops_the_sandbox_when_the_pipeline_fails(meltano_ready, tmp_path):
    # An out-of-range setting makes the tap, and so `meltano run`, fail after the sandbox started.
    result = _run_demo(tmp_path, TAP_XERO_PAGE_SIZE="5000")
    assert result.returncode != 0
    assert "page_size" in result.stdout + result.stderr
    assert "sandbox stopped" in result.stderr
    assert _port_is_closed(_sandbox_port(result.stderr))


def test_demo_credentials_are_exported_shell_safely(tmp_path):
    ready = tmp_path / "ready.json"
    ready.write_text('{"base_url": "http://127.0.0.1:1", "client_id": "id", '
                     '"client_secret": "it\'s $HOME `x`", "refresh_token": "a b"}')
    script = (f'eval "$({shlex.quote(str(ROOT / ".venv" / "bin" / "python"))} scripts/demo_credentials.py '
              f'{shlex.quote(str(ready))})"; printf "%s|%s|%s" "$XERO_SANDBOX_URL" "$TAP_XERO_CLIENT_SECRET" '
              '"$TAP_XERO_REFRESH_TOKEN"')
    result = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "http://127.0.0.1:1|it's $HOME `x`|a b"
