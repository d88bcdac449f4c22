"""The PostgreSQL token store (token_store_url) against the real PostgreSQL and the sandbox's identity server.

Each test works in a schema of its own (the URL's ``search_path``) of one scratch database, dropped afterwards.
Processes are real processes where the claim is about processes: the lock is PostgreSQL's, so nothing in one
Python process may stand in for it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tap_xero.auth import XeroAuthenticator, open_token_store
from tap_xero.errors import AuthError, ConfigError, TapXeroError
from tap_xero.settings import XeroSettings, app_store_name
from tap_xero.token_store import StoredToken, token_fingerprint
from tap_xero.token_store_pg import PostgresTokenStore, advisory_key
from tests.pg import connect, schema_url, scratch_database

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
GRACE = 1800


@pytest.fixture(scope="module")
def database():
    with scratch_database("store") as url:
        yield url


@pytest.fixture
def store_url(database):
    """A schema of our own in the module's database: the tap's table is created there."""
    schema = f"t_{secrets.token_hex(4)}"
    with connect(database) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    yield schema_url(database, schema)
    with connect(database) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def pg_settings(sb, url, refresh_token=None, **extra) -> XeroSettings:
    config = {
        "client_id": sb.client_id, "client_secret": sb.client_secret, "identity_url": sb.base_url,
        "api_url": sb.api_url, "token_store_url": url, **extra,
    }
    if refresh_token:
        config["refresh_token"] = refresh_token
    return XeroSettings.from_config(config)


def stored_row(url: str, key: str) -> dict | None:
    """The committed row, as another machine would read it (a connection of its own)."""
    with connect(url) as connection:
        row = connection.execute("SELECT record FROM tap_xero_token_store WHERE store_key = %s", (key,)).fetchone()
    return row[0] if row else None


def token_calls(sb) -> int:
    return sb.requests()["token"]


# -- the table, the record, durability ----------------------------------------------------------


def test_the_tap_creates_its_table_and_commits_the_rotated_token_before_using_it(sandbox, store_url, monkeypatch):
    configured = sandbox.issue_refresh_token()
    auth = XeroAuthenticator(pg_settings(sandbox, store_url, configured))
    key = app_store_name(sandbox.client_id)
    seen_at_save: list[tuple[dict | None, str | None]] = []
    original_save = PostgresTokenStore.save

    def save_then_look(self, record):
        original_save(self, record)
        # Right after save returns, before the authenticator takes the new access token: already committed?
        seen_at_save.append((stored_row(store_url, key), auth.access_token))

    monkeypatch.setattr(PostgresTokenStore, "save", save_then_look)
    token = auth.bearer_token()
    [(row, access_token_then)] = seen_at_save
    assert access_token_then is None  # not used yet ...
    assert row is not None and row["refresh_token"] == auth.refresh_token != configured  # ... but durable
    assert row["access_token"] == token and row["lineage"] == [token_fingerprint(configured)]
    with connect(store_url) as connection:
        owner_only = connection.execute(
            "SELECT relacl IS NULL FROM pg_class WHERE oid = 'tap_xero_token_store'::regclass").fetchone()[0]
    assert owner_only  # no grants beyond the owner's: the tokens are as private as the database role


def test_a_second_run_reuses_the_stored_access_token_without_a_refresh(sandbox, store_url):
    configured = sandbox.issue_refresh_token()
    first = XeroAuthenticator(pg_settings(sandbox, store_url, configured))
    token = first.bearer_token()
    calls = token_calls(sandbox)
    second = XeroAuthenticator(pg_settings(sandbox, store_url, configured))  # the configured token is older
    assert second.bearer_token() == token and second.refresh_token == first.refresh_token
    assert token_calls(sandbox) == calls


def test_each_connection_of_an_app_keeps_its_own_row(sandbox, store_url):
    one = XeroAuthenticator(pg_settings(sandbox, store_url, sandbox.issue_refresh_token(), token_store_key="acme"))
    other = XeroAuthenticator(pg_settings(sandbox, store_url, sandbox.issue_refresh_token(), token_store_key="globex"))
    one.bearer_token(), other.bearer_token()
    assert stored_row(store_url, "acme")["refresh_token"] == one.refresh_token
    assert stored_row(store_url, "globex")["refresh_token"] == other.refresh_token != one.refresh_token


# -- the lock -------------------------------------------------------------------------------------

CHILD = """
import hashlib, json, sys
from tap_xero.auth import XeroAuthenticator
from tap_xero.settings import XeroSettings
config = json.loads(sys.stdin.readline())
auth = XeroAuthenticator(XeroSettings.from_config(config))  # loads the store before anyone refreshed
print("ready", flush=True)
sys.stdin.readline()  # "go": every process is past its imports and has read the store
token = auth.bearer_token()
print(json.dumps({"access": hashlib.sha256(token.encode()).hexdigest(),
                  "refresh": hashlib.sha256(auth.refresh_token.encode()).hexdigest()}))
