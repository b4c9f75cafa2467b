"""Roles, and the rule that the three administrator duties stay apart (三员分立).

GB/T 22239-2019 level 3 separates the system, security and audit administrators:
no account may hold two of those roles. Every other combination is allowed (an
investigator may also be a steward of their city's sources).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    INVESTIGATOR = "investigator"
    CITY_APPROVER = "city_approver"
    PROVINCE_APPROVER = "province_approver"
    DISPATCHER = "dispatcher"
    STEWARD = "steward"
    AUDITOR = "auditor"
    SECURITY_ADMIN = "security_admin"
    SYSTEM_ADMIN = "system_admin"
    PARTNER = "partner"

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]


_LABELS_ZH = {
    Role.OFFICER: "基层民警",
    Role.INVESTIGATOR: "侦查员",
    Role.CITY_APPROVER: "市级审批",
    Role.PROVINCE_APPROVER: "省厅审批",
    Role.DISPATCHER: "调度员",
    Role.STEWARD: "数据管理员",
    Role.AUDITOR: "审计管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.PARTNER: "外部共享单位",
}

#: The three administrator duties; an account holds at most one of them.
ADMIN_DUTIES: frozenset[Role] = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})


class RoleError(ValueError):
    """An unknown role name, or a combination the separation of duties forbids."""


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """Validate a set of role names: known, at least one, at most one administrator duty."""
    roles: set[Role] = set()
    for name in names:
        try:
            roles.add(Role(name.strip()))
        except ValueError:
            raise RoleError(f"unknown role {name!r}; known: {', '.join(r.value for r in Role)}") from None
    if not roles:
        raise RoleError("an account needs at least one role")
    duties = sorted(r.value for r in roles & ADMIN_DUTIES)
    if len(duties) > 1:
        raise RoleError(
            f"the administrator duties are separate (三员分立): one account cannot hold {' and '.join(duties)}"
        )
    return frozenset(roles)


__all__ = ["ADMIN_DUTIES", "Role", "RoleError", "parse_roles"]
