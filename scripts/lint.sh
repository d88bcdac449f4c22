#!/usr/bin/env bash
# The checks CI runs before the tests (and `pre-commit run --all-files` runs the first three):
#   ruff (lint, pyproject.toml [tool.ruff]) over the whole repository, mypy (types, [tool.mypy]) over the tap
#   and the sandbox, the generated schemas against the spec, and pip-audit over the pinned dependency sets.
#
#   bash scripts/lint.sh
#
# Installs what it needs first, as scripts/test.sh does (the tools are pinned in the `lint` extra and
# constraints.txt).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/demo_setup.sh"

setup_tap

cd "$ROOT"
status=0
say "ruff"
"$TAP_VENV/bin/ruff" check . || status=1
say "mypy"
"$TAP_VENV/bin/mypy" || status=1
if [ -d "$(dirname "$ROOT")/shared/xero-openapi" ]; then
  say "generated schemas match the spec"
  "$TAP_VENV/bin/python" scripts/generate_schemas.py --check || status=1
fi
say "dependency audit (pip-audit over constraints*.txt)"
"$TAP_VENV/bin/python" scripts/audit.py || status=1
exit "$status"
