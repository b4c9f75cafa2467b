"""Ingestion benchmark: lianfang end to end vs DuckDB's read_csv on the same file.

Each lianfang run is a fresh ``lianfang ingest`` process on a fresh SQLite store
(WAL, synchronous=FULL), so the figure includes start-up, hashing the file,
parsing, mapping, validation, dedup, lineage and durable commits. Peak memory is
the child's max RSS.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

MAPPING = """
mapping: bench.kk
version: 1
city: "360200"
system: BENCH-KK
source: {format: csv, encoding: utf-8}
formats: ["%Y-%m-%d %H:%M:%S"]
feeds:
  - category: sighting
    match: "kk*.csv"
    source_id: GCXH
    fields:
      kind: {const: vehicle}
      device_id: SBBH
      passed_at: GCSJ
      plate_no: HPHM
      plate_type: HPZL
      plate_color: HPYS
      vehicle_color: CSYS
      speed_kmh: CLSD
      direction: XSFX
      lane_no: CDH
"""

PERSON_MAPPING = """
mapping: bench.rk
version: 1
city: "360100"
system: BENCH-RK
source: {format: csv, encoding: utf-8}
formats: ["%Y%m%d"]
feeds:
  - category: person
    match: "rk*.csv"
    fields: {citizen_id: GMSFHM, name: XM, sex: XBDM, birth_date: CSRQ, phone: LXDH,
             household_address: HJDZ, current_address: XZZ}
"""

_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_SERIAL = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def write_sightings(path: Path, n: int, seed: int = 1) -> None:
    """A checkpoint export: ~20k vehicles passing 400 devices over a month."""
    rnd = random.Random(seed)
    plates = [
        f"赣{rnd.choice('ABCDEFGH')}" + "".join(rnd.choice(_SERIAL) for _ in range(5))
        for _ in range(20000)
    ]
    devices = [f"3602000000121{i:07d}" for i in range(400)]
    base = 1_759_248_000  # 2025-10-01 00:00 +08:00, as a plain counter below
    with path.open("w", encoding="utf-8") as out:
        out.write("GCXH,SBBH,GCSJ,HPHM,HPZL,HPYS,CSYS,CLSD,XSFX,CDH\n")
        for i in range(n):
            t = base + i * 2 + rnd.randrange(2)
            tm = time.gmtime(t + 8 * 3600)
            stamp = f"{tm.tm_year}-{tm.tm_mon:02d}-{tm.tm_mday:02d} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}"
            out.write(
                f"{i},{devices[i % 400]},{stamp},{plates[rnd.randrange(20000)]},02,5,"
                f"{rnd.randrange(1, 10)},{rnd.randrange(20, 120)},{rnd.randrange(1, 5)},{rnd.randrange(1, 5)}\n"
            )


def write_persons(path: Path, n: int, seed: int = 2) -> None:
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("GMSFHM,XM,XBDM,CSRQ,LXDH,HJDZ,XZZ\n")
        for i in range(n):
            birth = (
                f"{rnd.randrange(1950, 2005)}{rnd.randrange(1, 13):02d}{rnd.randrange(1, 29):02d}"
            )
            body = f"36{(i // 1000) % 90 + 10:02d}02{birth}{i % 1000:03d}"
            check = "10X98765432"[sum(int(c) * w for c, w in zip(body, _W, strict=True)) % 11]
            out.write(
                f"{body}{check},张{'伟芳娜敏静'[i % 5]}{'丽强磊军洋'[(i // 5) % 5]},{1 + i % 2},{birth},"
                f"1{rnd.randrange(3, 10)}{rnd.randrange(10**8, 10**9)},岚江省滨江市江南区{i % 300}号,"
                f"岚江省云州市城北区{i % 500}号\n"
            )


@dataclass
class Run:
    seconds: float
    max_rss_mb: float  # peak of the summed RSS of the ingest process and its workers
    accepted: int
    cpu_seconds: float  # user + system, the ingest process and the workers it waited for


def _tree_rss_kib(root: int) -> int:
    """Summed RSS (KiB) of ``root`` and every process descended from it (Linux ``/proc``)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid = int(status.parent.name)
        parents[pid] = int(fields.get("PPid", "0"))
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


class _TreeMemory:
    """Samples the process tree's summed RSS every 50 ms on a thread; ``peak_mb`` is the largest."""

    def __init__(self, pid: int) -> None:
        self.peak_kib = 0
        self._pid = pid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(self._pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kib / 1024


def run_ingest(workdir: Path, source: Path, mapping: Path, env_extra: dict[str, str] | None = None) -> Run:
    var = workdir / "var"
    shutil.rmtree(var, ignore_errors=True)
    env = {**os.environ, "LIANFANG_VAR_DIR": str(var), **(env_extra or {})}
    env.pop("LIANFANG_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "lianfang", "keys", "init"], env=env, check=True, capture_output=True
    )
    subprocess.run(
        [sys.executable, "-m", "lianfang", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
    )
    out = workdir / "summary.json"
    start = time.perf_counter()
    with out.open("w") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lianfang",
                "ingest",
                str(source),
                "--mapping",
                str(mapping),
                "--json",
            ],
            env=env,
            stdout=fh,
            stderr=subprocess.DEVNULL,
        )
        memory = _TreeMemory(proc.pid)
        # wait4: this child's own usage, plus that of the workers it waited for
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    tree_mb = memory.stop()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"ingest failed with status {status}")
    summary = json.loads(out.read_text())
    return Run(seconds, max(tree_mb, usage.ru_maxrss / 1024), int(summary["accepted"]),
               usage.ru_utime + usage.ru_stime)


def duckdb_read_csv(source: Path) -> float:
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(
        f"CREATE TABLE t AS SELECT * FROM read_csv('{source}', header=true, all_varchar=true)"
    )
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def median(values: list[float]) -> float:
    return statistics.median(values)
