#!/usr/bin/env bash
# The README's second command: set up (as the demo does, idempotently) and run the WHOLE test suite,
# including the e2e, faults and load markers.
#
#   bash scripts/test.sh [extra pytest args...]
#
# The e2e tests need PostgreSQL on 127.0.0.1:5432 (see docs/meltano.md); .ci/run starts it if it is down.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/demo_setup.sh"

setup_all

cd "$ROOT"
status=0
"$TAP_VENV/bin/python" -m pytest -p no:cacheprovider "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
