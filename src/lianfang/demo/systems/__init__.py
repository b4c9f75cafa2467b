"""The legacy systems of 岚江省 and which city runs which.

Six vendor layouts are spread over the 16 cities (several cities bought the same
product; each installation has its own mapping). Six cities send plate sightings
through the GA/T 1400 (VIID) platform instead of their own system; the en-jsonl
and xml products also export face captures.
"""

from __future__ import annotations

from dataclasses import dataclass

from lianfang.demo.geography import City
from lianfang.demo.systems import cn_utf8, en_jsonl, gat1400, pinyin_gbk, provincial, xlsx_office, xml_export
from lianfang.demo.systems.base import Column, Layout, Raw, System

SYSTEMS: dict[str, System] = {s.key: s for s in (
    pinyin_gbk.SYSTEM, cn_utf8.SYSTEM, en_jsonl.SYSTEM, xml_export.SYSTEM, xlsx_office.SYSTEM,
    gat1400.SYSTEM, provincial.SYSTEM)}
FACE_SYSTEMS = frozenset({"en-jsonl", "xml"})
CORE = ("person", "vehicle", "case", "alert", "help_request", "sighting")

#: city number -> (its own system, sends vehicle sightings through GA/T 1400?)
CITY_SYSTEMS: dict[int, tuple[str, bool]] = {
    1: ("pinyin-gbk-csv", False), 2: ("en-jsonl", True), 3: ("cn-utf8-csv", False),
    4: ("xml", False), 5: ("xlsx", False), 6: ("pinyin-gbk-csv", True), 7: ("cn-utf8-csv", False),
    8: ("en-jsonl", False), 9: ("xml", True), 10: ("xlsx", True), 11: ("pinyin-gbk-csv", False),
    12: ("cn-utf8-csv", True), 13: ("en-jsonl", False), 14: ("xml", False), 15: ("xlsx", True),
    16: ("pinyin-gbk-csv", False),
}


@dataclass(frozen=True)
class Installation:
    """One system as installed somewhere: a city's, or the province's reference system."""

    system: System
    city_code: str
    slug: str
    name: str  # bj-zhxt
    folder: str  # output folder, relative to the province root
    categories: tuple[str, ...]

    @property
    def code(self) -> str:
        return self.name.upper()

    @property
    def mapping_id(self) -> str:
        return f"demo.{self.slug}.{self.name}"

    @property
    def mapping_file(self) -> str:
        return f"{self.slug}-{self.name}.yaml"

    def layout(self, category: str) -> Layout:
        return self.system.layouts[category]

    def format_of(self, category: str) -> str:
        return self.layout(category).format or self.system.format

    def _extension(self, category: str) -> str:
        return self.layout(category).format or self.system.extension

    def file_name(self, category: str, part: int) -> str:
        """``RYXX.csv`` for the first part of an export, ``RYXX_0002.csv`` for the next."""
        suffix = "" if part == 1 else f"_{part:04d}"
        return f"{self.folder}/{self.layout(category).stem}{suffix}.{self._extension(category)}"

    def pattern(self, category: str) -> str:
        return f"{self.folder}/{self.layout(category).stem}*.{self._extension(category)}"


def city_installations(city: City) -> tuple[Installation, Installation | None]:
    """The city's own system and, where it has one, its GA/T 1400 feed."""
    key, viid = CITY_SYSTEMS[city.index]
    system = SYSTEMS[key]
    own_sightings = not viid or key in FACE_SYSTEMS
    categories = tuple(c for c in CORE if c != "sighting" or own_sightings)
    name = f"{city.abbr}-{system.vendor}"
    own = Installation(system, city.code, city.slug, name, f"{city.folder}/{name}", categories)
    if not viid:
        return own, None
    vname = f"{city.abbr}-{gat1400.SYSTEM.vendor}"
    return own, Installation(gat1400.SYSTEM, city.code, city.slug, vname, f"{city.folder}/{vname}",
                             ("sighting",))


def provincial_installation(province_code: str) -> Installation:
    return Installation(provincial.SYSTEM, province_code, "lanjiang", "lj-sjzx", "reference",
                        ("jurisdiction", "unit", "device"))


__all__ = ["CITY_SYSTEMS", "SYSTEMS", "Column", "Installation", "Layout", "Raw", "System",
           "city_installations", "provincial_installation"]
