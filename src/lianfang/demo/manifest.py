"""The ground truth of a generated province: ``manifest.json`` and its JSON-lines companions.

While generating, defects, duplicates and person identities stream to
``defects.jsonl``, ``duplicates.jsonl`` and ``identities.jsonl`` beside the manifest.
At the end each list with at most :data:`INLINE_LIMIT` entries is folded into
``manifest.json`` and its file removed; a longer one stays on disk and the manifest's
``external`` section names it with its count (then the inline list is empty). With
the presets, ``tiny`` and ``small`` are fully inline; ``medium`` and ``large`` keep
all three files. :func:`iter_entries` reads a list wherever it lives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "lianfang-demo-manifest/1"
INLINE_LIMIT = 100_000
_LISTS = ("defects", "duplicates", "identities")


@dataclass
class FileEntry:
    path: str  # relative to the output root, posix
    city: str  # the owning mapping's city (360000 for the provincial reference system)
    category: str
    mapping: str
    records: int = 0
    clean: int = 0
    defects: int = 0
    duplicates: int = 0


class Ledger:
    """Collects file entries, expected counts and the streamed lists during generation."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: list[FileEntry] = []
        self.expected: dict[str, dict[str, int]] = {}
        self.counts = dict.fromkeys(_LISTS, 0)
        self._streams = {name: (out / f"{name}.jsonl").open("w", encoding="utf-8", newline="\n")
                         for name in _LISTS}

    def defect(self, file: str, position: int, kind: str, field_name: str | None, reason: str) -> None:
        self._put("defects", {"file": file, "position": position, "kind": kind, "field": field_name,
                              "reason": reason})

    def duplicate(self, file: str, position: int, of_position: int, kind: str) -> None:
        self._put("duplicates", {"file": file, "position": position, "of_position": of_position,
                                 "kind": kind})

    def identity(self, file: str, position: int, identity: str) -> None:
        self._put("identities", {"record": f"{file}#{position}", "identity": identity})

    def expect(self, city: str, category: str, count: int) -> None:
        per_city = self.expected.setdefault(city, {})
        per_city[category] = per_city.get(category, 0) + count

    def _put(self, name: str, entry: dict[str, Any]) -> None:
        self.counts[name] += 1
        self._streams[name].write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")

    def finish(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(inline lists, external references); removes the files that were folded in."""
        inline: dict[str, Any] = {}
        external: dict[str, Any] = {}
        for name, stream in self._streams.items():
            stream.close()
            path = self.out / f"{name}.jsonl"
            if self.counts[name] > INLINE_LIMIT:
                external[name] = {"path": path.name, "count": self.counts[name]}
                inline[name] = {} if name == "identities" else []
                continue
            with path.open(encoding="utf-8") as fh:
                entries = [json.loads(line) for line in fh]
            inline[name] = ({e["record"]: e["identity"] for e in entries} if name == "identities"
                            else entries)
            path.unlink()
        return inline, external


@dataclass
class Manifest:
    seed: int
    scale: dict[str, Any]
    window: list[str]
    province: dict[str, Any]
    cities: list[dict[str, Any]]
    files: list[FileEntry]
    expected: dict[str, dict[str, int]]
    defects: list[dict[str, Any]]
    duplicates: list[dict[str, Any]]
    identities: dict[str, str]
    story: dict[str, Any]
    clones: list[dict[str, Any]]
    external: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT

    def to_json(self) -> dict[str, Any]:
        """The manifest as JSON data (the long lists by reference, not copied)."""
        order = ("format", "seed", "scale", "window", "province", "cities", "files", "expected",
                 "defects", "duplicates", "identities", "external", "story", "clones")
        data = {k: getattr(self, k) for k in order}
        data["files"] = [asdict(f) for f in self.files]
        return data

    def write(self, out: Path) -> Path:
        path = out / "manifest.json"
        with path.open("w", encoding="utf-8", newline="\n") as fh:  # streamed: no copy in memory
            json.dump(self.to_json(), fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        return path


def iter_entries(root: Path, manifest: dict[str, Any], name: str) -> Iterator[dict[str, Any]]:
    """Entries of ``defects``, ``duplicates`` or ``identities`` (as {record, identity}),
    inline or from the JSON-lines file the manifest references."""
    ref = manifest.get("external", {}).get(name)
    if ref is None:
        if name == "identities":
            yield from ({"record": k, "identity": v} for k, v in manifest[name].items())
        else:
            yield from manifest[name]
        return
    with (root / ref["path"]).open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)
