"""The tap's settings: their schema (shown by ``--about``), where they come from, and their validation.

Three sources feed one config dictionary, later ones overriding earlier ones setting by setting:

1. connector secrets ``PAN_SEC_XERO_*`` from the process environment (always read; lowest);
2. config files given with ``--config FILE`` (later files win);
3. ``TAP_XERO_<SETTING>`` environment variables, only with ``--config ENV`` (the SDK's convention).

Explicit configuration beats ambient environment: a developer's config file is never silently
overridden by a stray ``PAN_SEC_*`` variable. The platform token group (ACCESS_TOKEN, EXPIRES_IN,
SCOPE) is taken from ``PAN_SEC_*`` only as a whole, and only when no other source names a token,
so an expiry or scope never gets attached to a token it does not describe.

``XeroSettings.from_config`` turns the merged dictionary into typed values and raises
``errors.ConfigError`` (setting, problem, fix) before any request is made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from singer_sdk import typing as th

from tap_xero.errors import ConfigError
from tap_xero.scopes import parse_scopes

DEFAULT_API_URL = "https://api.xero.com/api.xro/2.0"
DEFAULT_IDENTITY_URL = "https://identity.xero.com"
XERO_AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
MAX_CONCURRENT_PER_TENANT = 5  # Xero's per-tenant cap on concurrent calls
APP_CALLS_PER_MINUTE = 10_000  # Xero's cap on one app's calls a minute, all organisations together
# Reports: two financial years of monthly history (the current and the previous year, which year-on-year
# comparisons need) unless asked for more; start_date rules the records, not the reports.
DEFAULT_REPORT_HISTORY_MONTHS = 24
# Without journals to say which months changed, the current month and the two before it (a quarter, a VAT or
# GST period still being reconciled) are read again on every run; every month is read once more when it locks.
DEFAULT_REPORT_REREAD_MONTHS = 3
MAX_REPORT_MONTHS = 600

MODE_ACCESS_TOKEN = "access_token"  # noqa: S105 - the name of a mode, not a secret
MODE_REFRESH_TOKEN = "refresh_token"  # noqa: S105 - the name of a mode, not a secret
MODE_CLIENT_CREDENTIALS = "client_credentials"

UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# Connector secrets handed over by the integration platform, and the setting each one fills.
PAN_SEC_SETTINGS: dict[str, str] = {
    "PAN_SEC_XERO_ACCESS_TOKEN": "access_token",
    "PAN_SEC_XERO_SCOPE": "scopes",
    "PAN_SEC_XERO_EXPIRES_IN": "expires_in",
    "PAN_SEC_XERO_CLIENT_ID": "client_id",
    "PAN_SEC_XERO_CLIENT_SECRET": "client_secret",
    "PAN_SEC_XERO_TENANT_URL": "tenant_url",
    "PAN_SEC_XERO_WEBHOOK_KEY": "webhook_key",
}
# Settings that describe one particular token: taken from one source together, never mixed.
TOKEN_GROUP = ("access_token", "expires_in", "access_token_expires_at", "scopes")
TOKEN_NAMING_SETTINGS = ("access_token", "refresh_token")

_STRING_OR_LIST = th.CustomType(
    {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
)

CONFIG_SCHEMA: dict = th.PropertiesList(
    th.Property(
        "client_id", th.StringType,
        description="Client id of your Xero app (developer.xero.com > My Apps), or of a Custom Connection. "
        "Needed with refresh_token and for client credentials. Env: PAN_SEC_XERO_CLIENT_ID.",
    ),
    th.Property(
        "client_secret", th.StringType, secret=True,
        description="Client secret of the Xero app. With client_id and no token it selects the client "
        "credentials mode (Xero Custom Connection). Env: PAN_SEC_XERO_CLIENT_SECRET.",
    ),
    th.Property(
        "refresh_token", th.StringType, secret=True,
        description="OAuth refresh token (needs the offline_access scope). Xero rotates it on every refresh: "
        "the tap saves each new one to token_store_path and prefers the stored one on the next run.",
    ),
    th.Property(
        "access_token", th.StringType, secret=True,
        description="A ready access token, used as given when there is no refresh token (the platform mode). "
        "Its expiry comes from the JWT exp claim, else access_token_expires_at, else expires_in. "
        "Env: PAN_SEC_XERO_ACCESS_TOKEN.",
    ),
    th.Property(
        "expires_in", th.IntegerType,
        description="Seconds the access_token stays valid, counted from the start of the run. "
        "Used only when the token is not a JWT. Env: PAN_SEC_XERO_EXPIRES_IN.",
    ),
    th.Property(
        "access_token_expires_at", th.DateTimeType,
        description="Absolute RFC 3339 time at which access_token expires (alternative to expires_in).",
    ),
    th.Property(
        "scopes", _STRING_OR_LIST,
        description="Granted OAuth scopes, space-separated or a list, broad (accounting.transactions.read) or "
        "granular (accounting.invoices.read). Default: read from the access token's scope claim. Streams whose "
        "scope is not granted are skipped with a warning. With client credentials, the scopes requested. "
        "Env: PAN_SEC_XERO_SCOPE.",
    ),
    th.Property(
        "tenant_ids", th.ArrayType(th.StringType),
        description="Xero tenant (organisation) ids to sync. Default: tenant_url, else every tenant the token "
        "reaches through GET /connections.",
    ),
    th.Property(
        "tenant_shard", th.StringType,
        description='"K/N" (1 <= K <= N): sync only the organisations a stable hash of their tenant id assigns to '
        "shard K of N, after tenant_ids, tenant_url or /connections give the list. N jobs with K = 1..N (each with "
        "its own state) cover every organisation exactly once, with no coordination. Default: every organisation.",
    ),
    th.Property(
        "tenant_url", th.StringType,
        description="A tenant id, or any URL containing one; used when tenant_ids is empty. "
        "Env: PAN_SEC_XERO_TENANT_URL.",
    ),
    th.Property(
        "webhook_key", th.StringType, secret=True,
        description=("Xero webhook signing key: verifies the triggers of platform webhook runs "
                     "(PAN_CTX_RUN_MODE=webhook). "
                     "Env: PAN_SEC_XERO_WEBHOOK_KEY. The receiver takes its own --webhook-key."),
    ),
    th.Property(
        "webhook_queue_path", th.StringType,
        description="File where the webhook receiver queues verified events for the next incremental run.",
    ),
    th.Property(
        "webhook_targeted_sync", th.BooleanType, default=True,
        description="With webhook_queue_path: fetch only the records named by queued webhook events (by id) "
        "once a stream has a baseline. Set false for a periodic full incremental catch-up.",
    ),
    th.Property(
        "start_date", th.DateTimeType,
        description="Earliest modification time to sync on a first run (RFC 3339 date or date-time, UTC). "
        "Default: everything.",
    ),
    th.Property(
        "api_url", th.StringType, default=DEFAULT_API_URL,
        description="Accounting API base. /connections is read at the same origin. Point it at the sandbox "
        "or a proxy.",
    ),
    th.Property(
        "identity_url", th.StringType, default=DEFAULT_IDENTITY_URL,
        description="Xero identity server: tokens at <identity_url>/connect/token, revocation at "
        "/connect/revocation. When overridden, the auth helper also authorizes at "
        "<identity_url>/identity/connect/authorize.",
    ),
    th.Property(
        "token_store_path", th.StringType,
        description="File holding the newest rotated refresh token (written atomically, mode 0600). Default: "
        "$XDG_STATE_HOME/tap-xero/<hash of client_id>.json (~/.local/state/tap-xero/...). Keep it on "
        "persistent storage: Meltano's config file is temporary.",
    ),
    th.Property(
        "token_store_url", th.StringType, secret=True,
        description="A shared token store in PostgreSQL (postgresql://user:password@host:5432/database), for "
        "processes on several machines that use one Xero connection; the tap creates its table "
        "(tap_xero_token_store) and refreshes under a database lock. Wins over token_store_path. Needs "
        "pip install 'tap-xero[postgres]'.",
    ),
    th.Property(
        "token_store_key", th.StringType,
        description="The row of the token_store_url store this connection uses. Default: a hash of client_id "
        "(one connection per app, as the file store's default name). Give each connection of one app its own.",
    ),
    th.Property(
        "app_limiter_url", th.StringType, secret=True,
        description="A PostgreSQL database (postgresql://..., may be the token store's) where every process of "
        "the app counts its calls, so that together they stay under app_calls_per_minute with no storm of 429s. "
        "Without it each process keeps its own count and follows X-AppMinLimit-Remaining. Needs "
        "pip install 'tap-xero[postgres]'.",
    ),
    th.Property(
        "app_calls_per_minute", th.IntegerType, default=APP_CALLS_PER_MINUTE,
        description="Calls a minute for the whole app, every organisation and process together (Xero allows "
        "10,000; lower it to leave room for other software using the same Xero app).",
    ),
    th.Property(
        "page_size", th.IntegerType, default=1000,
        description="Records per page for endpoints that accept pageSize (1..1000).",
    ),
    th.Property(
        "include_archived", th.BooleanType, default=True,
        description="Ask for archived contacts, invoices and tracking categories (includeArchived=true).",
    ),
    th.Property(
        "lookback_days", th.IntegerType, default=0,
        description="Re-read this many days before the bookmark on incremental runs, to catch edits that do "
        "not bump UpdatedDateUTC (e.g. a line item's account code or a due date).",
    ),
    th.Property(
        "request_timeout", th.NumberType, default=60,
        description="Seconds to wait for one HTTP response before retrying.",
    ),
    th.Property(
        "max_concurrent_requests", th.IntegerType, default=MAX_CONCURRENT_PER_TENANT,
        description="Concurrent API calls per tenant (1..5; Xero allows at most 5).",
    ),
    th.Property(
        "fail_on_missing_scope", th.BooleanType, default=False,
        description="Stop with an error when a selected stream's scope is not granted, instead of skipping "
        "that stream with a warning.",
    ),
    th.Property(
        "call_budget", th.IntegerType,
        description="Most API calls one run may spend on each organisation (Xero allows 5,000 a day per "
        "organisation, 1,000 on the Starter tier; an hourly schedule spends 24 runs' worth). When an organisation "
        "reaches it, the run stops reading it at a safe point with its state saved, goes on with the others, and "
        "exits 75; the next run resumes. Default: no budget.",
    ),
    th.Property(
        "report_history_months", th.IntegerType, default=DEFAULT_REPORT_HISTORY_MONTHS,
        description="Months of report history (the current month and the ones before it), independent of "
        "start_date. Default 24: the current and previous financial year.",
    ),
    th.Property(
        "report_reread_months", th.IntegerType, default=DEFAULT_REPORT_REREAD_MONTHS,
        description="When Xero cannot say which report months changed (no Journals: a tier below Advanced, or no "
        "journals scope), the latest months read again on every run (the current month counts as one). Months "
        "on or before the organisation's lock date are settled and never read again; every month is read once "
        "more when it becomes locked. 0: only new months and lock-time reads.",
    ),
    th.Property(
        "token_refresh_margin_seconds", th.IntegerType, default=300,
        description="Renew an access token this many seconds before it expires; a platform access token with "
        "less time left than this is refused at start.",
    ),
).to_dict()

SECRET_SETTINGS: frozenset[str] = frozenset(
    name for name, prop in CONFIG_SCHEMA["properties"].items() if prop.get("secret")
)


def connector_secrets(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings the ``PAN_SEC_XERO_*`` variables of ``environ`` provide (empty ones ignored)."""
    found: dict[str, Any] = {}
    for variable, setting in PAN_SEC_SETTINGS.items():
        value = environ.get(variable, "").strip()
        if value:
            found[setting] = int(value) if setting == "expires_in" and value.isdigit() else value
    return found


