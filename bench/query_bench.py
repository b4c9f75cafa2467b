"""Query benchmark (issue: cross-city query): search and trajectories through the HTTP API vs raw SQL.

What is measured, per backend (SQLite file and a PostgreSQL database, both filled
from the same generated province by the real ingestion pipeline):

* **API**: a real server (``lianfang serve --workers N``, N = the machine's cores
  unless ``--query-workers`` says otherwise) on 127.0.0.1; 20 concurrent clients
  (keep-alive connections driven by one asyncio loop with prepared requests,
  :mod:`bench.http_load`, so that the clients take little of the cores the server
  runs on) signed in with an API token of a 滨江 investigator. Each client warms up, then sends a fixed number of
  requests; every answer must be ``200``. Policy projection and the durable audit
  event are part of every request, as in production.
* **SQL floor**: the statements a caller minimally needs for the same answers
  (blind-index or plate equality, newest first, one page; the plate's sightings in
  the window and their checkpoints), run directly on the same engine with the same
  concurrency, right after the API run.
* **Profile**: the service calls in-process, one at a time, under ``cProfile``:
  where a request's time goes (nested, cumulative).

The dataset is ``lianfang demo generate`` output ingested into both stores; it lives in
``bench/.cache/query/<scale>-seed<seed>/`` (git-ignored) and is reused while its
fingerprint (manifest and key) matches: a rerun neither regenerates nor reingests.
``python -m bench.query_bench --clean`` removes the cache and drops the databases.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, bindparam, create_engine, text
from sqlalchemy.engine import make_url

from bench import http_load

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache" / "query"
PURPOSE = "case_investigation"
CASE_NO = "A3601002026110001"
USERNAME = "bench_bj_inv"
UNIT = ("360102", "滨江市公安局滨江分局")
#: one plate, 30 days inside the demo window (2026-10-01 .. 2026-10-31, Asia/Shanghai)
SINCE, UNTIL = "2026-10-01T00:00:00", "2026-10-31T00:00:00"
SEARCH_KINDS = ("plate", "citizen_id", "phone", "case_no", "name")
TARGETS_MS = {"search": 50.0, "trajectory": 20.0}
TABLES = ("person", "vehicle", "sighting", "case", "alert", "help_request", "device")

console = Console(stderr=True)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# -- the dataset ---------------------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str  # SQLite | PostgreSQL
    url: str
    rows: dict[str, int] = field(default_factory=dict)
    ingest_s: float | None = None  # None: reused from the cache
    version: str = ""


@dataclass
class Dataset:
    scale: str
    seed: int
    root: Path
    fingerprint: str
    backends: list[Backend]
    generate_s: float | None = None  # None: reused

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def key_file(self) -> Path:
        return self.root / "keys" / "master.key"

    def settings(self, backend: Backend) -> Any:
        from lianfang.settings import Settings

        return Settings(var_dir=self.root / "var", database_url=backend.url, key_file=self.key_file)

    def env(self, backend: Backend) -> dict[str, str]:
        return {**os.environ, "LIANFANG_VAR_DIR": str(self.root / "var"), "LIANFANG_DATABASE_URL": backend.url,
                "LIANFANG_KEY_FILE": str(self.key_file)}


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}", style="cyan"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


def _generate(root: Path, scale: str, seed: int) -> float:
    from lianfang.demo import generate

    partial = root / "data.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(root / "data", ignore_errors=True)
    console.print(f"generating the demo province: scale {scale}, seed {seed} …")
    start = time.perf_counter()
    with _progress() as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"generate {stage}", total=total)
            bar.update(tasks[stage], completed=done, total=total)

        generate(partial, seed=seed, scale=scale, progress=progress)
    partial.rename(root / "data")
    seconds = time.perf_counter() - start
    console.print(f"generated in {seconds:.0f} s")
    return seconds


def _fingerprint(root: Path) -> str:
    digest = hashlib.sha256((root / "data" / "manifest.json").read_bytes())
    digest.update(b"\0key\0" + (root / "keys" / "master.key").read_bytes())
    return digest.hexdigest()[:24]


def _stamp(root: Path, name: str) -> dict[str, Any]:
    path = root / f"{name}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except (OSError, ValueError):
        return {}


def _write_stamp(root: Path, name: str, data: dict[str, Any]) -> None:
    (root / f"{name}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")


def _row_counts(engine: Engine) -> dict[str, int]:
    out = {}
    with engine.connect() as conn:
        for cat in TABLES:
            out[cat] = int(conn.execute(text(f"SELECT count(*) FROM rec_{cat}")).scalar_one())
    return out


def _ingest(ds: Dataset, backend: Backend) -> float:
    """Ingest the generated province with the real pipeline (resumes a run that was interrupted)."""
    from lianfang.ingest.pipeline import Ingestor
    from lianfang.platform import Platform

    plat = Platform(ds.settings(backend))
    try:
        plat.migrate()
        files = [p for p in sorted(ds.data.rglob("*")) if p.is_file()]
        total = sum(p.stat().st_size for p in files)
        ingestor = Ingestor(engine=plat.engine, standard=plat.standard, keyring=plat.keyring,
                            settings=plat.settings, mappings=plat.mappings)
        console.print(f"ingesting into {backend.name} ({total / 1e9:.2f} GB of source files) …")
        start = time.perf_counter()
        with _progress() as bar:
            overall = bar.add_task(f"ingest {backend.name} (MB)", total=total // 1_000_000)
            done: dict[str, int] = {}
            current: dict[str, TaskID] = {}

            def progress(name: str, n: int, size: int) -> None:
                done[name] = n
                if name not in current:
                    for old in current.values():
                        bar.remove_task(old)
                    current.clear()
                    current[name] = bar.add_task(f"  {name[-40:]}", total=size)
                bar.update(current[name], completed=n)
                bar.update(overall, completed=sum(done.values()) // 1_000_000)

            result = ingestor.ingest([ds.data], progress=progress)
        seconds = time.perf_counter() - start
        console.print(f"{backend.name}: read {result.total('read'):,} · accepted {result.total('accepted'):,} · "
                      f"quarantined {result.total('quarantined'):,} in {seconds:.0f} s")
        if not result.ok:
            failed = [f"{f.name}: {f.error}" for f in result.files if f.status not in ("done", "skipped")]
            raise RuntimeError(f"ingestion into {backend.name} failed: {failed[:3]}")
        return seconds
    finally:
        plat.close()


def pg_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _pg_exists(admin_url: str, name: str) -> bool | None:
    """Whether database ``name`` exists; None when the server is not reachable."""
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        admin.dispose()
    except Exception:
        return None
    return found is not None


def _pg_recreate(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def pg_name(scale: str, seed: int) -> str:
    return f"lianfang_bench_query_{scale}_s{seed}"


def prepare(scale: str, seed: int, pg_admin_url: str | None, *, fresh: bool = False,
            only: str | None = None) -> Dataset:
    """The generated province and both stores filled from it, reusing what the cache holds.

    ``only`` ("sqlite" or "postgresql") fills just that store (two processes can fill both at once)."""
    from lianfang.crypto import create_key_file

    root = CACHE / f"{scale}-seed{seed}"
    if fresh:
        shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    generate_s = None
    manifest = root / "data" / "manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text(encoding="utf-8"))
        if meta.get("seed") != seed:
            manifest.unlink()
    if not manifest.exists():
        generate_s = _generate(root, scale, seed)
    else:
        console.print(f"demo province {scale}/seed {seed}: reusing {root / 'data'}")
    if not (root / "keys" / "master.key").exists():
        create_key_file(root / "keys" / "master.key")
    fp = _fingerprint(root)
    backends = [Backend("SQLite", f"sqlite:///{(root / 'sqlite' / 'lianfang.db').as_posix()}")]
    if pg_admin_url:
        name = pg_name(scale, seed)
        exists = _pg_exists(pg_admin_url, name)
        if exists is None:
            console.print("[yellow]PostgreSQL is not reachable: measuring SQLite only[/]")
        else:
            backends.append(Backend("PostgreSQL", pg_url(pg_admin_url, name)))
    if only:
        backends = [b for b in backends if b.name.lower() == only]
    ds = Dataset(scale, seed, root, fp, backends, generate_s)
    for b in backends:
        key = b.name.lower()
        stamp = _stamp(root, key)
        if stamp.get("fingerprint") == fp and stamp.get("complete") and _verify(b, stamp):
            b.rows = stamp["rows"]
            console.print(f"{b.name}: reusing the ingested dataset ({b.rows['sighting']:,} sightings)")
            if not stamp.get("vacuumed"):
                _analyze(b)
                _write_stamp(root, key, {**stamp, "analyzed": True, "vacuumed": True})
            continue
        if stamp.get("fingerprint") != fp:  # another dataset (or none): start over
            if b.name == "SQLite":
                shutil.rmtree(root / "sqlite", ignore_errors=True)
            else:
                assert pg_admin_url
                _pg_recreate(pg_admin_url, pg_name(scale, seed))
        _write_stamp(root, key, {"fingerprint": fp, "complete": False})
        b.ingest_s = _ingest(ds, b)
        engine = _engine(b.url)
        b.rows = _row_counts(engine)
        engine.dispose()
        _analyze(b)
        _write_stamp(root, key, {"fingerprint": fp, "complete": True, "rows": b.rows, "ingest_s": b.ingest_s,
                                 "analyzed": True, "vacuumed": True})
    return ds


def _engine(url: str) -> Engine:
    from lianfang.store.engine import make_engine

    return make_engine(url)


def _analyze(b: Backend) -> None:
    """The store as autovacuum leaves it some time after the bulk load: planner statistics, and the
    visibility map that lets a count be answered from an index alone (PostgreSQL only: the platform never
    runs ANALYZE on SQLite, so neither does the benchmark)."""
    if not b.url.startswith("postgresql"):
        return
    console.print(f"{b.name}: VACUUM (ANALYZE) …")
    engine = create_engine(b.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM (ANALYZE)"))
    engine.dispose()


def _verify(b: Backend, stamp: dict[str, Any]) -> bool:
    """The store still holds what the stamp says (a dropped database or deleted file is reingested; the
    watch-list run adds a few sightings of its own)."""
    try:
        engine = _engine(b.url)
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM rec_sighting")).scalar_one()
        engine.dispose()
    except Exception:
        return False
    return bool(n >= stamp["rows"]["sighting"])


def clean(pg_admin_url: str | None) -> None:
    """Remove the cached datasets and drop their PostgreSQL databases."""
    if pg_admin_url and CACHE.exists():
        for folder in CACHE.iterdir():
            scale, _, seed = folder.name.partition("-seed")
            if seed.isdigit() and _pg_exists(pg_admin_url, pg_name(scale, int(seed))):
                admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name(scale, int(seed))}" WITH (FORCE)'))
                admin.dispose()
    shutil.rmtree(CACHE, ignore_errors=True)


# -- the workload --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchCase:
    kind: str
    q: str = field(repr=False)  # personal for some kinds: never printed


@dataclass
class Workload:
    searches: list[SearchCase]
    plates: list[str]


def draw_workload(ds: Dataset, engine: Engine, n: int, rnd: random.Random) -> Workload:
    """``n`` searches (the five kinds in turn, values drawn from the data) and ``n`` plates to track.

    Citizen IDs, phone numbers and names come from the generator's people (a pure function of
    the seed), plates from random sightings (busy plates are drawn more often, as in real use),
    case numbers from random case records."""
    from lianfang.demo.geography import province
    from lianfang.demo.names import NamePools
    from lianfang.demo.people import People
    from lianfang.demo.scales import SCALES

    prov = province()
    people = People(ds.seed, prov, NamePools.build(ds.seed), SCALES[ds.scale].persons)
    with engine.connect() as conn:

        def sample(table: str, column: str, want: int) -> list[str]:
            lo, hi = conn.execute(text(f"SELECT min(id), max(id) FROM {table}")).one()
            out: list[str] = []
            tries = 0
            while len(out) < want and tries < 50:
                tries += 1
                ids = [rnd.randint(int(lo), int(hi)) for _ in range(want * 2)]
                stmt = text(f"SELECT {column} FROM {table} WHERE id IN :ids AND {column} IS NOT NULL").bindparams(
                    bindparam("ids", expanding=True))
                out += [str(v) for (v,) in conn.execute(stmt, {"ids": ids})]
            rnd.shuffle(out)
            return out[:want]

        plates = sample("rec_sighting", "plate_no", n)
        search_plates = sample("rec_sighting", "plate_no", n)
        cases = sample("rec_case", "case_no", n)
    searches = []
    for i in range(n):
        kind = SEARCH_KINDS[i % len(SEARCH_KINDS)]
        if kind == "plate":
            searches.append(SearchCase(kind, search_plates[i % len(search_plates)]))
        elif kind == "case_no":
            searches.append(SearchCase(kind, cases[i % len(cases)]))
        else:
            city = rnd.choice(prov.cities)
            person = people.person(city.index, rnd.randrange(people.home_count(city.index)))
            value = {"citizen_id": person.citizen_id, "phone": person.phone, "name": person.name}[kind]
            searches.append(SearchCase(kind, value))
    return Workload(searches, plates)


# -- the server and its user ---------------------------------------------------------------------------------


def server_app() -> Any:
    """The app ``uvicorn --factory`` serves: the platform from ``LIANFANG_*`` settings."""
    from lianfang.api.app import create_app
    from lianfang.platform import Platform
    from lianfang.settings import Settings

    plat = Platform(Settings())
    plat.migrate()
    return create_app(plat)


def bench_token(plat: Any) -> str:
    """An API token (scope data:read) of the 滨江 investigator the bench searches as; created once."""
    from lianfang.identity.directory import DirectoryError

    now = int(time.time() * 1000)
    if plat.directory.get(USERNAME) is None:
        try:
            plat.directory.add(USERNAME, display_name="基准侦查员", unit_code=UNIT[0], unit_name=UNIT[1],
                               roles=["investigator"], now_ms=now)
        except DirectoryError:
            if plat.directory.get(USERNAME) is None:
                raise
    _tok, secret = plat.tokens.create(USERNAME, "query bench", {"data:read"}, days=1, now_ms=now)
    return str(secret)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``lianfang serve`` with ``workers`` processes on a free loopback port; stopped on exit."""

    def __init__(self, env: dict[str, str], log: Path, workers: int):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        cmd = [sys.executable, "-m", "lianfang", "serve", "--port", str(self.port), "--workers", str(workers)]
        self.log_path = log
        self.log = log.open("wb")  # closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.log_path.read_text(encoding="utf-8", errors="replace")
                raise RuntimeError(f"the server exited: {err[-2000:]}")
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("the server did not answer /health within 120 s")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def cpu_s(self) -> float:
        """User + system CPU seconds the server's processes (the supervisor and its workers) have used so far."""
        tick = os.sysconf("SC_CLK_TCK")
        stats: dict[int, list[str]] = {}
        for path in Path("/proc").glob("[0-9]*/stat"):
            try:
                stats[int(path.parent.name)] = path.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
        tree, total = {self.proc.pid}, 0.0
        grown = True
        while grown:
            grown = False
            for pid, parts in stats.items():
                if pid not in tree and int(parts[1]) in tree:
                    tree.add(pid)
                    grown = True
        for pid in tree:
            if pid in stats:
                total += (int(stats[pid][11]) + int(stats[pid][12])) / tick
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# -- load ----------------------------------------------------------------------------------------------------


