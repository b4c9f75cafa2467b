"""Declarative source mappings: how one city's system maps onto the standard.

A mapping is YAML (see ``docs/onboard-a-city.md``): the owning city, the source
system, its file format and encoding, named value maps, date formats and one
*feed* per exported layout (category, file-name pattern, field rules). Onboarding
a city means writing one of these files, not code.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from lianfang.ingest.readers.base import ReaderSpec
from lianfang.standard import Standard
from lianfang.standard.yamltext import load_yaml

_SOURCE_KEYS = {
    "format",
    "encoding",
    "delimiter",
    "record_tag",
    "sheet",
    "header_row",
    "object_list",
}


class MappingError(ValueError):
    """A mapping file is malformed or disagrees with the standard."""


@dataclass(frozen=True)
class FieldRule:
    """Where one standard field's value comes from."""

    target: str
    sources: tuple[str, ...] = ()
    const: str | None = None
    join: str = ""
    value_map: AbcMapping[str, str] | None = None
    default: str | None = None
    formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feed:
    category: str
    match: str
    rules: tuple[FieldRule, ...]
    reader: ReaderSpec
    source_id: str | None = None
    formats: tuple[str, ...] = ()

    def matches(self, path: Path) -> bool:
        posix = path.as_posix()
        return fnmatch.fnmatchcase(posix, self.match) or fnmatch.fnmatchcase(
            posix, "*/" + self.match
        )


@dataclass(frozen=True)
class Mapping:
    id: str
    version: int
    city: str
    system: str
    feeds: tuple[Feed, ...]
    origin: str = ""
    value_maps: AbcMapping[str, AbcMapping[str, str]] = field(default_factory=dict)
    text: str = ""  # the YAML as written, kept in the store's mapping registry for lineage

    @property
    def ref(self) -> str:
        return f"{self.id}@v{self.version}"


