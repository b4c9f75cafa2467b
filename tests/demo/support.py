"""Test helpers for the demo province, independent of the ingestion pipeline.

Minimal readers for every format the generator writes, the mapping rules (from,
join, map, const, default) applied by hand, and small validators for the standard's
value types. They are deliberately simple: the generator's output is regular, and a
second, independent reading is the point.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import yaml

import lianfang

PACKAGE = Path(lianfang.__file__).resolve().parent
MAPPINGS = PACKAGE / "mappings" / "demo"
TZ = timezone(timedelta(hours=8))
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
SERIAL = "A-HJ-NP-Z0-9"
#: GA 36-2018: regular (7), new-energy small (8), new-energy large (8)
PLATE = re.compile(
    rf"^[{PROVINCES}][A-Z](?:[{SERIAL}]{{4}}[{SERIAL}挂学警港澳]|[DF][{SERIAL}][0-9]{{4}}|[0-9]{{5}}[DF])$")
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
LANDLINE = re.compile(r"^0[1-9][0-9]{1,2}-[2-9][0-9]{6,7}$")
COMPANIONS = {"manifest.json", "defects.jsonl", "duplicates.jsonl", "identities.jsonl"}


# --- the standard, read straight from its YAML -------------------------------------

@cache
def categories() -> dict[str, dict[str, Any]]:
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted((PACKAGE / "standard" / "categories").glob("*.yaml"))}


@cache
def code_tables() -> dict[str, set[str]]:
    out = {}
    for p in sorted((PACKAGE / "standard" / "codes").glob("*.yaml")):
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        out[raw["name"]] = {str(k) for k in raw["codes"]}
    return out


@cache
def mappings() -> dict[str, dict[str, Any]]:
    return {raw["mapping"]: raw for raw in (yaml.safe_load(p.read_text(encoding="utf-8"))
                                             for p in sorted(MAPPINGS.glob("*.yaml")))}


def matches(pattern: str, path: str) -> bool:
    """The mapping contract: a glob matched against the end of a file's posix path."""
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, "*/" + pattern)


def feeds_for(path: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(m, f) for m in mappings().values() for f in m["feeds"] if matches(f["match"], path)]


# --- readers -----------------------------------------------------------------------

@dataclass
class Record:
    position: int
    fields: dict[str, str | None] | None  # None: the record cannot be decoded or parsed
    raw: bytes


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def read(path: Path, source: dict[str, Any]) -> tuple[list[str], list[Record]]:
    """(column names or keys seen, records) of one generated file."""
    fmt = source["format"]
    if fmt == "csv":
        return _read_csv(path, source.get("encoding", "utf-8"))
    if fmt == "jsonl":
        return _read_jsonl(path)
    if fmt == "xml":
        return _read_xml(path, source.get("record_tag", "Record"))
    if fmt == "xlsx":
        return _read_xlsx(path, source.get("sheet"))
    if fmt == "gat1400":
        return _read_gat1400(path, source.get("object_list", "MotorVehicleListObject"))
    raise ValueError(fmt)


def _read_csv(path: Path, encoding: str) -> tuple[list[str], list[Record]]:
    lines = path.read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\n")
    assert lines[-1] == b"", "every line ends with a newline"
    header = next(csv.reader([lines[0].decode(encoding)]))
    records = []
    for n, line in enumerate(lines[1:-1], start=1):
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError:
            records.append(Record(n, None, line))
            continue
        row = next(csv.reader([text]))
        assert len(row) == len(header), f"{path.name} line {n + 1}: {len(row)} cells"
        records.append(Record(n, dict(zip(header, [c if c != "" else None for c in row], strict=True)), line))
    return header, records


def _read_jsonl(path: Path) -> tuple[list[str], list[Record]]:
    keys: list[str] = []
    records = []
    for n, line in enumerate(path.read_bytes().split(b"\n")[:-1], start=1):
        try:
            obj = json.loads(line)
        except ValueError:
            records.append(Record(n, None, line))
            continue
        keys += [k for k in obj if k not in keys]
        records.append(Record(n, {k: _text(v) for k, v in obj.items()}, line))
    return keys, records


def _read_xml(path: Path, tag: str) -> tuple[list[str], list[Record]]:
    keys: list[str] = []
    records = []
    for n, elem in enumerate(ET.parse(path).getroot().iter(tag), start=1):
        fields = {**dict(elem.attrib), **{child.tag: child.text for child in elem}}
        keys += [k for k in fields if k not in keys]
        records.append(Record(n, fields, ET.tostring(elem)))
    return keys, records


def _read_xlsx(path: Path, sheet: str | None) -> tuple[list[str], list[Record]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(h) for h in next(rows)]
    records = []
    for n, row in enumerate(rows, start=1):
        fields = dict(zip(header, [_text(v) for v in row], strict=False))
        records.append(Record(n, fields, json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()))
    wb.close()
    return header, records


def _read_gat1400(path: Path, object_list: str) -> tuple[list[str], list[Record]]:
    keys: list[str] = []
    records = []
    n = 0
    inner = object_list.replace("ListObject", "Object")
    for line in path.read_bytes().split(b"\n")[:-1]:
        envelope = json.loads(line)
        objects = envelope[object_list][inner]
        assert 0 < len(objects) <= 1000
        for obj in objects:
            n += 1
            keys += [k for k in obj if k not in keys]
            records.append(Record(n, {k: _text(v) for k, v in obj.items()},
                                  json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()))
    return keys, records


# --- mappings ----------------------------------------------------------------------