def merge_sources(
    explicit: Mapping[str, Any], environ: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge ``PAN_SEC_*`` secrets under the explicit config; return (config, origin of each setting).

    ``explicit`` is the config files already overlaid with ``TAP_XERO_*`` variables. The origin map
    names a ``PAN_SEC_*`` variable where a setting came from one, so messages can name what to fix.
    """
    secrets = connector_secrets(environ)
    explicit_names_token = any(explicit.get(name) for name in TOKEN_NAMING_SETTINGS)
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    variable_of = {setting: variable for variable, setting in PAN_SEC_SETTINGS.items()}
    for setting, value in secrets.items():
        if explicit_names_token and setting in TOKEN_GROUP:
            continue  # that expiry/scope would describe some other token
        merged[setting] = value
        origins[setting] = variable_of[setting]
    for setting, value in explicit.items():
        if value is None or value == "":
            continue  # an unset value in a config file does not erase a connector secret
        merged[setting] = value
        origins.pop(setting, None)
    return merged, origins


def describe_setting(setting: str, origins: Mapping[str, str]) -> str:
    """'access_token (from PAN_SEC_XERO_ACCESS_TOKEN)' or just the setting name."""
    return f"{setting} (from {origins[setting]})" if setting in origins else setting


def parse_datetime(value: object) -> dt.datetime | None:
    """An RFC 3339 date or date-time as an aware UTC datetime; None if it is not one."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)  # Xero's times are UTC
    return moment.astimezone(dt.timezone.utc)


def _int_setting(config: Mapping[str, Any], name: str, default: int, low: int, high: int | None) -> int:
    raw = config.get(name, default)
    if raw is None:
        return default
    # The same types the JSON schema accepts, so this message comes before the SDK's generic one.
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or (isinstance(raw, float) and not raw.is_integer()):
        raise ConfigError(name, f"{raw!r} is not a whole number", f"set {name} to a whole number (not a string)")
    value = int(raw)
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(name, f"{value} is out of range", f"set {name} {bounds}")
    return value


def _bool_setting(config: Mapping[str, Any], name: str, default: bool) -> bool:
    raw = config.get(name, default)
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    raise ConfigError(name, f"{raw!r} is not true or false", f"set {name} to true or false (JSON booleans)")


def _url_setting(config: Mapping[str, Any], name: str, default: str) -> str:
    raw = config.get(name) or default
    parts = urlsplit(str(raw))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, f"{raw!r} is not an http(s) URL", f"set {name} to a URL such as {default}")
    return str(raw).rstrip("/")


