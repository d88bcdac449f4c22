#!/usr/bin/env bash
# Regenerate constraints.txt and constraints-meltano.txt: the exact versions scripts/demo_setup.sh installs
# (and CI, the demo and the tests run). Run after changing a dependency in pyproject.toml or sandbox/pyproject.toml
# or MELTANO_VERSION, then commit both files. Uses fresh venvs in a temporary directory; needs the package index.
#
#   bash scripts/lock.sh
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/demo_setup.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/tap-xero-lock.XXXXXX")"
trap 'rm -rf "$work"' EXIT
python="$(find_python)"

say "resolving the tap's set (tap-xero[test,lint,postgres] and the sandbox)"
"$python" -m venv "$work/tap"
quietly "$work/tap/bin/python" -m pip install --upgrade pip
quietly "$work/tap/bin/python" -m pip install -e "$ROOT[test,lint,postgres]" -e "$ROOT/sandbox"
{
  echo "# The tap's .venv, pinned: tap-xero with its test, lint and postgres extras, and the sandbox (both editable,"
  echo "# so not listed). scripts/demo_setup.sh installs with -c constraints.txt; regenerate with scripts/lock.sh."
  "$work/tap/bin/python" -m pip freeze --all --exclude-editable | grep -v -i '^pip=='
} >"$ROOT/constraints.txt"

say "resolving Meltano's set (meltano==$MELTANO_VERSION)"
"$python" -m venv "$work/meltano"
quietly "$work/meltano/bin/python" -m pip install --upgrade pip setuptools  # the venv's own setuptools is old
quietly "$work/meltano/bin/python" -m pip install "meltano==$MELTANO_VERSION"
{
  echo "# .venv-meltano, pinned: meltano and everything it needs. scripts/demo_setup.sh installs with -c; regenerate with"
  echo "# scripts/lock.sh. (The plugins' own venvs are pinned by their pip_url in meltano.yml.)"
  "$work/meltano/bin/python" -m pip freeze --all | grep -v -i '^pip=='
} >"$ROOT/constraints-meltano.txt"
say "wrote constraints.txt and constraints-meltano.txt"
