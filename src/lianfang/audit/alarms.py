"""Alarms on abnormal operations, evaluated as audit events arrive (异常操作告警).

Each appended event is offered to every enabled rule (``alarms.yaml``). Rules read the
trail itself for their windows and baselines, so several server processes see the
same history; "many users, one subject" reads ``audit_subject`` instead, an index of
who read which person that the trail writes in each event's own transaction
(:meth:`AlarmEngine.subjects_of` says which persons an event names; on SQLite a
second writer beside the trail's would contend with it for the one write lock) and
the alarm thread prunes daily. An alarm names its rule, severity, user, subject and the event that
raised it, with evidence (counts, thresholds, sequence numbers); a rule raises at
most one open alarm per user (or subject) per window, so a burst is one alarm. The
engine remembers the open alarms it has seen for a minute (:data:`OPEN_MEMO_S`), so a
rule that keeps matching does not look its alarm up on every event; disposing of an
alarm lets its rule raise again at once in this process, within that minute in others.

Rules: access outside working hours; daily reads above the user's own baseline and
the peer group's 99th percentile; repeated denials; a person looked up with no known
case; bulk export; access to protected persons (records raised to top secret); one
subject looked up by many users in a day; looking up oneself or one's family (same
surname and registered address, compared as blind-index digests); a dormant account
suddenly active; and failures to write the trail.

Evaluation runs on its own thread (:class:`AlarmWorker`) so request latency does not
include it; :meth:`AlarmWorker.drain` waits until everything offered was evaluated.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time
from importlib import resources
from pathlib import Path
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, MetaData, Table, and_, bindparam, delete, func, insert, select, update

from lianfang.audit.event import AuditEvent
from lianfang.standard.yamltext import load_yaml
from lianfang.store.engine import read_only

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
#: How long an open alarm this engine has seen is taken as still open without asking the
#: database again. A rule that keeps matching (a user reading all night) would otherwise
#: look its alarm up on every event; an alarm disposed of by another process is noticed
#: within this time (one disposed of here, at once).
OPEN_MEMO_S = 60.0
#: How long the alarm thread keeps a user's facts (role, creation time, own and family digests).
FACTS_S = 60.0
RULES = (
    "after_hours", "volume", "repeated_denials", "no_case_link", "bulk_export", "protected_person",
    "many_users_one_subject", "self_or_family", "dormant_account", "audit_failure",
)  # fmt: skip
_RULE_KEYS = {
    "after_hours": set(),
    "volume": {"factor", "baseline_days", "min_reads", "peer_quantile"},
    "repeated_denials": {"count", "window_minutes"},
    "no_case_link": set(),
    "bulk_export": {"rows"},
    "protected_person": set(),
    "many_users_one_subject": {"users", "window_hours"},
    "self_or_family": set(),
    "dormant_account": {"dormant_days"},
    "audit_failure": set(),
}
SEVERITIES = ("low", "medium", "high", "critical")
DENIED = ("denied", "hidden")


class AlarmConfigError(ValueError):
    pass


@dataclass(frozen=True)
class AlarmConfig:
    start: time
    end: time
    weekdays: frozenset[int]
    rules: dict[str, dict[str, Any]]

    def on(self, rule: str) -> bool:
        return bool(self.rules.get(rule, {}).get("enabled"))


def parse_alarm_config(raw: Any) -> AlarmConfig:
    if not isinstance(raw, dict) or set(raw) != {"version", "working_hours", "rules"} or raw["version"] != 1:
        raise AlarmConfigError("alarms: expected version 1 with working_hours and rules")
    wh = raw["working_hours"]
    try:
        start = time.fromisoformat(wh["start"])
        end = time.fromisoformat(wh["end"])
        weekdays = frozenset(int(d) for d in wh["weekdays"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AlarmConfigError(f"alarms.working_hours: {exc}") from None
    rules: dict[str, dict[str, Any]] = {}
    for name, spec in (raw["rules"] or {}).items():
        if name not in _RULE_KEYS:
            raise AlarmConfigError(f"alarms.rules: unknown rule {name!r}")
        if not isinstance(spec, dict):
            raise AlarmConfigError(f"alarms.rules.{name}: expected a mapping")
        unknown = set(spec) - _RULE_KEYS[name] - {"enabled", "severity"}
        if unknown:
            raise AlarmConfigError(f"alarms.rules.{name}: unknown keys {sorted(unknown)}")
        if spec.get("severity", "medium") not in SEVERITIES:
            raise AlarmConfigError(f"alarms.rules.{name}.severity: one of {SEVERITIES}")
        rules[name] = {"enabled": True, "severity": "medium", **spec}
    return AlarmConfig(start, end, weekdays, rules)


def load_alarm_config(path: Path | None = None) -> AlarmConfig:
    if path is None:
        text = resources.files("lianfang.audit").joinpath("alarms.yaml").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return parse_alarm_config(load_yaml(text))


@dataclass(frozen=True)
class UserFacts:
    """What the rules need to know about the acting user (digests only)."""

    role: str | None
    created_at: int
    person_bidx: bytes | None
    family_bidx: bytes | None


class AlarmEngine:
    def __init__(self, engine: Engine, metadata: MetaData, config: AlarmConfig, tz: ZoneInfo,
                 user_facts: Callable[[int], UserFacts | None]):
        self.engine = engine
        self.events: Table = metadata.tables["audit_event"]
        self.subjects: Table = metadata.tables["audit_subject"]
        self._subjects_pruned: int | None = None
        s = self.subjects.c
        # readers of each of some persons in a window, up to an event: built once (asked for most data events)
        self._readers = (
            select(s.subject, func.count(func.distinct(s.user_id)))
            .where(s.subject.in_(bindparam("subjects", expanding=True)), s.at_ms > bindparam("since"),
                   s.at_ms <= bindparam("until"), s.seq <= bindparam("seq"))
            .group_by(s.subject)
        )  # fmt: skip
        self.alarms: Table = metadata.tables["audit_alarm"]
        self.cases: Table = metadata.tables["rec_case"]
        self.config = config
        self.tz = tz
        self.user_facts = user_facts
        self._facts: dict[int, tuple[float, UserFacts | None]] = {}  # user -> (monotonic time read, facts)
        # the volume rule's history ends where today starts, so it is read once per user (and per
        # role, for the peers) and day, not on every event of a busy user
        self._history_day: int | None = None
        self._own_reads: dict[int, int] = {}
        self._peer_reads: dict[str, dict[int, int]] = {}
        # (rule, user, subject) -> (the open alarm's at_ms, monotonic time it was seen open)
        self._open_seen: dict[tuple[str, int | None, str | None], tuple[int, float]] = {}

    # -- raising ---------------------------------------------------------------------

    def _raise(self, rule: str, at_ms: int, evidence: dict[str, Any], *, user_id: int | None = None,
               subject: str | None = None, seq: int | None = None, window_ms: int = DAY_MS) -> bool:
        """Store an alarm unless an open one of this rule for this user/subject is within ``window_ms``."""
        if self._open_within(rule, at_ms, user_id=user_id, subject=subject, window_ms=window_ms):
            return False
        with self.engine.begin() as conn:
            conn.execute(insert(self.alarms).values(
                rule=rule, severity=self.config.rules[rule]["severity"], user_id=user_id, subject=subject,
                at_ms=at_ms, seq=seq, evidence=json.dumps(evidence, ensure_ascii=False, sort_keys=True),
                status="open",
            ))  # fmt: skip
        self._remember_open(rule, user_id, subject, at_ms)
        return True

    def _open_within(self, rule: str, at_ms: int, *, user_id: int | None, subject: str | None,
                     window_ms: int) -> bool:
        """Whether an open alarm of ``rule`` for this user/subject lies within ``window_ms`` before ``at_ms``."""
        if self._open_remembered(rule, at_ms, user_id=user_id, subject=subject, window_ms=window_ms):
            return True
        a = self.alarms.c
        cond = [a.rule == rule, a.at_ms > at_ms - window_ms, a.status == "open"]
        cond.append(a.user_id == user_id if user_id is not None else a.user_id.is_(None))
        if subject is not None:
            cond.append(a.subject == subject)
        with read_only(self.engine) as conn:  # read, then write in its own transaction (see auth.resume)
            found = conn.execute(select(func.max(a.at_ms)).where(and_(*cond))).scalar()
        if found is None:
            return False
        self._remember_open(rule, user_id, subject, int(found))
        return True

    def _open_remembered(self, rule: str, at_ms: int, *, user_id: int | None, subject: str | None,
                         window_ms: int) -> bool:
        """:meth:`_open_within` as far as this engine remembers, without asking the database."""
        seen = self._open_seen.get((rule, user_id, subject))
        return seen is not None and seen[0] > at_ms - window_ms and monotonic() - seen[1] < OPEN_MEMO_S

    def _remember_open(self, rule: str, user_id: int | None, subject: str | None, at_ms: int) -> None:
        if len(self._open_seen) >= 10_000:  # subjects come and go: keep what is still fresh
            now = monotonic()
            self._open_seen = {k: v for k, v in self._open_seen.items() if now - v[1] < OPEN_MEMO_S}
        self._open_seen[(rule, user_id, subject)] = (at_ms, monotonic())

    def audit_failed(self, error: BaseException, at_ms: int) -> None:
        if self.config.on("audit_failure"):
            try:
                self._raise("audit_failure", at_ms, {"error": type(error).__name__}, window_ms=60_000)
            except Exception:  # the store itself may be what failed
                log.critical("ALARM audit_failure: the audit trail cannot be written (%s)", type(error).__name__)

    # -- evaluation --------------------------------------------------------------------

    def observe(self, seq: int, ev: AuditEvent) -> list[str]:
        """Evaluate every enabled rule for one stored event; returns the rules that raised."""
        return self.observe_many([(seq, ev)])[0]

    def observe_many(self, items: list[tuple[int, AuditEvent]]) -> list[list[str]]:
        """:meth:`observe` for consecutive events (pruning the subject index on a new day)."""
        try:
            self._prune_subjects(items[-1][1].at_ms)
        except Exception:
            log.exception("pruning the alarm subject index failed")
        out = []
        for seq, ev in items:
            raised = []
            for rule in RULES:
                if rule == "audit_failure" or not self.config.on(rule):
                    continue
                try:
                    if getattr(self, f"_{rule}")(seq, ev, self.config.rules[rule]):
                        raised.append(rule)
                except Exception:
                    log.exception("alarm rule %s failed on event %s", rule, seq)
            out.append(raised)
        return out

    def _data(self, ev: AuditEvent) -> bool:
        return ev.action.startswith("data.") and ev.user_id is not None

    def _after_hours(self, seq: int, ev: AuditEvent, p: dict[str, Any]) -> bool:
        if not self._data(ev):
            return False
        local = datetime.fromtimestamp(ev.at_ms / 1000, self.tz)
        inside = local.isoweekday() in self.config.weekdays and self.config.start <= local.time() < self.config.end
        if inside:
            return False
        return self._raise("after_hours", ev.at_ms, {"local_time": local.isoformat(timespec="minutes"),
                                                     "action": ev.action}, user_id=ev.user_id, seq=seq)

    def _day_start(self, at_ms: int) -> int:
        local = datetime.fromtimestamp(at_ms / 1000, self.tz)
        return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)

    def _volume(self, seq: int, ev: AuditEvent, p: dict[str, Any]) -> bool:
        if not self._data(ev) or self._open_remembered("volume", ev.at_ms, user_id=ev.user_id, subject=None,
                                                        window_ms=DAY_MS):
            return False  # (a user already reported today is not counted again on every read)
        e = self.events.c
        today = self._day_start(ev.at_ms)
        # up to this event only: evaluation may lag behind appends, and history may be loaded in bulk
        reads = (e.user_id == ev.user_id, e.at_ms >= today, e.at_ms <= ev.at_ms, e.seq <= seq,
                 e.action.startswith("data."))
        with read_only(self.engine) as conn:
            own, per_user = self._history(conn, ev, today, p["baseline_days"])
            baseline = own / p["baseline_days"]
            peers = sorted(n / p["baseline_days"] for uid, n in per_user.items() if uid != ev.user_id)
            peer_q = peers[min(len(peers) - 1, int(p["peer_quantile"] * len(peers)))] if peers else 0.0
            threshold = max(p["min_reads"], p["factor"] * baseline, peer_q)
            # whether today's reads pass the threshold needs no more of them than one past it:
            # a busy user's every read costs the same, not more with each read of the day
            enough = math.floor(threshold) + 1
            counted = conn.execute(select(func.count()).select_from(
                select(e.seq).where(*reads).limit(enough).subquery())).scalar_one()
            if counted < enough:
                return False
            # the evidence's number: counted in full once per user and day, or once more per
            # OPEN_MEMO_S when the open alarm it would repeat is only in the database
            count = conn.execute(select(func.count()).where(*reads)).scalar_one()
        return self._raise("volume", ev.at_ms, {
            "reads_today": count, "own_daily_baseline": round(baseline, 1), "peer_p99_daily": round(peer_q, 1),
            "threshold": round(threshold, 1)}, user_id=ev.user_id, seq=seq)  # fmt: skip

    def _history(self, conn: Connection, ev: AuditEvent, today: int, days: int) -> tuple[int, dict[int, int]]:
        """Data reads in the ``days`` before ``today``: the user's own, and per user of the same role."""
        if self._history_day != today:
            self._history_day, self._own_reads, self._peer_reads = today, {}, {}
        e = self.events.c
        since = today - days * DAY_MS
        assert ev.user_id is not None
        own = self._own_reads.get(ev.user_id)
        if own is None:
            own = self._own_reads[ev.user_id] = conn.execute(select(func.count()).where(
                e.user_id == ev.user_id, e.at_ms >= since, e.at_ms < today, e.action.startswith("data."))
            ).scalar_one()
        role = ev.role or ""
        peers = self._peer_reads.get(role)
        if peers is None:
            peers = self._peer_reads[role] = {int(uid): int(n) for uid, n in conn.execute(
                select(e.user_id, func.count()).where(
                    e.at_ms >= since, e.at_ms < today, e.action.startswith("data."), e.role == ev.role,
                    e.user_id.is_not(None),
                ).group_by(e.user_id)
            )}  # fmt: skip
        return own, peers

    def _repeated_denials(self, seq: int, ev: AuditEvent, p: dict[str, Any]) -> bool:
        if ev.user_id is None or ev.outcome not in DENIED:
            return False
        e = self.events.c
        window = p["window_minutes"] * 60_000
        with read_only(self.engine) as conn:
            seqs = [r[0] for r in conn.execute(select(e.seq).where(
                e.user_id == ev.user_id, e.at_ms > ev.at_ms - window, e.at_ms <= ev.at_ms, e.seq <= seq,
                e.outcome.in_(DENIED),
            ).order_by(e.seq))]  # fmt: skip
        if len(seqs) < p["count"]:
            return False
        return self._raise("repeated_denials", ev.at_ms, {"denials": len(seqs), "window_minutes": p["window_minutes"],
                                                          "events": seqs[-p["count"]:]},
                           user_id=ev.user_id, seq=seq, window_ms=window)

    def _persons(self, ev: AuditEvent) -> list[str]:
        return [t for t in ev.target if t.startswith("person:")]

    def _no_case_link(self, seq: int, ev: AuditEvent, p: dict[str, Any]) -> bool:
        if not self._data(ev) or not self._persons(ev) or ev.outcome not in ("allow", "mask"):
            return False
        if self._open_remembered("no_case_link", ev.at_ms, user_id=ev.user_id, subject=None, window_ms=DAY_MS):
            return False  # reported today already: the case need not be looked up
        known = False
        if ev.case_no:
            with read_only(self.engine) as conn:
                known = conn.execute(
                    select(self.cases.c.id).where(self.cases.c.case_no == ev.case_no).limit(1)
                ).first() is not None
        if known:
            return False
        # one open alarm per user and day: the auditor reviews the user's uncased lookups together
        return self._raise("no_case_link", ev.at_ms, {"case_no": ev.case_no or None, "persons": self._persons(ev)[:5],
                                                      "known_case": False},
                           user_id=ev.user_id, seq=seq)

    def _bulk_export(self, seq: int, ev: AuditEvent, p: dict[str, Any]) -> bool:
        if ev.action != "data.export" or (ev.result_count or 0) < p["rows"]:
            return False
        return self._raise("bulk_export", ev.at_ms, {"rows": ev.result_count, "threshold": p["rows"]},
                           user_id=ev.user_id, seq=seq, window_ms=60_000)

    def _protected_person(self, seq: int, ev: AuditEvent, p: dict[str, Any]) -> bool:
        if not self._data(ev) or ev.detail.get("level") != "top_secret":
            return False
        target = ev.target[0] if ev.target else None
        return self._raise("protected_person", ev.at_ms, {"outcome": ev.outcome, "target": target},
                           user_id=ev.user_id, subject=target, seq=seq, window_ms=60 * 60_000)

    def subjects_of(self, ev: AuditEvent) -> list[str]:
        """The persons a data event names, as the subject index keeps them (the first five); none while
        the rule that reads the index is off."""
        if not self.config.on("many_users_one_subject") or not self._data(ev):
            return []
        return list(dict.fromkeys(self._persons(ev)))[:5]

    def _prune_subjects(self, at_ms: int) -> None:
        """Once a day, forget the subject index rows older than twice the rule's window."""
        day = self._day_start(at_ms)
        if self._subjects_pruned == day or not self.config.on("many_users_one_subject"):
            return
        keep_ms = 2 * self.config.rules["many_users_one_subject"]["window_hours"] * 3_600_000
        with self.engine.begin() as conn:
            conn.execute(delete(self.subjects).where(self.subjects.c.at_ms < at_ms - keep_ms))
        self._subjects_pruned = day

    def _many_users_one_subject(self, seq: int, ev: AuditEvent, p: dict[str, Any]) -> bool:
        subjects = self.subjects_of(ev)
        if not subjects:
            return False
        window = p["window_hours"] * 3_600_000
        with read_only(self.engine) as conn:  # the subject index: one range per subject, not the day; one query
            counts: dict[str, int] = dict(conn.execute(self._readers, {
                "subjects": subjects, "since": ev.at_ms - window, "until": ev.at_ms, "seq": seq}).all())
        for target in subjects:
            users = int(counts.get(target, 0))
            if users >= p["users"] and self._raise(
                "many_users_one_subject", ev.at_ms, {"users": users, "window_hours": p["window_hours"]},
                subject=target, seq=seq, window_ms=window,
            ):
                return True
        return False

    def _facts_of(self, user_id: int) -> UserFacts | None:
        """The user's facts, read again after :data:`FACTS_S` (a role or an address changes rarely; every
        data event that names a person would otherwise read the account)."""
        now = monotonic()
        known = self._facts.get(user_id)
        if known is not None and now - known[0] < FACTS_S:
            return known[1]
        if len(self._facts) > 10_000:
            self._facts.clear()
        facts = self.user_facts(user_id)
        self._facts[user_id] = (now, facts)
        return facts

    def _self_or_family(self, seq: int, ev: AuditEvent, p: dict[str, Any]) -> bool:
        person, family = ev.detail.get("person_digest"), ev.detail.get("family_digest")
        if not self._data(ev) or not (person or family):
            return False  # nothing to compare: the user's own digests are not read
        facts = self._facts_of(ev.user_id) if ev.user_id is not None else None
        if facts is None:
            return False
        kind = None
        if person and facts.person_bidx is not None and person == facts.person_bidx.hex():
            kind = "self"
        elif family and facts.family_bidx is not None and family == facts.family_bidx.hex():
            kind = "family"
        if kind is None:
            return False
        target = ev.target[0] if ev.target else None
        return self._raise("self_or_family", ev.at_ms, {"match": kind, "target": target}, user_id=ev.user_id,
                           subject=target, seq=seq)

    def _dormant_account(self, seq: int, ev: AuditEvent, p: dict[str, Any]) -> bool:
        if ev.action != "auth.sign_in" or ev.outcome != "ok" or ev.user_id is None:
            return False
        e = self.events.c
        with read_only(self.engine) as conn:
            before = conn.execute(select(func.max(e.at_ms)).where(
                e.user_id == ev.user_id, e.action == "auth.sign_in", e.outcome == "ok", e.seq < seq)).scalar()
        facts = self._facts_of(ev.user_id)
        last = before if before is not None else (facts.created_at if facts else ev.at_ms)
        idle_days = (ev.at_ms - int(last)) / DAY_MS
        if idle_days < p["dormant_days"]:
            return False
        return self._raise("dormant_account", ev.at_ms, {"idle_days": int(idle_days)}, user_id=ev.user_id, seq=seq)

    # -- reading and disposing -----------------------------------------------------------

    def list(self, *, status: str | None = "open", rule: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        a = self.alarms.c
        q = select(self.alarms).order_by(a.id.desc()).limit(limit)
        if status:
            q = q.where(a.status == status)
        if rule:
            q = q.where(a.rule == rule)
        with read_only(self.engine) as conn:
            return [{**dict(r._mapping), "evidence": json.loads(r.evidence)} for r in conn.execute(q)]

    def dispose(self, alarm_id: int, *, status: str, note: str, by_user: int | None, at_ms: int) -> bool:
        if status not in ("confirmed", "false_positive"):
            raise ValueError("an alarm is disposed of as confirmed or false_positive")
        with self.engine.begin() as conn:
            done = conn.execute(update(self.alarms).where(self.alarms.c.id == alarm_id, self.alarms.c.status == "open")
                                .values(status=status, disposed_by=by_user, disposed_at=at_ms,
                                        disposition=note[:2000])).rowcount
        self._open_seen.clear()  # the rule may raise again at once
        return bool(done)


class AlarmWorker:
    """Evaluates appended events on a thread of its own, in order."""

    def __init__(self, alarms: AlarmEngine):
        self.alarms = alarms
        self._queue: queue.Queue[tuple[int, AuditEvent] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="lianfang-alarms", daemon=True)
        self._thread.start()

    def offer(self, appended: Iterable[tuple[int, AuditEvent]]) -> None:
        for item in appended:
            self._queue.put(item)

    def drain(self) -> None:
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _loop(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while batch[-1] is not None and len(batch) < 500:  # what is already waiting, in one go
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            items = [b for b in batch if b is not None]
            stop = len(items) < len(batch)
            try:
                if items:
                    self.alarms.observe_many(items)
            finally:
                for _ in batch:
                    self._queue.task_done()


__all__ = [
    "RULES", "AlarmConfig", "AlarmConfigError", "AlarmEngine", "AlarmWorker", "UserFacts", "load_alarm_config",
    "parse_alarm_config",
]  # fmt: skip
