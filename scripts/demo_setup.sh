# Shared setup for scripts/demo.sh and scripts/test.sh (source it; it defines functions and paths).
#
# Two virtual environments, so Meltano's pins never fight the tap's:
#   .venv          the tap and the sandbox (sandbox/, both editable) with the tap's test, lint and postgres
#                  extras, at the versions of constraints.txt
#   .venv-meltano  Meltano only (constraints-meltano.txt); Meltano then builds one venv per plugin under
#                  .meltano/ (with uv), each pinned by its pip_url in meltano.yml
# Every step is skipped when a stamp says it already ran with the same inputs, so a second run is quick.

MELTANO_VERSION="4.4.1"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TAP_VENV="$ROOT/.venv"
MELTANO_VENV="$ROOT/.venv-meltano"
MELTANO="$MELTANO_VENV/bin/meltano"
# Meltano state and run history for the project: .meltano/meltano.db (gitignored).
export MELTANO_PROJECT_ROOT="$ROOT"
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '==> %s\n' "$*" >&2; }

quietly() {
  # Run a noisy install step; show its output only when it fails.
  local log
  log="$(mktemp "${TMPDIR:-/tmp}/tap-xero-setup.XXXXXX")"
  if "$@" >"$log" 2>&1; then
    rm -f "$log"
  else
    local status=$?
    echo "error: '$*' failed (exit $status); the end of its output:" >&2
    grep -v "^WARNING: Location" "$log" | tail -n 60 >&2
    rm -f "$log"
    return "$status"
  fi
}

find_python() {
  # A Python 3.10+ from PATH (PYTHON=... overrides). 3.10-3.12 come first: the demo's loader pins
  # duckdb 1.0.0 (see meltano.yml), which has no wheels for newer Pythons and would build from source.
  local candidate
  for candidate in ${PYTHON:-} python3.12 python3.11 python3.10 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "error: Python 3.10 or newer is needed (set PYTHON=/path/to/python3)" >&2
  return 1
}

stamp_of() {
  # A fingerprint of the given files plus any extra words, to tell whether a step must run again.
  local python="$1"
  shift
  "$python" - "$@" <<'EOF'
import hashlib, pathlib, sys
digest = hashlib.sha256()
for item in sys.argv[1:]:
    path = pathlib.Path(item)
    digest.update(path.read_bytes() if path.is_file() else item.encode())
print(digest.hexdigest())
EOF
}

ensure_venv() {
  # ensure_venv DIR: create a venv at DIR unless it already has a working python.
  local venv="$1" python
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    return 0
  fi
  python="$(find_python)"
  say "creating $venv with $python"
  "$python" -m venv "$venv"
  quietly "$venv/bin/python" -m pip install --upgrade pip
  # Keep a venv out of git without touching the project's .gitignore.
  printf '*\n' >"$venv/.gitignore"
}

setup_tap() {
  ensure_venv "$TAP_VENV"
  local stamp_file="$TAP_VENV/.tap-xero-setup" stamp
  stamp="$(stamp_of "$TAP_VENV/bin/python" "$ROOT/pyproject.toml" "$ROOT/sandbox/pyproject.toml" "$ROOT/constraints.txt")"
  if [ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp" ]; then
    say "installing tap-xero and xero-sandbox (editable) and the test and lint tools into .venv (constraints.txt)"
    quietly "$TAP_VENV/bin/python" -m pip install -c "$ROOT/constraints.txt" \
      -e "$ROOT[test,lint,postgres]" -e "$ROOT/sandbox"
    printf '%s\n' "$stamp" >"$stamp_file"
  fi
}

setup_meltano() {
  ensure_venv "$MELTANO_VENV"
  local stamp_file="$MELTANO_VENV/.meltano-setup" stamp
  stamp="$(stamp_of "$MELTANO_VENV/bin/python" "meltano==$MELTANO_VERSION" "$ROOT/constraints-meltano.txt")"
  if [ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp" ]; then
    say "installing meltano $MELTANO_VERSION into .venv-meltano (constraints-meltano.txt)"
    # setuptools named so that the pinned release replaces the one the venv was created with
    quietly "$MELTANO_VENV/bin/python" -m pip install -c "$ROOT/constraints-meltano.txt" "meltano==$MELTANO_VERSION" setuptools
    printf '%s\n' "$stamp" >"$stamp_file"
  fi
  # Plugins: reinstall when meltano.yml (pip_urls) or the tap's dependencies change.
  local plugins_stamp_file="$ROOT/.meltano/.plugins-setup" plugins_stamp
  plugins_stamp="$(stamp_of "$MELTANO_VENV/bin/python" "$ROOT/meltano.yml" "$ROOT/pyproject.toml" "meltano==$MELTANO_VERSION")"
  if [ "$(cat "$plugins_stamp_file" 2>/dev/null)" != "$plugins_stamp" ]; then
    say "meltano install (tap-xero, target-postgres, target-duckdb, dbt-postgres, dbt-duckdb)"
    (cd "$ROOT" && quietly "$MELTANO" install)
    mkdir -p "$ROOT/.meltano"
    printf '%s\n' "$plugins_stamp" >"$plugins_stamp_file"
  fi
}

setup_all() {
  setup_tap
  setup_meltano
}

# ---- the sandbox, in the background --------------------------------------------------------------

SANDBOX_PID=""
SANDBOX_DIR=""

start_sandbox() {
  # start_sandbox [extra serve args...]: serve on a free port (--port 0), wait for the ready file, then
  # export XERO_SANDBOX_URL and the demo credentials as TAP_XERO_* settings for Meltano.
  SANDBOX_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tap-xero-sandbox.XXXXXX")"
  local ready="$SANDBOX_DIR/ready.json" waited=0
  say "starting the Xero sandbox"
  "$TAP_VENV/bin/tap-xero-sandbox" serve --port 0 --ready-file "$ready" "$@" \
    >"$SANDBOX_DIR/sandbox.log" 2>&1 &
  SANDBOX_PID=$!
  until [ -s "$ready" ]; do
    if ! kill -0 "$SANDBOX_PID" 2>/dev/null; then
      echo "error: the sandbox exited before it was ready; its log:" >&2
      cat "$SANDBOX_DIR/sandbox.log" >&2
      return 1
    fi
    if [ "$waited" -ge 1200 ]; then
      echo "error: the sandbox was not ready after 120 s" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  # The demo credentials are exported, never printed.
  eval "$("$TAP_VENV/bin/python" "$ROOT/scripts/demo_credentials.py" "$ready")"
  say "sandbox ready at $XERO_SANDBOX_URL"
}

stop_sandbox() {
  if [ -n "$SANDBOX_PID" ] && kill -0 "$SANDBOX_PID" 2>/dev/null; then
    kill "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
    say "sandbox stopped"
  fi
  SANDBOX_PID=""
  if [ -n "$SANDBOX_DIR" ]; then
    rm -rf "$SANDBOX_DIR"
    SANDBOX_DIR=""
  fi
}