@dataclass
class Load:
    latencies_ms: list[float]
    by_tag: dict[str, list[float]]
    seconds: float
    errors: Counter[str]
    server_cpu_s: float | None = None
    client_cpu_s: float | None = None
    database_cpu_s: float | None = None
    reconnects: int = 0  # timed answers that closed their connection (the workers evening out their shares)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def run_load(label: str, clients: int, warmup: int, per_client: int,
             make_client: Callable[[], Any], call: Callable[[Any, int], tuple[str, str | None]],
             close: Callable[[Any], None] = lambda c: None, server: Server | None = None) -> Load:
    """``clients`` threads; each warms up, waits for the others, then makes ``per_client`` timed calls.

    ``call(client, i)`` returns (tag, error or None); ``i`` numbers the calls of all clients apart."""
    barrier = threading.Barrier(clients + 1)
    lat: list[list[tuple[str, float]]] = [[] for _ in range(clients)]
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    clock = time.perf_counter
    stride = warmup + per_client

    def worker(k: int) -> None:
        conn = make_client()
        try:
            for j in range(warmup):
                call(conn, k * stride + j)
            barrier.wait()
            for j in range(warmup, stride):
                t0 = clock()
                tag, err = call(conn, k * stride + j)
                lat[k].append((tag, (clock() - t0) * 1000))
                if err:
                    with lock:
                        errors[err] += 1
        finally:
            close(conn)

    with _progress() as bar:
        task = bar.add_task(label, total=clients * per_client)
        pool = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
        for t in pool:
            t.start()
        barrier.wait()
        cpu0 = server.cpu_s() if server else None
        start = clock()
        while any(t.is_alive() for t in pool):
            bar.update(task, completed=sum(len(x) for x in lat))
            time.sleep(0.2)
        seconds = clock() - start
        cpu = server.cpu_s() - cpu0 if server and cpu0 is not None else None
    flat = [x for per in lat for x in per]
    by_tag: dict[str, list[float]] = {}
    for tag, ms in flat:
        by_tag.setdefault(tag, []).append(ms)
    return Load([ms for _, ms in flat], by_tag, seconds, errors, cpu)


