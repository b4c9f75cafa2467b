"""Ordinary use of the platform, as audit events: what the alarm rules should mostly stay quiet about.

Deterministic for a seed. On each working day (Monday–Friday) every staff member who
reads data signs in in the morning and reads person records between 08:30 and 18:00
under the case numbers of real cases: officers a handful, investigators and approvers
more, each user at a steady personal rate; now and then a read is refused. This is the
"normal demo traffic" the false-alarm rate is measured on (``lianfang demo traffic``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from lianfang.audit.event import AuditEvent
from lianfang.identity.directory import User
from lianfang.policy.roles import Role

_READS = {  # (low, high) reads per working day
    Role.OFFICER: (3, 12),
    Role.INVESTIGATOR: (10, 35),
    Role.CITY_APPROVER: (2, 8),
    Role.PROVINCE_APPROVER: (2, 8),
    Role.DISPATCHER: (4, 15),
}


def normal_traffic(
    staff: Sequence[User],
    persons: Sequence[tuple[int, str]],  # (record id, owning city)
    cases: Sequence[str],
    *,
    end: datetime,
    days: int,
    tz: ZoneInfo,
    seed: int = 11,
) -> Iterator[AuditEvent]:
    """Events for the ``days`` calendar days before ``end`` (working days only), in time order per day."""
    rnd = random.Random(seed)
    readers = [u for u in staff if u.roles & set(_READS)]
    rates = {u.id: rnd.uniform(*_READS[next(r for r in _READS if r in u.roles)]) for u in readers}
    for back in range(days, 0, -1):
        day = (end - timedelta(days=back)).astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        if day.isoweekday() > 5:
            continue
        events: list[AuditEvent] = []
        for u in readers:
            start = day + timedelta(hours=8, minutes=rnd.randrange(0, 60))
            events.append(AuditEvent(action="auth.sign_in", outcome="ok", at_ms=int(start.timestamp() * 1000),
                                     **u.audit_fields(), client="10.36.0.1", detail={"reason": "password+totp"}))
            for _ in range(max(0, round(rnd.gauss(rates[u.id], rates[u.id] / 4)))):
                at = day + timedelta(hours=8, minutes=30) + timedelta(seconds=rnd.randrange(0, int(9.5 * 3600)))
                rid, city = persons[rnd.randrange(len(persons))]
                own = city[:4] == u.unit_code[:4] or u.unit_code.endswith("0000")
                outcome = "denied" if rnd.random() < 0.01 else ("allow" if own else "mask")
                events.append(AuditEvent(
                    action="data.view", outcome=outcome, at_ms=int(at.timestamp() * 1000), **u.audit_fields(),
                    target=(f"person:{rid}",),
                    purpose="case_investigation", case_no=cases[rnd.randrange(len(cases))],
                    result_count=0 if outcome == "denied" else 1, client="10.36.0.1",
                    detail={"level": "sensitive", "owner_city": city},
                ))  # fmt: skip
        events.sort(key=lambda e: e.at_ms)
        yield from events


__all__ = ["normal_traffic"]