def _str_map(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: a value map must be a dictionary")
    return {str(k): str(v) for k, v in raw.items()}


def _rule(target: str, raw: Any, maps: dict[str, dict[str, str]], where: str) -> FieldRule:
    if isinstance(raw, str):
        return FieldRule(target=target, sources=(raw,))
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: a rule is a column name or a dictionary")
    unknown = set(raw) - {"from", "const", "join", "map", "default", "formats"}
    if unknown:
        raise MappingError(f"{where}: unknown keys {sorted(unknown)}")
    if ("from" in raw) == ("const" in raw):
        raise MappingError(f"{where}: give exactly one of 'from' or 'const'")
    sources = raw.get("from", ())
    sources = (sources,) if isinstance(sources, str) else tuple(str(s) for s in sources)
    vmap = raw.get("map")
    if isinstance(vmap, str):
        if vmap not in maps:
            raise MappingError(f"{where}: unknown value map {vmap!r}")
        vmap = maps[vmap]
    elif vmap is not None:
        vmap = _str_map(vmap, where)
    const = raw.get("const")
    default = raw.get("default")
    return FieldRule(
        target=target,
        sources=sources,
        const=None if const is None else str(const),
        join=str(raw.get("join", "")),
        value_map=vmap,
        default=None if default is None else str(default),
        formats=tuple(str(f) for f in raw.get("formats", ())),
    )


def _reader(base: dict[str, Any], override: dict[str, Any], where: str) -> ReaderSpec:
    opts = {**base, **override}
    unknown = set(opts) - _SOURCE_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown source options {sorted(unknown)}")
    if "format" not in opts:
        raise MappingError(f"{where}: source.format is required")
    try:
        return ReaderSpec(**opts)
    except TypeError as exc:
        raise MappingError(f"{where}: bad source options ({exc})") from None


def parse_mapping(raw: Any, standard: Standard, *, origin: str = "", text: str = "") -> Mapping:
    """Build and check a mapping from parsed YAML against the standard."""
    if not isinstance(raw, dict):
        raise MappingError(f"{origin}: a mapping is a YAML dictionary")
    for key in ("mapping", "version", "city", "system", "source", "feeds"):
        if key not in raw:
            raise MappingError(f"{origin}: missing key {key!r}")
    mid = str(raw["mapping"])
    maps = {
        str(k): _str_map(v, f"{mid} value map {k}")
        for k, v in (raw.get("value_maps") or {}).items()
    }
    formats = tuple(str(f) for f in raw.get("formats", ()))
    feeds = []
    for i, fraw in enumerate(raw["feeds"]):
        where = f"{mid} feed {i + 1}"
        cat_name = str(fraw.get("category", ""))
        if cat_name not in standard.categories:
            raise MappingError(f"{where}: unknown category {cat_name!r}")
        category = standard.category(cat_name)
        rules = []
        for target, rraw in (fraw.get("fields") or {}).items():
            if target not in category.fields:
                raise MappingError(f"{where}: {cat_name} has no field {target!r}")
            rule = _rule(target, rraw, maps, f"{where} field {target}")
            table = category.fields[target].code_table
            if rule.value_map and table:
                bad = sorted(
                    v for v in rule.value_map.values() if v not in standard.code_table(table)
                )
                if bad:
                    raise MappingError(f"{where} field {target}: {bad} are not codes of {table}")
            rules.append(rule)
        if "city_code" not in {r.target for r in rules}:
            rules.append(FieldRule(target="city_code", const=str(raw["city"])))
        missing = [
            f.name for f in category.required_fields if f.name not in {r.target for r in rules}
        ]
        if missing:
            raise MappingError(f"{where}: required fields {missing} are not mapped")
        if not fraw.get("match"):
            raise MappingError(f"{where}: 'match' (file pattern) is required")
        feeds.append(
            Feed(
                category=cat_name,
                match=str(fraw["match"]),
                rules=tuple(rules),
                reader=_reader(dict(raw["source"]), dict(fraw.get("source") or {}), where),
                source_id=fraw.get("source_id"),
                formats=formats,
            )
        )
    return Mapping(
        id=mid,
        version=int(raw["version"]),
        city=str(raw["city"]),
        system=str(raw["system"]),
        feeds=tuple(feeds),
        origin=origin,
        value_maps=maps,
        text=text,
    )


def load_mapping(path: Path, standard: Standard) -> Mapping:
    try:
        text = path.read_text(encoding="utf-8")
        raw = load_yaml(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"{path.name}: cannot read mapping ({exc.__class__.__name__})") from None
    return parse_mapping(raw, standard, origin=str(path), text=text)


def builtin_mapping_files() -> list[Path]:
    """Mappings shipped with the package (the demo province's systems)."""
    root = Path(str(resources.files("lianfang.mappings")))
    return sorted(root.rglob("*.yaml"))


def load_mappings(paths: Iterable[Path], standard: Standard) -> list[Mapping]:
    """Load mapping files and directories (recursively); mapping ids must be unique."""
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.rglob("*.yaml")) if p.is_dir() else [p])
    mappings = [load_mapping(f, standard) for f in files]
    seen: dict[str, str] = {}
    for m in mappings:
        if m.id in seen:
            raise MappingError(f"mapping id {m.id!r} defined twice ({seen[m.id]}, {m.origin})")
        seen[m.id] = m.origin
    return mappings


def find_feed(mappings: Iterable[Mapping], path: Path) -> tuple[Mapping, Feed]:
    """The single feed whose pattern matches ``path``; clear errors for none or several."""
    hits = [(m, f) for m in mappings for f in m.feeds if f.matches(path)]
    if not hits:
        raise MappingError(f"{path.name}: no mapping matches this file; pass --mapping")
    if len(hits) > 1:
        names = ", ".join(sorted({f"{m.id}:{f.category}" for m, f in hits}))
        raise MappingError(f"{path.name}: several mappings match ({names}); pass --mapping")
    return hits[0]