def api_loads(base: str, token: str, work: Workload, clients: int, warmup: int, per_client: int,
              server: Server) -> dict[str, Load]:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    where = f"{host}:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    searches = [
        (case.kind, http_load.request_bytes(
            "POST", "/api/v1/search", where, auth | {"Content-Type": "application/json"},
            body=json.dumps({"q": case.q, "purpose": PURPOSE, "case_no": CASE_NO}).encode()))
        for case in work.searches
    ]
    params = {"since": SINCE, "until": UNTIL, "purpose": PURPOSE, "case_no": CASE_NO}
    tracks = [("trajectory", http_load.request_bytes("GET", f"/api/v1/trajectories/vehicle/{plate}", where, auth,
                                                     params=params))
              for plate in work.plates]

    def check(tag: str, answer: http_load.Answer) -> str | None:
        return None if answer.status == 200 else f"{tag}: HTTP {answer.status}"

    return {
        "search": run_http_load("API search", int(port), clients, warmup, per_client,
                                lambda i: searches[i % len(searches)], check, server),
        "trajectory": run_http_load("API trajectory", int(port), clients, warmup, per_client,
                                    lambda i: tracks[i % len(tracks)], check, server),
    }


def run_http_load(label: str, port: int, clients: int, warmup: int, per_client: int,
                  make: Callable[[int], tuple[str, bytes]], check: Callable[[str, http_load.Answer], str | None],
                  server: Server) -> Load:
    """The API under load from :mod:`bench.http_load` (one asyncio loop in this process)."""
    cpu0: list[float] = []

    def started() -> None:
        cpu0[:] = [server.cpu_s(), time.process_time(), database_cpu_s()]

    with _progress() as bar:
        task = bar.add_task(label, total=clients * per_client)
        timed, seconds = http_load.run("127.0.0.1", port, clients, warmup, per_client, make, check,
                                       on_started=started,
                                       on_progress=lambda n: bar.update(task, completed=n))
        server_cpu = server.cpu_s() - cpu0[0]
        client_cpu = time.process_time() - cpu0[1]
        database_cpu = database_cpu_s() - cpu0[2]
    flat = [x for t in timed for x in t.latencies]
    by_tag: dict[str, list[float]] = {}
    for tag, ms in flat:
        by_tag.setdefault(tag, []).append(ms)
    errors: Counter[str] = Counter(e for t in timed for e in t.errors)
    return Load([ms for _, ms in flat], by_tag, seconds, errors, server_cpu, client_cpu, database_cpu,
                sum(t.reconnects for t in timed))