def _tenant_ids(config: Mapping[str, Any]) -> tuple[str, ...]:
    raw = config.get("tenant_ids") or []
    if not isinstance(raw, (list, tuple)):
        raise ConfigError("tenant_ids", "is not a list", 'set tenant_ids to a list such as ["<tenant uuid>"]')
    tenant_ids = []
    for item in raw:
        if not isinstance(item, str) or not UUID_PATTERN.fullmatch(item.strip()):
            raise ConfigError(
                "tenant_ids", f"{item!r} is not a tenant id (a UUID)",
                "list the tenant ids printed by `tap-xero auth` or returned by GET /connections",
            )
        tenant_ids.append(item.strip().lower())
    return tuple(dict.fromkeys(tenant_ids))


def app_store_name(client_id: str | None) -> str:
    """One Xero app's name in a token store: a hash of its client id, never the id in clear."""
    return hashlib.sha256((client_id or "").encode()).hexdigest()[:16] if client_id else "default"


def default_token_store_path(client_id: str | None) -> str:
    """Per-user location of the token store, one file per Xero app (named by a hash of its client id)."""
    state_home = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state_home, "tap-xero", f"{app_store_name(client_id)}.json")


POSTGRES_URL_SCHEMES = ("postgresql", "postgres")
MAX_STORE_KEY_LENGTH = 200


