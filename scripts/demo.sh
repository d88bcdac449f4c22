#!/usr/bin/env bash
# The README's first command: set everything up and run the demo pipeline end to end.
#
#   bash scripts/demo.sh
#
# Needs only Python 3.10+ and PyPI. Creates .venv (the tap) and .venv-meltano (Meltano), installs the
# Meltano plugins, starts the local Xero sandbox on a free port, runs
#   meltano --environment=sandbox run --full-refresh tap-xero target-duckdb dbt-duckdb:build
# (load, then build the models of transform/ and run their tie-out tests), stops the sandbox (also on
# failure or Ctrl-C) and prints where the data is, with rows per table, and each organisation's profit
# and loss for its last three months (with a chart, profit_and_loss.svg, beside the database).
# Environment: DEMO_SCALE (invoices per organisation, default 1000), DEMO_TENANTS (default 2),
# DEMO_SEED (default 1), DEMO_DB (default output/xero.duckdb).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/demo_setup.sh"

DEMO_SCALE="${DEMO_SCALE:-1000}"
DEMO_TENANTS="${DEMO_TENANTS:-2}"
DEMO_SEED="${DEMO_SEED:-1}"
DEMO_DB="${DEMO_DB:-$ROOT/output/xero.duckdb}"

setup_all

trap stop_sandbox EXIT
trap 'exit 130' INT TERM
# --no-limits: the demo shows the pipeline, not a minute of waiting on a 60-calls-a-minute limit.
start_sandbox --seed "$DEMO_SEED" --scale "$DEMO_SCALE" --tenants "$DEMO_TENANTS" --no-limits

# Each demo starts from nothing: a new sandbox issues new tokens, so the rotated token kept from an
# earlier demo, the old bookmarks and the old database file are all stale.
export TAP_XERO_TOKEN_STORE_PATH="$SANDBOX_DIR/tokens.json"
export TARGET_DUCKDB_FILEPATH="$DEMO_DB" DBT_DUCKDB_PATH="$DEMO_DB"
mkdir -p "$(dirname "$DEMO_DB")"
rm -f "$DEMO_DB" "$DEMO_DB.wal"

say "meltano run tap-xero target-duckdb dbt-duckdb:build (sandbox: $DEMO_TENANTS organisations, scale $DEMO_SCALE)"
cd "$ROOT"
"$MELTANO" --environment=sandbox run --full-refresh tap-xero target-duckdb dbt-duckdb:build

stop_sandbox
"$ROOT/.meltano/loaders/target-duckdb/venv/bin/python" "$ROOT/scripts/demo_summary.py" "$DEMO_DB"
echo
"$ROOT/.meltano/loaders/target-duckdb/venv/bin/python" "$ROOT/scripts/demo_profit_and_loss.py" "$DEMO_DB"