def database_cpu_s() -> float:
    """User + system CPU seconds of this machine's PostgreSQL processes so far, those that have ended included
    (0 when none runs here).

    A PostgreSQL backend runs each query on the same cores as the server; SQLite runs inside it."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            _, _, rest = path.read_text().partition(" (")
            name, _, fields = rest.rpartition(") ")
        except OSError:
            continue
        if name == "postgres":  # with the time of backends that have ended (the postmaster's children)
            parts = fields.split()
            total += (int(parts[11]) + int(parts[12]) + int(parts[13]) + int(parts[14])) / tick
    return total


@dataclass(frozen=True)
class Statement:
    sql: str
    params: dict[str, Any]


def floor_statements(plat: Any, case: SearchCase, page: int) -> list[Statement]:
    """The lookups one page of a search minimally needs: each searched column by equality, newest first."""
    searcher = plat.searcher
    query = searcher.recogniser.recognise(case.q)
    out = []
    for target in searcher.targets.for_kind(query.kind):
        key = target.key(query, plat.blind, searcher.targets.encrypted(target))
        if key is None:
            continue
        table = searcher.targets.table(target.category)
        tcol = plat.standard.category(target.category).time_field or "id"
        col = target.column(table).name
        out.append(Statement(f"SELECT * FROM {table.name} WHERE {col} = :k ORDER BY {tcol} DESC, id DESC "
                             f"LIMIT {page}", {"k": key}))
    return out


_TRACK_SQL = ("SELECT {columns} FROM rec_sighting WHERE plate_no = :p AND passed_at >= :a AND passed_at <= :b "
              "ORDER BY passed_at, id LIMIT :n")  # the columns the API's track reads (not the lineage)
_DEVICE_SQL = text("SELECT * FROM rec_device WHERE device_id IN :ids").bindparams(bindparam("ids", expanding=True))


def sql_loads(engine: Engine, plat: Any, work: Workload, clients: int, warmup: int, per_client: int
              ) -> dict[str, Load]:
    from lianfang.track.window import parse_time

    page = plat.settings.search_page_size
    statements = [(case.kind, floor_statements(plat, case, page)) for case in work.searches]
    since, until = parse_time(SINCE, plat.tz), parse_time(UNTIL, plat.tz)
    limit = plat.settings.track_max_points + 1
    track_sql = text(_TRACK_SQL.format(columns=", ".join(c.name for c in plat.trajectories._track.selected_columns)))

    def search(_c: None, i: int) -> tuple[str, str | None]:
        kind, stmts = statements[i % len(statements)]
        for st in stmts:
            with engine.connect() as conn:
                conn.execute(text(st.sql), st.params).all()
        return kind, None

    def track(_c: None, i: int) -> tuple[str, str | None]:
        plate = work.plates[i % len(work.plates)]
        with engine.connect() as conn:
            rows = conn.execute(track_sql, {"p": plate, "a": since, "b": until, "n": limit}).all()
            devices = sorted({r.device_id for r in rows if r.device_id})
            if devices:
                conn.execute(_DEVICE_SQL, {"ids": devices}).all()
        return "trajectory", None

    return {
        "search": run_load("SQL search", clients, warmup, per_client, lambda: None, search),
        "trajectory": run_load("SQL trajectory", clients, warmup, per_client, lambda: None, track),
    }


# -- profile -------------------------------------------------------------------------------------------------

#: (label, how to recognise the function in cProfile's table); cumulative time, so rows nest.
_PROFILE_ROWS: list[tuple[str, Callable[[tuple[str, int, str]], bool]]] = [
    ("token check (`Tokens.authenticate`: token and user lookups; last_used rewritten at most once a minute)",
     lambda k: k[0].endswith("identity/tokens.py") and k[2] == "authenticate"),
    ("live grants (`Approvals.grants_for`)", lambda k: k[0].endswith("access/approvals.py") and k[2] == "grants_for"),
    ("recognise the query", lambda k: k[0].endswith("search/recognise.py") and k[2] == "recognise"),
    ("find: candidates, ranking, page (`Searcher.find`)",
     lambda k: k[0].endswith("search/engine.py") and k[2] == "find"),
    ("read the plate's sightings and checkpoints (`Trajectories.plate_track`)",
     lambda k: k[0].endswith("track/service.py") and k[2] == "plate_track"),
    ("policy projection (`Projector.project`, SM4 decryption included)",
     lambda k: k[0].endswith("access/projection.py") and k[2] == "project"),
    ("SQL in the driver (execute + fetch)", lambda k: _is_driver(k)),
    ("audit event (`Audit.record`: waits for the durable group commit)",
     lambda k: k[0].endswith("audit/__init__.py") and k[2] == "record"),
]


def _is_driver(k: tuple[str, int, str]) -> bool:
    name = k[2]
    if k[0] == "~":
        return any(f"'{m}' of 'sqlite3." in name for m in ("execute", "fetchall", "fetchone", "fetchmany"))
    return "/psycopg/" in k[0] and k[0].endswith("cursor.py") and name in ("execute", "fetchall", "fetchone",
                                                                              "fetchmany")


@dataclass
class Profile:
    calls: int
    plain_p50_ms: float  # the service call without the profiler
    cpu_ms: float  # CPU per call without the profiler (all threads: the audit committer's included)
    rows: list[tuple[str, float]]  # label, cumulative ms per call under the profiler
    total_ms: float  # the whole call under the profiler, per call


def profile_calls(label: str, n: int, call: Callable[[int], None]) -> Profile:
    plain = []
    cpu0 = time.process_time()
    for i in range(n):
        t0 = time.perf_counter()
        call(i)
        plain.append((time.perf_counter() - t0) * 1000)
    cpu = (time.process_time() - cpu0) * 1000 / n
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for i in range(n):
        call(i)
    prof.disable()
    total = (time.perf_counter() - t0) * 1000 / n
    stats: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows = []
    for name, match in _PROFILE_ROWS:
        cum = sum(v[3] for k, v in stats.items() if match(k))
        if cum:
            rows.append((name, cum * 1000 / n))
    console.print(f"profiled {label}: {statistics.median(plain):.1f} ms per call unprofiled")
    return Profile(n, statistics.median(plain), cpu, rows, total)


def profiles(plat: Any, token: str, work: Workload, n: int) -> dict[str, Profile]:
    from lianfang.policy.decision import Purpose
    from lianfang.track.window import parse_time

    user = plat.directory.get(USERNAME)
    purpose = Purpose(PURPOSE, "", CASE_NO)
    since, until = parse_time(SINCE, plat.tz), parse_time(UNTIL, plat.tz)

    def search(i: int) -> None:
        now = int(time.time() * 1000)
        plat.tokens.authenticate(token, "data:read", now_ms=now)
        plat.searcher.search(user, work.searches[i % len(work.searches)].q, purpose, now_ms=now, client="127.0.0.1",
                             size=plat.settings.search_page_size)

    def track(i: int) -> None:
        now = int(time.time() * 1000)
        plat.tokens.authenticate(token, "data:read", now_ms=now)
        plat.trajectories.for_plate(user, work.plates[i % len(work.plates)], since, until, purpose, now_ms=now,
                                    client="127.0.0.1")

    search(0)
    track(0)  # connections, caches
    return {"search": profile_calls("search", n, search), "trajectory": profile_calls("trajectory", n, track)}


# -- watch lists: ingest-to-hit ------------------------------------------------------------------------------

WATCH_PLATE = "赣BW0Q77"  # not in the generated data
WATCH_CITY = "360200"  # 云州: its checkpoint system pushes GA/T 1400 (mapping demo.yunzhou.yz-viid)
WATCH_TARGET_MS = 1000.0  # "within one second of ingestion"


@dataclass
class WatchResult:
    pushes: int
    push_ms: list[float]  # the push's own answer time
    hit_ms: list[float]  # push sent → hit event received on the owner's stream
    server_ms: list[float]  # the server's own figure: hit delivered − sighting ingested
    missing: int
    errors: Counter[str] = field(default_factory=Counter)


class HitListener(threading.Thread):
    """Reads the owner's ``/api/v1/watch/stream`` and notes when each hit event arrives."""

    def __init__(self, base: str, token: str):
        super().__init__(daemon=True)
        self.base, self.token = base, token
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        self.cond = threading.Condition()
        self.ready = threading.Event()
        self.response: httpx.Response | None = None
        self.error: str | None = None

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {self.token}"},
                              timeout=httpx.Timeout(30, read=None)) as client, \
                    client.stream("GET", "/api/v1/watch/stream") as resp:
                self.response = resp
                if resp.status_code != 200:
                    self.error = f"stream: HTTP {resp.status_code}"
                    return
                self.ready.set()
                event, data = None, []
                for line in resp.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif not line:
                        if event == "hit":
                            with self.cond:
                                self.arrivals.append((time.perf_counter(), json.loads("".join(data))))
                                self.cond.notify_all()
                        elif event == "end":
                            return
                        event, data = None, []
        except httpx.HTTPError as exc:
            if not self.ready.is_set():
                self.error = f"stream: {type(exc).__name__}"
        finally:
            self.ready.set()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.arrivals) >= count, timeout)

    def close(self) -> None:
        if self.response is not None:
            self.response.close()
        self.join(timeout=10)