"""


def run_children(count: int, config: dict) -> list[dict]:
    """``count`` processes that build an authenticator, wait until all are ready, then ask for a token at once."""
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    for child in children:
        child.stdin.write(json.dumps(config) + "\n")
        child.stdin.flush()
    for child in children:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()[-2000:]
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    results = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_processes_starting_together_spend_the_refresh_token_once_and_share_the_access_token(sandbox, store_url):
    configured = sandbox.issue_refresh_token()
    config = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
              "identity_url": sandbox.base_url, "api_url": sandbox.api_url, "token_store_url": store_url,
              "refresh_token": configured}
    calls = token_calls(sandbox)
    results = run_children(4, config)
    assert token_calls(sandbox) == calls + 1  # one rotation; three processes waited and adopted it
    assert len({result["access"] for result in results}) == 1
    assert len({result["refresh"] for result in results}) == 1
    row = stored_row(store_url, app_store_name(sandbox.client_id))
    assert row["lineage"] == [token_fingerprint(configured)]


def test_a_process_that_waits_for_the_lock_adopts_the_token_the_holder_committed(sandbox, store_url):
    configured = sandbox.issue_refresh_token()
    holder_store = PostgresTokenStore(store_url, app_store_name(sandbox.client_id))
    waiter = XeroAuthenticator(pg_settings(sandbox, store_url, configured))
    holder = XeroAuthenticator(pg_settings(sandbox, store_url, configured))
    holding = threading.Event()

    def refresh_slowly():
        with holder_store.locked():
            holding.set()
            time.sleep(1.0)
            holder._rotation.store = holder_store  # the holder's own refresh, inside the lock it already holds
            payload = holder._rotation.grant()
            holder._rotation.save(payload["refresh_token"], payload["access_token"], time.time() + 1800, None)

    thread = threading.Thread(target=refresh_slowly)
    thread.start()
    holding.wait(5)
    calls = token_calls(sandbox)
    began = time.monotonic()
    token = waiter.bearer_token()  # blocks on the lock, then reads what the holder committed
    thread.join()
    assert time.monotonic() - began > 0.5
    assert token_calls(sandbox) == calls + 1  # the holder's grant only
    assert waiter.refresh_token == holder.refresh_token != configured
    assert token == stored_row(store_url, app_store_name(sandbox.client_id))["access_token"]


HOLD_AND_DIE = """
import sys, time
import psycopg
connection = psycopg.connect(sys.argv[1])
connection.execute("SELECT pg_advisory_xact_lock(%s)", (int(sys.argv[2]),))
print("holding", flush=True)
time.sleep(600)
"""


def test_a_lock_holder_killed_mid_refresh_never_blocks_the_others(sandbox, store_url):
    key = app_store_name(sandbox.client_id)
    PostgresTokenStore(store_url, key).load()  # the table exists
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_DIE, store_url, str(advisory_key(f"token store:{key}"))],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        auth = XeroAuthenticator(pg_settings(sandbox, store_url, sandbox.issue_refresh_token()))
        threading.Timer(1.0, holder.send_signal, (signal.SIGKILL,)).start()
        began = time.monotonic()
        assert auth.bearer_token()  # waited for the lock until the server released the dead holder's
        assert 0.8 < time.monotonic() - began < 30
    finally:
        holder.kill()
        holder.wait()


def test_a_refused_write_stops_before_the_new_token_is_used_and_the_next_run_recovers(isolated_sandbox, store_url):
    sb = isolated_sandbox
    configured = sb.issue_refresh_token()
    key = app_store_name(sb.client_id)
    PostgresTokenStore(store_url, key).load()
    with connect(store_url) as connection:  # the database refuses every write to the table from now on
        connection.execute("ALTER TABLE tap_xero_token_store ADD CONSTRAINT no_writes CHECK (false) NOT VALID")
    crashed = XeroAuthenticator(pg_settings(sb, store_url, configured))
    with pytest.raises(AuthError, match="could not be saved") as caught:
        crashed.bearer_token()
    assert crashed.access_token is None and "30 minutes" in str(caught.value)
    assert "token_store_url" in str(caught.value) and stored_row(store_url, key) is None
    with connect(store_url) as connection:
        connection.execute("ALTER TABLE tap_xero_token_store DROP CONSTRAINT no_writes")

    sb.clock.advance(GRACE - 120)  # within the grace period of the token rotated out by the failed run
    recovered = XeroAuthenticator(pg_settings(sb, store_url, configured))
    assert recovered.bearer_token()  # the lock was released by the failed run's rollback
    assert stored_row(store_url, key)["refresh_token"] == recovered.refresh_token != configured


@pytest.fixture
def isolated_sandbox(make_sandbox):
    return make_sandbox(scale=5, tenants=1, limits=False)


# -- settings and errors ---------------------------------------------------------------------------


def test_a_url_that_is_not_postgresql_is_refused_naming_the_setting_without_echoing_it(sandbox):
    for url in ("mysql://tap:hunter2@db/x", "host=db password=hunter2", "/var/lib/tokens.json"):
        with pytest.raises(ConfigError) as caught:
            pg_settings(sandbox, url)
        assert caught.value.setting == "token_store_url" and "hunter2" not in str(caught.value)
        assert "postgresql://" in str(caught.value)


def test_an_unreachable_store_is_a_config_error_with_the_password_masked(sandbox):
    settings = pg_settings(sandbox, "postgresql://tap:hunter2@127.0.0.1:1/x", sandbox.issue_refresh_token())
    calls = token_calls(sandbox)
    with pytest.raises(ConfigError) as caught:
        XeroAuthenticator(settings)
    message = str(caught.value)
    assert caught.value.setting == "token_store_url" and "hunter2" not in message
    assert "postgresql://tap:***@127.0.0.1:1/x" in message
    assert token_calls(sandbox) == calls  # nothing spent


def test_without_psycopg_the_tap_names_the_extra_to_install(sandbox, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
        "identity_url": sandbox.base_url, "api_url": sandbox.api_url,
        "token_store_url": "postgresql://tap:hunter2@127.0.0.1:5432/x", "refresh_token": "r",
    }))
    no_driver = "import sys; sys.modules['psycopg'] = None; from tap_xero.tap import TapXero; TapXero.cli()"
    done = subprocess.run([sys.executable, "-c", no_driver, "--config", str(config)],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "token_store_url" in done.stderr and "pip install 'tap-xero[postgres]'" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


def test_the_url_wins_over_token_store_path_with_a_warning(sandbox, store_url, tmp_path, caplog):
    settings = pg_settings(sandbox, store_url, sandbox.issue_refresh_token(),
                           token_store_path=str(tmp_path / "tokens.json"))
    with caplog.at_level(logging.WARNING):
        auth = XeroAuthenticator(settings)
        auth.bearer_token()
    assert isinstance(open_token_store(settings), PostgresTokenStore)
    assert not (tmp_path / "tokens.json").exists()
    assert any("token_store_path is ignored" in record.getMessage() for record in caplog.records)


def test_no_password_or_token_reaches_a_log_line_or_message(sandbox, database, caplog, capfd):
    with connect(database) as connection:
        connection.execute("DROP ROLE IF EXISTS tap_store_user")
        connection.execute("CREATE ROLE tap_store_user LOGIN PASSWORD 'Pa55-w0rd-never-shown' CREATEDB")
        connection.execute("GRANT ALL ON SCHEMA public TO tap_store_user")
    try:
        host_part = database.split("@", 1)[1]
        url = f"postgresql://tap_store_user:Pa55-w0rd-never-shown@{host_part}"
        configured = sandbox.issue_refresh_token()
        messages = []
        with caplog.at_level(logging.DEBUG):
            auth = XeroAuthenticator(pg_settings(sandbox, url, configured, token_store_key="secrets-test"))
            secrets_seen = {auth.bearer_token(), auth.refresh_token, configured, sandbox.client_secret}
            auth.on_unauthorized(auth.access_token)
            secrets_seen |= {auth.access_token, auth.refresh_token}
            # (CI's server trusts local connections, so a wrong password would be accepted: a missing database
            # and a refused port make the driver fail with the password in the URL instead.)
            no_database = url.rsplit("/", 1)[0] + "/no_such_database"
            refused = url.replace(host_part.split("/")[0], "127.0.0.1:1")
            for attempt in (lambda: XeroAuthenticator(pg_settings(sandbox, no_database, configured)),
                            lambda: XeroAuthenticator(pg_settings(sandbox, refused, configured)),
                            lambda: pg_settings(sandbox, url.replace("postgresql", "mysql"))):
                with pytest.raises(TapXeroError) as caught:
                    attempt()
                messages.append(str(caught.value))
        captured = capfd.readouterr()
        text = "\n".join([*(r.getMessage() for r in caplog.records), *messages, captured.out, captured.err])
        assert caplog.records and messages
        assert len(messages) == 3 and all("token_store_url" in message for message in messages)
        for secret in (*secrets_seen, "Pa55-w0rd-never-shown"):
            assert secret and secret not in text
    finally:
        with connect(database) as connection:
            connection.execute("DROP TABLE IF EXISTS public.tap_xero_token_store")
            connection.execute("REVOKE ALL ON SCHEMA public FROM tap_store_user")
            connection.execute("DROP ROLE IF EXISTS tap_store_user")


def test_a_damaged_record_reads_as_no_record(sandbox, store_url):
    store = PostgresTokenStore(store_url, "damaged")
    store.save(StoredToken(refresh_token="r1"))
    with connect(store_url) as connection:
        connection.execute("UPDATE tap_xero_token_store SET record = '[1, 2]'::jsonb WHERE store_key = 'damaged'")
    assert store.load() is None


def test_tap_xero_auth_writes_the_postgresql_store_the_tap_then_uses(sandbox, store_url, tmp_path):
    import requests

    env = {**os.environ, "TAP_XERO_CLIENT_SECRET": sandbox.client_secret, "TAP_XERO_TOKEN_STORE_URL": store_url}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "tap-xero"), "auth", "--client-id", sandbox.client_id, "--no-browser",
         "--port", "0", "--identity-url", sandbox.base_url, "--api-url", sandbox.api_url,
         "--token-store-key", "acme", "--scopes", "offline_access accounting.settings", "--timeout", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )
    try:
        assert process.stdout.readline().startswith("Open this URL")
        assert requests.get(process.stdout.readline().strip(), timeout=10).status_code == 200
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    config = json.loads(out[out.index("{"):])
    assert config["token_store_url"] == "<your token_store_url>" and config["token_store_key"] == "acme"
    row = stored_row(store_url, "acme")
    assert row and row["refresh_token"] not in out + err and row["access_token"] not in out + err
    auth = XeroAuthenticator(pg_settings(sandbox, store_url, token_store_key="acme"))  # no refresh_token set
    assert auth.mode == "refresh_token" and auth.bearer_token()
    assert not list(tmp_path.iterdir())  # no file written