def check_postgres_url(raw: object, setting: str) -> str | None:
    """A postgresql:// URL (``token_store_url``, ``app_limiter_url``), checked for its scheme only; its text is
    never echoed (it may hold a password)."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise ConfigError(setting, "is not a string", f"set {setting} to a postgresql:// URL")
    url = raw.strip()
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme not in POSTGRES_URL_SCHEMES:
        shown = f"a {scheme}:// URL" if scheme else "not a URL"
        unset = {
            "token_store_url": "unset it to keep the token store in the file token_store_path",
            "app_limiter_url": "unset it to keep to each process's own limits",
        }.get(setting, "unset it")
        raise ConfigError(
            setting, f"is {shown}; it must name a PostgreSQL database",
            f"write it as postgresql://user:password@host:5432/database, or {unset}",
        )
    return url


def _token_store_key(config: Mapping[str, Any], client_id: str | None) -> str:
    raw = config.get("token_store_key")
    if raw in (None, ""):
        return app_store_name(client_id)
    if not isinstance(raw, str) or not raw.strip() or len(raw.strip()) > MAX_STORE_KEY_LENGTH:
        raise ConfigError(
            "token_store_key", f"is not a name of 1 to {MAX_STORE_KEY_LENGTH} characters",
            'name the connection, e.g. "acme-ltd"; every process of one connection must use the same key',
        )
    return raw.strip()


SHARD_PATTERN = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def _shard_setting(config: Mapping[str, Any]) -> tuple[int, int] | None:
    raw = config.get("tenant_shard")
    if raw in (None, ""):
        return None
    match = SHARD_PATTERN.fullmatch(str(raw)) if isinstance(raw, str) else None
    if match is None:
        raise ConfigError("tenant_shard", f"{raw!r} is not K/N", 'write it as "K/N", e.g. "2/4" for the second of 4')
    shard, shards = int(match.group(1)), int(match.group(2))
    if not 1 <= shard <= shards:
        raise ConfigError(
            "tenant_shard", f"{raw!r} has K outside 1..N", f'K counts from 1 to N: "1/{max(shards, 1)}" .. '
            f'"{max(shards, 1)}/{max(shards, 1)}"',
        )
    return shard, shards


def _expires_in_setting(config: Mapping[str, Any], origins: Mapping[str, str]) -> int | None:
    if config.get("expires_in") in (None, ""):
        return None
    try:
        return _int_setting(config, "expires_in", 0, 0, None)
    except ConfigError:
        raise ConfigError(
            describe_setting("expires_in", origins), f"{config['expires_in']!r} is not a number of seconds",
            "give the seconds the access token stays valid, e.g. 1800",
        ) from None


def _datetime_setting(config: Mapping[str, Any], name: str, fix: str, problem: str) -> dt.datetime | None:
    if config.get(name) in (None, ""):
        return None
    moment = parse_datetime(config[name])
    if moment is None:
        raise ConfigError(name, f"{config[name]!r} {problem}", fix)
    return moment


def _timeout_setting(config: Mapping[str, Any]) -> float:
    raw = config.get("request_timeout", 60)
    if raw is None:
        return 60.0
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not raw > 0:
        raise ConfigError(
            "request_timeout", f"{raw!r} is not a positive number of seconds", "set request_timeout to e.g. 60",
        )
    return float(raw)


@dataclass(frozen=True)
class XeroSettings:
    """Validated, typed settings. Build with ``from_config``."""

    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    expires_in: int | None = None
    access_token_expires_at: dt.datetime | None = None
    scopes: frozenset[str] | None = None
    tenant_ids: tuple[str, ...] = ()
    tenant_url: str | None = None
    tenant_shard: tuple[int, int] | None = None  # (K, N)
    webhook_key: str | None = field(default=None, repr=False)
    webhook_queue_path: str | None = None
    start_date: dt.datetime | None = None
    api_url: str = DEFAULT_API_URL
    identity_url: str = DEFAULT_IDENTITY_URL
    token_store_path: str = ""
    token_store_path_given: bool = False  # token_store_path was set (not the default): ignored under token_store_url
    token_store_url: str | None = field(default=None, repr=False)  # may carry a password
    token_store_key: str = ""
    app_limiter_url: str | None = field(default=None, repr=False)  # may carry a password
    app_calls_per_minute: int = APP_CALLS_PER_MINUTE
    page_size: int = 1000
    include_archived: bool = True
    lookback_days: int = 0
    request_timeout: float = 60.0
    max_concurrent_requests: int = MAX_CONCURRENT_PER_TENANT
    fail_on_missing_scope: bool = False
    call_budget: int | None = None
    report_history_months: int = DEFAULT_REPORT_HISTORY_MONTHS
    report_reread_months: int = DEFAULT_REPORT_REREAD_MONTHS
    token_refresh_margin_seconds: int = 300
    origins: Mapping[str, str] = field(default_factory=dict)  # setting -> PAN_SEC_* variable it came from

    @classmethod
    def from_config(cls, config: Mapping[str, Any], origins: Mapping[str, str] | None = None) -> XeroSettings:
        """Check every setting's form and range; raise ConfigError on the first problem.

        Whether the credentials fit together is checked separately by ``auth_mode`` (discovery
        needs no credentials).
        """
        origins = dict(origins or {})

        def text(name: str) -> str | None:
            value = config.get(name)
            if value is None:
                return None
            if not isinstance(value, str):
                raise ConfigError(name, "is not a string", f"set {name} to a string")
            return value.strip() or None

        expires_in = _expires_in_setting(config, origins)
        expires_at = _datetime_setting(
            config, "access_token_expires_at",
            "write it like 2026-11-24T09:30:00Z, or use expires_in (seconds) instead", "is not an RFC 3339 time",
        )
        start_date = _datetime_setting(
            config, "start_date",
            "write it as an RFC 3339 date or date-time, e.g. 2024-01-01 or 2024-01-01T00:00:00Z", "is not a date",
        )
        try:
            scopes = parse_scopes(config.get("scopes"))
        except ValueError:
            raise ConfigError(
                describe_setting("scopes", origins), "is neither a space-separated string nor a list",
                'write scopes like "offline_access accounting.transactions.read"',
            ) from None
        request_timeout = _timeout_setting(config)

        client_id = text("client_id")
        store_path = text("token_store_path")
        settings = cls(
            client_id=client_id,
            client_secret=text("client_secret"),
            refresh_token=text("refresh_token"),
            access_token=text("access_token"),
            expires_in=expires_in,
            access_token_expires_at=expires_at,
            scopes=scopes,
            tenant_ids=_tenant_ids(config),
            tenant_url=text("tenant_url"),
            tenant_shard=_shard_setting(config),
            webhook_key=text("webhook_key"),
            webhook_queue_path=text("webhook_queue_path"),
            start_date=start_date,
            api_url=_url_setting(config, "api_url", DEFAULT_API_URL),
            identity_url=_url_setting(config, "identity_url", DEFAULT_IDENTITY_URL),
            token_store_path=os.path.expanduser(store_path) if store_path else default_token_store_path(client_id),
            token_store_path_given=store_path is not None,
            token_store_url=check_postgres_url(config.get("token_store_url"), "token_store_url"),
            app_limiter_url=check_postgres_url(config.get("app_limiter_url"), "app_limiter_url"),
            app_calls_per_minute=_int_setting(
                config, "app_calls_per_minute", APP_CALLS_PER_MINUTE, 1, APP_CALLS_PER_MINUTE
            ),
            token_store_key=_token_store_key(config, client_id),
            page_size=_int_setting(config, "page_size", 1000, 1, 1000),
            include_archived=_bool_setting(config, "include_archived", True),
            lookback_days=_int_setting(config, "lookback_days", 0, 0, 3650),
            request_timeout=request_timeout,
            max_concurrent_requests=_int_setting(
                config, "max_concurrent_requests", MAX_CONCURRENT_PER_TENANT, 1, MAX_CONCURRENT_PER_TENANT
            ),
            fail_on_missing_scope=_bool_setting(config, "fail_on_missing_scope", False),
            call_budget=(
                _int_setting(config, "call_budget", 0, 1, None) if config.get("call_budget") is not None else None
            ),
            report_history_months=_int_setting(
                config, "report_history_months", DEFAULT_REPORT_HISTORY_MONTHS, 1, MAX_REPORT_MONTHS
            ),
            report_reread_months=_int_setting(
                config, "report_reread_months", DEFAULT_REPORT_REREAD_MONTHS, 0, MAX_REPORT_MONTHS
            ),
            token_refresh_margin_seconds=_int_setting(config, "token_refresh_margin_seconds", 300, 0, 1500),
            origins=origins,
        )
        return settings

    def _check_contradictions(self) -> None:
        if self.refresh_token and not self.client_id:
            raise ConfigError(
                "client_id", "refresh_token is set but client_id is missing, and a refresh needs both",
                "set client_id (and client_secret) of the Xero app that issued the refresh token",
            )

    def auth_mode(self, stored_refresh_token: bool = False) -> str:
        """Which way this configuration authenticates; ConfigError if it cannot.

        ``stored_refresh_token``: the token store already holds a refresh token for this app
        (written by ``tap-xero auth`` or an earlier run), which then counts as configured.
        """
        self._check_contradictions()
        if self.refresh_token or (stored_refresh_token and self.client_id):
            return MODE_REFRESH_TOKEN
        if self.access_token:
            return MODE_ACCESS_TOKEN
        if self.client_id and self.client_secret:
            return MODE_CLIENT_CREDENTIALS
        if self.client_id:
            secret_source = "PAN_SEC_XERO_CLIENT_SECRET" if "client_id" in self.origins else "client_secret"
            raise ConfigError(
                "client_secret",
                f"{describe_setting('client_id', self.origins)} is set but there is no client_secret, "
                "refresh_token or access_token",
                f"set {secret_source} for a Custom Connection, or run `tap-xero auth` to get a refresh token",
            )
        raise ConfigError(
            "access_token", "nothing to authenticate with",
            "set refresh_token with client_id and client_secret (run `tap-xero auth` to get one), or "
            "client_id and client_secret of a Custom Connection, or access_token "
            "(PAN_SEC_XERO_ACCESS_TOKEN)",
        )

    # Derived endpoints -------------------------------------------------------------------------

    @property
    def api_origin(self) -> str:
        parts = urlsplit(self.api_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def connections_url(self) -> str:
        return f"{self.api_origin}/connections"

    @property
    def token_url(self) -> str:
        return f"{self.identity_url}/connect/token"

    @property
    def revocation_url(self) -> str:
        return f"{self.identity_url}/connect/revocation"

    @property
    def authorize_url(self) -> str:
        """Xero's login server by default; the overriding identity server (sandbox, proxy) otherwise."""
        if self.identity_url == DEFAULT_IDENTITY_URL:
            return XERO_AUTHORIZE_URL
        return f"{self.identity_url}/identity/connect/authorize"
