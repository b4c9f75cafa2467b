"""How big the synthetic province is: explicit per-city counts, named presets and the time window."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date


@dataclass(frozen=True)
class Scale:
    """Records generated *per city* (before duplicates; defects replace clean records).

    ``persons`` counts person records in each city's person file (about 5 % of them are
    people from neighbouring cities); ``sightings`` counts plate and face sightings
    owned by the city (vehicles from elsewhere driving through included).
    """

    persons: int
    vehicles: int
    sightings: int
    cases: int
    alerts: int
    help_requests: int
    devices: int
    defect_rate: float = 0.02
    duplicate_rate: float = 0.01

    def __post_init__(self) -> None:
        counts = (self.persons, self.vehicles, self.sightings, self.cases, self.alerts,
                  self.help_requests)
        if min(counts) < 0:
            raise ValueError("counts cannot be negative")
        if self.devices < 8:
            raise ValueError("a city needs at least 8 devices (border checkpoints included)")
        if self.persons < 4 or self.vehicles < 2:
            raise ValueError("a city needs at least 4 persons and 2 vehicles")
        if self.vehicles > 150_000 or self.persons > 2_000_000:
            raise ValueError("at most 150,000 vehicles and 2,000,000 persons per city")
        if not (0 <= self.defect_rate < 0.5 and 0 <= self.duplicate_rate < 0.5):
            raise ValueError("rates must lie in [0, 0.5)")

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


SCALES: dict[str, Scale] = {
    "tiny": Scale(persons=20, vehicles=12, sightings=100, cases=8, alerts=4, help_requests=8,
                  devices=12),
    "small": Scale(persons=300, vehicles=150, sightings=3_000, cases=100, alerts=20,
                   help_requests=100, devices=40),
    # 16 × 640,000 = 10.24 M sightings; 16 × 66,000 = 1.056 M person records (1.003 M people)
    "medium": Scale(persons=66_000, vehicles=30_000, sightings=640_000, cases=2_000, alerts=200,
                    help_requests=3_000, devices=200),
    # 16 × 3.2 M = 51.2 M sightings; 16 × 330,000 = 5.28 M person records (5.02 M people)
    "large": Scale(persons=330_000, vehicles=150_000, sightings=3_200_000, cases=10_000,
                   alerts=500, help_requests=15_000, devices=600),
}


@dataclass(frozen=True)
class Window:
    """Inclusive range of local (Asia/Shanghai) dates in which every event falls.

    It must lie in the past when the data is ingested: the standard rejects times more
    than a day in the future as clock faults.
    """

    start: date = date(2026, 10, 1)
    end: date = date(2026, 10, 31)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("window end precedes its start")


DEFAULT_WINDOW = Window()


def resolve_scale(scale: str | Scale) -> Scale:
    if isinstance(scale, Scale):
        return scale
    try:
        return SCALES[scale]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}") from None
