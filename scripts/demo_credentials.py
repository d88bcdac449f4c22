"""Print shell `export` lines that hand the sandbox's demo credentials to Meltano.

Usage: eval "$(python scripts/demo_credentials.py http://127.0.0.1:PORT)"

Meltano reads a setting from the environment variable TAP_XERO_<SETTING>, so exporting these points
`meltano --environment=sandbox run tap-xero ...` at the sandbox's demo app without writing a secret
to any file. Values are shell-quoted and never echoed to the terminal.
"""

from __future__ import annotations

import json
import shlex
import sys
import urllib.request

# Keys of GET /_sandbox/credentials that are tap settings.
CREDENTIAL_SETTINGS = ("client_id", "client_secret", "refresh_token")


def export_lines(credentials: dict) -> list[str]:
    missing = [key for key in CREDENTIAL_SETTINGS if not credentials.get(key)]
    if missing:
        raise SystemExit(f"error: the sandbox's credentials lack {', '.join(missing)}")
    return [f"export TAP_XERO_{key.upper()}={shlex.quote(str(credentials[key]))}" for key in CREDENTIAL_SETTINGS]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with urllib.request.urlopen(f"{argv[1].rstrip('/')}/_sandbox/credentials", timeout=10) as response:
        credentials = json.load(response)
    print("\n".join(export_lines(credentials)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
