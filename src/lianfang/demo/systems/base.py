"""A legacy system's export layout: which columns carry which standard field, spelt how.

One :class:`Layout` per exported file layout drives both sides of the onboarding
contract: the generator renders records through it, and
:mod:`lianfang.demo.write_mappings` turns it into the mapping YAML the pipeline
reads. A :class:`Codec` turns a canonical value into the system's spelling and
knows the value map that turns it back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lianfang.demo.timefmt import DateStyle, DateTimeStyle

Record = dict[str, Any]
Renderer = Callable[[Record], list[Any]]


class Raw(str):
    """A source spelling forced by an injected defect or a near duplicate: written verbatim."""


class Codec:
    """Canonical value -> source spelling. The base codec writes the value unchanged."""

    whole = False  # True: convert() receives the whole record (needs hints such as _id15)
    reads: frozenset[str] | None = None  # fields a whole codec reads (None: any)
    map_name: str | None = None
    value_map: Mapping[str, str] | None = None  # source spelling -> standard code

    def convert(self, value: Any) -> Any:
        return value

    def raw(self, text: Raw) -> Any:
        return str(text)


TEXT = Codec()


class Const(Codec):
    """A fixed value in a column no standard field reads."""

    whole = True
    reads = frozenset()

    def __init__(self, value: Any) -> None:
        self.value = value

    def convert(self, value: Any) -> Any:
        return self.value


class Code(Codec):
    """A code table spelt the system's way (男/女, M/F, blue …); ``aliases`` are extra
    spellings the system also uses, which the mapping's value map must accept too."""

    def __init__(self, map_name: str, spellings: Mapping[str, str],
                 aliases: Mapping[str, str] | None = None, fallback: str | None = None) -> None:
        self.map_name = map_name
        self.spellings = dict(spellings)
        self.value_map = {**{v: k for k, v in spellings.items()}, **(aliases or {})}
        self.fallback = fallback  # spelling of codes the system's table lacks (其他)

    def convert(self, value: Any) -> Any:
        if value is None:
            return None
        spelt = self.spellings.get(value)
        if spelt is None:
            return self.fallback if self.fallback is not None else value
        return spelt


class DateTimeCodec(Codec):
    def __init__(self, style: DateTimeStyle) -> None:
        self.style = style

    def convert(self, value: Any) -> Any:
        return None if value is None else self.style.render(value)


class DateCodec(Codec):
    def __init__(self, style: DateStyle) -> None:
        self.style = style

    def convert(self, value: Any) -> Any:
        return None if value is None else self.style.render(value)


@dataclass(frozen=True)
class Column:
    name: str  # column header, JSON key, XML child tag ("@x": an XML attribute)
    field: str  # standard field, or a "_hint" the mapping does not read
    codec: Codec = TEXT
    default: str | None = None  # the mapping's default when the source leaves it empty

    @property
    def mapped(self) -> bool:
        return not self.field.startswith("_")


@dataclass(frozen=True)
class Layout:
    category: str
    stem: str  # file name stem: RYXX -> RYXX.csv, RYXX_0002.csv …
    columns: tuple[Column, ...]
    consts: Mapping[str, str] = field(default_factory=dict)  # standard field -> constant
    source_id: str | None = None
    sheet: str | None = None  # xlsx sheet name
    format: str | None = None  # overrides the system's format for this layout (None: the system's)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def columns_of(self, field_name: str) -> list[int]:
        return [i for i, c in enumerate(self.columns) if c.field == field_name]

    def codec_of(self, field_name: str) -> Codec | None:
        found = self.columns_of(field_name)
        return self.columns[found[0]].codec if found else None

    def renderer(self) -> Renderer:
        """A fast renderer for clean records.

        It is generated source (``[conv0(g('citizen_id')), g('name'), ...]``) because
        it runs once per record on the sightings hot path, where a loop over columns
        costs twice as much. The source holds only indices and field names from the
        static layouts in this package.
        """
        namespace: dict[str, Any] = {}
        parts = []
        for i, col in enumerate(self.columns):
            if not col.field.isidentifier():
                raise ValueError(f"bad field name {col.field!r}")
            if col.codec.whole:
                namespace[f"c{i}"] = col.codec.convert
                parts.append(f"c{i}(r)")
            elif type(col.codec) is Codec:
                parts.append(f"g({col.field!r})")
            else:
                namespace[f"c{i}"] = col.codec.convert
                parts.append(f"c{i}(g({col.field!r}))")
        source = f"def render(r):\n    g = r.get\n    return [{', '.join(parts)}]\n"
        exec(source, namespace)  # see the docstring
        render: Renderer = namespace["render"]
        return render

    def render_forced(self, rec: Record, base: Record | None = None) -> list[Any]:
        """Render a record some of whose values are :class:`Raw` spellings (slow path).

        Codecs that read several fields (GA/T 1400 IDs) read ``base``, the undamaged record.
        """
        out = []
        for col in self.columns:
            value = rec.get(col.field)
            if isinstance(value, Raw):
                out.append(col.codec.raw(value))
            elif col.codec.whole:
                out.append(col.codec.convert(rec if base is None else base))
            else:
                out.append(col.codec.convert(value))
        return out


@dataclass(frozen=True)
class System:
    """One vendor's export format, shared by every city that bought it."""

    key: str  # pinyin-gbk-csv, cn-utf8-csv, en-jsonl, xml, xlsx, gat1400, provincial
    vendor: str  # folder/system suffix: zhxt -> bj-zhxt
    format: str  # csv | jsonl | xml | xlsx | gat1400
    extension: str
    source: Mapping[str, str]  # source options in the mapping (format, encoding …)
    layouts: Mapping[str, Layout]
    formats: tuple[str, ...] = ()  # the mapping's default date/time formats
    rows_per_file: int = 1_000_000
    bom: bool = False  # UTF-8 CSV starts with a byte-order mark (as Excel writes it)

    @property
    def encoding(self) -> str:
        return self.source.get("encoding", "utf-8")

    def value_maps(self) -> dict[str, dict[str, str]]:
        maps: dict[str, dict[str, str]] = {}
        for layout in self.layouts.values():
            for col in layout.columns:
                codec = col.codec
                if codec.map_name and codec.value_map is not None:
                    known = maps.setdefault(codec.map_name, dict(codec.value_map))
                    if known != dict(codec.value_map):
                        raise ValueError(f"{self.key}: value map {codec.map_name} defined twice")
        return maps
