"""Xero's app pricing tiers (since March 2026) and what each changes in the API the sandbox serves.

Contract:

- ``TIERS``: ``starter``, ``core``, ``plus``, ``advanced`` (the sandbox's default; names are
  case-insensitive, ``tier_name`` normalises them and raises ``ValueError`` for anything else).
- ``day_limit(tier)``: the daily call allowance per organisation, 1,000 on Starter and 5,000 on
  every other tier. An explicit day limit (``--day-limit``, ``SandboxConfig.day_limit``,
  ``POST /_sandbox/limits``) overrides it; ``limits.LimitsConfig`` applies that rule.
- ``allows(tier, path)``: whether the tier may read an Accounting resource at all. Journals
  (``/Journals``, ``/Journals/{id}``, any parameters) are for Advanced apps only; on the other
  tiers Xero answers 401 problem+json ``"Detail": "AuthorizationUnsuccessful"`` even when the
  token holds ``accounting.journals.read`` (the server gives the same answer as for a missing scope).

Source: ``../shared/XERO_FACTS.md`` ("Xero since March 2026"). Enterprise is not modelled (it is
Advanced for everything the sandbox serves).
"""

from __future__ import annotations

TIERS = ("starter", "core", "plus", "advanced")
DEFAULT_TIER = "advanced"
_DAY_LIMITS = {"starter": 1000, "core": 5000, "plus": 5000, "advanced": 5000}
# Accounting resource paths (``Endpoint.path``) only the Advanced tier may read.
ADVANCED_ONLY = frozenset({"Journals"})


def tier_name(value: object) -> str:
    """``value`` as one of ``TIERS``; ``ValueError`` names the valid ones otherwise."""
    name = str(value).strip().lower() if isinstance(value, str) else ""
    if name not in TIERS:
        raise ValueError(f"tier must be one of {', '.join(TIERS)}, not {value!r}")
    return name


def day_limit(tier: str) -> int:
    """The tier's daily calls per organisation."""
    return _DAY_LIMITS[tier_name(tier)]


def allows(tier: str, path: str) -> bool:
    """Whether an app on ``tier`` may read the resource at ``path`` (an ``Endpoint.path``)."""
    return tier_name(tier) == "advanced" or path not in ADVANCED_ONLY
