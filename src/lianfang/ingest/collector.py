"""The cyclic garbage collector, paused while a big file streams through.

Building a chunk creates tens of thousands of container objects (the raw records'
dicts, the rows' tuples) that all live until the chunk is stored. CPython's
collector runs every 700 allocations and walks the young objects each time, and
every object that survives is walked again as it is promoted: on the benchmark file
that cost the chunk builder 2.5 s of its 8.5 s per million records, for nothing,
since records and rows hold no reference cycles.

:class:`CollectorPause` switches automatic collection off for the duration of a
file and collects explicitly every ``every`` chunks instead, so whatever cycles do
form (an exception's traceback, say) are still freed, just in batches; memory stays
bounded by the chunks in flight. Objects that existed before the pause (modules,
the standard, the mapping) are moved out of the collector's sight once
(``gc.freeze``) so those explicit collections only walk what ingestion made.

The previous state is restored on exit, so a process that ingests one big file
among other work (the web server taking an API push) collects normally again. A
process whose start-up objects were frozen already (a server worker settles its heap
once it has started: ``lianfang.api.server.settle_heap``) stays frozen: on exit the
collector frees what cycles the file left and freezes what is still alive again, rather
than handing the whole start-up heap back to every full collection.
"""

from __future__ import annotations

import gc
import threading
from types import TracebackType

_lock = threading.Lock()
_holders = 0  # pauses open in this process (several files may stream at once in a server)
_was_enabled = True
_was_frozen = False


class CollectorPause:
    """``with CollectorPause() as pause: … pause.tick()`` once per chunk.

    ``active=False`` makes it do nothing (a small file is not worth it).
    """

    def __init__(self, every: int = 8, *, active: bool = True):
        self.every = max(1, every)
        self.active = active
        self._ticks = 0

    def __enter__(self) -> CollectorPause:
        global _holders, _was_enabled, _was_frozen
        if not self.active:
            return self
        with _lock:
            if _holders == 0:
                _was_enabled = gc.isenabled()
                _was_frozen = gc.get_freeze_count() > 0
                gc.freeze()
                gc.disable()
            _holders += 1
        return self

    def tick(self) -> None:
        """One chunk done: every ``every`` chunks, collect what cycles there are."""
        self._ticks += 1
        if self.active and self._ticks % self.every == 0:
            gc.collect()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        global _holders
        if not self.active:
            return
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.unfreeze()
                if _was_frozen:
                    gc.collect()
                    gc.freeze()
                if _was_enabled:
                    gc.enable()


__all__ = ["CollectorPause"]