def watch_accounts(plat: Any) -> tuple[str, str, str, int]:
    """(investigator token, checkpoint-system token, a 云州 checkpoint ID, the watched plate's latest pass
    stored, epoch ms or 0) for the watch-list run."""
    now = int(time.time() * 1000)
    for username, unit, role in (("bench_yz_inv", ("360202", "云州市公安局云州分局"), "investigator"),
                                 ("bench_yz_kakou", ("360200", "云州市公安局卡口系统"), "steward")):
        if plat.directory.get(username) is None:
            plat.directory.add(username, display_name=username, unit_code=unit[0], unit_name=unit[1],
                               roles=[role], now_ms=now)
    _t1, inv = plat.tokens.create("bench_yz_inv", "watch bench", {"data:read"}, days=1, now_ms=now)
    _t2, push = plat.tokens.create("bench_yz_kakou", "watch bench", {"viid:push"}, days=1, now_ms=now)
    with plat.engine.connect() as conn:
        device = conn.execute(text("SELECT device_id FROM rec_device WHERE city_code = :c AND device_id LIKE :p "
                                   "ORDER BY id LIMIT 1"), {"c": WATCH_CITY, "p": WATCH_CITY[:4] + "%"}).scalar()
        latest = conn.execute(text("SELECT max(passed_at) FROM rec_sighting WHERE plate_no = :p"),
                              {"p": WATCH_PLATE}).scalar()
    return str(inv), str(push), str(device or "36020200001190000001"), int(latest or 0)


