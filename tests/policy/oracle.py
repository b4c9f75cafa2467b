"""The expected access decisions, written out from the brief independently of policy.yaml.

Shared by the pure policy matrix and the HTTP matrix (registered as ``access_oracle``).
"""

from __future__ import annotations

from lianfang.policy.decision import Effect
from lianfang.policy.roles import Role
from lianfang.standard.levels import Level

P, IN, S, T = Level.PUBLIC, Level.INTERNAL, Level.SENSITIVE, Level.TOP_SECRET
ORDER = [P, IN, S, T]
GRANT_STATES = ("none", "valid", "expired", "revoked")

# role -> (highest level read in own city, in another city, highest level shown as a masked hit)
EXPECTED_REACH: dict[Role, tuple[Level | None, Level | None, Level | None]] = {
    Role.OFFICER: (IN, P, S),
    Role.INVESTIGATOR: (S, IN, S),
    Role.CITY_APPROVER: (S, IN, S),
    Role.PROVINCE_APPROVER: (S, S, S),
    Role.DISPATCHER: (IN, IN, S),
    Role.STEWARD: (IN, None, None),
    Role.PARTNER: (None, P, IN),
    Role.AUDITOR: (None, None, None),
    Role.SECURITY_ADMIN: (None, None, None),
    Role.SYSTEM_ADMIN: (None, None, None),
}


def covers(reach: Level | None, level: Level) -> bool:
    return reach is not None and ORDER.index(reach) >= ORDER.index(level)


def expected(role: Role, level: Level, own: bool, state: str) -> tuple[Effect, str]:
    """(effect, reason) for a role reading a record at ``level`` with a grant in ``state``."""
    own_reach, other_reach, hits = EXPECTED_REACH[role]
    if own_reach is None and other_reach is None and hits is None:
        return Effect.DENY, "deny.no_data_access"
    if covers(own_reach if own else other_reach, level):
        return Effect.ALLOW, "allow.own" if own else "allow.other"
    if state == "valid":
        return Effect.ALLOW, "allow.grant"
    if covers(hits, level):
        return Effect.MASK, {"none": "mask.no_grant", "expired": "mask.expired", "revoked": "mask.revoked"}[state]
    return Effect.DENY, "deny.above_hits"
