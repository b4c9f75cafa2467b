"""Watch-list entries as the rest of the platform sees them, and how a subject becomes a key.

A subject is a plate (kept as the standard normalises it) or a person. A person is
keyed by :func:`~lianfang.access.projection.person_key` — the blind index grants and
audit details use — so no citizen ID is stored or compared in clear; the ID as typed
is kept SM4-encrypted for the owner's own list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lianfang.policy.decision import ScopeKind
from lianfang.standard import Standard
from lianfang.standard.types import VALUE_TYPES, Context, InvalidValue

PLATE, PERSON = "plate", "person"
KINDS = (PLATE, PERSON)
#: The category whose new records are matched: sightings (passes and face captures).
WATCHED_CATEGORY = "sighting"
#: Value type of the watched field for each kind of subject.
VALUE_TYPE = {PLATE: "plate", PERSON: "citizen_id"}
SCOPE_KIND = {PLATE: ScopeKind.VEHICLE, PERSON: ScopeKind.PERSON}
ACTIVE, REMOVED, EXPIRED = "active", "removed", "expired"
DAY_MS = 86_400_000


class WatchError(ValueError):
    """A refused watch-list operation.

    ``kind``: invalid | forbidden | not_found | needs_grant; ``reason``: a stable code
    (``watch.scope_empty`` …); ``extra``: what a client needs to act (cities, prefilled requests).
    """

    def __init__(self, kind: str, reason: str, message: str, **extra: Any):
        super().__init__(message)
        self.kind = kind
        self.reason = reason
        self.message = message
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "message": self.message, **self.extra}


@dataclass(frozen=True)
class WatchEntry:
    id: int
    owner_id: int
    owner_unit: str
    kind: str  # plate | person
    subject_key: str  # the plate, or the person key (hex)
    purpose: str
    case_no: str
    scope: tuple[str, ...]  # city codes whose sightings are matched
    grant_ids: tuple[int, ...]  # grants that opened other cities' sightings when the entry was added
    status: str  # active | removed | expired
    created_at: int
    expires_at: int
    removed_at: int | None

    def live(self, now_ms: int) -> bool:
        return self.status == ACTIVE and now_ms < self.expires_at

    @property
    def scope_kind(self) -> ScopeKind:
        return SCOPE_KIND[self.kind]

    @property
    def target(self) -> str:
        return f"watch:{self.id}"


def entry_of(row: Any) -> WatchEntry:
    m = row._mapping
    return WatchEntry(
        id=int(m["id"]),
        owner_id=int(m["owner_id"]),
        owner_unit=m["owner_unit"],
        kind=m["kind"],
        subject_key=m["subject_key"],
        purpose=m["purpose"],
        case_no=m["case_no"],
        scope=tuple(json.loads(m["scope"])),
        grant_ids=tuple(int(g) for g in json.loads(m["grant_ids"])),
        status=m["status"],
        created_at=int(m["created_at"]),
        expires_at=int(m["expires_at"]),
        removed_at=None if m["removed_at"] is None else int(m["removed_at"]),
    )


def subject_normaliser(standard: Standard, kind: str) -> Callable[[str], str]:
    """The standard's normaliser for the watched field of this kind (plate spellings, 15-digit IDs…).

    Raises :class:`WatchError` (``watch.subject``) for a value the standard refuses; the
    message names the check, never the value.
    """
    if kind not in KINDS:
        raise WatchError("invalid", "watch.kind", f"a watch-list entry is on a {' or a '.join(KINDS)}")
    category = standard.category(WATCHED_CATEGORY)
    fld = next(f for f in category.fields.values() if f.type == VALUE_TYPE[kind])
    normalise = VALUE_TYPES[fld.type].compile(fld, None, Context())

    def run(text: str) -> str:
        raw = (text or "").strip()
        if not raw:
            raise WatchError("invalid", "watch.subject", "name the plate or the citizen ID to watch")
        try:
            return str(normalise(raw))
        except InvalidValue as exc:
            raise WatchError("invalid", "watch.subject", f"not a valid {kind}: {exc.code}") from None

    return run


__all__ = [
    "ACTIVE",
    "DAY_MS",
    "EXPIRED",
    "KINDS",
    "PERSON",
    "PLATE",
    "REMOVED",
    "SCOPE_KIND",
    "WATCHED_CATEGORY",
    "WatchEntry",
    "WatchError",
    "entry_of",
    "subject_normaliser",
]
