"""The collector pause around big files, and the chunk transport between processes."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import weakref
from collections import Counter
from decimal import Decimal

from lianfang.ingest.collector import CollectorPause
from lianfang.ingest.jobs import ChunkJob, pack, unpack


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_pause_stops_automatic_collection_and_restores_it():
    assert gc.isenabled()
    with CollectorPause():
        assert not gc.isenabled()
        with CollectorPause():  # a second file streaming at the same time
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first is still streaming
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_pause_still_frees_cycles_every_n_chunks():
    with CollectorPause(every=3) as pause:
        node = _Node()
        gone = weakref.ref(node)
        del node
        pause.tick()
        pause.tick()
        assert gone() is not None  # not collected automatically while paused
        pause.tick()  # third chunk: collected explicitly
        assert gone() is None


def test_inactive_pause_changes_nothing():
    with CollectorPause(active=False) as pause:
        assert gc.isenabled()
        pause.tick()
    assert gc.isenabled()


def test_pause_restores_a_disabled_collector_as_disabled():
    gc.disable()
    try:
        with CollectorPause():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


_SETTLED = textwrap.dedent("""
    import gc, json, weakref
    from lianfang.ingest.collector import CollectorPause

    class Node:
        def __init__(self):
            self.me = self

    gc.collect()
    gc.freeze()  # a server worker that has settled its heap
    settled = gc.get_freeze_count()
    with CollectorPause():
        dead = Node()
        gone = weakref.ref(dead)
        del dead
        kept = [Node() for _ in range(1000)]
    print(json.dumps({"settled": settled, "after": gc.get_freeze_count(), "enabled": gc.isenabled(),
                      "cycle_freed": gone() is None, "kept": len(kept)}))
""")


def test_a_settled_process_stays_settled_after_a_file_and_its_cycles_are_freed():
    # in a process of its own: freezing is process-wide
    out = subprocess.run([sys.executable, "-c", _SETTLED], capture_output=True, text=True, timeout=60, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["enabled"]
    assert seen["cycle_freed"]  # what the file left in cycles is collected, not frozen
    assert seen["after"] >= seen["settled"] + seen["kept"]  # still frozen, what lives on with it


def _job(rows):
    return ChunkJob(
        read=3, last_position=41, done_bytes=1234, rows=rows, keys=[b"k1", b"k2"], positions=[39, 41],
        hashes=[b"h" * 32, b"i" * 32], repeats=[(40, b"j" * 32, b"k1", b"h" * 32)],
        quarantine=[{"position": 12, "reasons": "[]", "raw_enc": b"\x00\x01"}],
        reasons=Counter({"value.plate": 1}),
    )


def _same(a: ChunkJob, b: ChunkJob) -> None:
    assert (a.read, a.last_position, a.done_bytes) == (b.read, b.last_position, b.done_bytes)
    assert [tuple(r) for r in a.rows] == [tuple(r) for r in b.rows]
    assert (a.keys, a.positions, a.hashes) == (b.keys, b.positions, b.hashes)
    assert [tuple(r) for r in a.repeats] == [tuple(r) for r in b.repeats]
    assert a.quarantine == b.quarantine
    assert a.reasons == b.reasons and isinstance(b.reasons, Counter)


def test_transport_round_trip_keeps_every_part_of_a_chunk():
    job = _job([(b"\x01" * 16, "internal", "赣A12345", 1_759_248_000_000, 55.0, None, 2),
                (b"\x02" * 16, "internal", "赣B54321", 1_759_248_002_000, None, "3", 3)])
    data = pack(job)
    assert data[:1] == b"m"  # the fast form for plain values
    _same(job, unpack(data))


def test_transport_falls_back_for_values_marshal_cannot_write():
    job = _job([(b"\x01" * 16, Decimal("1.5")), (b"\x02" * 16, Decimal("2"))])
    data = pack(job)
    assert data[:1] == b"p"
    back = unpack(data)
    _same(job, back)
    assert back.rows[0][1] == Decimal("1.5")
