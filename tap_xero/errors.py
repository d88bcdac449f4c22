"""Every error the tap raises on purpose, each with a message a user can act on.

Messages never contain a secret value (token, client secret, webhook key): they
name the setting or the token kind instead. ``redact`` is the one helper for
text that might carry one (a response body echoed into an error, say).
"""

from __future__ import annotations

import re

# Documented process exit statuses (README "Exit statuses").
EXIT_CONFIG = 2  # bad or contradictory configuration, or credentials that cannot work
EXIT_AUTH = 3  # a token is dead: reconnect (refresh token expired/revoked, platform token expired)
EXIT_DAY_LIMIT = 75  # Xero's daily call limit reached: state was emitted, run again after Retry-After
EXIT_RUN_AGAIN = EXIT_DAY_LIMIT  # any planned stop (day limit, call budget, token deadline): run again to continue
EXIT_TERMINATED = 143  # SIGTERM/SIGINT: state was emitted, 128 + 15 as a shell reports a terminated process


class TapXeroError(Exception):
    """Base class: something the user can fix or wait out, explained in the message."""

    exit_code = 1


class ConfigError(TapXeroError):
    """A setting is missing, malformed or contradicts another. Raised before any request."""

    exit_code = EXIT_CONFIG

    def __init__(self, setting: str, problem: str, fix: str) -> None:
        self.setting = setting
        super().__init__(f"Setting '{setting}': {problem}. Fix: {fix}")


class AuthError(TapXeroError):
    """A token cannot be used or renewed; the message says which token and what to do."""

    exit_code = EXIT_AUTH


class ScopeError(TapXeroError):
    """A selected stream needs a scope the token does not hold (only with fail_on_missing_scope)."""

    exit_code = EXIT_AUTH


class XeroApiError(TapXeroError):
    """Xero answered with an error that retrying will not fix."""

    def __init__(self, message: str, status: int | None = None, path: str | None = None) -> None:
        self.status = status
        self.path = path
        where = f" ({status} on {path})" if status and path else ""
        super().__init__(redact(message) + where)


class AuthorizationUnsuccessful(XeroApiError):
    """Xero's 401 ``AuthorizationUnsuccessful``: the connection may not read this endpoint (a scope the token
    lacks, or a pricing tier that does not include it: Journals need Xero's Advanced tier). Not a token problem:
    renewing the token does not help."""


class RunStopped(TapXeroError):
    """A planned stop at a safe point: state covering every record written was emitted; run again to continue."""

    exit_code = EXIT_RUN_AGAIN


class TenantStopped(RunStopped):
    """One organisation cannot be read further in this run; the run goes on with the others."""

    def __init__(self, tenant_id: str, message: str) -> None:
        self.tenant_id = tenant_id
        super().__init__(message)


class DayLimitReached(TenantStopped):
    """Xero's daily call limit for a tenant is spent; the run stops reading it with state emitted."""

    def __init__(self, tenant_id: str, retry_after_seconds: int | None) -> None:
        self.retry_after_seconds = retry_after_seconds
        wait = f" Xero says retry after {retry_after_seconds} s." if retry_after_seconds else ""
        super().__init__(
            tenant_id,
            f"Xero's daily API limit is reached for tenant {tenant_id}.{wait} "
            "State has been emitted: run the tap again later and it resumes where it stopped.",
        )


class CallBudgetReached(TenantStopped):
    """The run has spent ``call_budget`` calls on a tenant; it stops reading it with state emitted."""

    def __init__(self, tenant_id: str, budget: int) -> None:
        self.budget = budget
        super().__init__(
            tenant_id,
            f"The call budget of this run ({budget} API calls for tenant {tenant_id}, setting call_budget) is "
            "spent. State has been emitted: the next run resumes where this one stopped.",
        )


class StoppedEarly(RunStopped):
    """The run finished every organisation it could and stopped some early (``stops``: one TenantStopped each)."""

    def __init__(self, stops: list[TenantStopped]) -> None:
        self.stops = stops
        reasons = "; ".join(str(stop) for stop in stops)
        super().__init__(f"{len(stops)} organisation(s) were stopped early: {reasons}")


class TokenDeadlineReached(RunStopped):
    """The access token cannot be renewed and expires before another call could finish: stop now, cleanly."""


class RunInterrupted(TapXeroError):
    """SIGTERM or SIGINT: the run stopped at the next safe point with state emitted."""

    exit_code = EXIT_TERMINATED


_SECRET_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:access|refresh)_token\"?\s*[:=]\s*\"?)[^\"&\s,}]+"),
    re.compile(r"(?i)(client_secret\"?\s*[:=]\s*\"?)[^\"&\s,}]+"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # any JWT
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/:@\s]*:)[^@\s]+(?=@)"),  # a URL's password: scheme://user:***@host
    re.compile(r"(?i)(\bpassword\s*=\s*'?)[^&\s']+"),  # a password in a URL query or a libpq connection string
)


def redact(text: str) -> str:
    """Mask anything in ``text`` that looks like a token or client secret."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups:  # noqa: SIM108 - two substitutions read better apart
            text = pattern.sub(lambda m: m.group(1) + "***", text)
        else:
            text = pattern.sub("***", text)
    return text
