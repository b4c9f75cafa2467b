"""One audit event and its canonical bytes (what the SM3 chain covers).

An event names who (user, unit, role), what (action, targets), why (purpose code,
case number), under which grant, the outcome and the number of results, and the
client address. Targets are ``"<kind>:<id or digest>"`` strings — record IDs or
blind-index digests — and an event whose text looks like a citizen ID or a mobile
number anywhere is refused before it is written: personal data never enters the
trail in clear.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: 15- or 18-digit citizen IDs and 11-digit mobiles, not inside longer digit runs.
_PERSONAL = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15}|1[3-9][0-9]{9})(?![0-9])")
_TARGET = re.compile(r"^[a-z_]{1,32}:[0-9A-Za-z_.\-]{1,128}$")
#: NUL and the unit separator frame the canonical form; no text column may contain them.
_FRAMING = re.compile("[\x00\x1f]")


class PersonalDataInAudit(ValueError):
    """An audit event carried something that looks like personal data in clear."""


@dataclass(frozen=True)
class AuditEvent:
    action: str  # e.g. auth.sign_in, data.search, data.view, data.export, grant.approve
    outcome: str  # ok | denied | failed | masked | …
    at_ms: int
    user_id: int | None = None
    username: str | None = None
    unit_code: str | None = None
    role: str | None = None
    target: tuple[str, ...] = ()
    purpose: str | None = None
    case_no: str | None = None
    grant_id: int | None = None
    result_count: int | None = None
    client: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def checked(self) -> AuditEvent:
        """Return self after refusing malformed targets and anything that looks personal."""
        if not self.action or not self.outcome:
            raise ValueError("an audit event needs an action and an outcome")
        for i, t in enumerate(self.target):
            if not _TARGET.match(t):  # the message never echoes the value: it may be personal
                raise ValueError(f"audit target #{i + 1} is not '<kind>:<record id or digest>'")
        plain = [self.username, self.unit_code, self.role, self.action, self.outcome, self.case_no, self.client,
                 self.purpose]
        if any(t and _FRAMING.search(t) for t in plain):
            raise ValueError("audit text fields must not contain control characters NUL or US")
        texts = [self.username, self.case_no, self.client, self.purpose, json.dumps(self.detail, ensure_ascii=False)]
        if any(t and _PERSONAL.search(t) for t in texts) or any(_PERSONAL.search(t) for t in self.target):
            raise PersonalDataInAudit("audit event refused: it contains what looks like a citizen ID or mobile number")
        return self

    def row(self) -> dict[str, Any]:
        """The columns of ``audit_event`` (without seq, hash and mac)."""
        return {
            "at_ms": self.at_ms,
            "user_id": self.user_id,
            "username": self.username,
            "unit_code": self.unit_code,
            "role": self.role,
            "action": self.action,
            "target": json.dumps(list(self.target), ensure_ascii=False, separators=(",", ":")),
            "purpose": self.purpose,
            "case_no": self.case_no,
            "grant_id": self.grant_id,
            "outcome": self.outcome,
            "result_count": self.result_count,
            "client": self.client,
            "detail": json.dumps(self.detail, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
        }


#: The columns the chain covers, in this order (changing it invalidates every trail).
CHAINED_COLUMNS = (
    "at_ms", "user_id", "username", "unit_code", "role", "action", "target", "purpose",
    "case_no", "grant_id", "outcome", "result_count", "client", "detail",
)  # fmt: skip


def canonical(seq: int, row: dict[str, Any]) -> bytes:
    """The bytes hashed for one stored event: its sequence number and chained columns.

    Values are joined with the unit separator (0x1F), NULL is a lone NUL (0x00), and
    each column has one type (so ``5`` and ``"5"`` cannot meet in one place). Text
    columns never contain either control character (:meth:`AuditEvent.checked`; the
    JSON columns escape them), so the framing is unambiguous.
    """
    return canonical_values([seq, *(row[c] for c in CHAINED_COLUMNS)])


def canonical_values(values: Sequence[Any]) -> bytes:
    """:func:`canonical` of ``[seq, *chained columns]`` as read straight from the database."""
    return "\x1f".join(["\x00" if v is None else v if v.__class__ is str else str(v) for v in values]).encode()


__all__ = ["CHAINED_COLUMNS", "AuditEvent", "PersonalDataInAudit", "canonical", "canonical_values"]
