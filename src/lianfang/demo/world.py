"""Everything the export stages share: the province, its devices and people, the window,
the output root, the ledger, and one sink per export file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lianfang.demo.devices import DeviceNet
from lianfang.demo.draws import stage_random
from lianfang.demo.geography import City, Province
from lianfang.demo.manifest import Ledger
from lianfang.demo.people import People
from lianfang.demo.scales import Scale, Window
from lianfang.demo.sink import Sink
from lianfang.demo.systems import Installation, city_installations
from lianfang.demo.timefmt import DAY, local_epoch

Progress = Callable[[str, int, int], None]
PROGRESS_EVERY = 20_000


@dataclass
class World:
    out: Path
    seed: int
    scale: Scale
    window: Window
    province: Province
    net: DeviceNet
    people: People
    ledger: Ledger
    progress: Progress | None = None
    installs: dict[int, tuple[Installation, Installation | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.t0 = local_epoch(self.window.start)
        self.t1 = local_epoch(self.window.end) + DAY  # exclusive
        self.installs = {c.index: city_installations(c) for c in self.province.cities}

    def own(self, city: City) -> Installation:
        return self.installs[city.index][0]

    def viid(self, city: City) -> Installation | None:
        return self.installs[city.index][1]

    def sink(self, inst: Installation, category: str, *, clean: bool = False) -> Sink:
        rng = stage_random(self.seed, f"sink/{inst.folder}/{category}")
        return Sink(self.out, inst, category, self.ledger,
                    defect_rate=0.0 if clean else self.scale.defect_rate,
                    duplicate_rate=0.0 if clean else self.scale.duplicate_rate, rng=rng)

    def report(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)
