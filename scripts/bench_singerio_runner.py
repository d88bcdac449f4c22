"""Run the singer-io tap (PyPI ``tap-xero==2.6.0``) against the local Xero sandbox.

That tap hard-codes Xero's URLs: ``tap_xero.client.BASE_URL`` for the API and a
literal ``https://identity.xero.com/connect/token`` inside
``XeroClient.refresh_credentials``. This runner leaves its installed files alone:
it replaces the module constant and wraps ``requests.Session.send`` (the one call
every request of that tap goes through) so that a request to a Xero host is sent
to the sandbox instead, then calls the tap's own entry point.

Run it with the Python of the virtual environment that holds that tap::

    .bench/venv-singerio/bin/python scripts/bench_singerio_runner.py \\
        --api-url http://127.0.0.1:PORT/api.xro/2.0 \\
        --token-url http://127.0.0.1:PORT/connect/token \\
        -- --config config.json --catalog catalog.json [--state state.json]

Everything after ``--`` is passed to the tap unchanged. The file imports only the
standard library and what that venv has, never this project's package.
"""

from __future__ import annotations

import argparse
import sys

from bench_runner_args import split_tap_args  # beside this script (sys.path[0])

XERO_API_URL = "https://api.xero.com/api.xro/2.0"
XERO_TOKEN_URL = "https://identity.xero.com/connect/token"  # noqa: S105 - a URL, not a secret


def redirect_xero_urls(api_url: str, token_url: str) -> None:
    """Point the singer-io tap at ``api_url`` / ``token_url`` for the rest of this process."""
    import requests
    import tap_xero.client as singerio_client

    singerio_client.BASE_URL = api_url.rstrip("/")
    prefixes = ((XERO_TOKEN_URL, token_url), (XERO_API_URL, api_url.rstrip("/")))
    original_send = requests.Session.send

    def send_to_sandbox(session, request, **kwargs):
        for xero_prefix, sandbox_prefix in prefixes:
            if request.url.startswith(xero_prefix):
                request.url = sandbox_prefix + request.url[len(xero_prefix):]
                break
        return original_send(session, request, **kwargs)

    requests.Session.send = send_to_sandbox


def main(argv: list[str] | None = None) -> None:
    argv, tap_args = split_tap_args(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", required=True, help="sandbox Accounting API base (…/api.xro/2.0)")
    parser.add_argument("--token-url", required=True, help="sandbox OAuth token endpoint")
    options = parser.parse_args(argv)

    redirect_xero_urls(options.api_url, options.token_url)
    import tap_xero

    # singer.utils.parse_args reads sys.argv itself.
    sys.argv = ["tap-xero"] + tap_args
    tap_xero.main()


if __name__ == "__main__":
    main()