def watch_latency(base: str, inv_token: str, push_token: str, device: str, latest_ms: int, pushes: int, tz: Any,
                  rnd: random.Random) -> WatchResult:
    """One plate on the investigator's watch list; a checkpoint pushes one pass of it at a time (GA/T 1400)
    and the time until the hit arrives on the investigator's open stream is taken, push by push.

    The passes are new sightings: their times follow the plate's latest pass already stored
    (``latest_ms``; a cached store keeps those of earlier runs). A pass with the same plate,
    checkpoint and second as a stored one is a duplicate, which rightly makes no hit.
    """
    from datetime import datetime, timedelta

    inv = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {inv_token}"}, timeout=60)
    pusher = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {push_token}",
                                                  "Content-Type": "application/VIID+JSON;charset=UTF-8"},
                          timeout=60)
    result = WatchResult(pushes, [], [], [], 0)
    r = inv.post("/api/v1/watch/entries", json={
        "kind": "plate", "subject": WATCH_PLATE, "reason": "基准测试布控", "purpose": PURPOSE, "case_no": CASE_NO,
        "scope": [WATCH_CITY], "days": 1})
    if r.status_code != 201:
        result.errors[f"add entry: HTTP {r.status_code} {r.text[:200]}"] += 1
        result.missing = pushes
        return result
    entry = r.json()["id"]
    listener = HitListener(base, inv_token)
    listener.start()
    listener.ready.wait(30)
    run = f"{time.time_ns() % 10**9:09d}"
    base_time = max(datetime.now(tz) - timedelta(hours=3),
                    datetime.fromtimestamp(latest_ms // 1000 + 1, tz) if latest_ms else datetime.min.replace(tzinfo=tz))
    try:
        if listener.error:
            result.errors[listener.error] += 1
            result.missing = pushes
            return result
        with _progress() as bar:
            task = bar.add_task("watch-list pushes", total=pushes)
            for i in range(pushes):
                passed = (base_time + timedelta(seconds=i)).strftime("%Y%m%d%H%M%S")
                obj = {"MotorVehicleID": f"{device}{passed}{run}{i:05d}", "TollgateID": device,
                       "PlateNo": WATCH_PLATE, "PlateClass": "02", "PlateColor": "5", "PassTime": passed,
                       "Speed": 60, "Direction": "1"}
                body = json.dumps({"MotorVehicleListObject": {"MotorVehicleObject": [obj]}}, ensure_ascii=False)
                t0 = time.perf_counter()
                resp = pusher.post("/VIID/MotorVehicles", content=body.encode())
                result.push_ms.append((time.perf_counter() - t0) * 1000)
                if resp.status_code != 200:
                    result.errors[f"push: HTTP {resp.status_code}"] += 1
                if listener.wait_for(i + 1 - result.missing, 10):
                    at, item = listener.arrivals[-1]
                    result.hit_ms.append((at - t0) * 1000)
                    if isinstance(item.get("latency_ms"), int | float):
                        result.server_ms.append(float(item["latency_ms"]))
                else:
                    result.missing += 1
                bar.update(task, completed=i + 1)
                time.sleep(rnd.uniform(0.05, 0.25))  # not in step with the stream's poll
    finally:
        listener.close()
        inv.delete(f"/api/v1/watch/entries/{entry}")
        inv.close()
        pusher.close()
    return result


# -- one backend ---------------------------------------------------------------------------------------------


@dataclass
class BackendResult:
    backend: Backend
    api: dict[str, Load]
    sql: dict[str, Load]
    profile: dict[str, Profile]
    client_cpu_s: float
    watch: WatchResult | None
    load_before: float  # 1-minute load average when the backend's run started (other work on the machine)
    workers: int  # server processes
    p95s: dict[str, list[float]]  # API p95 of each round, per scenario


def measure(ds: Dataset, backend: Backend, *, clients: int, warmup: int, per_client: int, profile_n: int,
            seed: int, pushes: int, workers: int, rounds: int = 3) -> BackendResult:
    from lianfang.platform import Platform

    load_before = os.getloadavg()[0]
    plat = Platform(ds.settings(backend))
    try:
        plat.migrate()
        with plat.engine.connect() as conn:
            if plat.engine.dialect.name == "postgresql":
                backend.version = "PostgreSQL " + str(conn.execute(text("SHOW server_version")).scalar())
            else:
                backend.version = "SQLite " + str(conn.execute(text("SELECT sqlite_version()")).scalar())
        token = bench_token(plat)
        watch_tokens = watch_accounts(plat) if pushes else None
        work = draw_workload(ds, plat.engine, max(200, clients * (warmup + per_client)), random.Random(seed))
        plat.engine.dispose()  # the server gets the database to itself
        cpu0 = time.process_time()
        console.print(f"{backend.name}: API, {rounds} rounds of {clients} clients × {per_client} requests "
                      f"(+{warmup} warm-up) …")
        with Server(ds.env(backend), ds.root / f"server-{backend.name.lower()}.log", workers) as server:
            runs = [api_loads(server.base, token, work, clients, warmup, per_client, server) for _ in range(rounds)]
            client_cpu = time.process_time() - cpu0
            # the machine is shared and noisy: each scenario's round with the median p95 stands for it
            api = {k: sorted((run[k] for run in runs), key=lambda load: load.p(0.95))[len(runs) // 2] for k in runs[0]}
            p95s = {k: [run[k].p(0.95) for run in runs] for k in runs[0]}
            for k, load in api.items():  # a failed request in any round counts
                load.errors = sum((run[k].errors for run in runs), Counter())
            watch = None
            if watch_tokens:
                console.print(f"{backend.name}: watch list, {pushes} GA/T 1400 pushes …")
                watch = watch_latency(server.base, *watch_tokens, pushes, plat.tz, random.Random(seed))
        console.print(f"{backend.name}: SQL floor …")
        sql = sql_loads(plat.engine, plat, work, clients, warmup, per_client)
        console.print(f"{backend.name}: profile …")
        prof = profiles(plat, token, work, profile_n)
        for name, load in {**{f"API {k}": v for k, v in api.items()}, **{f"SQL {k}": v for k, v in sql.items()}
                           }.items():
            console.print(f"  {name}: p50 {load.p(0.5):.1f} ms · p95 {load.p(0.95):.1f} ms · "
                          f"{load.rate:,.0f}/s · errors {sum(load.errors.values())}")
        if watch:
            console.print(f"  watch: ingest-to-hit p50 {percentile(watch.hit_ms, 0.5):.0f} ms · "
                          f"p99 {percentile(watch.hit_ms, 0.99):.0f} ms · missing {watch.missing}")
        return BackendResult(backend, api, sql, prof, client_cpu, watch, load_before, workers, p95s)
    finally:
        plat.close()


# -- the section ---------------------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _ratio(a: float, b: float) -> str:
    """``a / b`` as "12×", or with a decimal below 10 ("0.4×": the floor can be the slower side)."""
    if not b:
        return "–"
    r = a / b
    return f"{r:.1f}×" if r < 10 else f"{r:.0f}×"


def _ms(v: float) -> str:
    return f"{v:.1f}"


def section(args: argparse.Namespace) -> list[str]:
    """The ``query`` section of docs/benchmarks.md."""
    scale = args.scale
    per_client = args.query_requests or (50 if scale in ("medium", "large") else 25)
    ds = prepare(scale, args.query_seed, args.pg_admin_url, fresh=args.query_fresh)
    results = [measure(ds, b, clients=args.query_clients, warmup=args.query_warmup, per_client=per_client,
                       profile_n=args.query_profile, seed=args.query_seed, pushes=args.query_pushes,
                       workers=args.query_workers)
               for b in ds.backends]
    return render(ds, results, args.query_clients, args.query_warmup, per_client)


def render(ds: Dataset, results: list[BackendResult], clients: int, warmup: int, per_client: int) -> list[str]:
    rows = results[0].backend.rows
    big_enough = rows["sighting"] >= 10_000_000 and rows["person"] >= 1_000_000
    lines = [
        f"Dataset: `lianfang demo generate --scale {ds.scale} --seed {ds.seed}`, ingested by the real pipeline "
        "into each store (fingerprint `" + ds.fingerprint[:12] + "`): "
        + ", ".join(b.backend.version for b in results) + "; the PostgreSQL database vacuumed and analyzed "
        "after the load (`VACUUM (ANALYZE)`), as autovacuum leaves a table some time after a bulk load.",
        "",
    ]
    if not big_enough:
        lines += [
            f"**This run is at `{ds.scale}` scale, below the acceptance dataset (≥ 10 M sightings and ≥ 1 M "
            "persons): the figures say nothing yet about the targets at that size. Run `make bench` (scale "
            "`medium`, the default) for the acceptance measurement.**",
            "",
        ]
    lines += [
        "| table | " + " | ".join(b.backend.name for b in results) + " |",
        "| --- | " + " | ".join("---:" for _ in results) + " |",
        *[f"| rec_{t} | " + " | ".join(f"{b.backend.rows[t]:,}" for b in results) + " |" for t in TABLES],
        "",
    ]
    prep = []
    if ds.generate_s is not None:
        prep.append(f"generated in {ds.generate_s:.0f} s")
    prep += [f"ingested into {b.backend.name} in {b.backend.ingest_s:.0f} s" for b in results
             if b.backend.ingest_s is not None]
    if prep:
        lines += ["This run " + ", ".join(prep) + " (later runs reuse the cached stores).", ""]
    lines += [
        f"Load: {clients} concurrent clients (one keep-alive HTTP connection each, all driven by one asyncio "
        f"loop with prepared requests: `bench/http_load.py`), {warmup} warm-up "
        f"requests each, then {per_client} timed requests each ({clients * per_client:,} per scenario and "
        "store), in three rounds on the same server: a scenario's figures are those of its round with the "
        "median p95, the p95 of every round beside them; every answer of every round must be HTTP 200. "
        f"Server: `lianfang serve --workers {results[0].workers}` "
        "(uvicorn, one process per core, each listening on the port with its own socket; the workers even out "
        "their shares of the connections by answering a request on a surplus one with `Connection: close`, "
        "and the client reconnects: "
        + ", ".join(f"{sum(load.reconnects for load in r.api.values())} times in the {r.backend.name} "
                    "scenarios' reported rounds" for r in results)
        + "); "
        "API token of a 滨江 investigator (unit 360102, no grants), purpose `case_investigation` with a case "
        "number, so every row goes through the policy (other cities' sightings come back as masked hits) and "
        "every request writes one durable audit event before answering.",
        "",
        "* **search**: `POST /api/v1/search`, the five query kinds in turn — plates (from random sightings), "
        "citizen IDs, mobile numbers and names (of random generated people), case numbers (of random cases).",
        "* **trajectory**: `GET /api/v1/trajectories/vehicle/{plate}`, one plate (from random sightings) over "
        "30 days (2026-10-01 to 2026-10-31, Asia/Shanghai).",
        "* **SQL floor**: the same queries as plain SQL on the same engine and concurrency: each searched "
        "column by equality (blind index for encrypted fields), newest first, one page (20); the plate's "
        "sightings in the window by (plate_no, passed_at), the columns the API reads, and their checkpoints. "
        "No policy, no audit, no HTTP.",
        "",
        "| scenario | store | API p50 ms | API p95 ms | (p95 of each round) | API p99 ms | API req/s | "
        "server CPU ms/req | SQL p50 ms | SQL p95 ms | p95 API/SQL | target p95 | verdict |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    verdicts: list[str] = []
    for scenario in ("search", "trajectory"):
        for r in results:
            api, sql = r.api[scenario], r.sql[scenario]
            target = TARGETS_MS[scenario]
            ok = api.p(0.95) <= target and not api.errors
            verdicts.append(f"{scenario} on {r.backend.name} {_verdict(ok and big_enough)}")
            cpu = f"{api.server_cpu_s * 1000 / api.requests:.1f}" if api.server_cpu_s is not None else "–"
            verdict = _verdict(ok) if big_enough else ("met" if ok else "not met") + f" (at {ds.scale} scale)"
            lines.append(
                f"| {scenario} | {r.backend.name} | {_ms(api.p(0.5))} | {_ms(api.p(0.95))} | "
                f"{' · '.join(_ms(v) for v in sorted(r.p95s[scenario]))} | {_ms(api.p(0.99))} | "
                f"{api.rate:,.0f} | {cpu} | {_ms(sql.p(0.5))} | {_ms(sql.p(0.95))} | "
                f"{_ratio(api.p(0.95), sql.p(0.95))} | ≤ {target:.0f} ms | {verdict} |")
    errors = Counter[str]()
    for r in results:
        for load in r.api.values():
            errors.update({f"{r.backend.name} {k}": v for k, v in load.errors.items()})
    lines += ["", "Targets (issue 4, at ≥ 10 M sightings and ≥ 1 M persons): " + "; ".join(verdicts) + ".", ""]
    if errors:
        lines += ["Failed requests (counted in the latencies, and a scenario with any fails its target): "
                  + ", ".join(f"{k} × {v}" for k, v in errors.most_common()) + ".", ""]
    lines += [
        "Search latency by query kind (API, same run):",
        "",
        "| kind | " + " | ".join(f"{r.backend.name} p50 ms | {r.backend.name} p95 ms" for r in results) + " |",
        "| --- | " + " | ".join("---: | ---:" for _ in results) + " |",
    ]
    for kind in SEARCH_KINDS:
        cells = []
        for r in results:
            vals = r.api["search"].by_tag.get(kind, [])
            cells.append(f"{_ms(percentile(vals, 0.5))} | {_ms(percentile(vals, 0.95))}")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### Where the time goes",
        "",
        f"With {clients} clients in a closed loop, a request's latency is about {clients} ÷ throughput "
        "(Little's law): once the server's CPU is saturated, p50 ≈ clients × server CPU per request ÷ cores. "
        f"The clients ran on the same {os.cpu_count()} cores ("
        + ", ".join(f"{r.client_cpu_s:.1f} s of client CPU during the {r.backend.name} API runs" for r in results)
        + "), and so did whatever else the machine was doing: its 1-minute load average was "
        + ", ".join(f"{r.load_before:.1f} when the {r.backend.name} run began" for r in results) + ".",
        "",
    ]
    cores = os.cpu_count() or 1
    for scenario in ("search", "trajectory"):
        for r in results:
            api = r.api[scenario]
            if api.server_cpu_s is None or not api.requests:
                continue
            cpu_ms = api.server_cpu_s * 1000 / api.requests
            db_ms = (api.database_cpu_s or 0.0) * 1000 / api.requests if r.backend.name == "PostgreSQL" else 0.0
            both = cpu_ms + db_ms
            db = f" + {db_ms:.1f} ms of PostgreSQL's own CPU" if db_ms else ""
            lines.append(
                f"* {scenario}, {r.backend.name}: {cpu_ms:.1f} ms of server CPU per request{db} → at most "
                f"{cores * 1000 / both:,.0f} requests/s on {cores} cores, so {clients} clients wait at least "
                f"{clients * both / cores:.0f} ms per request on average (measured: {api.rate:,.0f}/s, mean "
                f"{statistics.fmean(api.latencies_ms):.0f} ms).")
    lines += [
        "",
        "One service call at a time, in-process (no HTTP), under `cProfile`; cumulative ms per call, so rows "
        "nest (SQL is also inside grants, find and the track read; the profiler inflates Python-heavy rows). "
        "The token check is included, as the API does it on every request. The server's CPU per request (above) "
        "minus the CPU per call here is roughly what HTTP, routing, validation and JSON encoding add:",
        "",
    ]
    for scenario in ("search", "trajectory"):
        labels: list[str] = []
        for r in results:
            for label, _ in r.profile[scenario].rows:
                if label not in labels:
                    labels.append(label)
        lines += [
            f"| {scenario}: part | " + " | ".join(f"{r.backend.name} ms" for r in results) + " |",
            "| --- | " + " | ".join("---:" for _ in results) + " |",
            f"| whole call unprofiled, p50 of {results[0].profile[scenario].calls} | "
            + " | ".join(_ms(r.profile[scenario].plain_p50_ms) for r in results) + " |",
            "| whole call unprofiled, CPU per call (all threads of the process) | "
            + " | ".join(_ms(r.profile[scenario].cpu_ms) for r in results) + " |",
            "| whole call under the profiler, mean | "
            + " | ".join(_ms(r.profile[scenario].total_ms) for r in results) + " |",
        ]
        for label in labels:
            cells = []
            for r in results:
                found = dict(r.profile[scenario].rows).get(label)
                cells.append(_ms(found) if found is not None else "–")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += watch_lines(results, ds.scale, big_enough)
    return lines


def watch_lines(results: list[BackendResult], scale: str, big_enough: bool) -> list[str]:
    measured = [r for r in results if r.watch is not None]
    if not measured:
        return ["### Watch lists: ingest-to-hit", "",
                "**TODO — not measured in this run** (`--query-pushes 0`): no figure is given.", ""]
    first = measured[0].watch
    assert first is not None
    lines = [
        "### Watch lists: ingest-to-hit",
        "",
        f"A 云州 investigator (unit 360202) watches one plate in 云州 and holds the live hit stream "
        f"(`GET /api/v1/watch/stream`) open; 云州's checkpoint system (API token, scope viid:push) pushes "
        f"{first.pushes} passes of that plate one at a time (`POST /VIID/MotorVehicles`, one object each, "
        "50–250 ms apart). Latency: from sending the push to the hit event arriving on the stream, measured "
        "by the client, with no other load on the server; the server's own figure (`latency_ms` of the hit: "
        "delivered − ingested) is beside it.",
        "",
        "| store | pushes | push answer p50 ms | hit p50 ms | hit p95 ms | hit p99 ms | hit max ms | "
        "server p99 ms | missing | target p99 | verdict |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in measured:
        w = r.watch
        assert w is not None
        ok = bool(w.hit_ms) and not w.missing and percentile(w.hit_ms, 0.99) <= WATCH_TARGET_MS
        lines.append(
            f"| {r.backend.name} | {w.pushes} | {_ms(percentile(w.push_ms, 0.5))} | {_ms(percentile(w.hit_ms, 0.5))} | "
            f"{_ms(percentile(w.hit_ms, 0.95))} | {_ms(percentile(w.hit_ms, 0.99))} | "
            f"{_ms(max(w.hit_ms)) if w.hit_ms else '–'} | {_ms(percentile(w.server_ms, 0.99))} | {w.missing} | "
            f"≤ {WATCH_TARGET_MS:.0f} ms | "
            + (_verdict(ok) if big_enough else ("met" if ok else "not met") + f" (at {scale} scale)") + " |")
    errors = [f"{r.backend.name}: {k} × {v}" for r in measured if r.watch for k, v in r.watch.errors.items()]
    lines.append("")
    if errors:
        lines += ["Errors: " + "; ".join(errors) + ".", ""]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clean", action="store_true", help="Remove the cached datasets and drop their databases.")
    ap.add_argument("--prepare", action="store_true", help="Generate and ingest the dataset only (no measurement).")
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], help="With --prepare: fill only this store.")
    ap.add_argument("--scale", default=os.environ.get("LIANFANG_BENCH_SCALE", "medium"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    if args.clean:
        clean(args.pg_admin_url)
        print(f"removed {CACHE} and its databases")
    elif args.prepare:
        ds = prepare(args.scale, args.seed, args.pg_admin_url, only=args.backend)
        for b in ds.backends:
            print(f"{b.name}: " + ", ".join(f"rec_{t} {n:,}" for t, n in b.rows.items()))
    else:
        ap.print_help()


if __name__ == "__main__":
    main()
