"""Access and trust benchmarks: policy decisions (vs pycasbin), audit append and verification.

* Policy: one "record decision" is what reading one person record costs — the
  record-level decision plus one per field (12 calls of ``decide``), for a random
  actor (role, city), record (city, level) and the actor's grants (0–3, some
  expired or revoked). The peer is pycasbin enforcing an equivalent RBAC model
  (roles and per-user grants as policies; allow/deny only, no masking or reasons)
  for the same 12 questions.
* Audit append: 64 request threads each recording events one at a time through the
  group committer (each call returns only once its event is durably committed).
* Verification: a trail of ``--audit-events`` records, verified end to end in a fresh
  process (``bench.verify_once``), as ``lianfang audit verify`` runs it.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lianfang.audit import Audit, AuditEvent, GroupCommitter
from lianfang.crypto import create_key_file
from lianfang.policy.config import load_policy
from lianfang.policy.decision import Actor, Grant, Purpose, RecordRef, ScopeKind, decide
from lianfang.policy.roles import Role
from lianfang.standard import load_standard
from lianfang.standard.levels import Level
from lianfang.store.engine import make_engine, migrate
from lianfang.store.schema import build_metadata

CITIES = [f"36{i:02d}00" for i in range(1, 17)]
LEVELS = [Level.PUBLIC, Level.INTERNAL, Level.SENSITIVE, Level.TOP_SECRET]
DATA_ROLES = [Role.OFFICER, Role.INVESTIGATOR, Role.CITY_APPROVER, Role.PROVINCE_APPROVER, Role.DISPATCHER,
              Role.STEWARD, Role.PARTNER]
PURPOSE = Purpose("case_investigation", "", "A3601002026110001")
NOW = 1_790_000_000_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class PeerResult:
    name: str
    records: int
    policies: int
    p50_us: float
    p99_us: float


@dataclass
class PolicyResult:
    records: int
    ours_p50_us: float
    ours_p99_us: float
    peers: list[PeerResult]


USERS = 500


def _cases(n: int, seed: int = 5) -> list[tuple[Actor, RecordRef, list[Grant]]]:
    """``n`` reads by 500 users (each with a role, a city and 0-3 grants) of random records."""
    rnd = random.Random(seed)
    users = []
    for uid in range(USERS):
        actor = Actor(user_id=uid, roles=frozenset({rnd.choice(DATA_ROLES)}), unit_code=rnd.choice(CITIES))
        grants = []
        for g in range(rnd.randrange(4)):
            state = rnd.choice(["valid", "expired", "revoked"])
            grants.append(Grant(
                id=uid * 10 + g, holder_id=uid, approver_id=9999, approver_role=Role.PROVINCE_APPROVER,
                city_code=rnd.choice(CITIES), level=Level.TOP_SECRET, purpose=PURPOSE.code,
                case_no=PURPOSE.case_no or "", scope=ScopeKind.PERSON, keys=frozenset({f"p{rnd.randrange(997)}"}),
                starts_ms=NOW - 3_600_000, expires_ms=NOW - 1 if state == "expired" else NOW + 3_600_000,
                revoked_ms=NOW - 1 if state == "revoked" else None,
            ))  # fmt: skip
        users.append((actor, grants))
    out = []
    for i in range(n):
        actor, grants = users[rnd.randrange(USERS)]
        rec = RecordRef("person", i, rnd.choice(CITIES), rnd.choice(LEVELS),
                        frozenset({(ScopeKind.PERSON, f"p{i % 997}")}))
        out.append((actor, rec, grants))
    return out


_CASBIN_MODEL = """
[request_definition]
r = sub, rel, level, act
[policy_definition]
p = sub, rel, level, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && r.rel == p.rel && r.level == p.level && r.act == p.act
"""


def _casbin(cases: list[tuple[Actor, RecordRef, list[Grant]]], with_grants: bool) -> object:
    import casbin
    from casbin.model import Model

    model = Model()
    model.load_model_from_text(_CASBIN_MODEL)
    e = casbin.Enforcer(model)
    cfg = load_policy()
    for role, reach in cfg.roles.items():
        for rel, top in (("own", reach.own), ("other", reach.other)):
            for level in LEVELS:
                if top is not None and top.at_least(level):
                    e.add_policy(role.value, rel, level.value, "read")
    users: set[int] = set()
    for actor, _rec, grants in cases:
        if actor.user_id in users:
            continue
        users.add(actor.user_id)
        for role in actor.roles:
            e.add_grouping_policy(f"u{actor.user_id}", role.value)
        for g in grants if with_grants else ():
            if g.revoked_ms is None and g.expires_ms > NOW:
                for level in LEVELS:
                    e.add_policy(f"u{actor.user_id}", f"city:{g.city_code}", level.value, "read")
    return e


def _peer(name: str, cases: list[tuple[Actor, RecordRef, list[Grant]]], field_levels: list[Level],
          with_grants: bool) -> PeerResult:
    enforcer = _casbin(cases, with_grants)
    enforce = enforcer.enforce  # type: ignore[attr-defined]
    clock = time.perf_counter_ns
    times: list[float] = []
    for actor, rec, _grants in cases:
        rel = "own" if actor.owns(rec.city_code) else "other"
        sub = f"u{actor.user_id}"
        start = clock()
        for level in [rec.level, *field_levels]:
            eff = level if level.rank >= rec.level.rank else rec.level
            if not enforce(sub, rel, eff.value, "read") and with_grants:
                enforce(sub, f"city:{rec.city_code}", eff.value, "read")
        times.append((clock() - start) / 1000)
    policies = len(enforcer.get_policy())  # type: ignore[attr-defined]
    return PeerResult(name, len(cases), policies, statistics.median(times), percentile(times, 0.99))


def policy_bench(n: int = 50_000, peer_n: int = 2_000, peer_grants_n: int = 300) -> PolicyResult:
    cfg = load_policy()
    person = load_standard().category("person")
    field_levels = [f.level for f in person.fields.values()]
    cases = _cases(n)
    ours: list[float] = []
    clock = time.perf_counter_ns
    for actor, rec, grants in cases:
        start = clock()
        decide(cfg, actor, rec, Level.PUBLIC, PURPOSE, grants, NOW)
        for level in field_levels:
            decide(cfg, actor, rec, level, PURPOSE, grants, NOW)
        ours.append((clock() - start) / 1000)
    peers = [
        _peer("pycasbin RBAC, roles only (no grants)", cases[:peer_n], field_levels, False),
        _peer("pycasbin RBAC, roles + live grants as policies", cases[:peer_grants_n], field_levels, True),
    ]
    return PolicyResult(n, statistics.median(ours), percentile(ours, 0.99), peers)


@dataclass
class AuditResult:
    backend: str
    append_events: int  # in all windows
    append_rates: list[float]  # events/s of each window
    append_threads: int
    verify_records: int
    verify_runs: list[float]  # seconds of each verification
    verify_workers: int
    error: str | None = None

    @property
    def append_rate(self) -> float:
        return statistics.median(self.append_rates) if self.append_rates else 0.0

    @property
    def verify_seconds(self) -> float:
        return statistics.median(self.verify_runs) if self.verify_runs else 0.0

    @property
    def verify_rate(self) -> float:
        return self.verify_records / self.verify_seconds if self.verify_seconds else 0.0


def _event(i: int, at_ms: int) -> AuditEvent:
    return AuditEvent(
        action="data.view", outcome="allow", at_ms=at_ms, user_id=1 + i % 300, username=f"user_{i % 300}",
        unit_code="360100", role="investigator", target=(f"person:{i}",), purpose="case_investigation",
        case_no="A3601002026110001", result_count=1, client="127.0.0.1",
        detail={"reasons": {"allow.own": 11}, "level": "sensitive"},
    )  # fmt: skip


def _audit_on(url: str, workdir: Path) -> tuple[Audit, object, Path]:
    engine = make_engine(url)
    migrate(engine)
    key_file = workdir / f"k{time.time_ns()}.key"
    keyring = create_key_file(key_file)
    return Audit(engine, keyring, build_metadata(load_standard())), engine, key_file


def verify_in_fresh_process(url: str, key_file: Path) -> dict[str, object]:
    """``bench.verify_once`` in a child process: verification timed as the command line runs it."""
    out = subprocess.run([sys.executable, "-m", "bench.verify_once", url, str(key_file)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _append_window(committer: GroupCommitter, seconds: float, threads: int, first: int) -> int:
    """``threads`` request threads recording events for ``seconds``; answers how many were committed."""
    stop = time.perf_counter() + seconds
    counts = [0] * threads

    def worker(k: int) -> None:
        i = first + k
        while time.perf_counter() < stop:
            committer.record(_event(i, int(time.time() * 1000)))
            counts[k] += 1
            i += threads

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts)


def audit_bench(url: str, backend: str, workdir: Path, *, seconds: float = 5.0, threads: int = 64,
                trail: int = 1_000_000, rounds: int = 3) -> AuditResult:
    """Append in ``rounds`` windows of ``seconds``, fill the trail to ``trail``, verify it ``rounds`` times."""
    audit, engine, key_file = _audit_on(url, workdir)
    committer = GroupCommitter(audit.trail, max_batch=4096)
    rates: list[float] = []
    appended = 0
    for _ in range(rounds):
        start = time.perf_counter()
        n = _append_window(committer, seconds, threads, appended * threads)
        rates.append(n / (time.perf_counter() - start))
        appended += n
    committer.close()
    # fill the trail up to ``trail`` records in large batches, then verify all of it
    now = int(time.time() * 1000)
    have = appended
    while have < trail:
        size = min(20_000, trail - have)
        audit.append([_event(have + j, now) for j in range(size)])
        have += size
    engine.dispose()  # type: ignore[attr-defined]
    runs: list[float] = []
    workers = 0
    for _ in range(rounds):
        report = verify_in_fresh_process(url, key_file)
        assert report["ok"] and report["records"] == have, report
        runs.append(float(report["seconds"]))  # type: ignore[arg-type]
        workers = int(report["workers"])  # type: ignore[call-overload]
    return AuditResult(backend, appended, rates, threads, have, runs, workers)


def pg_database(admin_url: str, name: str) -> str | None:
    """A fresh database on the local PostgreSQL, or None when it is not reachable."""
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception:
        return None
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":  # pragma: no cover - manual use
    r = policy_bench(20_000)
    print(r)
    with tempfile.TemporaryDirectory() as tmp:
        print(audit_bench(f"sqlite:///{tmp}/a.db", "sqlite", Path(tmp), seconds=3, trail=300_000))
