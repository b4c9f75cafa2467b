"""Watch lists (布控): standing entries on a plate or a person, matched against every new sighting.

* :mod:`.entries` — adding (with the approval rule), listing, removing and expiring entries;
* :mod:`.matcher` — the ingestion hook that turns newly stored sightings into hits;
* :mod:`.hits` — hits for their owner, projected through the policy and audited, and the
  server-sent-event wire format the live stream uses.

:class:`Watch` binds them to one platform (``Platform.watch``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, MetaData

from lianfang.access.approvals import Approvals
from lianfang.access.projection import Projector
from lianfang.audit import Audit
from lianfang.crypto import BlindIndex, FieldCipher
from lianfang.policy.config import PolicyConfig
from lianfang.standard import Standard
from lianfang.watch.entries import WatchEntries
from lianfang.watch.hits import Delivery, LatencyLog, WatchHits, heartbeat
from lianfang.watch.matcher import WatchMatcher
from lianfang.watch.model import KINDS, PERSON, PLATE, WatchEntry, WatchError


class Watch:
    def __init__(
        self,
        *,
        engine: Engine,
        metadata: MetaData,
        standard: Standard,
        policy: PolicyConfig,
        cipher: FieldCipher,
        blind: BlindIndex,
        approvals: Approvals,
        audit: Audit,
        projector: Projector,
        tz: ZoneInfo,
        max_days: int,
        max_entries: int,
        cities: Callable[[], Sequence[str]],
    ):
        self.matcher = WatchMatcher(metadata, standard, cipher, blind)
        self.entries = WatchEntries(engine, metadata, standard, policy, cipher, blind, approvals, audit,
                                    max_days=max_days, max_entries=max_entries, cities=cities,
                                    on_change=self.matcher.invalidate)
        self.hits = WatchHits(engine, metadata, projector, approvals, audit, self.entries, tz)


__all__ = [
    "KINDS",
    "PERSON",
    "PLATE",
    "Delivery",
    "LatencyLog",
    "Watch",
    "WatchEntries",
    "WatchEntry",
    "WatchError",
    "WatchHits",
    "WatchMatcher",
    "heartbeat",
]
