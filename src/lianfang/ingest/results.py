"""What an ingestion run reports: per-file and per-batch counts, rejections by reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class FileResult:
    name: str
    status: str  # done | skipped (already ingested) | refused | failed
    category: str = ""
    city_code: str = ""
    mapping: str = ""
    file_id: int | None = None
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    resumed_from: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    error: str | None = None
    reason: str | None = None  # machine code for refused/failed files

    @property
    def balanced(self) -> bool:
        """Nothing silently dropped: every record read is accounted for."""
        return self.accepted + self.quarantined + self.duplicates == self.read

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status,
            "category": self.category,
            "city_code": self.city_code,
            "mapping": self.mapping,
            "file_id": self.file_id,
            "read": self.read,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "duplicates": self.duplicates,
            "resumed_from": self.resumed_from,
            "by_reason": dict(self.by_reason),
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "reason": self.reason,
        }


@dataclass
class BatchResult:
    batch_id: int
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, attr: str) -> int:
        return sum(int(getattr(f, attr)) for f in self.files)

    @property
    def by_reason(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for f in self.files:
            out.update(f.by_reason)
        return out

    @property
    def ok(self) -> bool:
        return all(f.status in ("done", "skipped") for f in self.files)

    def as_dict(self) -> dict[str, object]:
        return {
            "batch_id": self.batch_id,
            "read": self.total("read"),
            "accepted": self.total("accepted"),
            "quarantined": self.total("quarantined"),
            "duplicates": self.total("duplicates"),
            "by_reason": dict(self.by_reason),
            "seconds": round(self.seconds, 3),
            "files": [f.as_dict() for f in self.files],
        }