def source_of(mapping: dict[str, Any], feed: dict[str, Any]) -> dict[str, Any]:
    return {**mapping["source"], **(feed.get("source") or {})}


def apply(mapping: dict[str, Any], feed: dict[str, Any], fields: dict[str, str | None]) -> dict[str, str | None]:
    """Standard field -> source text after the mapping's rules (None: missing)."""
    out: dict[str, str | None] = {}
    for target, rule in feed["fields"].items():
        if isinstance(rule, str):
            rule = {"from": rule}
        if "const" in rule:
            text: str | None = str(rule["const"])
        else:
            sources = [rule["from"]] if isinstance(rule["from"], str) else rule["from"]
            if len(sources) == 1:
                text = fields.get(sources[0])
            else:
                text = rule.get("join", "").join((fields.get(s) or "").strip() for s in sources)
        text = text.strip() if text is not None else None
        if not text:
            text = rule.get("default")
        if text is not None and "map" in rule:
            vmap = rule["map"] if isinstance(rule["map"], dict) else mapping["value_maps"][rule["map"]]
            text = vmap.get(text, text)
        out[target] = text
    if "city_code" not in out:
        out["city_code"] = mapping["city"]
    return out


# --- value types -------------------------------------------------------------------

def check_char(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def citizen_id(text: str) -> str:
    """Canonical 18-character ID, or ValueError with the standard's reason code."""
    value = unicodedata.normalize("NFKC", text).replace(" ", "").replace("-", "").upper()
    if len(value) == 15 and value.isdigit():
        value = value[:6] + "19" + value[6:]
        value += check_char(value)
    if len(value) != 18 or not value[:17].isdigit():
        raise ValueError("citizen_id.format")
    if check_char(value[:17]) != value[17]:
        raise ValueError("citizen_id.check_digit")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValueError("citizen_id.birth_date") from None
    if not date(1880, 1, 1) <= born <= date(2026, 12, 31):
        raise ValueError("citizen_id.birth_date")
    return value


def plate(text: str) -> str:
    value = unicodedata.normalize("NFKC", text)
    value = re.sub(r"[·•.\-_\s\u3000]", "", value).upper()
    if not PLATE.match(value):
        raise ValueError("plate.format")
    return value


def phone(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).strip()
    if value.startswith("+86"):
        digits = re.sub(r"\D", "", value[3:])
        value = digits if digits.startswith("1") else f"0{digits[:3]}-{digits[3:]}"
    elif "-" in value and not value.startswith("0"):
        value = value.replace("-", "")
    if MOBILE.match(value) or LANDLINE.match(value):
        return value
    raise ValueError("phone.format")


_DATETIME_FORMATS = ("%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                     "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y年%m月%d日 %H时%M分%S秒", "%Y年%m月%d日 %H时%M分")
_SHAPES = re.compile(r"^\d{14}$|^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?$|"
                     r"^\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}:\d{2}$|"
                     r"^\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}时\d{1,2}分(\d{1,2}秒)?$")


def instant(text: str) -> datetime:
    """Aware datetime; ValueError datetime.format (no known shape) or datetime.impossible."""
    value = text.replace("Z", "+00:00")
    for fmt in _DATETIME_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)
        if parsed.year < 1900:
            raise ValueError("datetime.impossible")
        return parsed.astimezone(TZ)
    raise ValueError("datetime.impossible" if _SHAPES.match(text) else "datetime.format")


def day(text: str) -> date:
    for fmt in ("%Y%m%d", "%Y/%m/%d", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("date.impossible" if re.match(r"^\d{4}[-/]?\d{1,2}[-/]?\d{1,2}$", text) else "date.format")


def validate(category: str, values: dict[str, str | None]) -> dict[str, object]:
    """Normalised values of one record; ValueError(reason, field) on the first problem."""
    spec = categories()[category]["fields"]
    tables = code_tables()
    out: dict[str, object] = {}
    for name, field in spec.items():
        text = values.get(name)
        if text is None or text == "":
            if field.get("required"):
                raise ValueError("required.missing", name)
            out[name] = None
            continue
        kind = field["type"]
        try:
            if kind == "citizen_id":
                out[name] = citizen_id(text)
            elif kind == "plate":
                out[name] = plate(text)
            elif kind == "phone":
                out[name] = phone(text)
            elif kind == "datetime":
                out[name] = instant(text)
            elif kind == "date":
                out[name] = day(text)
            elif kind == "code":
                value = unicodedata.normalize("NFKC", text).strip()
                if value not in tables[field["code_table"]]:
                    raise ValueError("code.unknown")
                out[name] = value
            elif kind in ("number", "integer", "longitude", "latitude"):
                out[name] = float(text)
            elif kind in ("case_no",):
                out[name] = unicodedata.normalize("NFKC", text).replace(" ", "").replace("-", "").upper()
            else:
                out[name] = " ".join(text.split())
        except ValueError as exc:
            raise ValueError(exc.args[0], name) from None
    return out


def key_of(category: str, values: dict[str, object]) -> tuple[object, ...]:
    return tuple(values.get(k) for k in categories()[category]["key"])


def iter_manifest_list(root: Path, manifest: dict[str, Any], name: str) -> list[dict[str, Any]]:
    ref = manifest.get("external", {}).get(name)
    if ref is None:
        data = manifest[name]
        return [{"record": k, "identity": v} for k, v in data.items()] if name == "identities" else list(data)
    return [json.loads(line) for line in (root / ref["path"]).open(encoding="utf-8")]
