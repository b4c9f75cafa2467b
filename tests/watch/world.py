"""Two cities, checkpoint sightings ingested as files, accounts and grants — for the watch-list tests.

Registered as the module ``watch_world`` by conftest.py. Sightings are ingested through
small CSV mappings by an :class:`Ingestor` wired to the platform's watch matcher, exactly
as ``lianfang ingest`` and the API wire it.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text

from lianfang.api.server import Server
from lianfang.identity.directory import User
from lianfang.ingest.mapping import Mapping, load_mapping
from lianfang.ingest.pipeline import Ingestor
from lianfang.ingest.results import BatchResult
from lianfang.platform import Platform
from lianfang.policy.decision import Grant, Purpose, ScopeKind
from lianfang.standard.levels import Level

BINJIANG, YUNZHOU, QINGHE = "360100", "360200", "360300"
PLATE, OTHER_PLATE = "赣A7Q777", "赣B12345"
PERSON_ID = "360202199001010013"  # a 云州 resident, seen by a face camera
CASE = "A3601002026110001"
PURPOSE = Purpose("case_investigation", "", CASE)
PASSWORD = "Test-Password-2026"
TZ = ZoneInfo("Asia/Shanghai")
DEVICES = {BINJIANG: "36010200001190000001", YUNZHOU: "36020200001190000001", QINGHE: "36030200001190000001"}
SLUGS = {BINJIANG: "bj", YUNZHOU: "yz", QINGHE: "qh"}
DAY = 86_400_000
BOUND = 30.0  # seconds to wait for something over the network: a generous bound, not a timing assertion

MAPPING = """
mapping: test.watch.{slug}
version: 1
city: "{city}"
system: WATCH
source: {{format: csv, encoding: utf-8}}
formats: ["%Y%m%d%H%M%S"]
feeds:
  - category: sighting
    match: "{slug}_sightings*.csv"
    source_id: XH
    fields: {{kind: LX, device_id: KKBH, passed_at: GCSJ, plate_no: HPHM, matched_citizen_id: SFZH}}
"""
_serial = itertools.count(1)


def now_ms() -> int:
    return int(time.time() * 1000)


def mappings(platform: Platform, folder: Path) -> list[Mapping]:
    out = []
    for city, slug in SLUGS.items():
        path = folder / f"watch_{slug}.yaml"
        path.write_text(MAPPING.format(slug=slug, city=city), encoding="utf-8")
        out.append(load_mapping(path, platform.standard))
    return out


def ingestor(platform: Platform, folder: Path) -> Ingestor:
    """An ingestor with the watch matcher hooked in (as the CLI and the API build theirs)."""
    return Ingestor(engine=platform.engine, standard=platform.standard, keyring=platform.keyring,
                    settings=platform.settings, mappings=mappings(platform, folder), on_stored=platform.watch.matcher)


def passed(minutes_ago: int = 1) -> str:
    return (datetime.now(TZ) - timedelta(minutes=minutes_ago)).strftime("%Y%m%d%H%M%S")


def ingest(ing: Ingestor, folder: Path, city: str, rows: list[dict[str, str]]) -> BatchResult:
    """One CSV file of sightings from ``city``'s system; rows: plate, citizen_id, kind, at (optional)."""
    n = next(_serial)
    path = folder / f"{SLUGS[city]}_sightings_{n}.csv"
    lines = ["XH,LX,KKBH,GCSJ,HPHM,SFZH"]
    for i, r in enumerate(rows):
        lines.append(",".join([f"{n}-{i}", r.get("kind", "vehicle"), r.get("device", DEVICES[city]),
                               r.get("at", passed(1 + i % 50)), r.get("plate", ""), r.get("citizen_id", "")]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ing.ingest([path])


def user(platform: Platform, username: str, unit: str = "360102", role: str = "investigator") -> User:
    platform.directory.add(username, display_name=username, unit_code=unit, unit_name=unit, roles=[role],
                           now_ms=now_ms(), password=PASSWORD)
    found = platform.directory.get(username)
    assert found is not None
    return found


def grant(platform: Platform, holder: User, approver: User, city: str, scope: ScopeKind, keys: list[str],
          purpose: Purpose = PURPOSE, hours: int = 24) -> Grant:
    req = platform.approvals.request(holder, owner_city=city, level=Level.SENSITIVE, scope=scope, keys=keys,
                                     purpose=purpose, hours=hours, now_ms=now_ms())
    return platform.approvals.approve(approver, req.id, reason="", now_ms=now_ms())


def hits(platform: Platform) -> list[dict[str, Any]]:
    with platform.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text("SELECT * FROM watch_hit ORDER BY id"))]


def events(platform: Platform, action: str) -> list[dict[str, Any]]:
    with platform.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_event WHERE action = :a ORDER BY seq"), {"a": action})
        out = [dict(r._mapping) for r in rows]
    for e in out:
        e["target"] = json.loads(e["target"])
        e["detail"] = json.loads(e["detail"])
    return out


def add_plate(platform: Platform, who: User, scope: list[str] | None = None, plate: str = PLATE,
              days: int = 30, purpose: Purpose = PURPOSE) -> Any:
    return platform.watch.entries.add(who, kind="plate", subject=plate, reason="嫌疑车辆", purpose=purpose,
                                      scope=[BINJIANG] if scope is None else scope,
                                      expires_at=now_ms() + days * DAY, now_ms=now_ms())


@dataclass
class Running:
    """A server on loopback (see the ``server`` fixture)."""

    url: str
    server: Server
    thread: threading.Thread


def bearer(platform: Platform, username: str, unit: str = "360102") -> tuple[dict[str, str], int]:
    """An investigator with an API token of scope data:read: (Authorization header, token id)."""
    platform.directory.add(username, display_name=username, unit_code=unit, unit_name=unit, roles=["investigator"],
                           now_ms=now_ms(), password=PASSWORD)
    tok, secret = platform.tokens.create(username, "watch", {"data:read"}, days=1, now_ms=now_ms())
    return {"Authorization": f"Bearer {secret}"}, tok.id


@dataclass
class Listener:
    """Reads one stream on a thread; events (``{"event", "id", "data"}``) and comments go to a queue."""

    url: str
    headers: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    events: queue.Queue[dict[str, str]] = field(default_factory=queue.Queue)
    status: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Listener:
        threading.Thread(target=self._run, daemon=True).start()
        self.next("comment")  # the stream is open and its starting point fixed
        return self

    def _run(self) -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(BOUND)) as client, client.stream(
                    "GET", f"{self.url}/api/v1/watch/stream", headers=self.headers, params=self.params) as res:
                self.status = res.status_code
                if res.status_code != 200:
                    self.events.put({"event": "refused", "data": res.read().decode()})
                    return
                current: dict[str, str] = {}
                for line in res.iter_lines():
                    if self.stop.is_set():
                        return
                    if line.startswith(":"):
                        self.events.put({"event": "comment", "data": line})
                    elif line:
                        key, _, value = line.partition(":")
                        current[key] = value.removeprefix(" ")
                    elif current:
                        self.events.put(current)
                        current = {}
        finally:
            self.done.set()

    def next(self, kind: str = "hit") -> dict[str, str]:
        deadline = time.monotonic() + BOUND
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {kind} event within {BOUND} s"
            try:
                ev = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if ev.get("event") == kind or (kind == "comment" and ev.get("event") == "comment"):
                return ev
            assert ev.get("event") in ("comment", None), f"unexpected event {ev}"
