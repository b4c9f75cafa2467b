"""Entity pages: one record with everything the standard links to it, from every city.

A person page is the person's file plus the records that carry the same citizen ID
(their files in other cities side by side, the vehicles they own, cases naming them,
sightings matched to them, alerts about them); a vehicle page adds the owner, cases
and alerts naming the plate and its newest sightings; a case page its suspect and
the suspect vehicle. Links are found by searching each subject value the record
holds (citizen IDs are decrypted in memory only, never returned unless the policy
allows), so every linked row goes through the same projection and ranking as search.
Cross-city identity resolution for records without a reliable ID is a later step.
"""

from __future__ import annotations

from typing import Any

from lianfang.access.records import HIDDEN_REASONS, RecordHidden, RecordReader, RequestRefused
from lianfang.audit import AuditEvent
from lianfang.identity.directory import User
from lianfang.policy.decision import Effect, Purpose
from lianfang.search.engine import Group, Searcher
from lianfang.search.recognise import Query, QueryKind

#: Field value types that link records, and the query kind each becomes.
_LINKS = {"citizen_id": QueryKind.CITIZEN_ID, "plate": QueryKind.PLATE, "case_no": QueryKind.CASE_NO}
ENTITY_CATEGORIES = ("person", "vehicle", "case", "alert", "help_request", "sighting", "device")


class Entities:
    def __init__(self, searcher: Searcher, records: RecordReader):
        self.searcher = searcher
        self.records = records

    def view(self, user: User, category: str, record_id: int, purpose: Purpose | None, *, now_ms: int,
             client: str | None = None, size: int = 20) -> dict[str, Any]:
        """The record as the user may see it, with its linked records grouped by category."""
        if category not in ENTITY_CATEGORIES:
            raise RecordHidden(f"no {category} pages")
        target = f"{category}:{record_id}"
        row = self.searcher.row(category, record_id)
        if row is None:
            self._audit(user, (target,), "not_found", purpose, now_ms, client, {"reason": "not_found"}, 0)
            raise RecordHidden(f"no {category} record {record_id}")
        try:
            reading = self.searcher.reading(user, purpose, now_ms)
        except RequestRefused as exc:
            self._audit(user, (target,), "denied", purpose, now_ms, client, {"reason": exc.reason}, 0)
            raise
        main = self.searcher.projector.project(reading, category, row)
        if main.effect is Effect.DENY:
            outcome = "hidden" if main.reason == "deny.above_hits" else "denied"
            self._audit(user, (target,), outcome, purpose, now_ms, client,
                        {"reason": main.reason, "level": main.level.value}, 0)
            if main.reason in HIDDEN_REASONS:
                raise RecordHidden(f"no {category} record {record_id}")
            raise RequestRefused(main.reason)
        groups = self._related(reading, category, row, size)
        shown = [i for g in groups for i in g.items]
        detail: dict[str, Any] = {
            "level": main.level.value, "owner_city": main.city_code, "access": main.effect.value,
            "related": {g.category: len(g.items) for g in groups if g.items},
            "withheld": sum(g.withheld for g in groups),
            **self.records.subject_digests(category, row._mapping),
        }  # fmt: skip
        targets = (target, *(f"{i['category']}:{i['id']}" for i in shown))
        self._audit(user, targets, main.effect.value, purpose, now_ms, client, detail, 1 + len(shown),
                    grant_id=main.grant_ids[0] if main.grant_ids else None)
        return {"record": main.as_dict(), "related": [g.as_dict() for g in groups]}

    def _related(self, reading: Any, category: str, row: Any, size: int) -> list[Group]:
        cat = self.searcher.targets.standard.category(category)
        projector = self.searcher.projector
        merged: dict[str, Group] = {}
        seen: set[str] = {f"{category}:{row._mapping['id']}"}
        for fld in cat.fields.values():
            kind = _LINKS.get(fld.type)
            if kind is None:
                continue
            value = projector.value(fld.name, fld.type, fld.encrypted, row._mapping)
            if not value:
                continue
            query = Query(kind, str(value))
            for group in self.searcher.find(reading, query, size=size, exclude=frozenset(seen)):
                into = merged.setdefault(group.category, Group(group.category, 0, 1, size))
                into.total += group.total
                into.withheld += group.withheld
                into.needs_case_no += group.needs_case_no
                into.capped = into.capped or group.capped
                for item in group.items:
                    key = f"{item['category']}:{item['id']}"
                    if key not in seen:
                        seen.add(key)
                        into.items.append({**item, "link": fld.name})
        return [g for g in merged.values() if g.total]

    def _audit(self, user: User, targets: tuple[str, ...], outcome: str, purpose: Purpose | None, now_ms: int,
               client: str | None, detail: dict[str, Any], count: int, grant_id: int | None = None) -> None:
        self.searcher.audit.record(AuditEvent(
            action="data.view", outcome=outcome, at_ms=now_ms, **user.audit_fields(), target=targets,
            purpose=purpose.code if purpose else None, case_no=(purpose.case_no or None) if purpose else None,
            grant_id=grant_id, result_count=count, client=client, detail={"page": "entity", **detail},
        ))  # fmt: skip


__all__ = ["ENTITY_CATEGORIES", "Entities"]
